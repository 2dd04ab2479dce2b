#!/usr/bin/env python3
"""Writes the hand-made seeds of two harnesses (the other seeds come from
guest traces: tools/trace2corpus):
  tests/fuzz/corpus/emu/seed-*  short programs for each start mode of
      fuzz_emu.c (assembled with nasm) plus records that exercise its events
  tests/fuzz/corpus/vga/seed-*  register sequences for the odd display
      modes of fuzz_vga.c: VBE with large virtual widths and offsets, 4 and
      24 bpp, banks; VGA line compare, double scan, CGA addressing
Run from the repository root; needs nasm.  The seeds are committed; rerun
after changing this file."""
import os
import struct
import subprocess
import tempfile

OUT = "tests/fuzz/corpus/emu"
VGA_OUT = "tests/fuzz/corpus/vga"
FZ_IN, FZ_OUT, FZ_CLOCK, FZ_POKE, FZ_EVENT, FZ_SYNC = 0, 1, 4, 5, 6, 7


def rec(kind, off, value, size=8):
    code = {1: 0, 2: 1, 4: 2, 8: 3}[size]
    return bytes([kind | code << 3, 0]) + struct.pack("<HQ", off, value & (2**64 - 1))


def asm(bits, text):
    with tempfile.TemporaryDirectory() as d:
        src, out = os.path.join(d, "s.asm"), os.path.join(d, "s.bin")
        with open(src, "w") as f:
            f.write("bits %d\norg 0x10000\n%s\n" % (bits, text))
        subprocess.run(["nasm", "-f", "bin", "-o", out, src], check=True)
        return open(out, "rb").read()


def seed(name, config, code, recs=b""):
    data = bytes(config) + struct.pack("<H", len(code)) + code + recs
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)


COMMON_RECS = (rec(FZ_IN, 0, 0x12345678) + rec(FZ_IN, 0, 0xFF) + rec(FZ_OUT, 1, 0x20) +
               rec(FZ_OUT, 3, 0x30) + rec(FZ_CLOCK, 0, 40) + rec(FZ_EVENT, 0, 0x21) +
               rec(FZ_POKE, 0, 0xF4F4F4F4_00020000, 4) + rec(FZ_SYNC, 0, 0) +
               rec(FZ_SYNC, 0, 0x30801) + rec(FZ_CLOCK, 0, 200))

REAL = """
    mov ax, 0x1000
    mov ds, ax
    mov es, ax
    mov ax, 0x1234
    add ax, bx
    adc cx, 0x7fff
    imul dx, ax, -3
    mov si, data - 0x10000
    mov di, buf - 0x10000
    mov cx, 8
    cld
    rep movsb
    repe cmpsb
    mov dx, 0x3f8
    out dx, al
    in al, dx
    in ax, 0x60
    pushf
    popf
    int 0x10
    daa
    aam 10
    xlatb
    lea bx, [bp+si+4]
    les bx, [data - 0x10000]
    div byte [zero - 0x10000]
    loop $
    hlt
data: db 1,2,3,4,5,6,7,8
zero: db 0
buf: times 8 db 0
"""

TO_PM = """
    cli
    o32 lgdt [cs:gdtr - 0x10000]
    mov eax, cr0
    or al, 1
    mov cr0, eax
    jmp dword 0x08:pm
bits 32
pm: mov ax, 0x10
    mov ds, ax
    mov ss, ax
    mov esp, 0x70000
    o16 lidt [idtr]
    sti
    int 3
    mov eax, [0xFFFFFFF0]
    mov dword [0xE0000000], eax
    cpuid
    rdtsc
    hlt
gdtr: dw 0x57
      dd 0x1000
idtr: dw 0x7ff
      dd 0x2000
"""

PM32 = """
    mov eax, cr3
    mov cr3, eax
    invlpg [0x10000]
    mov ecx, 16
    mov esi, 0x10000
    mov edi, 0x20000
    rep movsd
    lock xadd [0x20000], eax
    cmpxchg8b [0x20008]
    bsf ecx, eax
    bt [0x20000], ecx
    shld eax, edx, 5
    movd xmm0, eax
    pshufd xmm1, xmm0, 0x1b
    paddd xmm1, xmm0
    movdqu [0x20040], xmm1
    fld1
    fldpi
    fmulp
    fstp qword [0x20060]
    int 0x80
    ud2
    mov ax, 0x18
    mov ds, ax
    hlt
"""

USER32 = """
    mov eax, [0x1000]
    add eax, 1
    cli
    in al, 0x80
    mov cr0, eax
    syscall
    hlt
"""

PM16 = """
    mov ax, 0x20
    mov ds, ax
    mov bx, 0x100
    mov word [bx], 0x1234
    push word 0x18
    push word next
    retf
next:
    lar ax, bx
    lsl cx, bx
    verr bx
    arpl [bx], ax
    str ax
    sgdt [bx+8]
    int 0x21
    hlt
"""

LONG = """
    mov rax, 0x123456789abcdef0
    mov r8, rax
    rol r8, 13
    lea rsi, [rel msg]
    mov rdi, 0x20000
    mov rcx, 4
    rep movsq
    cmpxchg16b [0x20010]
    movq xmm2, rax
    pxor xmm3, xmm3
    pcmpeqb xmm3, xmm2
    pmovmskb eax, xmm3
    swapgs
    mov ecx, 0xC0000080
    rdmsr
    wrmsr
    syscall
    push 0x10
    push rsp
    pushfq
    push 0x28
    lea rax, [rel after]
    push rax
    iretq
after:
    mov rbx, 0x800000000000
    mov rax, [rbx]
    int 0x40
    hlt
msg: db "minus1 fuzz seeds"
"""


# fuzz_vga.c windows: 0 ports 0x3B0, 1 VBE 0x1CE, 2/3 legacy window halves,
# 4 LFB, 5 BAR2, 6 ROM, 7 0xCF8, 8 LFB end.  Events: 0 render, 1 text dump,
# 3 LFB write, 6 VRAM fill.
def vrec(kind, win, off, value, size=1):
    code = {1: 0, 2: 1, 4: 2, 8: 3}[size]
    return bytes([kind | code << 3, win]) + struct.pack("<HQ", off, value & (2**64 - 1))


def outb(port, v):
    return vrec(FZ_OUT, 0, port - 0x3B0, v)


def vbe(index, v):
    return vrec(FZ_OUT, 1, 0, index, 2) + vrec(FZ_OUT, 1, 1, v, 2)


def render():
    return vrec(FZ_EVENT, 0, 0, 0)


def fill(off, n, pattern):
    return vrec(FZ_EVENT, 0, 6, (off << 32) | (n << 8) | pattern)


def vbe_mode(x, y, bpp, flags=0x41):
    return vbe(4, 0) + vbe(1, x) + vbe(2, y) + vbe(3, bpp) + vbe(4, flags)


def crtc(i, v):
    return outb(0x3D4, i) + outb(0x3D5, v)


def vga_seeds():
    os.makedirs(VGA_OUT, exist_ok=True)
    cfg = bytes(4) + struct.pack("<H", 0)
    # Large virtual width, then offsets near the end of VRAM; banks.
    s = (vbe_mode(1024, 768, 32) + fill(0, 60000, 0x5A) + render() + vbe(6, 4096) +
         vbe(8, 3000) + vbe(9, 700) + render() + vbe(6, 0xFFFF) + vbe(9, 0xFFFF) +
         vbe(5, 255) + vbe(5, 256) + vrec(FZ_OUT, 2, 0xFFF0, 0x11223344, 4) + render())
    open(os.path.join(VGA_OUT, "seed-vbe-virtual"), "wb").write(cfg + s)
    # Odd bpp: 4 (planar VBE), 24, 15; 8-bit DAC; LFB writes at both ends.
    s = (vbe_mode(800, 600, 4) + fill(0, 40000, 0x3C) + render() + vbe_mode(1000, 700, 24) +
         vrec(FZ_OUT, 4, 0, 0xFFFFFFFFFFFFFFFF, 8) + vrec(FZ_OUT, 8, 0xFFF8, 0x1234, 8) +
         render() + vbe_mode(640, 480, 15, 0x61) + outb(0x3C8, 0) + outb(0x3C9, 0xFF) +
         render() + vbe_mode(8192, 2, 8) + render())
    open(os.path.join(VGA_OUT, "seed-vbe-bpp"), "wb").write(cfg + s)
    # Mode 12h-like planar screen with line compare and double scan, then
    # CGA addressing and a text screen with a cursor.
    s = (outb(0x3C2, 0x63) + outb(0x3CE, 6) + outb(0x3CF, 0x05) + crtc(0x11, 0) +
         crtc(0x01, 79) + crtc(0x12, 0xDF) + crtc(0x07, 0x1F) + crtc(0x09, 0xC0) +
         crtc(0x18, 0x40) + crtc(0x13, 40) + crtc(0x17, 0xE3) + fill(0, 65535, 0x81) +
         vrec(FZ_IN, 0, 0x3DA - 0x3B0, 0) + outb(0x3C0, 0x20) + render() +
         crtc(0x17, 0xA0) + outb(0x3CE, 5) + outb(0x3CF, 0x20) + render() +
         outb(0x3CE, 6) + outb(0x3CF, 0x0E) + crtc(0x09, 0x0F) + crtc(0x0E, 0) +
         crtc(0x0F, 5) + vrec(FZ_OUT, 3, 0x8000, 0x0741, 2) + render() +
         vrec(FZ_EVENT, 0, 1, 4000))
    open(os.path.join(VGA_OUT, "seed-vga-planar"), "wb").write(cfg + s)


def main():
    vga_seeds()
    os.makedirs(OUT, exist_ok=True)
    seed("seed-real", [0x20, 8, 0, 0], asm(16, REAL), COMMON_RECS)
    seed("seed-real-reset", [0x00, 2, 0, 1], asm(16, "jmp 0xF000:0xE05B"), COMMON_RECS)
    seed("seed-to-pm", [0x00, 8, 0, 0], asm(16, TO_PM), COMMON_RECS)
    seed("seed-pm32", [0x46, 16, 0x07, 0], asm(32, PM32), COMMON_RECS)
    seed("seed-pm32-pae", [0x4E, 16, 0x03, 0], asm(32, PM32), COMMON_RECS)
    seed("seed-user32", [0x36, 8, 0x08, 0], asm(32, USER32), COMMON_RECS)
    seed("seed-pm16", [0x01, 8, 0, 0], asm(16, PM16), COMMON_RECS)
    seed("seed-long", [0x43, 16, 0x0B, 0], asm(64, LONG), COMMON_RECS)
    seed("seed-long-user", [0x53, 16, 0x0B, 0], asm(64, LONG), COMMON_RECS)


if __name__ == "__main__":
    main()
