//! Entering wasm ([`call_wasm`]) and turning faults in wasm code into traps.
//!
//! Each entry pushes an [`Activation`] (on the Rust stack) onto a per-thread list. A signal
//! handler for SIGSEGV, SIGBUS, SIGILL and SIGFPE (installed once per process, running on a
//! per-thread alternate stack) checks that this thread is running wasm, that the faulting PC lies
//! in the text of a module of the innermost activation's store, and that the trap table lists
//! that PC. Then it records the trap code (in the activation) and a frame-pointer backtrace (in a
//! fixed-size per-thread buffer: the handler never allocates or locks), points the context's PC at
//! `aot_enter_landing` and its stack pointer at the entry's saved stack pointer, and returns;
//! `aot_enter` then returns 0 to [`call_wasm`]. Any other fault is passed to the previously
//! installed handler (for `SIG_DFL`, the default action is restored and the fault re-raised).

use super::code_memory::CodeRegistry;
use super::entry::{aot_enter, aot_enter_landing};
use super::vmcontext::{VMFuncRef, VMStoreContext};
use crate::artifact::Trap;
use crate::error::{Error, Result};
use crate::prelude::*;
use crate::store::{Pending, StoreInner};
use crate::values::ValRaw;
use core::cell::{Cell, RefCell, UnsafeCell};
use core::ffi::{c_int, c_void};
use core::ptr;
use std::sync::{Once, OnceLock};

/// Most frames a trap backtrace records.
pub(crate) const MAX_FRAMES: usize = 256;

/// Size of the alternate signal stack given to threads that have none big enough.
const ALT_STACK_SIZE: usize = 64 * 1024;

/// The signals the handler takes.
const SIGNALS: [c_int; 4] = [libc::SIGSEGV, libc::SIGBUS, libc::SIGILL, libc::SIGFPE];

/// One host-to-wasm entry of this thread, and what the signal handler recorded about its trap.
struct Activation {
    prev: *const Activation,
    registry: *const CodeRegistry,
    vm_store: *const VMStoreContext,
    trap: Cell<Option<Trap>>,
    /// How many entries of this thread's `TRAP_FRAMES` the handler wrote.
    n_frames: Cell<usize>,
}

std::thread_local! {
    /// The innermost activation of this thread (null when no wasm runs). Const-initialized and
    /// without destructor, so reading it from a signal handler neither allocates nor locks.
    static CURRENT: Cell<*const Activation> = const { Cell::new(ptr::null()) };

    /// This thread's alternate signal stack, if we installed one.
    static ALT_STACK: RefCell<Option<AltStack>> = const { RefCell::new(None) };

    /// Whether `init_thread` already succeeded on this thread (the fast path of every entry).
    static THREAD_READY: Cell<bool> = const { Cell::new(false) };

    /// The backtrace of the latest trap of this thread: `[0]` is the faulting PC, the others are
    /// return addresses, innermost first. Per thread rather than per activation so that entering
    /// wasm does not pay for a 2 KiB buffer; only the innermost activation traps, and
    /// `call_wasm` reads the buffer before any other wasm can run on the thread.
    static TRAP_FRAMES: UnsafeCell<[usize; MAX_FRAMES]> = const { UnsafeCell::new([0; MAX_FRAMES]) };
}

/// Pops the activation when the entry ends (also if something between panics).
struct ActivationGuard<'a> {
    activation: &'a Activation,
}

impl Drop for ActivationGuard<'_> {
    fn drop(&mut self) {
        CURRENT.with(|c| c.set(self.activation.prev));
    }
}

/// The current stack pointer.
#[inline(always)]
fn stack_pointer() -> usize {
    let sp: usize;
    #[cfg(target_arch = "x86_64")]
    // SAFETY: reads a register; no memory access.
    unsafe {
        core::arch::asm!("mov {}, rsp", out(reg) sp, options(nomem, nostack, preserves_flags))
    };
    #[cfg(target_arch = "aarch64")]
    // SAFETY: reads a register; no memory access.
    unsafe {
        core::arch::asm!("mov {}, sp", out(reg) sp, options(nomem, nostack, preserves_flags))
    };
    sp
}

/// Calls the function described by `func_ref` through its array-call entry, with arguments and
/// results in `values`.
///
/// # Errors
/// The trap (with its backtrace) if wasm trapped; the error a host function returned (the trap
/// being `HostError`); a bug error if the function has no array-call entry.
///
/// # Panics
/// Resumes the panic of a host function called by the wasm code.
pub(crate) fn call_wasm<T>(
    store: &mut StoreInner<T>,
    func_ref: VMFuncRef,
    values: &mut [ValRaw],
) -> Result<()> {
    if func_ref.array_call == 0 {
        return Err(Error::bug("called function has no array-call trampoline"));
    }
    init_thread()?;
    let activation = Activation {
        prev: CURRENT.with(Cell::get),
        registry: &store.opaque.code,
        vm_store: &*store.opaque.vm_store,
        trap: Cell::new(None),
        n_frames: Cell::new(0),
    };
    let ok = enter(store, &activation, func_ref, values);
    let pending = store.opaque.pending.take();
    if ok {
        return match pending {
            None => Ok(()),
            Some(Pending::Panic(payload)) => std::panic::resume_unwind(payload),
            Some(Pending::Error(e)) => Err(e),
        };
    }
    let backtrace = TRAP_FRAMES.with(|frames| {
        // SAFETY: the handler that recorded this trap finished (we are past the landing pad) and
        // nothing else writes the buffer while we read it.
        let frames = unsafe { &*frames.get() };
        let n = activation.n_frames.get().min(MAX_FRAMES);
        crate::backtrace::from_frames(&store.opaque.code, &frames[..n])
    });
    match (pending, activation.trap.get()) {
        (Some(Pending::Panic(payload)), _) => std::panic::resume_unwind(payload),
        (Some(Pending::Error(mut e)), _) => {
            e.set_backtrace_if_none(backtrace);
            Err(e)
        }
        (None, Some(Trap::HostError)) => Err(Error::bug(
            "a host function failed without leaving its error in the store",
        )),
        (None, Some(trap)) => Err(Error::from_trap(trap).with_backtrace(backtrace)),
        (None, None) => Err(Error::bug(
            "wasm returned through the trap landing pad without a trap",
        )),
    }
}

/// Runs `aot_enter` with `activation` innermost and the store context set up (store pointer,
/// stack limit on the outermost entry), restoring the previous state afterwards. Returns whether
/// the call returned normally (as opposed to through the trap landing pad).
fn enter<T>(
    store: &mut StoreInner<T>,
    activation: &Activation,
    func_ref: VMFuncRef,
    values: &mut [ValRaw],
) -> bool {
    let max_stack = store.opaque.max_wasm_stack;
    // SAFETY: the store context is boxed inside the store, which outlives this call; it is made
    // of `Cell`s, so a shared reference tolerates the writes of `aot_enter` and compiled code.
    let vm_store = unsafe { &*activation.vm_store };
    let store_ptr: *mut StoreInner<T> = store;
    let saved = (
        vm_store.store.get(),
        vm_store.stack_limit.get(),
        vm_store.entry_sp.get(),
    );
    vm_store.set_store_ptr(store_ptr);
    if saved.1 == usize::MAX {
        // Outermost entry for this store: wasm may use `max_stack` bytes below this point, but
        // never come closer than `HOST_STACK_RESERVE` to the end of this thread's stack, so that
        // a thread with a small stack gets a stack-overflow trap rather than a fault in the OS
        // guard page.
        let sp = stack_pointer();
        let floor = thread_stack_low().map_or(0, |low| low.saturating_add(HOST_STACK_RESERVE));
        vm_store
            .stack_limit
            .set(sp.saturating_sub(max_stack).max(floor));
    }
    let ok = {
        let _guard = ActivationGuard { activation };
        CURRENT.with(|c| c.set(activation));
        // SAFETY: `func_ref` is a `VMFuncRef` of this store (wasm function, or host function
        // whose array entry is a shim), whose `array_call` follows the array calling convention
        // and whose `vmctx` is live for the store's lifetime; `values` holds
        // max(params, results) slots (checked by the callers). The store is reached only through
        // `store_ptr` (derived from our `&mut`) until the call returns. A trap returns here
        // through the landing pad with our activation innermost (the handler only redirects to
        // the innermost entry).
        unsafe {
            aot_enter(
                vm_store.entry_sp.as_ptr(),
                func_ref.array_call,
                func_ref.vmctx,
                func_ref.vmctx,
                values.as_mut_ptr(),
                values.len(),
            )
        }
    };
    vm_store.store.set(saved.0);
    vm_store.stack_limit.set(saved.1);
    vm_store.entry_sp.set(saved.2);
    ok != 0
}

/// Stack kept free below the wasm stack limit for host functions called from wasm, and for the
/// runtime code that handles their calls.
const HOST_STACK_RESERVE: usize = 64 * 1024;

std::thread_local! {
    /// The lowest address of this thread's stack, once known (0: not yet asked).
    static STACK_LOW: Cell<usize> = const { Cell::new(0) };
}

/// The lowest usable address of this thread's stack, if the platform tells it. Computed once per
/// thread (for the main thread, glibc reads `/proc/self/maps`).
#[inline]
fn thread_stack_low() -> Option<usize> {
    let cached = STACK_LOW.get();
    if cached != 0 {
        return Some(cached);
    }
    let low = query_thread_stack_low()?;
    STACK_LOW.set(low);
    Some(low)
}

#[cfg(target_os = "linux")]
fn query_thread_stack_low() -> Option<usize> {
    // SAFETY: `pthread_getattr_np` fills the zeroed attribute object for the calling thread,
    // `pthread_attr_getstack` only reads it, and the object is destroyed once.
    unsafe {
        let mut attr: libc::pthread_attr_t = core::mem::zeroed();
        if libc::pthread_getattr_np(libc::pthread_self(), &mut attr) != 0 {
            return None;
        }
        let mut addr: *mut c_void = ptr::null_mut();
        let mut size = 0usize;
        let rc = libc::pthread_attr_getstack(&attr, &mut addr, &mut size);
        libc::pthread_attr_destroy(&mut attr);
        // The lowest page of the range may be the guard page; stay clear of it.
        (rc == 0 && !addr.is_null()).then(|| addr as usize + 4096)
    }
}

#[cfg(not(target_os = "linux"))]
fn query_thread_stack_low() -> Option<usize> {
    None
}

/// Installs the signal handlers (once per process) and this thread's alternate signal stack.
#[inline]
fn init_thread() -> Result<()> {
    if THREAD_READY.get() {
        return Ok(());
    }
    init_thread_slow()
}

#[cold]
fn init_thread_slow() -> Result<()> {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(install_handlers);
    ALT_STACK.with(|s| {
        if s.borrow().is_none() {
            *s.borrow_mut() = Some(AltStack::install()?);
        }
        THREAD_READY.set(true);
        Ok(())
    })
}

/// The handlers that were installed before ours, in `SIGNALS` order.
static PREVIOUS: OnceLock<[libc::sigaction; SIGNALS.len()]> = OnceLock::new();

fn install_handlers() {
    // SAFETY: `sigaction` with a null new action only reads the current one into `prev`.
    let previous = SIGNALS.map(|sig| unsafe {
        let mut prev: libc::sigaction = core::mem::zeroed();
        libc::sigaction(sig, ptr::null(), &mut prev);
        prev
    });
    let _ = PREVIOUS.set(previous);
    for sig in SIGNALS {
        // SAFETY: a zeroed `sigaction` is a valid value to fill in; `trap_handler` has the
        // signature `SA_SIGINFO` requires, and the flags make it run on the alternate stack,
        // re-entrantly.
        unsafe {
            let mut action: libc::sigaction = core::mem::zeroed();
            action.sa_sigaction = trap_handler as *const () as usize;
            action.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK | libc::SA_NODEFER;
            libc::sigemptyset(&mut action.sa_mask);
            let rc = libc::sigaction(sig, &action, ptr::null_mut());
            debug_assert_eq!(rc, 0, "sigaction failed");
        }
    }
}

/// The signal handler.
///
/// # Safety
/// Only called by the kernel, for one of `SIGNALS`, with `SA_SIGINFO` arguments.
unsafe extern "C" fn trap_handler(signum: c_int, info: *mut libc::siginfo_t, context: *mut c_void) {
    // A signal another process or thread sent (`kill`, `tgkill`, `sigqueue`: `si_code <= 0`) is
    // never a trap, even if it happens to interrupt wasm at a trap site.
    // SAFETY: the kernel passes a valid `siginfo_t` to `SA_SIGINFO` handlers.
    let from_fault = unsafe { (*info).si_code } > 0;
    // SAFETY: the kernel passes the interrupted thread's `ucontext_t`.
    if from_fault && unsafe { handle_wasm_trap(context) } {
        return;
    }
    // SAFETY: same arguments as we received.
    unsafe { chain(signum, info, context) }
}

/// Records a trap and redirects the context to the landing pad, if the fault is a wasm trap.
///
/// # Safety
/// `context` must be the `ucontext_t` of a signal delivered to this thread.
unsafe fn handle_wasm_trap(context: *mut c_void) -> bool {
    let activation = CURRENT.try_with(Cell::get).unwrap_or(ptr::null());
    if activation.is_null() {
        return false;
    }
    // SAFETY: a non-null `CURRENT` points at the activation of a `call_wasm` frame still on this
    // thread's stack (the guard resets it before the frame goes away).
    let activation = unsafe { &*activation };
    // SAFETY: the registry and store context belong to the store borrowed by that `call_wasm`;
    // this thread is interrupted in wasm code, so no Rust code is modifying them.
    let (registry, vm_store) = unsafe { (&*activation.registry, &*activation.vm_store) };
    // SAFETY: guaranteed by the caller.
    let regs = unsafe { Regs::read(context) };
    let Some(range) = registry.lookup(regs.pc) else {
        return false;
    };
    let Ok(offset) = u32::try_from(regs.pc - range.start) else {
        return false;
    };
    let Some(trap) = range.traps().lookup(offset) else {
        return false;
    };
    let entry_sp = vm_store.entry_sp.get();
    let Ok(frames) = TRAP_FRAMES.try_with(UnsafeCell::get) else {
        return false;
    };
    // SAFETY: only this handler (for the innermost activation) writes the buffer, and
    // `call_wasm` reads it only after `aot_enter` returned.
    let frames = unsafe { &mut *frames };
    // SAFETY: the stack between the faulting and the entry stack pointers is this thread's.
    let n = unsafe { walk_frames(registry, &regs, entry_sp, frames) };
    activation.trap.set(Some(trap));
    activation.n_frames.set(n);
    // SAFETY: guaranteed by the caller; resuming at the landing pad with the entry's stack
    // pointer is what `aot_enter` expects (only compiled frames are discarded).
    unsafe { Regs::resume_at(context, aot_enter_landing as *const () as usize, entry_sp) };
    true
}

/// Records the faulting PC and the return addresses of the compiled frames above it into
/// `frames`, following frame pointers (Cranelift keeps them), and returns how many it wrote.
/// Stops at the first return address outside registered code (the array-call trampoline returns
/// into `aot_enter`), at a frame record outside `[regs.sp, entry_sp)`, or when `frames` is full.
///
/// # Safety
/// `regs` must be the registers of this thread interrupted in compiled code entered at
/// `entry_sp`, so that the stack between `regs.sp` and `entry_sp` is live and mapped.
unsafe fn walk_frames(
    registry: &CodeRegistry,
    regs: &Regs,
    entry_sp: usize,
    frames: &mut [usize],
) -> usize {
    frames[0] = regs.pc;
    let mut n = 1;
    let mut fp = regs.fp;
    while n < frames.len() {
        // A frame record is two words at `fp`: the caller's fp, then the return address. Only
        // follow records inside the wasm part of this stack, strictly going up.
        if fp < regs.sp || !fp.is_multiple_of(core::mem::align_of::<usize>()) || fp + 16 > entry_sp
        {
            break;
        }
        // SAFETY: `fp..fp + 16` lies between the faulting stack pointer and the entry stack
        // pointer, i.e. in live, mapped frames of this thread's stack (guaranteed by the caller).
        let (next_fp, ret) = unsafe { (*(fp as *const usize), *((fp + 8) as *const usize)) };
        if registry.lookup(ret).is_none() {
            break;
        }
        frames[n] = ret;
        n += 1;
        if next_fp <= fp {
            break;
        }
        fp = next_fp;
    }
    n
}

/// Hands a fault that is not a wasm trap to the handler installed before ours.
///
/// # Safety
/// Same arguments as `trap_handler` received.
unsafe fn chain(signum: c_int, info: *mut libc::siginfo_t, context: *mut c_void) {
    let previous = PREVIOUS
        .get()
        .and_then(|p| SIGNALS.iter().position(|s| *s == signum).map(|i| p[i]));
    let Some(previous) = previous else {
        // SAFETY: restoring the default action is always valid; returning re-raises the fault.
        unsafe { libc::signal(signum, libc::SIG_DFL) };
        return;
    };
    if previous.sa_flags & libc::SA_SIGINFO != 0 {
        // SAFETY: with `SA_SIGINFO`, `sa_sigaction` is a three-argument handler.
        unsafe {
            let f: extern "C" fn(c_int, *mut libc::siginfo_t, *mut c_void) =
                core::mem::transmute(previous.sa_sigaction);
            f(signum, info, context)
        }
    } else if previous.sa_sigaction == libc::SIG_DFL || previous.sa_sigaction == libc::SIG_IGN {
        // SAFETY: reinstalls the previous (default) action; returning re-executes the faulting
        // instruction, which now gets the default behavior.
        unsafe { libc::sigaction(signum, &previous, ptr::null_mut()) };
    } else {
        // SAFETY: without `SA_SIGINFO`, `sa_sigaction` is a one-argument handler.
        unsafe {
            let f: extern "C" fn(c_int) = core::mem::transmute(previous.sa_sigaction);
            f(signum)
        }
    }
}

/// The registers the handler reads from and writes into a signal context.
struct Regs {
    pc: usize,
    sp: usize,
    fp: usize,
}

impl Regs {
    /// # Safety
    /// `context` must be a valid `ucontext_t` for this platform.
    #[cfg(target_arch = "x86_64")]
    unsafe fn read(context: *mut c_void) -> Regs {
        // SAFETY: guaranteed by the caller.
        let g = unsafe { &(*context.cast::<libc::ucontext_t>()).uc_mcontext.gregs };
        Regs {
            pc: g[libc::REG_RIP as usize] as usize,
            sp: g[libc::REG_RSP as usize] as usize,
            fp: g[libc::REG_RBP as usize] as usize,
        }
    }

    /// # Safety
    /// `context` must be a valid `ucontext_t` for this platform.
    #[cfg(target_arch = "x86_64")]
    unsafe fn resume_at(context: *mut c_void, pc: usize, sp: usize) {
        // SAFETY: guaranteed by the caller.
        let g = unsafe { &mut (*context.cast::<libc::ucontext_t>()).uc_mcontext.gregs };
        g[libc::REG_RIP as usize] = pc as i64;
        g[libc::REG_RSP as usize] = sp as i64;
    }

    /// # Safety
    /// `context` must be a valid `ucontext_t` for this platform.
    #[cfg(target_arch = "aarch64")]
    unsafe fn read(context: *mut c_void) -> Regs {
        // SAFETY: guaranteed by the caller.
        let m = unsafe { &(*context.cast::<libc::ucontext_t>()).uc_mcontext };
        Regs {
            pc: m.pc as usize,
            sp: m.sp as usize,
            fp: m.regs[29] as usize,
        }
    }

    /// # Safety
    /// `context` must be a valid `ucontext_t` for this platform.
    #[cfg(target_arch = "aarch64")]
    unsafe fn resume_at(context: *mut c_void, pc: usize, sp: usize) {
        // SAFETY: guaranteed by the caller.
        let m = unsafe { &mut (*context.cast::<libc::ucontext_t>()).uc_mcontext };
        m.pc = pc as u64;
        m.sp = sp as u64;
    }
}

/// An alternate signal stack this runtime installed for a thread (guard page below it).
struct AltStack {
    /// The mapping (guard page included), or `None` if the thread already had a big enough one.
    mapping: Option<(*mut c_void, usize)>,
    stack: *mut c_void,
}

impl AltStack {
    fn install() -> Result<AltStack> {
        // SAFETY: querying the current alternate stack only writes `old`.
        let old = unsafe {
            let mut old: libc::stack_t = core::mem::zeroed();
            libc::sigaltstack(ptr::null(), &mut old);
            old
        };
        if old.ss_flags & libc::SS_DISABLE == 0 && old.ss_size >= ALT_STACK_SIZE {
            return Ok(AltStack {
                mapping: None,
                stack: old.ss_sp,
            });
        }
        // SAFETY: `sysconf` has no preconditions.
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as usize;
        let len = ALT_STACK_SIZE + page;
        // SAFETY: a fresh anonymous mapping affects no existing memory.
        let base = unsafe {
            libc::mmap(
                ptr::null_mut(),
                len,
                libc::PROT_NONE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return Err(Error::msg(format!(
                "failed to map an alternate signal stack: {}",
                std::io::Error::last_os_error()
            )));
        }
        // SAFETY: `base + page .. base + len` is inside the mapping just made.
        let stack = unsafe { base.cast::<u8>().add(page).cast::<c_void>() };
        // SAFETY: as above; the guard page at `base` stays inaccessible.
        let rc =
            unsafe { libc::mprotect(stack, ALT_STACK_SIZE, libc::PROT_READ | libc::PROT_WRITE) };
        let installed = rc == 0 && {
            let new = libc::stack_t {
                ss_sp: stack,
                ss_flags: 0,
                ss_size: ALT_STACK_SIZE,
            };
            // SAFETY: `new` describes readable and writable memory owned by this value, which
            // unregisters it before unmapping it.
            unsafe { libc::sigaltstack(&new, ptr::null_mut()) == 0 }
        };
        if !installed {
            let err = std::io::Error::last_os_error();
            // SAFETY: unmaps the mapping made above, which nothing uses.
            unsafe { libc::munmap(base, len) };
            return Err(Error::msg(format!(
                "failed to install an alternate signal stack: {err}"
            )));
        }
        Ok(AltStack {
            mapping: Some((base, len)),
            stack,
        })
    }
}

impl Drop for AltStack {
    fn drop(&mut self) {
        let Some((base, len)) = self.mapping else {
            return;
        };
        // SAFETY: queries, then (if it is still ours) disables this thread's alternate stack
        // before unmapping it; the thread is exiting, not handling a signal.
        unsafe {
            let mut current: libc::stack_t = core::mem::zeroed();
            libc::sigaltstack(ptr::null(), &mut current);
            if current.ss_flags & libc::SS_DISABLE == 0 && current.ss_sp == self.stack {
                let disable = libc::stack_t {
                    ss_sp: ptr::null_mut(),
                    ss_flags: libc::SS_DISABLE,
                    ss_size: 0,
                };
                libc::sigaltstack(&disable, ptr::null_mut());
            }
            libc::munmap(base, len);
        }
    }
}
