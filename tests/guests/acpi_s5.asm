; MBR boot sector for the ACPI power-off test.  SeaBIOS loads it from our
; ATA disk after building minus1's ACPI tables from etc/table-loader.  It
; switches to 32-bit flat protected mode (the tables live near the top of
; RAM), then does what an OS's ACPI core does: finds "RSD PTR " on a
; 16-byte boundary in E0000-FFFFF, checks its checksum, follows the RSDT
; to the FACP and the FACP to the DSDT (each checksummed), reads
; PM1a_CNT_BLK and \_S5's SLP_TYPa, prints both and writes
; SLP_TYP << 10 | SLP_EN to PM1a_CNT.  minus1 must then exit with status
; 0 (if it is still running after the write, the guest reports failure).
bits 16
org 0x7C00
%include "lib.inc"

%define SLP_EN 0x2000

start:
    cli
    xor ax, ax
    mov ds, ax
    mov ss, ax
    mov esp, 0x7C00
    ; COM1 is SeaBIOS's serial console: already set up.
    lgdt [gdt_desc]
    mov eax, cr0
    or al, 1
    mov cr0, eax
    jmp 0x08:pm32

bits 32
pm32:
    mov ax, 0x10
    mov ds, ax
    mov ss, ax
    ; The RSDP: signature on a paragraph boundary, first 20 bytes sum to 0.
    mov ebx, 0xE0000
.scan:
    cmp dword [ebx], 'RSD '
    jne .next
    cmp dword [ebx + 4], 'PTR '
    jne .next
    mov esi, ebx
    mov ecx, 20
    call sum
    jz rsdp_found
.next:
    add ebx, 16
    cmp ebx, 0x100000
    jb .scan
    jmp fail

; EBX = table, EAX = signature: signature, sane length, zero sum.
check_table:
    cmp [ebx], eax
    jne fail
    mov ecx, [ebx + 4]
    cmp ecx, 36
    jb fail
    cmp ecx, 0x10000
    jae fail
    mov esi, ebx
    call sum
    jnz fail
    ret

; ESI, ECX: ZF set if the bytes sum to 0.  Clobbers AL, ESI, ECX.
sum:
    xor al, al
.add:
    add al, [esi]
    inc esi
    loop .add
    test al, al
    ret

fail:
    mov esi, msg_fail
    call puts
    exit_with EXIT_FAIL

rsdp_found:
    mov esi, msg_rsdp
    call puts
    mov ebx, [ebx + 16]             ; RsdtAddress
    mov eax, 'RSDT'
    call check_table
    mov ecx, [ebx + 4]
    sub ecx, 36
    shr ecx, 2                      ; entries (length checked < 64K)
    lea edi, [ebx + 36]
.entry:
    test ecx, ecx
    jz fail
    mov ebx, [edi]
    cmp dword [ebx], 'FACP'
    je .facp
    add edi, 4
    dec ecx
    jmp .entry
.facp:
    mov eax, 'FACP'
    call check_table
    mov ax, [ebx + 64]              ; PM1a_CNT_BLK
    mov [pm1cnt], ax
    mov esi, msg_facp
    call puts
    mov ax, [pm1cnt]
    call puthex16
    mov ebx, [ebx + 40]             ; DSDT
    mov eax, 'DSDT'
    call check_table
    mov ecx, [ebx + 4]
    ; NameOp "_S5_" PackageOp
.s5:
    cmp byte [ebx], 0x08
    jne .s5next
    cmp dword [ebx + 1], '_S5_'
    jne .s5next
    cmp byte [ebx + 5], 0x12
    je .s5found
.s5next:
    inc ebx
    loop .s5
    jmp fail
.s5found:
    ; PkgLength: bits 7:6 of its lead byte count the extra bytes.  Then
    ; NumElements, then SLP_TYPa: ZeroOp or OneOp (all minus1's DSDT
    ; uses; a BytePrefix value would fail here).
    movzx eax, byte [ebx + 6]
    shr eax, 6
    movzx eax, byte [ebx + eax + 8]
    cmp al, 1
    ja fail
    push eax
    mov esi, msg_typ
    call puts
    pop eax
    push eax
    add al, '0'
    call putc
    mov al, 10
    call putc
    pop eax
    shl eax, 10
    or eax, SLP_EN
    mov dx, [pm1cnt]
    out dx, ax
    ; Still running: minus1 did not power off.  (If the power-off is
    ; still on its way, minus1 keeps its status 0; the test also checks
    ; that this line is absent.)
    jmp fail

; AL = character.  Clobbers DX.
putc:
    push eax
    mov dx, COM1 + 5
.wait:
    in al, dx
    test al, 0x20
    jz .wait
    pop eax
    mov dx, COM1
    out dx, al
    ret

; ESI = zero-terminated string.
puts:
    lodsb
    test al, al
    jz .done
    call putc
    jmp puts
.done:
    ret

; AX = value: four hex digits.
puthex16:
    mov ecx, 4
.digit:
    rol ax, 4
    push eax
    and al, 0x0F
    add al, '0'
    cmp al, '9'
    jbe .out
    add al, 7
.out:
    call putc
    pop eax
    loop .digit
    ret

gdt:                                ; the null descriptor holds the GDTR
gdt_desc:
    dw gdt_end - gdt - 1
    dd gdt
    dw 0
    dq 0x00CF9A000000FFFF           ; 0x08: 32-bit code, flat
    dq 0x00CF92000000FFFF           ; 0x10: data, flat
gdt_end:

pm1cnt:   dw 0
msg_rsdp: db "acpi_s5: RSDP ok", 10, 0
msg_facp: db "acpi_s5: PM1a_CNT=", 0
msg_typ:  db " SLP_TYP=", 0
msg_fail: db "acpi_s5: failed", 10, 0
    times 510 - ($ - $$) db 0
    dw 0xAA55
