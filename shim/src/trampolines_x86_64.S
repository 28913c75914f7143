/* dlsym and dlvsym of libsmwatch.so.
 *
 * glibc resolves dlsym(RTLD_NEXT, ...) relative to the object that called
 * it, found from the return address. A C wrapper would make every host call
 * look as if it came from the shim (other preload tools broke LLVM's OpenMP
 * runtime this way). So these are tail-jump trampolines: they ask
 * smwatch_dl*_decide whether the name is a CUDA entry point the shim hooks
 * (then they return the shim's pointer), and otherwise jump to glibc's
 * function with the host's return address still on the stack. */
    .text

    .globl  dlsym
    .type   dlsym, @function
dlsym:
    .cfi_startproc
    pushq   %rdi
    .cfi_adjust_cfa_offset 8
    pushq   %rsi
    .cfi_adjust_cfa_offset 8
    subq    $8, %rsp                    /* keep the stack 16-byte aligned */
    .cfi_adjust_cfa_offset 8
    call    smwatch_dlsym_decide
    addq    $8, %rsp
    .cfi_adjust_cfa_offset -8
    popq    %rsi
    .cfi_adjust_cfa_offset -8
    popq    %rdi
    .cfi_adjust_cfa_offset -8
    testq   %rax, %rax
    jz      1f
    ret
1:  jmpq    *smwatch_real_dlsym(%rip)
    .cfi_endproc
    .size   dlsym, .-dlsym

    .globl  dlvsym
    .type   dlvsym, @function
dlvsym:
    .cfi_startproc
    pushq   %rdi
    .cfi_adjust_cfa_offset 8
    pushq   %rsi
    .cfi_adjust_cfa_offset 8
    pushq   %rdx
    .cfi_adjust_cfa_offset 8
    call    smwatch_dlsym_decide        /* (handle, name): the version does not matter */
    popq    %rdx
    .cfi_adjust_cfa_offset -8
    popq    %rsi
    .cfi_adjust_cfa_offset -8
    popq    %rdi
    .cfi_adjust_cfa_offset -8
    testq   %rax, %rax
    jz      1f
    ret
1:  jmpq    *smwatch_real_dlvsym(%rip)
    .cfi_endproc
    .size   dlvsym, .-dlvsym

    .section .note.GNU-stack,"",@progbits
