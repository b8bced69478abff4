//! `aot_enter`, the only way Rust enters compiled code, and `aot_enter_landing`, where the signal
//! handler resumes after a trap.
//!
//! ```text
//! u32 aot_enter(entry_sp_slot: *mut usize, array_call: fn, callee_vmctx, caller_vmctx,
//!               values: *mut ValRaw, len: usize)
//! ```
//!
//! It saves the frame pointer and every callee-saved register of the platform ABI, stores the
//! resulting stack pointer into `*entry_sp_slot` (`VMStoreContext::entry_sp`), and calls
//! `array_call(callee_vmctx, caller_vmctx, values, len)`. A normal return yields 1. On a trap the
//! signal handler sets the stack pointer back to the saved value and the program counter to
//! `aot_enter_landing`, which restores the same registers and returns 0 from `aot_enter`. Only
//! compiled (Cranelift) frames lie between the two, so no Rust destructor is skipped.

#[cfg(target_arch = "x86_64")]
core::arch::global_asm!(
    ".text",
    ".globl aot_enter",
    ".hidden aot_enter",
    ".type aot_enter, @function",
    ".p2align 4",
    "aot_enter:",
    ".cfi_startproc",
    "push rbp",
    ".cfi_def_cfa_offset 16",
    ".cfi_offset rbp, -16",
    "mov rbp, rsp",
    ".cfi_def_cfa_register rbp",
    "push rbx",
    ".cfi_offset rbx, -24",
    "push r12",
    ".cfi_offset r12, -32",
    "push r13",
    ".cfi_offset r13, -40",
    "push r14",
    ".cfi_offset r14, -48",
    "push r15",
    ".cfi_offset r15, -56",
    // Six pushes after the return address: 8 bytes more keep rsp 16-byte aligned at the call.
    "sub rsp, 8",
    "mov qword ptr [rdi], rsp",
    "mov rax, rsi",
    "mov rdi, rdx",
    "mov rsi, rcx",
    "mov rdx, r8",
    "mov rcx, r9",
    "call rax",
    "mov eax, 1",
    "jmp 3f",
    ".globl aot_enter_landing",
    ".hidden aot_enter_landing",
    "aot_enter_landing:",
    "xor eax, eax",
    // rsp is the saved entry_sp; rebuild the frame pointer the epilogue's CFI relies on.
    "lea rbp, [rsp + 48]",
    "3:",
    "add rsp, 8",
    "pop r15",
    "pop r14",
    "pop r13",
    "pop r12",
    "pop rbx",
    "pop rbp",
    ".cfi_def_cfa rsp, 8",
    "ret",
    ".cfi_endproc",
    ".size aot_enter, . - aot_enter",
);

#[cfg(target_arch = "aarch64")]
core::arch::global_asm!(
    ".text",
    ".globl aot_enter",
    ".hidden aot_enter",
    ".type aot_enter, %function",
    ".p2align 2",
    "aot_enter:",
    ".cfi_startproc",
    "stp x29, x30, [sp, #-16]!",
    ".cfi_def_cfa_offset 16",
    ".cfi_offset x30, -8",
    ".cfi_offset x29, -16",
    "mov x29, sp",
    ".cfi_def_cfa w29, 16",
    "stp x19, x20, [sp, #-16]!",
    ".cfi_offset x20, -24",
    ".cfi_offset x19, -32",
    "stp x21, x22, [sp, #-16]!",
    ".cfi_offset x22, -40",
    ".cfi_offset x21, -48",
    "stp x23, x24, [sp, #-16]!",
    ".cfi_offset x24, -56",
    ".cfi_offset x23, -64",
    "stp x25, x26, [sp, #-16]!",
    ".cfi_offset x26, -72",
    ".cfi_offset x25, -80",
    "stp x27, x28, [sp, #-16]!",
    ".cfi_offset x28, -88",
    ".cfi_offset x27, -96",
    "stp d8, d9, [sp, #-16]!",
    "stp d10, d11, [sp, #-16]!",
    "stp d12, d13, [sp, #-16]!",
    "stp d14, d15, [sp, #-16]!",
    "mov x9, sp",
    "str x9, [x0]",
    "mov x9, x1",
    "mov x0, x2",
    "mov x1, x3",
    "mov x2, x4",
    "mov x3, x5",
    "blr x9",
    "mov w0, #1",
    "b 3f",
    ".globl aot_enter_landing",
    ".hidden aot_enter_landing",
    "aot_enter_landing:",
    "mov w0, #0",
    // sp is the saved entry_sp; rebuild the frame pointer (9 register pairs below it).
    "add x29, sp, #144",
    "3:",
    "ldp d14, d15, [sp], #16",
    "ldp d12, d13, [sp], #16",
    "ldp d10, d11, [sp], #16",
    "ldp d8, d9, [sp], #16",
    "ldp x27, x28, [sp], #16",
    "ldp x25, x26, [sp], #16",
    "ldp x23, x24, [sp], #16",
    "ldp x21, x22, [sp], #16",
    "ldp x19, x20, [sp], #16",
    "ldp x29, x30, [sp], #16",
    ".cfi_def_cfa sp, 0",
    "ret",
    ".cfi_endproc",
    ".size aot_enter, . - aot_enter",
);

unsafe extern "C" {
    /// See the module docs.
    ///
    /// # Safety
    /// `array_call` must be an array-call entry of compiled code (or a host shim) and the other
    /// arguments what it expects; `entry_sp_slot` must be writable. A trap may only return
    /// through the landing pad while this call is the innermost `aot_enter` of the thread whose
    /// activation recorded it.
    pub(crate) fn aot_enter(
        entry_sp_slot: *mut usize,
        array_call: usize,
        callee_vmctx: usize,
        caller_vmctx: usize,
        values: *mut crate::values::ValRaw,
        len: usize,
    ) -> u32;

    /// The landing pad; never called, only jumped to by the signal handler.
    pub(crate) fn aot_enter_landing();
}
