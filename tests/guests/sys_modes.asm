; Mode switches: real -> 16-bit protected -> 32-bit protected (and a far
; call into 16-bit code and back) -> real mode again; unreal mode (a
; 4 GiB FS limit kept in real mode, 32-bit addresses above 1 MiB); the
; real-mode IVT after the round trip; A20 through port 0x92 and the
; i8042 output port.  Lines starting "a20off" describe masking, which
; KVM cannot do: the integration test leaves them out of comparisons.
bits 16
org 0
%include "lib.inc"
%include "sys.inc"

start:
    cli
    xor ax, ax
    mov ss, ax
    mov sp, KSTACK
    mov ds, ax
    mov es, ax
    serial_init
    mov si, m_real
    call puts
    ; GDT to RAM, then PE with a 16-bit code segment.
    push cs
    pop ds
    mov si, gdt_template
    mov di, GDT_BASE
    mov cx, gdt_end - gdt_template
    cld
    rep movsb
    xor ax, ax
    mov ds, ax
    o32 lgdt [cs:gdtr_rom]
    mov eax, cr0
    or al, 1
    mov cr0, eax
    jmp KCODE16:pm16
pm16:
    mov ax, KDATA16
    mov ds, ax
    mov ss, ax
    mov si, m_pm16
    call puts
    mov ax, cs
    call puthex16
    mov si, m_msw
    call puts
    smsw ax
    and ax, 1
    call puthex16
    mov al, 10
    call putc
    jmp dword KCODE32:pm32

bits 32
pm32:
    mov ax, KDATA32
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov esp, KSTACK
    print "pm32 cs "
    mov ax, cs
    phex eax, 4
    nl
    mov dword [0x100000], 0x12345678
    mov dword [0x200000], 0xAABBCCDD
    call KCODE16:far16              ; 32-bit far call into 16-bit code
    print "back from 16-bit code, eax "
    phex eax, 8
    nl
    ; Back to real mode through 16-bit protected mode; FS keeps the flat
    ; 4 GiB data segment (unreal mode).
    mov ax, KDATA32
    mov fs, ax
    jmp KCODE16:to_real

bits 16
far16:
    mov eax, 0x16161616
    o32 retf

to_real:
    mov ax, KDATA16
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov eax, cr0
    and al, 0xFE
    mov cr0, eax
    jmp 0xF000:real2
real2:
    xor ax, ax
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov fs, ax                      ; base 0, limit stays 4 GiB
    mov sp, KSTACK
    mov si, m_real2
    call puts
    mov eax, [fs:dword 0x100000]
    call puthex32_16
    mov al, ' '
    call putc
    mov eax, [fs:dword 0x200000]
    call puthex32_16
    mov al, 10
    call putc
    mov dword [fs:dword 0x200004], 0x600DDA7A
    ; The IVT works again.
    mov word [0x60 * 4], ivt_handler
    mov word [0x60 * 4 + 2], 0xF000
    mov byte [g_tmp], 0
    int 0x60
    cmp byte [g_tmp], 1
    jne fail
    mov si, m_ivt
    call puts

    ; A20.  Pattern at 0x600 and at its 1 MiB alias.
    mov dword [0x600], 0x11111111
    mov dword [fs:dword 0x100600], 0x22222222
    mov si, m_a20on
    call puts
    call alias
    ; Port 0x92 bit 1 off.
    in al, 0x92
    and al, ~0x03
    out 0x92, al
    mov si, m_a20off92
    call puts
    call alias
    in al, 0x92
    or al, 0x02
    and al, ~0x01
    out 0x92, al
    mov si, m_a20on92
    call puts
    call alias
    in al, 0x92
    and al, 0x02
    mov bl, al
    mov si, m_p92
    call puts
    movzx ax, bl
    call puthex16
    mov al, 10
    call putc
    ; i8042 output port: 0xDD = A20 off, 0xDF = A20 on.
    mov bl, 0xDD
    call kbc_outport
    mov si, m_a20offkbc
    call puts
    call alias
    mov bl, 0xDF
    call kbc_outport
    mov si, m_a20onkbc
    call puts
    call alias
    mov si, m_done
    call puts
    exit_with EXIT_PASS
fail:
    mov si, m_fail
    call puts
    exit_with EXIT_FAIL

; alias: prints what 0x100600 reads (0x22222222: no wrap, 0x11111111:
; wrapped to 0x600) and the pattern written at 0x200004 earlier.
alias:
    mov eax, [fs:dword 0x100600]
    call puthex32_16
    mov al, ' '
    call putc
    mov eax, [fs:dword 0x200004]
    call puthex32_16
    mov al, 10
    call putc
    ret

kbc_wait:
    in al, 0x64
    test al, 0x02
    jnz kbc_wait
    ret
kbc_outport:
    call kbc_wait
    mov al, 0xD1
    out 0x64, al
    call kbc_wait
    mov al, bl
    out 0x60, al
    call kbc_wait
    ret

ivt_handler:
    mov byte [g_tmp], 1
    iret

; EAX as 8 hex digits (16-bit code).
puthex32_16:
    push eax
    shr eax, 16
    call puthex16
    pop eax
    call puthex16
    ret

serial_routines
m_real:     db "real mode", 10, 0
m_pm16:     db "pm16 cs ", 0
m_msw:      db " msw.pe ", 0
m_real2:    db "real again, unreal reads ", 0
m_ivt:      db "ivt int 60 ok", 10, 0
m_a20on:    db "a20 on (reset state): ", 0
m_a20off92: db "a20off port92: ", 0
m_a20on92:  db "a20 on port92: ", 0
m_p92:      db "port92 a20 bit ", 0
m_a20offkbc: db "a20off i8042: ", 0
m_a20onkbc: db "a20 on i8042: ", 0
m_done:     db "done", 10, 0
m_fail:     db "FAIL", 10, 0

bits 32
sys_routines
sys_gdt_begin
sys_gdt_end
bits 16
reset_vector start
