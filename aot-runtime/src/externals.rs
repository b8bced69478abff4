//! [`Extern`]: anything an instance can import or export.

use crate::func::Func;
use crate::global::Global;
use crate::memory::Memory;
use crate::store::{AsContext, StoreId};
use crate::table::Table;
use crate::types::ExternType;

/// A function, global, table or memory of a store.
#[derive(Copy, Clone, Debug)]
pub enum Extern {
    /// A function.
    Func(Func),
    /// A global.
    Global(Global),
    /// A table.
    Table(Table),
    /// A memory.
    Memory(Memory),
}

impl Extern {
    /// The function, if this is one.
    pub fn into_func(self) -> Option<Func> {
        match self {
            Extern::Func(f) => Some(f),
            _ => None,
        }
    }

    /// The global, if this is one.
    pub fn into_global(self) -> Option<Global> {
        match self {
            Extern::Global(g) => Some(g),
            _ => None,
        }
    }

    /// The table, if this is one.
    pub fn into_table(self) -> Option<Table> {
        match self {
            Extern::Table(t) => Some(t),
            _ => None,
        }
    }

    /// The memory, if this is one.
    pub fn into_memory(self) -> Option<Memory> {
        match self {
            Extern::Memory(m) => Some(m),
            _ => None,
        }
    }

    /// The type of the item (for tables and memories, with their current size as minimum).
    ///
    /// # Panics
    /// If `store` is not the store that created the item.
    pub fn ty(&self, store: impl AsContext) -> ExternType {
        let store = store.as_context();
        match self {
            Extern::Func(f) => ExternType::Func(f.ty(&store)),
            Extern::Global(g) => ExternType::Global(g.ty(&store)),
            Extern::Table(t) => ExternType::Table(t.ty(&store)),
            Extern::Memory(m) => ExternType::Memory(m.ty(&store)),
        }
    }

    pub(crate) fn store_id(&self) -> StoreId {
        match self {
            Extern::Func(f) => f.store,
            Extern::Global(g) => g.store,
            Extern::Table(t) => t.store,
            Extern::Memory(m) => m.store,
        }
    }
}

impl From<Func> for Extern {
    fn from(f: Func) -> Extern {
        Extern::Func(f)
    }
}

impl From<Global> for Extern {
    fn from(g: Global) -> Extern {
        Extern::Global(g)
    }
}

impl From<Table> for Extern {
    fn from(t: Table) -> Extern {
        Extern::Table(t)
    }
}

impl From<Memory> for Extern {
    fn from(m: Memory) -> Extern {
        Extern::Memory(m)
    }
}
