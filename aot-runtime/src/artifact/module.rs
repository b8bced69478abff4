//! [`ModuleInfo`]: everything the runtime needs to know about a compiled core module, decided at
//! build time and stored (postcard-encoded) in the `.aot.info` section.
//!
//! Bulky per-function tables (code offsets, trap sites, address maps) are not here: they are raw
//! little-endian sections read in place (see [`super::read`]).

use super::index::*;
use super::types::*;
use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use serde::{Deserialize, Serialize};

/// Metadata of one compiled core module.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ModuleInfo {
    /// Name used for symbols and backtraces (the name section's module name, or the file stem).
    pub name: String,
    /// The type section.
    pub types: Vec<FuncType>,
    /// Type of every function in the function index space (imports first).
    pub funcs: Vec<TypeIndex>,
    /// Every table (imports first).
    pub tables: Vec<TableType>,
    /// Every memory (imports first).
    pub memories: Vec<MemoryType>,
    /// Every global (imports first).
    pub globals: Vec<GlobalType>,
    /// Number of imported functions, tables, memories and globals: they come first in their index
    /// spaces.
    pub num_imported: ImportCounts,
    /// Imports, in the order of the import section.
    pub imports: Vec<Import>,
    /// Exports, in the order of the export section.
    pub exports: Vec<Export>,
    /// Initial value of every defined global.
    pub global_inits: Vec<ConstExpr>,
    /// Initial value of every element of each defined table (`None`: null).
    pub table_inits: Vec<Option<ConstExpr>>,
    /// Initial contents of each defined table, decided at build time (see [`TableImage`]).
    pub table_images: Vec<TableImage>,
    /// Element segments.
    pub elems: Vec<ElemSegment>,
    /// Data segments; their bytes are ranges of the `.aot.data` section.
    pub data: Vec<DataSegment>,
    /// The start function.
    pub start: Option<FuncIndex>,
    /// Names from the name section, sorted by function index.
    pub func_names: Vec<(FuncIndex, String)>,
    /// Text offset of the wasm-to-host trampoline for each entry of `types`, used when a host
    /// function of that type is called by this module's code (`u32::MAX`: none).
    pub wasm_to_host_trampolines: Vec<u32>,
}

/// How many entities of each kind are imported.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportCounts {
    /// Imported functions.
    pub funcs: u32,
    /// Imported tables.
    pub tables: u32,
    /// Imported memories.
    pub memories: u32,
    /// Imported globals.
    pub globals: u32,
}

/// One import.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Import {
    /// The module name.
    pub module: String,
    /// The field name.
    pub name: String,
    /// The index it fills.
    pub index: EntityIndex,
}

/// One export.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Export {
    /// The export name.
    pub name: String,
    /// What it exports.
    pub index: EntityIndex,
}

/// A constant expression (global initializers, segment offsets, element items), evaluated by the
/// runtime at instantiation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConstExpr(pub Box<[ConstOp]>);

/// One instruction of a constant expression.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ConstOp {
    /// `i32.const`.
    I32Const(i32),
    /// `i64.const`.
    I64Const(i64),
    /// `f32.const`, as bits.
    F32Const(u32),
    /// `f64.const`, as bits.
    F64Const(u64),
    /// `v128.const`, as little-endian bits.
    V128Const(u128),
    /// `global.get` of an imported global.
    GlobalGet(GlobalIndex),
    /// `ref.null`.
    RefNull(ValType),
    /// `ref.func`.
    RefFunc(FuncIndex),
    /// `i32.add` (extended-const).
    I32Add,
    /// `i32.sub` (extended-const).
    I32Sub,
    /// `i32.mul` (extended-const).
    I32Mul,
    /// `i64.add` (extended-const).
    I64Add,
    /// `i64.sub` (extended-const).
    I64Sub,
    /// `i64.mul` (extended-const).
    I64Mul,
}

/// What the leading active element segments put into one defined funcref table, computed at
/// build time when their offsets are constants, their items constant function references (or
/// nulls) and they fit the table's minimum size: slot `i` holds the reference to function
/// `self.0[i]` (`None`: null); slots past the end are null. Such segments are then emptied and
/// made declarative in [`ModuleInfo::elems`], since applying them again would change nothing.
///
/// The runtime never copies an image at instantiation: a funcref table's slots start out
/// uninitialized (a zero word) and the first read of a slot, from compiled code or the host,
/// fills it from the image. Empty for a table no segment fills (and for every externref table).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableImage(pub Box<[Option<FuncIndex>]>);

/// An element segment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ElemSegment {
    /// Passive, active or declarative.
    pub kind: ElemKind,
    /// Element type.
    pub ty: ValType,
    /// The items.
    pub items: ElemItems,
}

/// Mode of an element segment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ElemKind {
    /// Available to `table.init`.
    Passive,
    /// Copied into a table at instantiation, then dropped.
    Active {
        /// Target table.
        table: TableIndex,
        /// Offset expression (i32).
        offset: ConstExpr,
    },
    /// Only declares functions for `ref.func`; dropped at instantiation.
    Declared,
}

/// Items of an element segment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ElemItems {
    /// Function indices.
    Funcs(Vec<FuncIndex>),
    /// Constant expressions.
    Exprs(Vec<ConstExpr>),
}

impl ElemItems {
    /// Number of items.
    pub fn len(&self) -> usize {
        match self {
            ElemItems::Funcs(f) => f.len(),
            ElemItems::Exprs(e) => e.len(),
        }
    }

    /// Whether there are no items.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A data segment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataSegment {
    /// Active target, or `None` for a passive segment.
    pub active: Option<(MemoryIndex, ConstExpr)>,
    /// Offset of the bytes in `.aot.data`.
    pub data_offset: u32,
    /// Length of the bytes.
    pub data_len: u32,
}

impl ModuleInfo {
    /// Number of functions defined by the module.
    pub fn num_defined_funcs(&self) -> usize {
        self.funcs.len() - self.num_imported.funcs as usize
    }

    /// The defined index of `func`, or `None` if it is imported.
    pub fn defined_func_index(&self, func: FuncIndex) -> Option<DefinedFuncIndex> {
        func.0
            .checked_sub(self.num_imported.funcs)
            .map(DefinedFuncIndex)
    }

    /// The function index of a defined function.
    pub fn func_index(&self, func: DefinedFuncIndex) -> FuncIndex {
        FuncIndex(func.0 + self.num_imported.funcs)
    }

    /// The defined index of `table`, or `None` if it is imported.
    pub fn defined_table_index(&self, table: TableIndex) -> Option<DefinedTableIndex> {
        table
            .0
            .checked_sub(self.num_imported.tables)
            .map(DefinedTableIndex)
    }

    /// The defined index of `memory`, or `None` if it is imported.
    pub fn defined_memory_index(&self, memory: MemoryIndex) -> Option<DefinedMemoryIndex> {
        memory
            .0
            .checked_sub(self.num_imported.memories)
            .map(DefinedMemoryIndex)
    }

    /// The defined index of `global`, or `None` if it is imported.
    pub fn defined_global_index(&self, global: GlobalIndex) -> Option<DefinedGlobalIndex> {
        global
            .0
            .checked_sub(self.num_imported.globals)
            .map(DefinedGlobalIndex)
    }

    /// The type of function `func`.
    pub fn func_type(&self, func: FuncIndex) -> &FuncType {
        &self.types[self.funcs[func.index()].index()]
    }

    /// The name-section name of `func`, if any.
    pub fn func_name(&self, func: FuncIndex) -> Option<&str> {
        self.func_names
            .binary_search_by_key(&func, |(i, _)| *i)
            .ok()
            .map(|i| self.func_names[i].1.as_str())
    }

    /// The counts [`super::VMOffsets`] needs to lay out this module's VM context.
    pub fn vm_counts(&self) -> super::vmoffsets::VMCounts {
        super::vmoffsets::VMCounts {
            imported_funcs: self.num_imported.funcs,
            imported_tables: self.num_imported.tables,
            imported_memories: self.num_imported.memories,
            imported_globals: self.num_imported.globals,
            defined_tables: self.tables.len() as u32 - self.num_imported.tables,
            defined_memories: self.memories.len() as u32 - self.num_imported.memories,
            defined_globals: self.globals.len() as u32 - self.num_imported.globals,
            funcs: self.funcs.len() as u32,
        }
    }
}
