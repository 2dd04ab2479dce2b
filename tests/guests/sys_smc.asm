; Self-modifying code in 32-bit protected mode: code copied to RAM, run,
; patched and run again; a loop that patches the immediate of an
; instruction it then jumps to; a store that rewrites the very next
; instruction; and a REP MOVSB that overwrites code ahead of itself in the
; same straight-line block.  Every run must see the new bytes.
bits 16
org 0
%include "lib.inc"
%include "sys.inc"

FLAT_CODE equ 0x40
RAM_CODE  equ 0x9000
; Address in RAM of a label of the blob.
%define R(x) (RAM_CODE + (x) - blob)

start:
    sys_start main

bits 32
main:
    print "sys_smc", 10
    mov esi, blob
    mov edi, RAM_CODE
    mov ecx, blob_end - blob
    cs rep movsb
    ; Copied code runs; patched, it runs with the new immediate.
    call FLAT_CODE:R(f_imm)
    print "copy run "
    phex eax, 8
    nl
    mov dword [R(f_imm) + 1], 0x22222222
    call FLAT_CODE:R(f_imm)
    print "patched run "
    phex eax, 8
    nl
    mov byte [R(f_imm)], 0x90       ; NOP over the opcode: EAX is not set
    mov dword [R(f_imm) + 1], 0x90909090
    mov eax, 0x44444444
    call FLAT_CODE:R(f_imm)
    print "nop-patched run "
    phex eax, 8
    nl
    ; The loop patches the immediate it jumps to: 1 + 2 + ... + 10.
    call FLAT_CODE:R(f_loop)
    print "patch loop sum "
    phex eax, 8
    nl
    call FLAT_CODE:R(f_loop)
    print "patch loop again "
    phex eax, 8
    nl
    call FLAT_CODE:R(f_next)
    print "next insn patch "
    phex eax, 8
    nl
    call FLAT_CODE:R(f_rep)
    print "rep movsb over code "
    phex eax, 8
    nl
    sys_finish

; Runs from RAM through FLAT_CODE (base 0): absolute addresses via R().
blob:
f_imm:
    mov eax, 0x11111111
    retf
f_loop:
    xor ebx, ebx
    mov ecx, 1
.top:
    mov [R(.ins) + 1], ecx
    jmp .ins
.ins:
    mov eax, 0
    add ebx, eax
    inc ecx
    cmp ecx, 10
    jbe .top
    mov eax, ebx
    retf
f_next:
    mov dword [R(.ins) + 1], 0x55555555
.ins:
    mov eax, 0x66666666
    retf
f_rep:
    mov esi, R(.new)
    mov edi, R(.target)
    mov ecx, 5
    rep movsb
.target:
    mov eax, 0x77777777
    retf
.new:
    mov eax, 0x33333333
blob_end:

sys_routines
sys_gdt_begin
    desc 0, 0xFFFFF, 0x9B, 0xC      ; 40 flat ring-0 code
sys_gdt_end
bits 16
reset_vector start
