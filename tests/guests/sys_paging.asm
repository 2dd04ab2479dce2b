; Paging: 2-level with 4 KiB pages and a 4 MiB page (CR4.PSE); #PF error
; codes and CR2 for not-present pages and tables, writes to read-only
; pages with CR0.WP clear and set, user accesses to supervisor pages;
; accessed/dirty bits in PTEs and PDEs; INVLPG and CR3 reloads after PTE
; changes; then PAE with a 2 MiB page, reserved-bit faults and (when CPUID
; has NX) no-execute fetch faults.
bits 16
org 0
%include "lib.inc"
%include "sys.inc"

FLAT_CODE equ 0x40          ; ring-0 code, base 0, 4 GiB

PD    equ 0x10000
PT0   equ 0x11000           ; identity 0..4 MiB, user, writable
PT1   equ 0x12000           ; the test pages at 4 MiB
PDPT  equ 0x13000
PAEPD equ 0x14000
PAEPT equ 0x15000

%define PTE(n) (PT1 + (n) * 4)

start:
    sys_start main

bits 32
main:
    print "sys_paging", 10
    ; Clear the tables.
    mov edi, PD
    mov ecx, 0x6000 / 4
    xor eax, eax
    rep stosd
    ; PT0: identity map of 0..4 MiB, P|RW|U.
    mov edi, PT0
    mov eax, 0x007
.id:
    stosd
    add eax, 0x1000
    cmp edi, PT0 + 4096
    jb .id
    mov dword [PD + 0 * 4], PT0 | 0x007
    mov dword [PD + 1 * 4], PT1 | 0x007
    mov dword [PD + 2 * 4], 0x000000 | 0x083      ; 4 MiB page -> phys 0, supervisor RW
    ; PT1: 400000 not present; 401000 RO supervisor; 402000 RW user;
    ; 403000 RO user; 404000 RW supervisor; 405000 RW supervisor -> 105000.
    mov dword [PTE(1)], 0x101000 | 0x001
    mov dword [PTE(2)], 0x102000 | 0x007
    mov dword [PTE(3)], 0x103000 | 0x005
    mov dword [PTE(4)], 0x104000 | 0x003
    mov dword [PTE(5)], 0x105000 | 0x003
    mov dword [0x105000], 0xAAAAAAAA
    mov dword [0x106000], 0xBBBBBBBB
    mov eax, PD
    mov cr3, eax
    mov eax, cr4
    or eax, 0x10                    ; PSE
    mov cr4, eax
    mov eax, cr0
    or eax, 0x80000000
    and eax, ~0x00010000            ; WP clear
    mov cr0, eax
    print "paging on", 10

    ; Not present: page, then page table (PDE 3).
    trypf 0x0000, 0x00400000, mov eax, [0x400000]
    trypf 0x0002, 0x00400010, mov dword [0x400010], 1
    trypf 0x0000, 0x00C00004, mov eax, [0xC00004]
    ; WP clear: supervisor writes to read-only pages succeed.
    mov dword [0x401000], 0x12345678
    mov dword [0x403000], 0x9ABCDEF0
    mov eax, [0x101000]
    cmp eax, 0x12345678
    check e, "wp0 write to ro supervisor page"
    mov eax, [0x103000]
    cmp eax, 0x9ABCDEF0
    check e, "wp0 write to ro user page"
    ; WP set: they fault.
    mov eax, cr0
    or eax, 0x00010000
    mov cr0, eax
    trypf 0x0003, 0x00401004, mov dword [0x401004], 1
    trypf 0x0003, 0x00403008, mov dword [0x403008], 1
    ; CPL3: supervisor pages, read-only user page, not-present page.
    utrypf 0x0005, 0x00404000, mov eax, [0x404000]
    utrypf 0x0007, 0x00404000, mov dword [0x404000], 1
    utrypf 0x0007, 0x00403000, mov dword [0x403000], 1
    utrypf 0x0004, 0x00400000, mov eax, [0x400000]
    utrypf 0x0006, 0x00400000, mov dword [0x400000], 1
    utrypf 0x0005, 0x00401000, mov eax, [0x401000]
    utrypf 0x0005, 0x00800000, mov eax, [0x800000] ; 4 MiB supervisor page
    ; Accessed / dirty.
    and dword [PTE(2)], ~0x60
    and dword [PD + 1 * 4], ~0x60
    invlpg [0x402000]
    mov eax, [0x402000]
    print "read:  pde1 "
    phex [PD + 1 * 4], 3
    print " pte "
    phex [PTE(2)], 3
    nl
    mov dword [0x402000], 5
    print "write: pde1 "
    phex [PD + 1 * 4], 3
    print " pte "
    phex [PTE(2)], 3
    nl
    ; The 4 MiB page aliases physical 0: a write through it shows at 9000.
    mov dword [0x809000], 0xCAFEF00D
    mov eax, [0x9000]
    cmp eax, 0xCAFEF00D
    check e, "4m page write"
    print "4m pde "
    phex [PD + 2 * 4], 3
    nl
    ; INVLPG and CR3 reloads see PTE changes.
    mov eax, [0x405000]             ; now cached in any TLB
    mov dword [PTE(5)], 0x106000 | 0x003
    invlpg [0x405000]
    mov eax, [0x405000]
    cmp eax, 0xBBBBBBBB
    check e, "invlpg sees the new pte"
    mov dword [PTE(5)], 0x105000 | 0x003
    mov eax, cr3
    mov cr3, eax
    mov eax, [0x405000]
    cmp eax, 0xAAAAAAAA
    check e, "cr3 reload sees the new pte"
    mov dword [PTE(5)], 0
    invlpg [0x405000]
    trypf 0x0000, 0x00405ffc, mov eax, [0x405ffc]
    ; A dword straddling a present and a not-present page: CR2 is the
    ; first byte of the missing page.
    trypf 0x0002, 0x00405000, mov dword [0x404ffe], 1

    ; PAE.
    mov eax, cr0
    and eax, 0x7FFFFFFF
    mov cr0, eax
    mov dword [PDPT], PAEPD | 1
    mov dword [PAEPD + 0 * 8], 0x000000 | 0x087    ; 2 MiB identity, user
    mov dword [PAEPD + 1 * 8], 0x200000 | 0x087
    mov dword [PAEPD + 2 * 8], PAEPT | 0x007
    mov dword [PAEPT + 0 * 8], 0x100000 | 0x003    ; 400000 (NX below)
    mov dword [PAEPT + 1 * 8], 0x101000 | 0x003    ; 401000
    mov byte [0x100000], 0xCB       ; RETF
    mov byte [0x101000], 0xCB
    mov eax, cr4
    or eax, 0x20                    ; PAE
    mov cr4, eax
    mov eax, PDPT
    mov cr3, eax
    mov eax, cr0
    or eax, 0x80000000
    mov cr0, eax
    print "pae on", 10
    call FLAT_CODE:0x401000
    print "pae exec 401000 ok", 10
    mov eax, [0x400000]
    trypf 0x0002, 0x00600000, mov dword [0x600000], 1
    mov eax, 0x80000001
    cpuid
    bt edx, 20
    jnc .no_nx
    ; NX set while EFER.NXE=0 is a reserved bit.
    mov dword [PAEPT + 0 * 8 + 4], 0x80000000
    invlpg [0x400000]
    trypf 0x0009, 0x00400000, mov eax, [0x400000]
    mov ecx, 0xC0000080
    rdmsr
    or eax, 1 << 11                 ; NXE
    wrmsr
    mov eax, [0x400000]
    print "nx page readable", 10
    try_at 0x0E, 0x0011, 0x400000, call FLAT_CODE:0x400000
    print "nx cr2 "
    mov eax, cr2
    phex eax, 8
    nl
    jmp .pae_done
.no_nx:
    print "nx absent: no NX tests", 10
.pae_done:
    mov eax, cr0
    and eax, 0x7FFFFFFF
    mov cr0, eax
    print "paging off", 10
    sys_finish

sys_routines

sys_gdt_begin
    desc 0, 0xFFFFF, 0x9B, 0xC      ; 40 flat ring-0 code
sys_gdt_end

bits 16
reset_vector start
