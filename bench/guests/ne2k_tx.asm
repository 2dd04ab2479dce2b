; Network transmit benchmark guest: brings the NE2000 up (ne2k.inc) and
; sends ITER UDP frames of LEN bytes (Ethernet header included) from
; 10.0.2.15:1234 to 10.0.2.2:DPORT, which user networking hands to the
; host's loopback, each one by remote DMA (rep outsw) + TXP + a poll for
; PTX, like a polling driver.  Then exits via isa-debug-exit.  With
; -DNO_TX it does everything but the frames (the baseline to subtract).
bits 16
org 0
%include "lib.inc"
%include "ne2k.inc"

%ifndef ITER
%define ITER 1000
%endif
%ifndef LEN
%define LEN 1024
%endif
%ifndef DPORT
%define DPORT 9
%endif

%define RXBUF 0x1000
%define TXBUF 0x2000

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
    call build_frame
    mov si, msg_go
    call puts
%ifndef NO_TX
    mov ebp, ITER
.send:
    mov si, TXBUF
    mov cx, LEN
    call ne_send
    dec ebp
    jnz .send
%endif
    mov si, msg_done
    call puts
    exit_with EXIT_PASS

; The frame: headers from the template, our MAC, a zero payload, the IP
; header checksum (UDP checksum 0 = none).
build_frame:
    mov di, TXBUF
    xor ax, ax
    mov cx, LEN / 2 + 1
    rep stosw
    mov si, template
    mov di, TXBUF
    mov cx, template_end - template
.copy:
    cs lodsb
    stosb
    loop .copy
    mov si, MAC_VAR
    mov di, TXBUF + 6
    movsd
    movsw
    xor ax, ax
    mov si, TXBUF + 14
    mov cx, 20
    call ocsum
    not ax
    mov [TXBUF + 24], ax
    ret

fail:
    mov si, msg_fail
    call puts
    exit_with EXIT_FAIL

serial_routines
ne2k_routines

msg_pci:  db "ne2k_tx: RTL8029 on PCI", 10, 0
msg_isa:  db "ne2k_tx: using ISA 0x300", 10, 0
msg_go:   db "ne2k_tx: sending", 10, 0
msg_done: db "ne2k_tx: done", 10, 0
msg_fail: db "ne2k_tx: failed", 10, 0

template:
    db 0x52, 0x55, 0x0A, 0x00, 0x02, 0x02       ; user networking's gateway
    db 0, 0, 0, 0, 0, 0                         ; source MAC (patched)
    db 0x08, 0x00
    db 0x45, 0x00, (LEN - 14) >> 8, (LEN - 14) & 0xFF
    db 0x00, 0x00, 0x40, 0x00                   ; id 0, DF
    db 0x40, 0x11, 0x00, 0x00                   ; TTL 64, UDP, checksum (computed)
    db 10, 0, 2, 15
    db 10, 0, 2, 2
    db 0x04, 0xD2, DPORT >> 8, DPORT & 0xFF     ; 1234 -> DPORT
    db (LEN - 34) >> 8, (LEN - 34) & 0xFF, 0, 0 ; UDP length, no checksum
template_end:

reset_vector start
