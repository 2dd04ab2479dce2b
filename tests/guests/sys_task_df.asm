; The double-fault part of sys_task.asm: a #DF on a broken stack handled
; by a task gate in the IDT (own TSS and stack), which repairs the faulting
; task's saved SS:ESP:EIP and IRETs back to it (twice: the #DF task must
; be reusable after its IRET cleared its busy bit).
%define TASK_DF_ONLY
%include "sys_task.asm"
