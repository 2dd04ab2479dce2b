; A TCP echo service on port 7 of 10.0.2.15, for reaching a guest from the
; host through `--net user,hostfwd=tcp::HOSTPORT-:7`.
;
; Brings the NE2000 up (ne2k.inc), answers ARP requests for 10.0.2.15 and
; runs one TCP connection at a time with the least a peer needs: SYN ->
; SYN-ACK; data in order -> one PSH|ACK segment that acknowledges it and
; carries the same bytes back; data out of order -> a bare ACK; FIN ->
; FIN-ACK; the ACK of our FIN ends the run with EXIT_PASS.  No options, no
; retransmission (the wire does not lose frames), a fixed window.  IP and
; TCP checksums are computed (slirp drops frames with wrong ones).
bits 16
org 0
%include "lib.inc"
%include "ne2k.inc"

%define RXBUF 0x1000                ; receive header + frame
%define TXBUF 0x2000                ; the frame being built
%define F (RXBUF + 4)               ; received frame
%define OUR_IP 0x0F02000A           ; 10.0.2.15 as it lies in memory
%define ISS 0x4D310000              ; our initial sequence number
%define WINDOW 0x2000
%define POLL_ROUNDS 100             ; x 65535 ISR polls (~9 us each) before giving up

; Connection state.
%define PEER_MAC 0x700              ; 6 bytes
%define PEER_IP 0x708               ; 4 bytes, network order
%define PEER_PORT 0x70C             ; 2 bytes, network order
%define RCV_NXT 0x710               ; dword, host order
%define SND_NXT 0x714               ; dword, host order
%define STATE 0x718                 ; byte
%define ECHOED 0x71A                ; word: bytes echoed
%define IP_ID 0x71C                 ; word
%define ST_LISTEN 0
%define ST_OPEN 1
%define ST_FIN_SENT 2

; TCP flags.
%define FIN 0x01
%define SYN 0x02
%define RST 0x04
%define PSH 0x08
%define ACK 0x10

start:
    cli
    cld
    xor ax, ax
    mov ss, ax
    mov sp, 0x7000
    mov ds, ax
    mov es, ax
    mov di, PEER_MAC                ; state and counters start at zero
    mov cx, 0x20
    rep stosb
    serial_init
    call find_card
    call nic_init
    mov si, msg_listen
    call puts
    mov bp, POLL_ROUNDS
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
    outb ISR, 0x01                  ; ack first: a frame arriving later sets it again
.frames:
    push bp
    call ne_recv
    jc .empty
    call handle_frame
    pop bp
    jmp .frames
.empty:
    pop bp
    jmp .poll

; ---- one received frame at F, CX bytes long ----
handle_frame:
    cmp cx, 42
    jb .ignore
    cmp word [F + 12], 0x0608       ; ARP
    je arp_in
    cmp word [F + 12], 0x0008       ; IPv4
    jne .ignore
    cmp cx, 54
    jb .ignore
    cmp byte [F + 14], 0x45         ; IPv4 without options
    jne .ignore
    cmp byte [F + 23], 6            ; TCP
    jne .ignore
    cmp dword [F + 30], OUR_IP
    jne .ignore
    cmp word [F + 36], 0x0700       ; port 7
    je tcp_in
.ignore:
    ret

; ---- ARP: answer "who has 10.0.2.15" ----
arp_in:
    cmp word [F + 20], 0x0100       ; request
    jne .done
    cmp dword [F + 38], OUR_IP
    jne .done
    mov di, TXBUF
    mov si, F + 22                  ; to the asker's MAC
    movsd
    movsw
    mov si, MAC_VAR
    movsd
    movsw
    mov si, arp_head                ; type, htype, ptype, sizes, op = reply
    mov cx, 10
.head:
    cs lodsb
    stosb
    loop .head
    mov si, MAC_VAR                 ; sender: us
    movsd
    movsw
    mov eax, OUR_IP
    stosd
    mov si, F + 22                  ; target: the asker
    mov cx, 10
    rep movsb
    xor ax, ax                      ; pad 42 -> 60
    mov cx, 9
    rep stosw
    mov si, TXBUF
    mov cx, 60
    call ne_send
.done:
    ret

; ---- TCP segment for port 7 ----
tcp_in:
    mov dl, [F + 47]                ; flags
    test dl, RST
    jnz .reset
    test dl, SYN
    jnz .syn
    cmp byte [STATE], ST_LISTEN
    je .done
    ; Payload length: IP total length - 20 - TCP data offset.
    mov ax, [F + 16]
    xchg al, ah
    sub ax, 20
    movzx bx, byte [F + 46]
    shr bx, 4
    shl bx, 2
    sub ax, bx
    jb .done                        ; nonsense lengths
    cmp ax, MAX_FRAME - 54
    ja .done
    mov cx, ax                      ; CX = payload length
    lea si, [F + 34 + bx]           ; SI = payload
    mov eax, [F + 38]
    call ntohl                      ; EAX = its sequence number
    jcxz .no_data
    cmp eax, [RCV_NXT]
    jne .reack                      ; not the next byte: say what we want
    movzx ebx, cx
    add [RCV_NXT], ebx
    add [ECHOED], cx
    push cx
    push dx
    mov di, TXBUF + 54              ; echo it back in the acknowledgement
    rep movsb
    pop dx
    pop cx
    mov al, PSH | ACK
    call tcp_send
    movzx ebx, cx
    add [SND_NXT], ebx
    jmp .fin
.no_data:
    cmp eax, [RCV_NXT]
    jne .done
.fin:
    test dl, FIN
    jz .acked
    inc dword [RCV_NXT]
    mov al, FIN | ACK
    xor cx, cx
    call tcp_send
    inc dword [SND_NXT]
    mov byte [STATE], ST_FIN_SENT
    ret
.acked:
    ; The ACK of our FIN ends the connection and the run.
    cmp byte [STATE], ST_FIN_SENT
    jne .done
    test dl, ACK
    jz .done
    mov eax, [F + 42]
    call ntohl
    cmp eax, [SND_NXT]
    jne .done
    mov si, msg_echoed
    call puts
    mov ax, [ECHOED]
    call puthex16
    mov si, msg_closed
    call puts
    exit_with EXIT_PASS
.reack:
    mov al, ACK
    xor cx, cx
    jmp tcp_send
.reset:
    mov byte [STATE], ST_LISTEN
.done:
    ret
.syn:
    mov si, F + 6                   ; remember who is calling
    mov di, PEER_MAC
    movsd
    movsw
    mov eax, [F + 26]
    mov [PEER_IP], eax
    mov ax, [F + 34]
    mov [PEER_PORT], ax
    mov eax, [F + 38]
    call ntohl
    inc eax
    mov [RCV_NXT], eax
    mov dword [SND_NXT], ISS
    mov word [ECHOED], 0
    mov byte [STATE], ST_OPEN
    mov si, msg_syn
    call puts
    mov al, SYN | ACK
    xor cx, cx
    call tcp_send
    inc dword [SND_NXT]
    ret

; ---- tcp_send: AL = flags, CX = payload length (already at TXBUF + 54) ----
; Builds Ethernet + IPv4 + TCP headers to the peer with SND_NXT/RCV_NXT,
; both checksums, pads to 60 and transmits.  Keeps CX and DX.
tcp_send:
    push cx
    push dx
    mov [TXBUF + 47], al
    mov di, TXBUF                   ; Ethernet
    mov si, PEER_MAC
    movsd
    movsw
    mov si, MAC_VAR
    movsd
    movsw
    mov ax, 0x0008
    stosw
    mov ax, 0x0045                  ; IPv4, 20-byte header, TOS 0
    stosw
    mov ax, cx
    add ax, 40                      ; total length
    xchg al, ah
    stosw
    mov ax, [IP_ID]
    inc word [IP_ID]
    xchg al, ah
    stosw
    mov ax, 0x0040                  ; DF, no fragment offset
    stosw
    mov ax, 0x0640                  ; TTL 64, TCP
    stosw
    xor ax, ax                      ; checksum, filled below
    stosw
    mov eax, OUR_IP
    stosd
    mov eax, [PEER_IP]
    stosd
    mov ax, 0x0700                  ; TCP: from port 7
    stosw
    mov ax, [PEER_PORT]
    stosw
    mov eax, [SND_NXT]
    call ntohl
    stosd
    mov eax, [RCV_NXT]
    call ntohl
    stosd
    mov byte [TXBUF + 46], 0x50     ; 20-byte header; flags already at 47
    mov word [TXBUF + 48], (WINDOW >> 8) | ((WINDOW & 0xFF) << 8)
    mov dword [TXBUF + 50], 0       ; checksum, urgent pointer
    ; IP header checksum.
    push cx
    xor ax, ax
    mov si, TXBUF + 14
    mov cx, 20
    call ocsum
    not ax
    mov [TXBUF + 24], ax
    pop cx
    ; TCP checksum: pseudo header (addresses, protocol, TCP length) + segment.
    push cx
    xor ax, ax
    mov si, TXBUF + 26
    mov cx, 8
    call ocsum
    pop cx
    mov bx, cx
    add bx, 20
    xchg bl, bh
    add ax, 0x0600                  ; zero byte + protocol 6, as in memory
    adc ax, bx
    adc ax, 0
    adc ax, 0
    push cx
    add cx, 20
    mov si, TXBUF + 34
    call ocsum
    not ax
    mov [TXBUF + 50], ax
    pop cx
    ; Pad short frames with zeros (after the checksum: not part of it).
    mov bx, cx
    add bx, 54
    cmp bx, 60
    jae .send
    mov di, TXBUF
    add di, bx
    mov cx, 60
    sub cx, bx
    xor al, al
    rep stosb
    mov bx, 60
.send:
    mov cx, bx
    mov si, TXBUF
    call ne_send
    pop dx
    pop cx
    ret

; EAX: network <-> host byte order (no BSWAP: our host's KVM emulator
; does not know every form of it).
ntohl:
    xchg al, ah
    rol eax, 16
    xchg al, ah
    ret

fail:
    mov si, msg_fail
    call puts
    exit_with EXIT_FAIL

serial_routines
ne2k_routines

arp_head:    db 0x08, 0x06, 0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x02
msg_pci:     db "ne2k_hostfwd: RTL8029 on PCI", 10, 0
msg_isa:     db "ne2k_hostfwd: no PCI NE2000, using ISA 0x300", 10, 0
msg_listen:  db "ne2k_hostfwd: listening on 10.0.2.15:7", 10, 0
msg_syn:     db "ne2k_hostfwd: SYN", 10, 0
msg_echoed:  db "ne2k_hostfwd: echoed 0x", 0
msg_closed:  db " bytes, closed", 10, 0
msg_timeout: db "ne2k_hostfwd: no connection", 10, 0
msg_fail:    db "ne2k_hostfwd: failed", 10, 0

reset_vector start
