; Drives the NE2000 like a driver does and asks minus1's user-mode NAT for
; a DHCP lease: finds the RTL8029 on PCI bus 0 (assigning its I/O BAR
; itself, there is no BIOS) or else uses the ISA card at 0x300, reads the
; MAC from the PROM, sends a DHCP DISCOVER with remote DMA + transmit, and
; polls the receive ring until the OFFER comes.  Prints the offered address.
bits 16
org 0
%include "lib.inc"

%define PCI_IOBASE 0xC000
%define ISA_IOBASE 0x300
%define RXBUF 0x1000
%define FRAME_LEN 342
%define PSTART 0x46
%define PSTOP 0x80
%define IOBASE_VAR 0x500            ; word: the card's I/O base

; NE2000 register offsets (page 0 unless noted).
%define CR 0x00
%define PSTART_R 0x01
%define PSTOP_R 0x02
%define BNRY 0x03
%define TPSR 0x04
%define TBCR0 0x05
%define TBCR1 0x06
%define ISR 0x07
%define RSAR0 0x08
%define RSAR1 0x09
%define RBCR0 0x0A
%define RBCR1 0x0B
%define RCR 0x0C
%define TCR 0x0D
%define DCR 0x0E
%define IMR 0x0F
%define CURR 0x07                   ; page 1
%define DATA 0x10
%define RESET 0x1F

%macro outb 2                       ; outb REG, value
    mov dx, [IOBASE_VAR]
    add dx, %1
    mov al, %2
    out dx, al
%endmacro
%macro inb 1                        ; AL = REG
    mov dx, [IOBASE_VAR]
    add dx, %1
    in al, dx
%endmacro

start:
    cli
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

; ---- PCI: look for 10ec:8029 on bus 0, else fall back to ISA ----
find_card:
    mov word [IOBASE_VAR], ISA_IOBASE
    xor bx, bx                      ; devfn
.next:
    mov eax, 0x80000000
    movzx ecx, bx
    shl ecx, 8
    or eax, ecx
    mov dx, 0xCF8
    out dx, eax
    mov dx, 0xCFC
    in eax, dx
    cmp eax, 0x802910EC
    je .found
    add bx, 8                       ; next slot, function 0
    cmp bx, 256
    jb .next
    mov si, msg_isa
    call puts
    ret
.found:
    mov eax, 0x80000010             ; BAR0
    movzx ecx, bx
    shl ecx, 8
    or eax, ecx
    mov dx, 0xCF8
    out dx, eax
    mov dx, 0xCFC
    mov eax, PCI_IOBASE
    out dx, eax
    mov eax, 0x80000004             ; command: I/O decode
    or eax, ecx
    mov dx, 0xCF8
    out dx, eax
    mov dx, 0xCFC
    mov ax, 1
    out dx, ax
    mov word [IOBASE_VAR], PCI_IOBASE
    mov si, msg_pci
    call puts
    ret

; ---- chip set-up as NE2000 drivers do it ----
nic_init:
    inb RESET
    mov dx, [IOBASE_VAR]
    add dx, RESET
    out dx, al
    mov cx, 0xFFFF
.rst:
    inb ISR
    test al, 0x80
    jnz .rst_done
    loop .rst
    jmp fail
.rst_done:
    outb CR, 0x21                   ; page 0, stop, abort DMA
    outb DCR, 0x49                  ; word transfers, normal, FIFO 8
    outb RBCR0, 0
    outb RBCR1, 0
    outb RCR, 0x04                  ; accept broadcast
    outb TCR, 0x02                  ; internal loopback while setting up
    outb TPSR, 0x40
    outb PSTART_R, PSTART
    outb BNRY, PSTART
    outb PSTOP_R, PSTOP
    outb ISR, 0xFF
    outb IMR, 0x00
    ; The MAC from the PROM (word mode: each byte doubled).
    outb RBCR0, 12
    outb RBCR1, 0
    outb RSAR0, 0
    outb RSAR1, 0
    outb CR, 0x0A                   ; start, remote read
    mov di, 0x600
    mov cx, 6
.prom:
    mov dx, [IOBASE_VAR]
    add dx, DATA
    in ax, dx
    stosb                           ; low byte of each word
    loop .prom
    outb CR, 0x61                   ; page 1, stop
    mov si, 0x600
    mov bx, 1
.par:
    mov dx, [IOBASE_VAR]
    add dx, bx
    lodsb
    out dx, al
    inc bx
    cmp bx, 7
    jb .par
    outb CURR, PSTART + 1
    outb CR, 0x22                   ; page 0, start
    outb TCR, 0x00                  ; normal transmit
    ret

; ---- DHCP DISCOVER: copy the template to RAM, patch the MAC, send ----
send_discover:
    mov si, frame
    mov di, RXBUF
    mov cx, FRAME_LEN
.copy:
    cs lodsb
    stosb
    loop .copy
    mov si, 0x600                   ; Ethernet source and BOOTP chaddr
    mov di, RXBUF + 6
    mov cx, 6
    rep movsb
    mov si, 0x600
    mov di, RXBUF + 14 + 20 + 8 + 28
    mov cx, 6
    rep movsb
    outb RBCR0, FRAME_LEN & 0xFF
    outb RBCR1, FRAME_LEN >> 8
    outb RSAR0, 0x00
    outb RSAR1, 0x40
    outb CR, 0x12                   ; start, remote write
    mov si, RXBUF
    mov cx, FRAME_LEN / 2
    mov dx, [IOBASE_VAR]
    add dx, DATA
.write:
    lodsw
    out dx, ax
    loop .write
    mov cx, 0xFFFF
.rdc:
    inb ISR
    test al, 0x40
    jnz .rdc_done
    loop .rdc
    jmp fail
.rdc_done:
    outb ISR, 0x40
    outb TBCR0, FRAME_LEN & 0xFF
    outb TBCR1, FRAME_LEN >> 8
    outb CR, 0x26                   ; start, transmit
    mov cx, 0xFFFF
.ptx:
    inb ISR
    test al, 0x0A                   ; PTX or TXE
    jnz .ptx_done
    loop .ptx
    jmp fail
.ptx_done:
    test al, 0x08
    jnz fail
    outb ISR, 0x0A
    ret

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
    outb CR, 0x62                   ; page 1 to read CURR
    inb CURR
    mov bl, al
    outb CR, 0x22
    inb BNRY
    inc al
    cmp al, PSTOP
    jb .nowrap
    mov al, PSTART
.nowrap:
    cmp al, bl
    je .poll                        ; ring empty
    mov bh, al                      ; BH = page of this frame
    ; Header (4 bytes) + up to 600 bytes of frame in one remote read.
    outb RSAR0, 0
    mov al, bh
    outb RSAR1, al
    outb RBCR0, 604 & 0xFF
    outb RBCR1, 604 >> 8
    outb CR, 0x0A
    mov di, RXBUF
    mov cx, 302
    mov dx, [IOBASE_VAR]
    add dx, DATA
.read:
    in ax, dx
    stosw
    loop .read
    ; BNRY = next page - 1 (the header's second byte).
    mov al, [RXBUF + 1]
    dec al
    cmp al, PSTART
    jae .bnry
    mov al, PSTOP - 1
.bnry:
    outb BNRY, al
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
