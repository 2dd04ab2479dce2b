; Sends a message over COM1 one byte per THR-empty interrupt (IRQ4 through
; the 8259), sleeping in HLT between bytes, then checks the UART's
; loopback mode and reports.
bits 16
org 0
%include "lib.inc"

start:
    cli
    xor ax, ax
    mov ss, ax
    mov sp, 0x7000
    mov ds, ax
    serial_init
    mov word [0x0C * 4], irq4_handler   ; IRQ4 -> vector 0x0C
    mov word [0x0C * 4 + 2], 0xF000
    mov word [0x500], msg_irq           ; next byte to send
    mov byte [0x502], 0                 ; done flag
    pic_init 0x08, 0x70, 0xEF           ; only IRQ4
    mov dx, COM1 + 4
    mov al, 0x0B                        ; DTR, RTS, OUT2 (gates the IRQ)
    out dx, al
    sti
    mov dx, COM1 + 1
    mov al, 0x02                        ; ETBEI: THR is empty, so IRQ now
    out dx, al
    ; Check-then-sleep with interrupts off: STI's one-instruction shadow
    ; makes STI;HLT atomic, so the last interrupt cannot slip in between
    ; (our UART sends instantly, so all of them may come before the HLT).
.wait:
    cli
    cmp byte [0x502], 0
    jne .sent
    sti
    hlt
    jmp .wait
.sent:
    ; Loopback: a byte sent comes back in RBR.
    mov dx, COM1 + 1
    xor al, al
    out dx, al
    mov dx, COM1 + 4
    mov al, 0x10
    out dx, al
    mov dx, COM1
    mov al, 0x5A
    out dx, al
    mov dx, COM1 + 5
    mov cx, 1000
.poll:
    in al, dx
    test al, 1
    jnz .got
    loop .poll
    jmp fail
.got:
    mov dx, COM1
    in al, dx
    cmp al, 0x5A
    jne fail
    mov dx, COM1 + 4
    mov al, 0x03
    out dx, al
    mov si, msg_ok
    call puts
    exit_with EXIT_PASS
fail:
    mov dx, COM1 + 4
    mov al, 0x03
    out dx, al
    mov si, msg_fail
    call puts
    exit_with EXIT_FAIL

irq4_handler:
    push ax
    push dx
    push si
    mov dx, COM1 + 2
    in al, dx                           ; IIR: acknowledge THRE
    mov si, [0x500]
    cs lodsb
    test al, al
    jz .finished
    mov dx, COM1
    out dx, al
    mov [0x500], si
    jmp .eoi
.finished:
    mov dx, COM1 + 1
    xor al, al
    out dx, al                          ; no more THRE interrupts
    mov byte [0x502], 1
.eoi:
    mov al, 0x20
    out 0x20, al
    pop si
    pop dx
    pop ax
    iret

serial_routines
msg_irq:  db "uart_irq: hello from an interrupt-driven UART", 10, 0
msg_ok:   db "uart_irq: loopback ok", 10, 0
msg_fail: db "uart_irq: loopback failed", 10, 0

reset_vector start
