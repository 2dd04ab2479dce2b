; Receive benchmark guest: the TCP echo service of the hostfwd test
; (tests/guests/ne2k_hostfwd.asm, port 7 of 10.0.2.15), built here with
; 32-bit data-port transfers as Linux's ne2k-pci driver does.  The host
; streams bytes through a port forward and reads them back.
%define NE_DWORD_IO
%include "ne2k_hostfwd.asm"
