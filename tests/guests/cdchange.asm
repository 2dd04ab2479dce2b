; MBR boot sector for the media-change test (SeaBIOS boots it from an ATA
; disk; the CD-ROM drive on the secondary master starts empty).  It polls
; the drive with TEST UNIT READY and, after each CHECK CONDITION, REQUEST
; SENSE (ATAPI PACKET, PIO), and walks through what the test does from
; the monitor:
;   A  NOT READY, medium not present (02/3A)    -> "no medium"
;   B  `change cdrom`: UNIT ATTENTION, medium changed (06/28), then GOOD,
;      then READ(10) of sector 16 shows "CD001" -> "attention", "ready"
;   C  `eject cdrom`: NOT READY/3A again        -> "removed"
;   D  `change cdrom` again: B once more, then exit pass
; Anything else (GOOD without a unit attention first, other sense, a
; stuck drive) prints "failed" and the last sense (key << 8 | ASC in hex) and exits with the fail code.
bits 16
org 0x7C00
%include "lib.inc"

%define RESP 0x8000                 ; data-in buffer (sense, sector)
%define POLLS 0x400000              ; per phase; each poll is ~20 exits

start:
    cli
    xor ax, ax
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov sp, 0x7C00
    cld
    serial_init
    ; A: wait for "no medium"; GOOD would be a medium nobody inserted.
    mov bl, 1
    call wait_no_medium
    mov si, msg_empty
    call puts
    ; B: unit attention, then ready.
    call wait_ready
    ; C: wait for the eject; the medium is there until then.
    mov bl, 0
    call wait_no_medium
    mov si, msg_gone
    call puts
    ; D: the test inserts the ISO again: B once more, then done.
    call wait_ready
    exit_with EXIT_PASS

; Polls until GOOD, which must come after a UNIT ATTENTION / medium
; changed; then sector 16 must read as an ISO 9660 volume descriptor.
wait_ready:
    mov byte [seen_ua], 0
    mov ebp, POLLS
.b:
    dec ebp
    jz fail
    mov si, cdb_tur
    call packet
    jnc .good
    call sense
    cmp ax, 0x0628
    jne .b                          ; still no medium (02/3A) or becoming ready
    cmp byte [seen_ua], 0
    jne .b
    mov byte [seen_ua], 1
    mov si, msg_ua
    call puts
    jmp .b
.good:
    cmp byte [seen_ua], 0
    je fail
    mov si, cdb_read
    call packet
    jc fail
    cmp dword [RESP + 1], 'CD00'
    jne fail
    mov si, msg_ready
    jmp puts

; Polls until TEST UNIT READY fails with NOT READY / medium not present.
; BL = 1: GOOD is a failure.
wait_no_medium:
    mov ebp, POLLS
.p:
    dec ebp
    jz fail
    mov si, cdb_tur
    call packet
    jc .cc
    test bl, bl
    jnz fail
    jmp .p
.cc:
    call sense
    cmp ax, 0x023A
    jne .p
    ret

; REQUEST SENSE; AX = sense key << 8 | ASC.
sense:
    mov si, cdb_sense
    call packet
    jc fail
    mov ah, [RESP + 2]
    and ah, 0x0F
    mov al, [RESP + 12]
    mov [last], ax
    ret

; DS:SI = 12-byte CDB.  Runs it with PIO (byte count limit 2048) and reads
; any data into RESP.  CF set if the command ended with CHECK CONDITION.
packet:
    call not_busy
    mov dx, 0x176
    mov al, 0xA0
    out dx, al                      ; master
    mov dx, 0x171
    xor al, al
    out dx, al                      ; features: PIO
    mov dx, 0x174
    out dx, al
    inc dx
    mov al, 0x08
    out dx, al                      ; byte count limit 0x0800
    mov dx, 0x177
    mov al, 0xA0
    out dx, al                      ; PACKET
    call not_busy
    test al, 0x08
    jz fail                         ; no DRQ for the CDB
    mov dx, 0x170
    mov cx, 6
    rep outsw
    mov di, RESP
.data:
    call not_busy
    test al, 0x08
    jz .end
    mov dx, 0x174
    in al, dx
    mov cl, al
    inc dx
    in al, dx
    mov ch, al
    inc cx
    shr cx, 1
    cmp cx, 1024
    ja fail
    mov dx, 0x170
    rep insw
    jmp .data
.end:
    shr al, 1                       ; ERR -> CF
    ret

; AL = status once BSY is clear.
not_busy:
    mov dx, 0x177
    mov ecx, 10000000
.w:
    in al, dx
    test al, 0x80
    jz .ok
    dec ecx
    jnz .w
    jmp fail
.ok:
    ret

fail:
    mov si, msg_fail
    call puts
    mov ax, [last]
    mov cx, 4
.hex:
    rol ax, 4
    push ax
    and al, 0x0F
    add al, '0'
    cmp al, '9'
    jbe .d
    add al, 7
.d:
    call putc
    pop ax
    loop .hex
    mov al, 10
    call putc
    exit_with EXIT_FAIL

; "cdchange: " then DS:SI.
puts:
    push si
    mov si, tag
    call puts_raw
    pop si
puts_raw:
    lodsb
    test al, al
    jz .done
    call putc
    jmp puts_raw
.done:
    ret

putc:
    mov ah, al
    mov dx, COM1 + 5
.w:
    in al, dx
    test al, 0x20
    jz .w
    mov al, ah
    mov dx, COM1
    out dx, al
    ret

cdb_tur:   times 12 db 0
cdb_sense: db 0x03, 0, 0, 0, 18, 0, 0, 0, 0, 0, 0, 0
cdb_read:  db 0x28, 0, 0, 0, 0, 16, 0, 0, 1, 0, 0, 0
seen_ua: db 0
last: dw 0
tag:       db "cdchange: ", 0
msg_empty: db "no medium", 10, 0
msg_ua:    db "attention", 10, 0
msg_ready: db "ready", 10, 0
msg_gone:  db "removed", 10, 0
msg_fail:  db "failed ", 0
    times 510 - ($ - $$) db 0
    dw 0xAA55
