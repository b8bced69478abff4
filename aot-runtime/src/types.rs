//! Public type descriptions: [`FuncType`], [`GlobalType`], [`MemoryType`], [`TableType`],
//! [`ExternType`], and the [`ImportType`]/[`ExportType`] views of a module.
//!
//! They wrap the artifact's own types (see [`crate::artifact::types`]); [`ValType`] is the
//! artifact's, re-exported. `Display` prints the text-format shape (`(func (param i32))`,
//! `(memory 1 2)`), which link errors use.

use crate::artifact::{self, EntityIndex, ModuleInfo};
use core::fmt;

pub use crate::artifact::ValType;

/// The type of a function: parameter and result types.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FuncType {
    pub(crate) inner: artifact::FuncType,
}

impl FuncType {
    /// A function type with these parameters and results.
    pub fn new(
        params: impl IntoIterator<Item = ValType>,
        results: impl IntoIterator<Item = ValType>,
    ) -> Self {
        Self {
            inner: artifact::FuncType::new(params, results),
        }
    }

    /// The parameter types.
    pub fn params(&self) -> impl ExactSizeIterator<Item = ValType> + '_ {
        self.inner.params.iter().copied()
    }

    /// The result types.
    pub fn results(&self) -> impl ExactSizeIterator<Item = ValType> + '_ {
        self.inner.results.iter().copied()
    }

    pub(crate) fn from_artifact(inner: artifact::FuncType) -> Self {
        Self { inner }
    }
}

impl fmt::Display for FuncType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.inner, f)
    }
}

/// Whether a global can be changed.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Mutability {
    /// Immutable.
    Const,
    /// Mutable.
    Var,
}

/// The type of a global: content type and mutability.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct GlobalType {
    pub(crate) inner: artifact::GlobalType,
}

impl GlobalType {
    /// A global type.
    pub fn new(content: ValType, mutability: Mutability) -> Self {
        Self {
            inner: artifact::GlobalType {
                content,
                mutable: mutability == Mutability::Var,
            },
        }
    }

    /// The type of the value.
    pub fn content(&self) -> ValType {
        self.inner.content
    }

    /// Whether the global can be set.
    pub fn mutability(&self) -> Mutability {
        if self.inner.mutable {
            Mutability::Var
        } else {
            Mutability::Const
        }
    }

    pub(crate) fn from_artifact(inner: artifact::GlobalType) -> Self {
        Self { inner }
    }
}

impl fmt::Display for GlobalType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.inner.mutable {
            write!(f, "(global (mut {}))", self.inner.content)
        } else {
            write!(f, "(global {})", self.inner.content)
        }
    }
}

/// The type of a linear memory: its limits in 64 KiB pages.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct MemoryType {
    pub(crate) inner: artifact::MemoryType,
}

impl MemoryType {
    /// A 32-bit memory of at least `min_pages` pages and at most `max_pages`.
    pub fn new(min_pages: u32, max_pages: Option<u32>) -> Self {
        Self {
            inner: artifact::MemoryType {
                limits: artifact::Limits {
                    min: u64::from(min_pages),
                    max: max_pages.map(u64::from),
                },
            },
        }
    }

    /// The minimum (initial) size in pages.
    pub fn minimum(&self) -> u64 {
        self.inner.limits.min
    }

    /// The maximum size in pages, if any.
    pub fn maximum(&self) -> Option<u64> {
        self.inner.limits.max
    }

    pub(crate) fn from_artifact(inner: artifact::MemoryType) -> Self {
        Self { inner }
    }
}

impl fmt::Display for MemoryType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "(memory {})", self.inner.limits)
    }
}

/// The type of a table: element type and limits in elements.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct TableType {
    pub(crate) inner: artifact::TableType,
}

impl TableType {
    /// A table of `element` (a reference type) with at least `min` elements and at most `max`.
    pub fn new(element: ValType, min: u32, max: Option<u32>) -> Self {
        Self {
            inner: artifact::TableType {
                element,
                limits: artifact::Limits {
                    min: u64::from(min),
                    max: max.map(u64::from),
                },
            },
        }
    }

    /// The element type.
    pub fn element(&self) -> ValType {
        self.inner.element
    }

    /// The minimum (initial) number of elements.
    pub fn minimum(&self) -> u64 {
        self.inner.limits.min
    }

    /// The maximum number of elements, if any.
    pub fn maximum(&self) -> Option<u64> {
        self.inner.limits.max
    }

    pub(crate) fn from_artifact(inner: artifact::TableType) -> Self {
        Self { inner }
    }
}

impl fmt::Display for TableType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "(table {} {})", self.inner.limits, self.inner.element)
    }
}

/// The type of anything that can be imported or exported.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ExternType {
    /// A function.
    Func(FuncType),
    /// A global.
    Global(GlobalType),
    /// A table.
    Table(TableType),
    /// A memory.
    Memory(MemoryType),
}

impl ExternType {
    /// The function type, if this is one.
    pub fn func(&self) -> Option<&FuncType> {
        match self {
            ExternType::Func(t) => Some(t),
            _ => None,
        }
    }

    /// The global type, if this is one.
    pub fn global(&self) -> Option<&GlobalType> {
        match self {
            ExternType::Global(t) => Some(t),
            _ => None,
        }
    }

    /// The table type, if this is one.
    pub fn table(&self) -> Option<&TableType> {
        match self {
            ExternType::Table(t) => Some(t),
            _ => None,
        }
    }

    /// The memory type, if this is one.
    pub fn memory(&self) -> Option<&MemoryType> {
        match self {
            ExternType::Memory(t) => Some(t),
            _ => None,
        }
    }

    /// The type of `index` in `info`.
    pub(crate) fn of(info: &ModuleInfo, index: EntityIndex) -> ExternType {
        match index {
            EntityIndex::Func(f) => {
                ExternType::Func(FuncType::from_artifact(info.func_type(f).clone()))
            }
            EntityIndex::Table(t) => {
                ExternType::Table(TableType::from_artifact(info.tables[t.index()]))
            }
            EntityIndex::Memory(m) => {
                ExternType::Memory(MemoryType::from_artifact(info.memories[m.index()]))
            }
            EntityIndex::Global(g) => {
                ExternType::Global(GlobalType::from_artifact(info.globals[g.index()]))
            }
        }
    }
}

impl fmt::Display for ExternType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExternType::Func(t) => fmt::Display::fmt(t, f),
            ExternType::Global(t) => fmt::Display::fmt(t, f),
            ExternType::Table(t) => fmt::Display::fmt(t, f),
            ExternType::Memory(t) => fmt::Display::fmt(t, f),
        }
    }
}

impl From<FuncType> for ExternType {
    fn from(t: FuncType) -> Self {
        ExternType::Func(t)
    }
}

impl From<GlobalType> for ExternType {
    fn from(t: GlobalType) -> Self {
        ExternType::Global(t)
    }
}

impl From<TableType> for ExternType {
    fn from(t: TableType) -> Self {
        ExternType::Table(t)
    }
}

impl From<MemoryType> for ExternType {
    fn from(t: MemoryType) -> Self {
        ExternType::Memory(t)
    }
}

/// One import of a module (see [`crate::Module::imports`]).
#[derive(Clone, Debug)]
pub struct ImportType<'a> {
    pub(crate) info: &'a ModuleInfo,
    pub(crate) import: &'a artifact::module::Import,
}

impl<'a> ImportType<'a> {
    /// The module name of the import.
    pub fn module(&self) -> &'a str {
        &self.import.module
    }

    /// The field name of the import.
    pub fn name(&self) -> &'a str {
        &self.import.name
    }

    /// What the import must be.
    pub fn ty(&self) -> ExternType {
        ExternType::of(self.info, self.import.index)
    }
}

/// One export of a module (see [`crate::Module::exports`]).
#[derive(Clone, Debug)]
pub struct ExportType<'a> {
    pub(crate) info: &'a ModuleInfo,
    pub(crate) export: &'a artifact::module::Export,
}

impl<'a> ExportType<'a> {
    /// The export name.
    pub fn name(&self) -> &'a str {
        &self.export.name
    }

    /// What is exported.
    pub fn ty(&self) -> ExternType {
        ExternType::of(self.info, self.export.index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prelude::*;

    #[test]
    fn display() {
        let f = FuncType::new([ValType::I32], []);
        assert_eq!(f.to_string(), "(func (param i32))");
        assert_eq!(f.params().len(), 1);
        assert_eq!(f.results().len(), 0);
        assert_eq!(MemoryType::new(1, Some(2)).to_string(), "(memory 1 2)");
        assert_eq!(
            TableType::new(ValType::FuncRef, 10, None).to_string(),
            "(table 10 funcref)"
        );
        assert_eq!(
            GlobalType::new(ValType::I64, Mutability::Var).to_string(),
            "(global (mut i64))"
        );
    }
}
