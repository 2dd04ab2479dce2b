; Virtual-8086 mode: entered by IRETD at CPL0 with VM in the EFLAGS image
; (ESP, SS, ES, DS, FS, GS popped too); real-mode segment arithmetic and
; 64 KiB limits; IN/OUT checked against the TSS I/O bitmap whatever IOPL
; is; the IOPL-sensitive instructions (CLI, STI, PUSHF, POPF, INT n, IRET)
; raising #GP(0) at IOPL < 3 and working at IOPL 3 (where POPF/IRET cannot
; change IOPL); INT n at IOPL 3 reaching a ring-0 monitor through the IDT
; with the v86 segment registers on the ring-0 stack and DS/ES/FS/GS
; nulled; the monitor reflecting the interrupt to a real-mode style
; handler through the v86 IVT (which returns with a v86 IRET); INT3 through
; a DPL0 gate; a gate whose target code is not ring 0 (#GP); privileged
; instructions; and leaving v86 mode for good through an interrupt.
bits 16
org 0
%include "lib.inc"
%include "sys.inc"

VEC_MON   equ 0x30          ; DPL3 interrupt gate -> v86_monitor
VEC_RING3 equ 0x33          ; DPL3 gate whose target is ring-3 code
V86_SP    equ 0x3800        ; v86 stack, SS = 0
V86_DS    equ 0x0050        ; v86 data segment: base 0x500 (g_ vars)
VM        equ 0x20000
IOPL3     equ 0x3000

; v86 results (offsets in V86_DS, i.e. linear 0x500 + x = g_tmp + ...)
v_word    equ 0x20 + 0x00   ; written through DS = 0x50
v_port    equ 0x20 + 0x04   ; port 0x3FF read back
v_ax      equ 0x20 + 0x08   ; AX after the reflected INT 0x30
v_fl1     equ 0x20 + 0x0C   ; PUSHFD image at IOPL 3
v_fl2     equ 0x20 + 0x10   ; PUSHFD after POPF tried to clear IOPL
v_mon_ds  equ g_tmp + 0x40  ; DS seen by the monitor on entry
v_mon_cs  equ g_tmp + 0x44
v_mon_vds equ g_tmp + 0x48  ; DS value in the ring-0 frame
v_mon_fl  equ g_tmp + 0x4C
v_mon_n   equ g_tmp + 0x50

; v86_enter EFLAGS, IP: IRETD to F000:IP in v86 mode, SS:SP 0:V86_SP,
; DS = V86_DS, ES = FS = GS = 0.
%macro v86_enter 2
    push dword 0            ; GS
    push dword 0            ; FS
    push dword V86_DS       ; DS
    push dword 0            ; ES
    push dword 0            ; SS
    push dword V86_SP       ; ESP
    push dword (%1) | VM
    push dword ROM_BASE >> 4
    push dword %2
    iretd
%endmacro

; vtry VEC, ERR, EFLAGS, INSN: INSN in v86 mode must raise VEC/ERR
; (reported by the common exception handler, CS:IP in the v86 frame).
; If it does not fault, the UD2 after it raises #UD: reported as a
; mismatch.
%macro vtry 4+
    mov dword [g_expect_vec], %1
    mov dword [g_expect_err], %2
    mov dword [g_expect_eip], %%insn
    mov dword [g_resume], %%resume
    mov [g_resume_esp], esp
    v86_enter %3, %%insn
bits 16
%%insn:
    %4
    ud2
bits 32
%%resume:
%endmacro

start:
    sys_start main

bits 32
main:
    print "sys_v86", 10
    ; I/O bitmap: only the UART ports 0x3F8-0x3FF are allowed.
    mov byte [TSS_BASE + TSS_IOMAP + 0x3F8 / 8], 0
    mov ebx, VEC_MON
    mov eax, v86_monitor
    mov ecx, 0xEE00                 ; interrupt gate, DPL3
    call set_gate
    mov ebx, VEC_RING3
    mov eax, v86_monitor
    mov ecx, 0xEE00
    call set_gate
    mov word [IDT_BASE + VEC_RING3 * 8 + 2], UCODE32
    ; v86 IVT entry for INT 0x30: F000:v86_int30
    mov word [VEC_MON * 4], v86_int30
    mov word [VEC_MON * 4 + 2], ROM_BASE >> 4
    mov dword [v_mon_n], 0
    ; VEC_DONE from v86 mode arrives with DS/ES null: reload them first.
    mov ebx, VEC_DONE
    mov eax, v86_done
    mov ecx, 0xEE00
    call set_gate

    ; 1. A v86 program at IOPL 3; it leaves through INT VEC_DONE.
    mov dword [g_resume], .prog_done
    mov [g_resume_esp], esp
    v86_enter IOPL3 | 2, v86_prog
.prog_done:
    print "v86 ds:[20] write -> linear 520: "
    phex [0x500 + v_word], 4
    nl
    print "v86 port 3ff read "
    phex [0x500 + v_port], 2
    nl
    print "monitor: ds on entry "
    phex [v_mon_ds], 4
    print " frame cs "
    phex [v_mon_cs], 4
    print " ds "
    phex [v_mon_vds], 4
    print " eflags.vm "
    mov eax, [v_mon_fl]
    shr eax, 17
    and eax, 1
    phex eax, 1
    print " calls "
    phex [v_mon_n], 2
    nl
    print "reflected int 30 ax "
    phex [0x500 + v_ax], 4
    nl
    print "pushfd at iopl3 "
    phex [0x500 + v_fl1], 8
    print " after popf 0 "
    phex [0x500 + v_fl2], 8
    nl

    ; 2. IOPL-sensitive instructions at IOPL 0: #GP(0).
    vtry 0x0D, 0, 2, cli
    vtry 0x0D, 0, 2, sti
    vtry 0x0D, 0, 2, pushf
    vtry 0x0D, 0, 2, popf
    vtry 0x0D, 0, 2, int VEC_MON
    vtry 0x0D, 0, 2, iret
    ; INT3 is not IOPL-sensitive: its gate is DPL0, so #GP(vector 3).
    vtry 0x0D, 0x1A, 2, int3
    ; I/O: the bitmap decides, at any IOPL.
    vtry 0x0D, 0, IOPL3 | 2, in al, 0x80
    vtry 0x0D, 0, IOPL3 | 2, out 0x21, al
    ; Privileged instructions, limits, and a gate to ring-3 code.
    vtry 0x0D, 0, IOPL3 | 2, hlt
    vtry 0x0D, 0, IOPL3 | 2, mov eax, cr0
    vtry 0x06, -1, IOPL3 | 2, lldt ax
    vtry 0x0D, 0, IOPL3 | 2, mov al, [dword 0x10000]
    vtry 0x0C, 0, IOPL3 | 2, mov al, [ss:dword 0x10000]
    vtry 0x0D, UCODE32, IOPL3 | 2, int VEC_RING3
    sys_finish

; The ring-0 monitor (INT 0x30 from v86 mode at IOPL 3).  Frame:
; EIP CS EFLAGS ESP SS ES DS FS GS.  Records what it saw and reflects the
; interrupt to the v86 handler in the IVT, as a real-mode INT would.
v86_monitor:
    push ebp
    mov ebp, esp
    push eax
    push ecx
    push edx
    mov ax, ds
    movzx eax, ax
    mov cx, KDATA32
    mov ds, cx
    mov es, cx
    mov [v_mon_ds], eax
    mov eax, [ebp + 8]
    mov [v_mon_cs], eax
    mov eax, [ebp + 12]
    mov [v_mon_fl], eax
    mov eax, [ebp + 28]
    mov [v_mon_vds], eax
    inc dword [v_mon_n]
    ; push FLAGS, CS, IP on the v86 stack (SS:SP from the frame)
    movzx edx, word [ebp + 16]
    sub edx, 6
    mov [ebp + 16], dx
    movzx eax, word [ebp + 20]
    shl eax, 4
    add edx, eax
    mov ax, [ebp + 4]
    mov [edx], ax
    mov ax, [ebp + 8]
    mov [edx + 2], ax
    mov ax, [ebp + 12]
    mov [edx + 4], ax
    ; continue at the IVT vector
    movzx eax, word [VEC_MON * 4]
    mov [ebp + 4], eax
    movzx eax, word [VEC_MON * 4 + 2]
    mov [ebp + 8], eax
    pop edx
    pop ecx
    pop eax
    pop ebp
    iretd

v86_done:
    mov ax, KDATA32
    mov ds, ax
    mov es, ax
    jmp sys_longjmp

bits 16
; The v86 program (IOPL 3, DS = 0x50).
v86_prog:
    mov word [v_word], 0x1234
    mov dx, 0x3FF
    mov al, 0x5A
    out dx, al
    xor al, al
    in al, dx
    mov [v_port], al
    xor ax, ax
    int VEC_MON                     ; -> monitor -> v86_int30 -> here
    mov [v_ax], ax
    cli
    sti
    pushfd
    pop dword [v_fl1]
    push word 0
    popf                            ; IOPL stays 3
    pushfd
    pop dword [v_fl2]
    cli
    int VEC_DONE                    ; leave v86 mode for good

; The real-mode style handler of INT 0x30, reached through the monitor.
v86_int30:
    mov ax, 0xBEEF
    iret

bits 32
sys_routines

sys_gdt_begin
sys_gdt_end

bits 16
reset_vector start
