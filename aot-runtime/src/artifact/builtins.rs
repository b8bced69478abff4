//! Runtime helpers that compiled code calls through the `builtins` table of the VM context
//! (never through relocations). Each is an `extern "C"` function of the target's default calling
//! convention whose first parameter is the caller's VM context.
//!
//! A helper that detects a trap condition returns 0 (for `bool`-like results) and the compiled
//! code then executes a trap instruction with the matching [`super::Trap`] code, so every trap
//! is raised from compiled code at a known PC. `memory.grow` and `table.grow` return a size, so
//! they report a trap (a resource limiter that refused the growth with an error) with
//! [`GROW_TRAP`] instead; the error itself is left in the store and reported by the call.

/// Parameter and result types of builtins, as the compiler needs them.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum BuiltinType {
    /// The VM context pointer.
    VMContext,
    /// A 32-bit integer.
    I32,
    /// A pointer-sized integer (reference values).
    Pointer,
}

use BuiltinType::{I32, Pointer, VMContext};

macro_rules! builtins {
    ($($(#[$doc:meta])* $name:ident = $idx:literal ($($param:ident),*) $(-> $ret:ident)?;)*) => {
        /// A runtime helper.
        #[derive(Copy, Clone, Debug, PartialEq, Eq)]
        #[repr(u32)]
        pub enum Builtin {
            $($(#[$doc])* $name = $idx,)*
        }

        impl Builtin {
            /// Every builtin, in table order.
            pub const ALL: &'static [Builtin] = &[$(Builtin::$name,)*];

            /// Parameter types.
            pub fn params(self) -> &'static [BuiltinType] {
                match self { $(Builtin::$name => &[$($param),*],)* }
            }

            /// Result type, if any.
            pub fn result(self) -> Option<BuiltinType> {
                match self { $(Builtin::$name => builtins!(@ret $($ret)?),)* }
            }

            /// Index in the builtins table.
            pub fn index(self) -> u32 {
                self as u32
            }
        }
    };
    (@ret) => { None };
    (@ret $ret:ident) => { Some($ret) };
}

builtins! {
    /// `memory.grow`: `(vmctx, memory, delta_pages) -> old_pages or u32::MAX`.
    MemoryGrow = 0 (VMContext, I32, I32) -> I32;
    /// `memory.fill`: `(vmctx, memory, dst, byte, len) -> ok`.
    MemoryFill = 1 (VMContext, I32, I32, I32, I32) -> I32;
    /// `memory.copy`: `(vmctx, dst_memory, dst, src_memory, src, len) -> ok`.
    MemoryCopy = 2 (VMContext, I32, I32, I32, I32, I32) -> I32;
    /// `memory.init`: `(vmctx, memory, data, dst, src, len) -> ok`.
    MemoryInit = 3 (VMContext, I32, I32, I32, I32, I32) -> I32;
    /// `data.drop`: `(vmctx, data)`.
    DataDrop = 4 (VMContext, I32);
    /// `table.grow`: `(vmctx, table, delta, init) -> old_size or u32::MAX`.
    TableGrow = 5 (VMContext, I32, I32, Pointer) -> I32;
    /// `table.fill`: `(vmctx, table, dst, value, len) -> ok`.
    TableFill = 6 (VMContext, I32, I32, Pointer, I32) -> I32;
    /// `table.copy`: `(vmctx, dst_table, src_table, dst, src, len) -> ok`.
    TableCopy = 7 (VMContext, I32, I32, I32, I32, I32) -> I32;
    /// `table.init`: `(vmctx, table, elem, dst, src, len) -> ok`.
    TableInit = 8 (VMContext, I32, I32, I32, I32, I32) -> I32;
    /// `elem.drop`: `(vmctx, elem)`.
    ElemDrop = 9 (VMContext, I32);
    /// The epoch deadline was reached (epoch-checking code): `(vmctx) -> ok`. Returns 1 if the
    /// deadline has moved past the current epoch meanwhile, or 0 and the code traps with
    /// `Interrupt`. (Running out of fuel calls nothing: the code traps at once.)
    NewEpoch = 10 (VMContext) -> I32;
    /// A read of a funcref table slot that is still uninitialized (a zero word): `(vmctx, table,
    /// index) -> reference`. Fills the slot from the table's [`super::module::TableImage`] (or null) and
    /// returns the reference (0 for null). `index` is in bounds: the caller checked it.
    TableGetLazy = 11 (VMContext, I32, I32) -> Pointer;
    /// `ref.func` of a defined function: `(vmctx, func) -> reference`. Writes its `VMFuncRef`
    /// (a defined function's is never written at instantiation, only when a reference to it is
    /// taken) and returns its address.
    RefFunc = 12 (VMContext, I32) -> Pointer;
}

/// Tag bit of the words of a funcref table: a slot holds 0 while uninitialized, and
/// `reference | FUNCREF_INIT_BIT` once written (`FUNCREF_INIT_BIT` alone is null). Compiled
/// code masks it off after a read and sets it on a write; `VMFuncRef`s are aligned, so the bit is
/// free. Externref tables are not tagged (0 is null).
pub const FUNCREF_INIT_BIT: usize = 1;

/// What `memory.grow` and `table.grow` return when the growth must trap rather than fail: the
/// compiled code traps with `HostError` and the call reports the error the builtin stored. No
/// size can take this value (memories have at most 65536 pages, tables far fewer elements than
/// `u32::MAX - 1`).
pub const GROW_TRAP: u32 = u32::MAX - 1;

/// Number of entries in the builtins table.
pub const NUM_BUILTINS: usize = Builtin::ALL.len();
