//! Typed indices into the index spaces of a module.
//!
//! `FuncIndex` counts imported functions first, then defined ones; `DefinedFuncIndex` counts
//! definitions only. Convert between them only through [`super::ModuleInfo`].
//!
//! The `index_types!` macro is crate-visible so that the component vocabulary
//! ([`super::component`]) declares its index spaces the same way.

use serde::{Deserialize, Serialize};

macro_rules! index_types {
    ($($(#[$doc:meta])* $name:ident;)*) => {$(
        $(#[$doc])*
        #[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        pub struct $name(pub u32);

        impl $name {
            /// The index as a `usize`, for indexing slices.
            #[inline]
            pub fn index(self) -> usize {
                self.0 as usize
            }
            /// Builds the index from a slice position.
            ///
            /// # Panics
            /// If `i` does not fit in a `u32`.
            #[inline]
            pub fn new(i: usize) -> Self {
                Self(u32::try_from(i).expect("index out of range"))
            }
        }
    )*};
}
pub(crate) use index_types;

index_types! {
    /// A function in the function index space (imports first).
    FuncIndex;
    /// A function defined by the module (imports excluded).
    DefinedFuncIndex;
    /// A function type in the type section.
    TypeIndex;
    /// A table in the table index space (imports first).
    TableIndex;
    /// A table defined by the module.
    DefinedTableIndex;
    /// A memory in the memory index space (imports first).
    MemoryIndex;
    /// A memory defined by the module.
    DefinedMemoryIndex;
    /// A global in the global index space (imports first).
    GlobalIndex;
    /// A global defined by the module.
    DefinedGlobalIndex;
    /// An element segment.
    ElemIndex;
    /// A data segment.
    DataIndex;
}

/// Something a module can import or export.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum EntityIndex {
    /// A function.
    Func(FuncIndex),
    /// A table.
    Table(TableIndex),
    /// A memory.
    Memory(MemoryIndex),
    /// A global.
    Global(GlobalIndex),
}
