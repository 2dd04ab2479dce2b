; Drives the NE2000 like a driver does and asks minus1's user-mode NAT for
; a DHCP lease: finds the RTL8029 on PCI bus 0 (assigning its I/O BAR
; itself, there is no BIOS) or else uses the ISA card at 0x300, reads the
; MAC from the PROM, sends a DHCP DISCOVER with remote DMA + transmit, and
; polls the receive ring until the OFFER comes.  Prints the offered address.
bits 16
org 0
%include "lib.inc"

%include "ne2k.inc"

%define RXBUF 0x1000
%define TXBUF 0x2000
%define FRAME_LEN 342

start:
    cli
    cld
    xor ax, ax
    mov ss, ax
    mov sp, 0x7000
    mov ds, ax
    mov es, ax
    serial_init
    call find_card
    call nic_init
    call send_discover
    call wait_offer
    exit_with EXIT_FAIL

; ---- DHCP DISCOVER: copy the template to RAM, patch the MAC, send ----
send_discover:
    mov si, frame
    mov di, TXBUF
    mov cx, FRAME_LEN
.copy:
    cs lodsb
    stosb
    loop .copy
    mov si, MAC_VAR                 ; Ethernet source and BOOTP chaddr
    mov di, TXBUF + 6
    mov cx, 6
    rep movsb
    mov si, MAC_VAR
    mov di, TXBUF + 14 + 20 + 8 + 28
    mov cx, 6
    rep movsb
    mov si, TXBUF
    mov cx, FRAME_LEN
    jmp ne_send

; ---- poll the ring until a DHCP OFFER arrives ----
wait_offer:
    mov bp, 40                      ; outer tries x 65535 polls
.poll:
    mov cx, 0xFFFF
.inner:
    inb ISR
    test al, 0x01
    jnz .got
    loop .inner
    dec bp
    jnz .poll
    mov si, msg_timeout
    call puts
    jmp fail
.got:
    outb ISR, 0x01
.frames:
    call ne_recv
    jc .poll                        ; ring empty
    ; Frame starts at RXBUF + 4: UDP to port 68, cookie, option 53 = OFFER.
    cmp word [RXBUF + 4 + 12], 0x0008           ; ethertype 0x0800
    jne .frames
    cmp byte [RXBUF + 4 + 14 + 9], 0x11         ; UDP
    jne .frames
    cmp word [RXBUF + 4 + 14 + 20 + 2], 0x4400  ; dst port 68
    jne .frames
    cmp dword [RXBUF + 4 + 278], 0x63538263     ; DHCP magic cookie
    jne .frames
    cmp word [RXBUF + 4 + 282], 0x0135          ; option 53, length 1
    jne .frames
    cmp byte [RXBUF + 4 + 284], 2               ; DHCPOFFER
    jne .frames
    mov si, msg_offer
    call puts
    mov si, RXBUF + 4 + 14 + 20 + 8 + 16        ; yiaddr
    mov cx, 4
.ip:
    lodsb
    call putdec
    cmp cx, 1
    je .ipdot
    mov al, '.'
    call putc
.ipdot:
    loop .ip
    mov al, 10
    call putc
    exit_with EXIT_PASS

fail:
    mov si, msg_fail
    call puts
    exit_with EXIT_FAIL

; AL = 0..255 printed in decimal.  Clobbers AX, DX.
putdec:
    push bx
    push cx
    xor ah, ah
    mov bl, 100
    div bl                          ; AL = hundreds, AH = rest
    mov cl, ah
    test al, al
    jz .tens
    add al, '0'
    call putc
    mov ch, 1
    jmp .t2
.tens:
    xor ch, ch
.t2:
    mov al, cl
    xor ah, ah
    mov bl, 10
    div bl
    mov cl, ah
    test al, al
    jnz .print_tens
    test ch, ch
    jz .ones
.print_tens:
    add al, '0'
    call putc
.ones:
    mov al, cl
    add al, '0'
    call putc
    pop cx
    pop bx
    ret

serial_routines
ne2k_routines
msg_pci:     db "ne2k_dhcp: RTL8029 on PCI", 10, 0
msg_isa:     db "ne2k_dhcp: no PCI NE2000, using ISA 0x300", 10, 0
msg_offer:   db "ne2k_dhcp: offer ", 0
msg_timeout: db "ne2k_dhcp: no offer", 10, 0
msg_fail:    db "ne2k_dhcp: failed", 10, 0

; The DISCOVER template: Ethernet + IPv4 + UDP + 300 bytes of BOOTP.
frame:
    db 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF       ; broadcast
    db 0, 0, 0, 0, 0, 0                         ; source MAC (patched)
    db 0x08, 0x00
    db 0x45, 0x00, 0x01, 0x48                   ; IPv4, total length 328
    db 0x00, 0x00, 0x00, 0x00
    db 0x40, 0x11, 0x79, 0xA6                   ; TTL 64, UDP, header checksum
    db 0, 0, 0, 0                               ; 0.0.0.0
    db 0xFF, 0xFF, 0xFF, 0xFF                   ; 255.255.255.255
    db 0x00, 0x44, 0x00, 0x43                   ; 68 -> 67
    db 0x01, 0x34, 0x00, 0x00                   ; UDP length 308, no checksum
    db 1, 1, 6, 0                               ; BOOTREQUEST, Ethernet
    db 0x4D, 0x31, 0x4D, 0x31                   ; xid
    db 0, 0, 0x80, 0x00                         ; secs, broadcast flag
    times 16 db 0                               ; ciaddr yiaddr siaddr giaddr
    times 16 db 0                               ; chaddr (patched)
    times 192 db 0                              ; sname, file
    db 0x63, 0x82, 0x53, 0x63                   ; magic cookie
    db 53, 1, 1                                 ; DHCPDISCOVER
    db 255
    times FRAME_LEN - ($ - frame) db 0

reset_vector start
