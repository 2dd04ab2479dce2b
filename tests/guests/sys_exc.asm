; Exceptions in 32-bit protected mode: #DE, #BR, #UD, #OF/#BP (traps),
; #NP/#SS/#GP with their selector error codes, segment-limit faults,
; not-present IDT gates (IDT-format error codes with the EXT bit), double
; faults built from a contributory fault whose gate is not present, and
; simple priorities (a #GP check that precedes the not-present check).
; Hardware task switches and their #TS checks are in sys_task.asm.
bits 16
org 0
%include "lib.inc"
%include "sys.inc"

NP_DATA   equ 0x40      ; data segment, not present
SMALL     equ 0x48      ; data segment, base 0x8000, limit 0xFF

start:
    sys_start main

bits 32
main:
    print "sys_exc", 10
    ; #DE: divide by zero and quotient overflow.
    xor ecx, ecx
    try 0x00, -1, div ecx
    mov eax, 0x80000000
    mov edx, -1
    mov ecx, -1
    try 0x00, -1, idiv ecx
    mov ax, 0x1000
    mov cl, 0x10
    try 0x00, -1, div cl            ; 0x1000 / 0x10 = 0x100 > 0xFF
    ; #BR: bounds [10, 20] are inclusive.
    mov dword [g_tmp], 10
    mov dword [g_tmp + 4], 20
    mov eax, 20
    bound eax, [g_tmp]
    print "bound 20 in [10,20]", 10
    mov eax, 21
    try 0x05, -1, bound eax, [g_tmp]
    mov eax, 9
    try 0x05, -1, bound eax, [g_tmp]
    ; #UD.
    try 0x06, -1, ud2
    try 0x06, -1, db 0xF0, 0x01, 0xD8 ; LOCK ADD EAX, EBX: register destination
    ; Traps: the saved EIP is the next instruction.
    mov al, 0x7F
    add al, 1                       ; OF=1
    trytrap 0x04, into
    trytrap 0x03, int3
    ; #NP / #SS for a not-present segment; #SS for a stack-limit violation.
    mov bx, NP_DATA
    try 0x0B, NP_DATA, mov fs, bx
    try 0x0C, NP_DATA, mov ss, bx
    mov ax, NP_DATA | 1             ; RPL != CPL is checked before presence
    try 0x0D, NP_DATA, mov ss, ax
    mov ax, KDATA16
    mov ss, ax                      ; 16-bit stack, limit 0xFFFF
    try 0x0C, 0, mov eax, [ss:0x10000]
    mov ax, KDATA32
    mov ss, ax
    ; #GP: null segment use, limit violations (incl. straddling the limit).
    xor ax, ax
    mov fs, ax
    try 0x0D, 0, mov eax, [fs:0x1000]
    mov ax, SMALL
    mov gs, ax
    mov eax, [gs:0xFC]
    print "small seg last dword ok", 10
    try 0x0D, 0, mov eax, [gs:0xFD]
    try 0x0D, 0, mov byte [gs:0x100], 1
    try 0x0D, 0, mov eax, [gs:0xFFFFFFFF]
    mov ax, KDATA16
    mov fs, ax
    try 0x0D, 0, mov eax, [fs:0xFFFE]
    ; #GP with selector error codes.
    mov ax, 0x1230                  ; beyond the GDT limit
    try 0x0D, 0x1230, mov fs, ax
    mov ax, 0x000C                  ; LDT selector, no LDT
    try 0x0D, 0x000C, mov fs, ax
    mov ax, KCODE32                 ; SS must be writable data
    try 0x0D, KCODE32, mov ss, ax
    mov ax, TSS_SEL                 ; a TSS is not a data segment
    try 0x0D, TSS_SEL, mov fs, ax
    try 0x0D, KDATA32, jmp dword KDATA32:0
    try 0x0D, 0, mov [cs:0x100], eax ; code segments are not writable
    xor ax, ax
    try 0x0D, 0, mov ss, ax
    ; Not-present IDT gates: error code = vector * 8 + 2 (IDT) + 1 (EXT
    ; for exceptions and hardware interrupts).
    try 0x0D, 0x0402, int 0x80      ; type 0: invalid before not present
    mov ebx, 0x80
    mov eax, exc_stubs
    mov ecx, 0x0E00                 ; interrupt gate, P=0
    call set_gate
    try 0x0B, 0x0402, int 0x80
    gate_present 6, 0
    try 0x0B, 0x0033, ud2           ; benign + contributory: no #DF
    gate_present 6, 1
    ; Double faults: contributory fault while delivering a contributory one.
    gate_present 13, 0
    mov ax, 0x1230
    try 0x08, 0, mov fs, ax
    gate_present 13, 1
    gate_present 0, 0
    xor ecx, ecx
    try 0x08, 0, div ecx
    gate_present 0, 1
    ; The IDT limit: a vector beyond it is #GP(vector * 8 + 2).
    mov word [g_tmp], 0x40 * 8 - 1
    mov dword [g_tmp + 2], IDT_BASE
    lidt [g_tmp]
    try 0x0D, 0x0402, int 0x80
    lidt [cs:idtr_rom]
    ; Everything still works after all that.
    xor ecx, ecx
    try 0x00, -1, div ecx
    sys_finish

sys_routines

sys_gdt_begin
    desc 0, 0xFFFFF, 0x13, 0xC          ; 40 not present
    desc 0x8000, 0xFF, 0x93, 0x4        ; 48 small
sys_gdt_end

bits 16
reset_vector start
