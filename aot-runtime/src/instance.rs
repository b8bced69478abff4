//! [`Instance`]: instantiation of a [`Module`] in a store, and export lookup.
//!
//! Instantiation follows the spec's order (core spec §4.5.4 "Instantiation"): imports are checked
//! first (types and limits), then the VM context is built (header, imports, a `VMFuncRef` for
//! every function), globals are evaluated, tables and memories created, active element segments
//! and then active data segments are copied in order (bounds-checked; a failure traps but leaves
//! earlier writes in place, as the spec requires for shared imported tables and memories), and
//! finally the start function runs.

use crate::artifact::module::{ConstExpr, ConstOp, ElemItems, ElemKind, ElemSegment};
use crate::artifact::vmoffsets::VMCONTEXT_MAGIC;
use crate::artifact::{self, ElemIndex, EntityIndex, FuncIndex, GlobalIndex, Trap, VMOffsets};
use crate::error::{Error, LinkError, Result};
use crate::externals::Extern;
use crate::func::{Func, FuncData, TypedFunc, WasmParams, WasmResults};
use crate::global::{Global, GlobalData};
use crate::memory::{Memory, MemoryData};
use crate::module::Module;
use crate::prelude::*;
use crate::store::{AsContextMut, StoreContextMut, StoreId, StoreInner, StoreOpaque};
use crate::table::{Table, TableData, in_bounds};
use crate::types::ExternType;
use crate::values::ValRaw;
use crate::vm::{self, VMContextAlloc, VMFuncRef};

/// An instantiated module.
///
/// A small handle into the store that created it; using it with another store panics.
#[derive(Copy, Clone, Debug)]
pub struct Instance {
    pub(crate) store: StoreId,
    pub(crate) index: u32,
}

/// One export of an instance (see [`Instance::exports`]).
#[derive(Clone, Debug)]
pub struct Export<'a> {
    name: &'a str,
    ext: Extern,
}

impl<'a> Export<'a> {
    /// The export name.
    pub fn name(&self) -> &'a str {
        self.name
    }

    /// The exported item.
    pub fn into_extern(self) -> Extern {
        self.ext
    }

    /// The exported function, if it is one.
    pub fn into_func(self) -> Option<Func> {
        self.ext.into_func()
    }

    /// The exported memory, if it is one.
    pub fn into_memory(self) -> Option<Memory> {
        self.ext.into_memory()
    }

    /// The exported table, if it is one.
    pub fn into_table(self) -> Option<Table> {
        self.ext.into_table()
    }

    /// The exported global, if it is one.
    pub fn into_global(self) -> Option<Global> {
        self.ext.into_global()
    }
}

/// What the store knows about one instance.
pub(crate) struct InstanceData {
    pub(crate) module: Module,
    pub(crate) vmctx: VMContextAlloc,
    pub(crate) offsets: VMOffsets,
    /// The functions it imports, by import function index.
    pub(crate) imported_funcs: Vec<Func>,
    /// Every memory, table and global (imports first), by index.
    pub(crate) memories: Vec<Memory>,
    pub(crate) tables: Vec<Table>,
    pub(crate) globals: Vec<Global>,
    /// Whether each element segment was dropped (`elem.drop`, or applied as an active or
    /// declarative segment). The items of a live one are evaluated when `table.init` reads them:
    /// they are constants, so evaluating them then gives what instantiation would have.
    pub(crate) dropped_elems: Vec<bool>,
    /// Whether each data segment was dropped (`data.drop`, or applied as an active segment).
    pub(crate) dropped_data: Vec<bool>,
}

impl InstanceData {
    /// The address of the `VMFuncRef` of function `index` in this instance's VM context, after
    /// writing it. A defined function's `VMFuncRef` is never written at instantiation (which then
    /// costs nothing per function, and its VM context slots are not even zeroed): it is written
    /// whenever a reference to it is taken, from compiled code (`ref.func`, a table slot's first
    /// read) or from the host. Its value never changes, so writing it again is harmless, and
    /// cheaper than remembering which ones were written. An imported function's was written when
    /// the imports were linked. `index` must be a function of the module.
    pub(crate) fn func_ref_addr(&self, index: FuncIndex) -> usize {
        match self.defined_func_ref(index) {
            Some(entry) => self.write_func_ref(index, &entry),
            None => self.func_ref_slot(index),
        }
    }

    /// The address of the `VMFuncRef` slot of function `index` (written or not).
    pub(crate) fn func_ref_slot(&self, index: FuncIndex) -> usize {
        self.vmctx.addr() + self.offsets.func_ref(index.0) as usize
    }

    /// Writes `entry`, the `VMFuncRef` of defined function `index`, and returns its address.
    pub(crate) fn write_func_ref(&self, index: FuncIndex, entry: &VMFuncRef) -> usize {
        self.vmctx
            .write_func_ref(self.offsets.func_ref(index.0), entry);
        self.func_ref_slot(index)
    }

    /// What the `VMFuncRef` of function `index` holds if the module defines it.
    #[inline]
    pub(crate) fn defined_func_ref(&self, index: FuncIndex) -> Option<VMFuncRef> {
        let info = self.module.info();
        let defined = info.defined_func_index(index)?;
        let loc = self.module.funcs().get(defined.index());
        let text = self.module.text_base();
        let ty = info.funcs[index.index()];
        Some(VMFuncRef {
            wasm_call: text + loc.text_offset as usize,
            array_call: if loc.array_trampoline == u32::MAX {
                0
            } else {
                text + loc.array_trampoline as usize
            },
            vmctx: self.vmctx.addr(),
            type_id: self.module.type_ids()[ty.index()],
        })
    }

    /// The function whose `VMFuncRef` is at `offset` in the VM context, if any.
    pub(crate) fn func_index_of_ref(&self, offset: usize) -> Option<FuncIndex> {
        let first = self.offsets.func_ref(0) as usize;
        let size = self.offsets.func_ref_size() as usize;
        let rel = offset.checked_sub(first)?;
        let i = rel / size;
        (rel.is_multiple_of(size) && i < self.module.info().funcs.len()).then(|| FuncIndex::new(i))
    }
}

/// The export `name` of instance `instance`.
pub(crate) fn get_export(store: &mut StoreOpaque, instance: u32, name: &str) -> Option<Extern> {
    let inst = &store.instances[instance as usize];
    let export = inst.module.info().exports.iter().find(|e| e.name == name)?;
    Some(export_extern(store, instance, export.index))
}

/// The item `index` of instance `instance` as an [`Extern`] (a function gets its handle).
pub(crate) fn export_extern(store: &mut StoreOpaque, instance: u32, index: EntityIndex) -> Extern {
    let inst = &store.instances[instance as usize];
    match index {
        EntityIndex::Func(f) => Extern::Func(store.wasm_func(instance, f)),
        EntityIndex::Memory(m) => Extern::Memory(inst.memories[m.index()]),
        EntityIndex::Table(t) => Extern::Table(inst.tables[t.index()]),
        EntityIndex::Global(g) => Extern::Global(inst.globals[g.index()]),
    }
}

impl Instance {
    /// Instantiates `module` with `imports`, given in the order of [`Module::imports`].
    ///
    /// # Errors
    /// A [`LinkError`] if the number or types of the imports do not match (or an import belongs
    /// to another store); a trap if a segment does not fit or the start function traps (items
    /// written before the trap stay written); an error if memory cannot be reserved.
    pub fn new(
        mut store: impl AsContextMut,
        module: &Module,
        imports: &[Extern],
    ) -> Result<Instance> {
        instantiate(store.as_context_mut().0, module, imports)
    }

    fn data<'s>(&self, store: &'s StoreOpaque) -> &'s InstanceData {
        store.check(self.store);
        &store.instances[self.index as usize]
    }

    /// The export `name`, if any.
    ///
    /// # Panics
    /// If `store` is not the store that created the instance.
    pub fn get_export(&self, mut store: impl AsContextMut, name: &str) -> Option<Extern> {
        let store = &mut store.as_context_mut().0.opaque;
        store.check(self.store);
        get_export(store, self.index, name)
    }

    /// The exported function `name`, if any.
    ///
    /// # Panics
    /// If `store` is not the store that created the instance.
    pub fn get_func(&self, store: impl AsContextMut, name: &str) -> Option<Func> {
        self.get_export(store, name)?.into_func()
    }

    /// The exported function `name` as a [`TypedFunc`], after checking its type.
    ///
    /// # Errors
    /// If there is no such function export or its type is not `P -> R`.
    ///
    /// # Panics
    /// If `store` is not the store that created the instance.
    pub fn get_typed_func<P: WasmParams, R: WasmResults>(
        &self,
        mut store: impl AsContextMut,
        name: &str,
    ) -> Result<TypedFunc<P, R>> {
        let func = self
            .get_func(&mut store, name)
            .ok_or_else(|| Error::msg(format!("function export `{name}` not found")))?;
        func.typed(&store)
            .map_err(|e| Error::msg(format!("function export `{name}`: {e}")))
    }

    /// The exported memory `name`, if any.
    ///
    /// # Panics
    /// If `store` is not the store that created the instance.
    pub fn get_memory(&self, store: impl AsContextMut, name: &str) -> Option<Memory> {
        self.get_export(store, name)?.into_memory()
    }

    /// The exported table `name`, if any.
    ///
    /// # Panics
    /// If `store` is not the store that created the instance.
    pub fn get_table(&self, store: impl AsContextMut, name: &str) -> Option<Table> {
        self.get_export(store, name)?.into_table()
    }

    /// The exported global `name`, if any.
    ///
    /// # Panics
    /// If `store` is not the store that created the instance.
    pub fn get_global(&self, store: impl AsContextMut, name: &str) -> Option<Global> {
        self.get_export(store, name)?.into_global()
    }

    /// Every export, in the order of the export section.
    ///
    /// # Panics
    /// If `store` is not the store that created the instance.
    pub fn exports<'a, T: 'a>(
        &self,
        store: impl Into<StoreContextMut<'a, T>>,
    ) -> impl ExactSizeIterator<Item = Export<'a>> {
        let inner: &'a mut StoreInner<T> = store.into().0;
        let n = self.data(&inner.opaque).module.info().exports.len();
        let mut exts = Vec::with_capacity(n);
        for i in 0..n {
            let index = inner.opaque.instances[self.index as usize]
                .module
                .info()
                .exports[i]
                .index;
            exts.push(export_extern(&mut inner.opaque, self.index, index));
        }
        let inner: &'a StoreInner<T> = inner;
        let info = inner.opaque.instances[self.index as usize].module.info();
        info.exports
            .iter()
            .zip(exts)
            .map(|(e, ext)| Export { name: &e.name, ext })
    }

    /// The module this instance was created from.
    ///
    /// # Panics
    /// If `store` is not the store that created the instance.
    pub fn module<'a, T: 'a>(
        &self,
        store: impl Into<crate::store::StoreContext<'a, T>>,
    ) -> &'a Module {
        &self.data(&store.into().0.opaque).module
    }
}

/// Checks that `found` (the type of a provided item) matches `expected` (the import's type)
/// under the spec's import subtyping (core spec §4.5.3 "Import Subtyping").
fn matches(expected: &ExternType, found: &ExternType) -> bool {
    fn limits_match(expected: artifact::Limits, found: artifact::Limits) -> bool {
        found.min >= expected.min
            && match expected.max {
                None => true,
                Some(e) => found.max.is_some_and(|f| f <= e),
            }
    }
    match (expected, found) {
        (ExternType::Func(e), ExternType::Func(f)) => e == f,
        (ExternType::Global(e), ExternType::Global(f)) => e == f,
        (ExternType::Memory(e), ExternType::Memory(f)) => {
            limits_match(e.inner.limits, f.inner.limits)
        }
        (ExternType::Table(e), ExternType::Table(f)) => {
            e.inner.element == f.inner.element && limits_match(e.inner.limits, f.inner.limits)
        }
        _ => false,
    }
}

/// Type of `ext` for import matching (tables and memories with their current size).
fn extern_type(store: &StoreOpaque, ext: &Extern) -> ExternType {
    use crate::types::{FuncType, GlobalType, MemoryType, TableType};
    match *ext {
        Extern::Func(f) => ExternType::Func(FuncType::from_artifact(f.artifact_ty(store).clone())),
        Extern::Global(g) => ExternType::Global(GlobalType::from_artifact(
            store.globals[g.index as usize].ty,
        )),
        Extern::Table(t) => ExternType::Table(TableType::from_artifact(
            store.tables[t.index as usize].current_type(),
        )),
        Extern::Memory(m) => ExternType::Memory(MemoryType::from_artifact(
            store.memories[m.index as usize].current_type(),
        )),
    }
}

/// Checks every import against the module's import section.
fn check_imports(store: &StoreOpaque, module: &Module, imports: &[Extern]) -> Result<()> {
    let info = module.info();
    if imports.len() != info.imports.len() {
        return Err(LinkError::import_count(info.imports.len(), imports.len()).into());
    }
    for (import, ext) in info.imports.iter().zip(imports) {
        if ext.store_id() != store.id {
            return Err(LinkError::wrong_store("an import").into());
        }
        let expected = ExternType::of(info, import.index);
        let found = extern_type(store, ext);
        if !matches(&expected, &found) {
            return Err(
                LinkError::incompatible(&import.module, &import.name, expected, found).into(),
            );
        }
    }
    Ok(())
}

/// Instantiates `module` in `store` (see the module docs for the order of steps).
pub(crate) fn instantiate<T: 'static>(
    store: &mut StoreInner<T>,
    module: &Module,
    imports: &[Extern],
) -> Result<Instance> {
    crate::limits::check_instantiation(store, module)?;
    let opaque = &mut store.opaque;
    check_imports(opaque, module, imports)?;
    opaque.register_module(module);
    let index = build(opaque, module, imports)?;
    opaque.fill_wasm_calls();
    let instance = Instance {
        store: opaque.id,
        index,
    };
    init_segments(opaque, index)?;
    if let Some(start) = module.info().start {
        let func = store.opaque.wasm_func(index, start);
        func.call_raw(store, &mut [])?;
    }
    Ok(instance)
}

/// Builds the VM context and every entity of the instance, and adds it to the store.
fn build(store: &mut StoreOpaque, module: &Module, imports: &[Extern]) -> Result<u32> {
    let info = module.info();
    let offsets = VMOffsets::new(core::mem::size_of::<usize>() as u32, info.vm_counts());
    // Everything but the defined functions' `VMFuncRef`s starts zeroed (see `func_ref_addr`).
    let initialized = offsets.func_ref(info.num_imported.funcs);
    let vmctx = VMContextAlloc::new(offsets.size() as usize, initialized as usize)?;
    let index = store.instances.len() as u32;
    vmctx.write_u32(offsets.magic(), VMCONTEXT_MAGIC);
    vmctx.write_usize(offsets.store(), store.vm_store.addr());
    vmctx.write_usize(offsets.builtins(), vm::builtins_table_addr());
    vmctx.write_usize(offsets.type_ids(), module.type_ids().as_ptr() as usize);
    vmctx.write_usize(offsets.instance(), index as usize);
    let mut inst = InstanceData {
        module: module.clone(),
        vmctx,
        offsets,
        imported_funcs: Vec::new(),
        memories: Vec::new(),
        tables: Vec::new(),
        globals: Vec::new(),
        dropped_elems: vec![false; info.elems.len()],
        dropped_data: vec![false; info.data.len()],
    };
    link_imports(store, &mut inst, imports)?;
    store.vmctx_starts.insert(inst.vmctx.addr(), index);
    store.instances.push(inst);
    define_globals(store, index)?;
    define_tables(store, index)?;
    define_memories(store, index)?;
    Ok(index)
}

/// Writes the import slots of the VM context.
fn link_imports(store: &StoreOpaque, inst: &mut InstanceData, imports: &[Extern]) -> Result<()> {
    let info = inst.module.info();
    let o = inst.offsets;
    for (import, ext) in info.imports.iter().zip(imports) {
        match (import.index, *ext) {
            (EntityIndex::Func(i), Extern::Func(f)) => {
                let mut entry = match &store.funcs[f.index as usize] {
                    FuncData::Wasm { func_ref, .. } => *func_ref,
                    FuncData::Host(ctx) => {
                        let ty = info.funcs[i.index()];
                        let tramp = info.wasm_to_host_trampolines[ty.index()];
                        if tramp == u32::MAX {
                            return Err(Error::bug(format!(
                                "module has no wasm-to-host trampoline for type {}",
                                ty.0
                            )));
                        }
                        let mut r = ctx.func_ref();
                        r.wasm_call = inst.module.text_base() + tramp as usize;
                        r
                    }
                };
                entry.type_id = f.type_id(store);
                inst.vmctx.write_func_import(o.imported_func(i.0), &entry);
                inst.vmctx.write_func_ref(o.func_ref(i.0), &entry);
                inst.imported_funcs.push(f);
            }
            (EntityIndex::Memory(i), Extern::Memory(m)) => {
                let def = store.memories[m.index as usize].def.addr();
                inst.vmctx.write_usize(o.imported_memory(i.0), def);
                inst.memories.push(m);
            }
            (EntityIndex::Table(i), Extern::Table(t)) => {
                let def = store.tables[t.index as usize].def.addr();
                inst.vmctx.write_usize(o.imported_table(i.0), def);
                inst.tables.push(t);
            }
            (EntityIndex::Global(i), Extern::Global(g)) => {
                let def = store.globals[g.index as usize].def.addr();
                inst.vmctx.write_usize(o.imported_global(i.0), def);
                inst.globals.push(g);
            }
            _ => return Err(Error::bug("import kind changed after type check")),
        }
    }
    Ok(())
}

/// Evaluates a constant expression in the context of instance `index`.
fn eval(store: &StoreOpaque, index: u32, expr: &ConstExpr) -> Result<ValRaw> {
    let inst = &store.instances[index as usize];
    eval_const(
        expr,
        |g| {
            let global = inst.globals.get(g.index())?;
            Some(store.globals[global.index as usize].get_raw())
        },
        |f| (f.index() < inst.module.info().funcs.len()).then(|| inst.func_ref_addr(f)),
    )
}

/// Evaluates `expr` (core spec §3.3.10 "Constant Expressions", plus extended-const), reading
/// globals and function references through the given lookups.
pub(crate) fn eval_const(
    expr: &ConstExpr,
    global: impl Fn(GlobalIndex) -> Option<ValRaw>,
    func_ref: impl Fn(FuncIndex) -> Option<usize>,
) -> Result<ValRaw> {
    let mut stack: Vec<u128> = Vec::with_capacity(4);
    let bad = || Error::bug("malformed constant expression");
    for op in expr.0.iter() {
        let v = match *op {
            ConstOp::I32Const(v) => u128::from(v as u32),
            ConstOp::I64Const(v) => u128::from(v as u64),
            ConstOp::F32Const(v) => u128::from(v),
            ConstOp::F64Const(v) => u128::from(v),
            ConstOp::V128Const(v) => v,
            ConstOp::GlobalGet(g) => global(g).ok_or_else(bad)?.get_u128(),
            ConstOp::RefNull(_) => 0,
            ConstOp::RefFunc(f) => func_ref(f).ok_or_else(bad)? as u128,
            ConstOp::I32Add | ConstOp::I32Sub | ConstOp::I32Mul => {
                let b = stack.pop().ok_or_else(bad)? as u32;
                let a = stack.pop().ok_or_else(bad)? as u32;
                u128::from(match *op {
                    ConstOp::I32Add => a.wrapping_add(b),
                    ConstOp::I32Sub => a.wrapping_sub(b),
                    _ => a.wrapping_mul(b),
                })
            }
            ConstOp::I64Add | ConstOp::I64Sub | ConstOp::I64Mul => {
                let b = stack.pop().ok_or_else(bad)? as u64;
                let a = stack.pop().ok_or_else(bad)? as u64;
                u128::from(match *op {
                    ConstOp::I64Add => a.wrapping_add(b),
                    ConstOp::I64Sub => a.wrapping_sub(b),
                    _ => a.wrapping_mul(b),
                })
            }
        };
        stack.push(v);
    }
    match stack.as_slice() {
        [v] => Ok(ValRaw::from_u128(*v)),
        _ => Err(bad()),
    }
}

fn define_globals(store: &mut StoreOpaque, index: u32) -> Result<()> {
    let module = store.instances[index as usize].module.clone();
    let info = module.info();
    let n_imported = info.num_imported.globals as usize;
    for (i, init) in info.global_inits.iter().enumerate() {
        let value = eval(store, index, init)?;
        let inst = &store.instances[index as usize];
        let def = inst.vmctx.global_ptr(inst.offsets.global(i as u32));
        let g = store.push_global(GlobalData::new(
            info.globals[n_imported + i],
            value,
            Some(def),
        ));
        store.instances[index as usize].globals.push(g);
    }
    Ok(())
}

fn define_tables(store: &mut StoreOpaque, index: u32) -> Result<()> {
    let module = store.instances[index as usize].module.clone();
    let info = module.info();
    let n_imported = info.num_imported.tables as usize;
    for (i, ty) in info.tables[n_imported..].iter().enumerate() {
        let init = match info.table_inits.get(i) {
            Some(Some(expr)) => eval(store, index, expr)?.get_usize(),
            _ => 0,
        };
        let inst = &store.instances[index as usize];
        let def = inst.vmctx.table_ptr(inst.offsets.table(i as u32));
        let t = store.push_table(TableData::new(*ty, init, Some(def))?);
        if info
            .table_images
            .get(i)
            .is_some_and(|image| !image.0.is_empty())
        {
            store.set_table_image(t.index as usize, index, i as u32);
        }
        store.instances[index as usize].tables.push(t);
    }
    Ok(())
}

fn define_memories(store: &mut StoreOpaque, index: u32) -> Result<()> {
    let module = store.instances[index as usize].module.clone();
    let info = module.info();
    let n_imported = info.num_imported.memories as usize;
    let images = module.memory_images();
    for (i, ty) in info.memories[n_imported..].iter().enumerate() {
        let inst = &store.instances[index as usize];
        let def = inst.vmctx.memory_ptr(inst.offsets.memory(i as u32));
        let image = images.get(i).and_then(Option::as_ref);
        let m = store.push_memory(MemoryData::new(*ty, Some(def), image)?);
        store.instances[index as usize].memories.push(m);
    }
    Ok(())
}

/// Item `item` of element segment `seg` of instance `index`, as an untagged reference.
fn elem_item(store: &StoreOpaque, index: u32, seg: &ElemSegment, item: usize) -> Result<usize> {
    match &seg.items {
        ElemItems::Funcs(funcs) => Ok(store.instances[index as usize].func_ref_addr(funcs[item])),
        ElemItems::Exprs(exprs) => Ok(eval(store, index, &exprs[item])?.get_usize()),
    }
}

/// Writes items `src..src + len` of element segment `seg` of instance `index` into table `table`
/// (an index into `store.tables`) from slot `dst`, after checking both ranges.
fn write_elems(
    store: &mut StoreOpaque,
    index: u32,
    table: usize,
    seg: &ElemSegment,
    available: usize,
    (dst, src, len): (u32, u32, u32),
) -> Result<bool> {
    let (Some(dr), Some(sr)) = (
        in_bounds(dst, len, store.tables[table].elements.len()),
        in_bounds(src, len, available),
    ) else {
        return Ok(false);
    };
    for (d, s) in dr.zip(sr) {
        let raw = elem_item(store, index, seg, s)?;
        let t = &mut store.tables[table];
        t.elements[d] = t.encode(raw);
    }
    Ok(true)
}

impl StoreOpaque {
    /// `table.init` by instance `index` of segment `elem` into table `table` (an index into
    /// `self.tables`): `Ok(false)`, writing nothing, when a range is out of bounds.
    pub(crate) fn table_init(
        &mut self,
        index: u32,
        table: usize,
        elem: ElemIndex,
        dst: u32,
        src: u32,
        len: u32,
    ) -> Result<bool> {
        let inst = &self.instances[index as usize];
        let module = inst.module.clone();
        let seg = &module.info().elems[elem.index()];
        let available = if inst.dropped_elems[elem.index()] {
            0
        } else {
            seg.items.len()
        };
        write_elems(self, index, table, seg, available, (dst, src, len))
    }
}

/// Applies active element segments, then active data segments, in order.
fn init_segments(store: &mut StoreOpaque, index: u32) -> Result<()> {
    let module = store.instances[index as usize].module.clone();
    let info = module.info();
    for (i, seg) in info.elems.iter().enumerate() {
        match &seg.kind {
            ElemKind::Passive => continue,
            ElemKind::Declared => {}
            ElemKind::Active { table, offset } => {
                let offset = eval(store, index, offset)?.get_u32();
                let t = store.instances[index as usize].tables[table.index()].index as usize;
                let len = seg.items.len();
                let all =
                    u32::try_from(len).map_err(|_| Error::from_trap(Trap::TableOutOfBounds))?;
                if !write_elems(store, index, t, seg, len, (offset, 0, all))? {
                    return Err(Error::from_trap(Trap::TableOutOfBounds));
                }
            }
        }
        store.instances[index as usize].dropped_elems[i] = true;
    }
    init_data(store, index, &module)
}

/// Applies the active data segments. Their offsets are evaluated and checked against the
/// memories first; when none can trap, a memory that has a copy-on-write image gets it mapped
/// instead of its segments copied (the result is the same, and the order of the writes cannot be
/// observed). Otherwise the segments are copied one by one in order, and the first one out of
/// bounds traps with the earlier ones written, as the spec requires.
fn init_data(store: &mut StoreOpaque, index: u32, module: &Module) -> Result<()> {
    let info = module.info();
    let mut active = Vec::new();
    let mut all_in_bounds = true;
    for (i, seg) in info.data.iter().enumerate() {
        let Some((memory, offset)) = &seg.active else {
            continue;
        };
        let offset = eval(store, index, offset)?.get_u32() as usize;
        let m = store.instances[index as usize].memories[memory.index()];
        let size = store.memories[m.index as usize].mem.byte_size();
        all_in_bounds &= offset
            .checked_add(module.data_segment(i).len())
            .is_some_and(|end| end <= size);
        active.push((i, memory.index(), m, offset));
    }
    let n_imported = info.num_imported.memories as usize;
    let mut imaged = vec![false; info.memories.len()];
    for (defined, image) in module.memory_images().iter().enumerate() {
        let Some(image) = image else { continue };
        let m = store.instances[index as usize].memories[n_imported + defined];
        let mem = &mut store.memories[m.index as usize].mem;
        if all_in_bounds {
            // A failure to map leaves the memory zero or unchanged: its segments are then copied.
            imaged[n_imported + defined] = mem.map_image(image).is_ok();
        } else {
            // A segment traps: the memory must hold exactly the segments copied before it, so a
            // reused memory that came with the image goes back to zero first.
            mem.clear_image()?;
        }
    }
    for (i, memory, m, offset) in active {
        store.instances[index as usize].dropped_data[i] = true;
        if imaged[memory] {
            continue;
        }
        let bytes = module.data_segment(i);
        let mem = store.memories[m.index as usize].mem.as_mut_slice();
        let dst = offset
            .checked_add(bytes.len())
            .and_then(|end| mem.get_mut(offset..end))
            .ok_or_else(|| Error::from_trap(Trap::MemoryOutOfBounds))?;
        dst.copy_from_slice(bytes);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expr(ops: &[ConstOp]) -> ConstExpr {
        ConstExpr(ops.into())
    }

    fn no_globals(_: GlobalIndex) -> Option<ValRaw> {
        None
    }

    fn no_funcs(_: FuncIndex) -> Option<usize> {
        None
    }

    #[test]
    fn const_expr_arithmetic_wraps() {
        let e = expr(&[
            ConstOp::I32Const(i32::MAX),
            ConstOp::I32Const(1),
            ConstOp::I32Add,
        ]);
        assert_eq!(
            eval_const(&e, no_globals, no_funcs).unwrap().get_u32(),
            0x8000_0000
        );
        let e = expr(&[ConstOp::I64Const(3), ConstOp::I64Const(5), ConstOp::I64Sub]);
        assert_eq!(
            eval_const(&e, no_globals, no_funcs).unwrap().get_u64() as i64,
            -2
        );
        let e = expr(&[ConstOp::I32Const(-1), ConstOp::I32Const(7), ConstOp::I32Mul]);
        assert_eq!(
            eval_const(&e, no_globals, no_funcs).unwrap().get_u32() as i32,
            -7
        );
    }

    #[test]
    fn const_expr_globals_and_refs() {
        let e = expr(&[
            ConstOp::GlobalGet(GlobalIndex(1)),
            ConstOp::I32Const(2),
            ConstOp::I32Add,
        ]);
        let globals = |g: GlobalIndex| (g.0 == 1).then(|| ValRaw::from_u32(40));
        assert_eq!(eval_const(&e, globals, no_funcs).unwrap().get_u32(), 42);
        let e = expr(&[ConstOp::RefFunc(FuncIndex(3))]);
        let funcs = |f: FuncIndex| Some(0x1000 + f.index());
        assert_eq!(
            eval_const(&e, no_globals, funcs).unwrap().get_usize(),
            0x1003
        );
        let e = expr(&[ConstOp::RefNull(artifact::ValType::FuncRef)]);
        assert_eq!(eval_const(&e, no_globals, no_funcs).unwrap().get_usize(), 0);
        let e = expr(&[ConstOp::V128Const(u128::MAX)]);
        assert_eq!(
            eval_const(&e, no_globals, no_funcs).unwrap().get_u128(),
            u128::MAX
        );
    }

    #[test]
    fn const_expr_malformed_is_an_error() {
        assert!(eval_const(&expr(&[]), no_globals, no_funcs).is_err());
        assert!(eval_const(&expr(&[ConstOp::I32Add]), no_globals, no_funcs).is_err());
        let two = expr(&[ConstOp::I32Const(1), ConstOp::I32Const(2)]);
        assert!(eval_const(&two, no_globals, no_funcs).is_err());
        let g = expr(&[ConstOp::GlobalGet(GlobalIndex(0))]);
        assert!(eval_const(&g, no_globals, no_funcs).is_err());
    }
}
