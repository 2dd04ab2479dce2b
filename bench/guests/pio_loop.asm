; Port-I/O round-trip benchmark guest: ITER writes to POST port 0x80 (a
; port both minus1 and QEMU implement as a plain register), then exit via
; isa-debug-exit.  Assembled with -DNO_IO it runs the same loop without
; the OUT, so the difference is the cost of the exits alone.
bits 16
org 0
%include "lib.inc"

%ifndef ITER
%define ITER 20000
%endif

start:
    cli
    mov ecx, ITER
.loop:
%ifndef NO_IO
    out 0x80, al
%else
    nop
%endif
    dec ecx
    jnz .loop
    exit_with EXIT_PASS

reset_vector start
