; Privilege changes: ring 0 -> 3 by IRET, ring 3 -> 0 by INT n through a
; DPL3 trap gate (stack switch from the TSS, checked on the ring-0 stack)
; and by a 32-bit call gate copying two parameters (returns by IRET and
; RETF n); #GP at CPL3 for privileged instructions, IOPL-sensitive ones,
; data segments above CPL, a DPL0 interrupt gate, far calls to ring-0
; code, and IN/OUT checked against the TSS I/O bitmap.
bits 16
org 0
%include "lib.inc"
%include "sys.inc"

CALL_GATE equ 0x40
USMALL    equ 0x48          ; ring-3 data, base 0x8000, limit 0xFF
VEC_SYS   equ 0x30

; Results recorded by the ring-0 entry points.
r_ss      equ g_tmp
r_esp     equ g_tmp + 4
r_cs      equ g_tmp + 8
r_eip_ok  equ g_tmp + 12
r_kesp    equ g_tmp + 16
r_kss     equ g_tmp + 20
r_p1      equ g_tmp + 24
r_p2      equ g_tmp + 28
r_uesp    equ g_tmp + 32
r_ucs     equ g_tmp + 36
r_in      equ g_tmp + 40
r_cnt     equ g_tmp + 44

start:
    sys_start main

bits 32
main:
    print "sys_priv", 10
    mov ebx, VEC_SYS
    mov eax, sys_entry
    mov ecx, 0xEF00                 ; trap gate, DPL3
    call set_gate
    ; The TSS I/O bitmap allows only port 0x3FF (UART scratch register).
    and byte [TSS_BASE + TSS_IOMAP + 0x3FF / 8], ~(1 << (0x3FF & 7))
    mov dword [r_cnt], 0

    ; Ring 3 by IRET, back by INT 0x30 and then the call gate.
    user_run user_main, 0x00000002
    print "int30 ring0 ss "
    phex [r_kss], 4
    print " esp "
    phex [r_kesp], 8
    print " frame ss "
    phex [r_ss], 4
    print " esp "
    phex [r_esp], 8
    print " cs "
    phex [r_cs], 4
    nl
    mov eax, [r_eip_ok]
    cmp eax, 1
    check e, "int30 return eip"
    print "gate params "
    phex [r_p1], 8
    print " "
    phex [r_p2], 8
    print " caller cs "
    phex [r_ucs], 4
    print " esp "
    phex [r_uesp], 8
    nl
    print "ring3 esp after retf 8 "
    phex [g_tmp + 48], 8
    print " count "
    phex [r_cnt], 2
    nl

    ; Privileged and IOPL-sensitive instructions at CPL3, IOPL 0.
    utry 0x0D, 0, hlt
    utry 0x0D, 0, cli
    utry 0x0D, 0, mov cr0, eax
    utry 0x0D, 0, mov eax, cr3
    utry 0x0D, 0, lgdt [g_tmp]
    utry 0x0D, 0, ltr ax
    utry 0x0D, 0, wbinvd
    utry 0x0D, 0, invlpg [0]
    mov dx, 0x3FE
    utry 0x0D, 0, in al, dx
    utry 0x0D, 0, out dx, al
    mov dx, 0x3FF
    utry 0x0D, 0, in ax, dx         ; needs 0x3FF and 0x400: 0x400 denied
    ; Segment and gate checks at CPL3.
    mov bx, KDATA32
    utry 0x0D, KDATA32, mov fs, bx
    utry 0x0D, KCODE32, call KCODE32:0
    utry 0x0D, 0x05 * 8 + 2, int 0x05
    mov ax, USMALL | 3
    mov gs, ax
    utry 0x0D, 0, mov eax, [gs:0x100]
    ; Port 0x3FF is allowed by the bitmap: OUT/IN work at CPL3.
    mov dx, 0x3FF
    user_run user_io, 0x00000002
    print "cpl3 port 3ff read "
    phex [r_in], 2
    nl
    ; IOPL 3: CLI and any port work at CPL3.
    user_run user_iopl3, 0x00003002
    print "iopl3 cli and in 3fe ok", 10
    sys_finish

sys_entry:                          ; INT 0x30 from ring 3
    mov [r_kesp], esp
    mov ax, ss
    mov [r_kss], ax
    mov eax, [esp + 16]
    mov [r_ss], eax
    mov eax, [esp + 12]
    mov [r_esp], eax
    mov eax, [esp + 4]
    mov [r_cs], eax
    xor eax, eax
    cmp dword [esp], user_after_int
    sete al
    mov [r_eip_ok], eax
    inc dword [r_cnt]
    iretd

gate_entry:                         ; call gate, 2 dwords copied
    mov eax, [esp + 8]
    mov [r_p1], eax
    mov eax, [esp + 12]
    mov [r_p2], eax
    mov eax, [esp + 4]
    mov [r_ucs], eax
    mov eax, [esp + 16]
    mov [r_uesp], eax
    inc dword [r_cnt]
    retf 8

user_main:
    int VEC_SYS
user_after_int:
    push dword 0x11111111
    push dword 0x22222222
    call CALL_GATE | 3:0
    mov [g_tmp + 48], esp
    int VEC_DONE

user_io:
    mov al, 0x5A
    out dx, al
    in al, dx
    mov [r_in], al
    int VEC_DONE

user_iopl3:
    cli
    mov dx, 0x3FE
    in al, dx
    int VEC_DONE

sys_routines

sys_gdt_begin
    dw gate_entry, KCODE32          ; 40 call gate, DPL3, 2 parameters
    db 2, 0xEC
    dw 0
    desc 0x8000, 0xFF, 0xF3, 0x4    ; 48 ring-3 small data
sys_gdt_end

bits 16
reset_vector start
