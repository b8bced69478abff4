//! [`Func`]: a wasm or host function in a store, [`Caller`]: what a host function sees of the
//! store that called it, and calls from the host ([`Func::call`], [`TypedFunc::call`]).
//!
//! A function is reached by compiled code through its `VMFuncRef` (`wasm_call`, `array_call`,
//! `vmctx`, `type_id`): for a wasm function that record lives in its instance's VM context, for a
//! host function in its boxed host context (`vm::HostFuncContext`). Calls from the host always use
//! the array calling convention: arguments and results travel in a `ValRaw` slice.

mod host;
mod typed;

pub(crate) use host::HostFunc;
pub use host::IntoFunc;
pub use typed::{TypedFunc, WasmParams, WasmResults, WasmRet, WasmTy};

use crate::artifact::FuncIndex;
use crate::error::{Error, Result};
use crate::externals::Extern;
use crate::prelude::*;
use crate::store::{AsContext, AsContextMut, StoreContextMut, StoreId, StoreInner, StoreOpaque};
use crate::types::{FuncType, ValType};
use crate::values::{Val, ValRaw};
use crate::vm::{self, HostFuncContextBox, VMFuncRef};

/// A function: exported by a wasm instance or defined by the host.
///
/// A `Func` is a small handle into the store that created it; using it with another store panics.
#[derive(Copy, Clone, Debug)]
pub struct Func {
    pub(crate) store: StoreId,
    pub(crate) index: u32,
}

/// What the store knows about one function.
pub(crate) enum FuncData {
    /// Defined function `index` of instance `instance`, and its `VMFuncRef` (which never
    /// changes), kept here so that a call needs no lookup.
    Wasm {
        instance: u32,
        index: FuncIndex,
        func_ref: VMFuncRef,
    },
    /// A host function; its context owns the `VMFuncRef`.
    Host(HostFuncContextBox),
}

/// The view a host function has of the store (and instance) that called it.
pub struct Caller<'a, T> {
    pub(crate) store: &'a mut StoreInner<T>,
    /// The calling instance, if wasm called; `None` when the host called the function directly.
    pub(crate) instance: Option<u32>,
}

impl<T> Caller<'_, T> {
    /// The host data.
    pub fn data(&self) -> &T {
        &self.store.data
    }

    /// The host data, mutably.
    pub fn data_mut(&mut self) -> &mut T {
        &mut self.store.data
    }

    /// The export `name` of the calling instance (`None` if the host called the function
    /// directly, or the instance has no such export).
    pub fn get_export(&mut self, name: &str) -> Option<Extern> {
        let instance = self.instance?;
        crate::instance::get_export(&mut self.store.opaque, instance, name)
    }
}

impl<T: 'static> crate::store::AsContext for Caller<'_, T> {
    type Data = T;
    fn as_context(&self) -> crate::store::StoreContext<'_, T> {
        crate::store::StoreContext(self.store)
    }
}

impl<T: 'static> crate::store::AsContextMut for Caller<'_, T> {
    fn as_context_mut(&mut self) -> StoreContextMut<'_, T> {
        StoreContextMut(self.store)
    }
}

impl<'a, T> From<&'a mut Caller<'_, T>> for StoreContextMut<'a, T> {
    fn from(c: &'a mut Caller<'_, T>) -> Self {
        StoreContextMut(c.store)
    }
}

impl<'a, T> From<&'a Caller<'_, T>> for crate::store::StoreContext<'a, T> {
    fn from(c: &'a Caller<'_, T>) -> Self {
        crate::store::StoreContext(c.store)
    }
}

impl<'a, T> From<&'a mut Caller<'_, T>> for crate::store::StoreContext<'a, T> {
    fn from(c: &'a mut Caller<'_, T>) -> Self {
        crate::store::StoreContext(c.store)
    }
}

impl Func {
    /// Defines a host function from a Rust closure whose parameter and result types give the wasm
    /// type (see [`IntoFunc`]). If the closure panics while called from wasm, the panic resumes
    /// in the host code that called that wasm function.
    pub fn wrap<T: 'static, P, A>(
        mut store: impl AsContextMut<Data = T>,
        f: impl IntoFunc<T, P, A>,
    ) -> Func {
        let host = Arc::new(f.into_host_func());
        Func::from_host(&mut store.as_context_mut().0.opaque, host)
    }

    /// Defines a host function of type `ty` that takes and returns [`Val`]s. The runtime checks
    /// the results the closure writes against `ty`.
    pub fn new<T: 'static>(
        mut store: impl AsContextMut<Data = T>,
        ty: FuncType,
        f: impl Fn(Caller<'_, T>, &[Val], &mut [Val]) -> Result<()> + Send + Sync + 'static,
    ) -> Func {
        let host = Arc::new(HostFunc::new_dynamic(ty, f));
        Func::from_host(&mut store.as_context_mut().0.opaque, host)
    }

    /// Adds a host function to a store.
    pub(crate) fn from_host<T: 'static>(store: &mut StoreOpaque, host: Arc<HostFunc<T>>) -> Func {
        let ctx = HostFuncContextBox::new(host);
        let index = store.funcs.len() as u32;
        store.funcref_to_func.insert(ctx.func_ref_addr(), index);
        store.funcs.push(FuncData::Host(ctx));
        store.funcs_without_wasm_call.push(index);
        let func = Func {
            store: store.id,
            index,
        };
        store.fill_wasm_calls();
        func
    }

    /// The function's type.
    ///
    /// # Panics
    /// If `store` is not the store that created the function.
    pub fn ty(&self, store: impl AsContext) -> FuncType {
        let store = &store.as_context().0.opaque;
        FuncType::from_artifact(self.artifact_ty(store).clone())
    }

    pub(crate) fn artifact_ty<'s>(&self, store: &'s StoreOpaque) -> &'s crate::artifact::FuncType {
        store.check(self.store);
        match &store.funcs[self.index as usize] {
            FuncData::Wasm {
                instance, index, ..
            } => store.instances[*instance as usize]
                .module
                .info()
                .func_type(*index),
            FuncData::Host(ctx) => &ctx.ty().inner,
        }
    }

    /// The process-wide type id of the function's type.
    pub(crate) fn type_id(&self, store: &StoreOpaque) -> u32 {
        store.check(self.store);
        match &store.funcs[self.index as usize] {
            FuncData::Wasm {
                instance, index, ..
            } => {
                let inst = &store.instances[*instance as usize];
                let info = inst.module.info();
                inst.module.type_ids()[info.funcs[index.index()].index()]
            }
            FuncData::Host(ctx) => ctx.type_id(),
        }
    }

    /// The address of the function's `VMFuncRef` (its funcref value).
    pub(crate) fn func_ref_addr(&self, store: &StoreOpaque) -> usize {
        store.check(self.store);
        match &store.funcs[self.index as usize] {
            FuncData::Wasm {
                instance, index, ..
            } => store.instances[*instance as usize].func_ref_addr(*index),
            FuncData::Host(ctx) => ctx.func_ref_addr(),
        }
    }

    /// Calls the function with `params`, writing its results into `results` (whose initial
    /// values are ignored).
    ///
    /// # Errors
    /// If the number or types of `params`, or the number of `results`, do not match the
    /// function's type, if a
    /// reference argument belongs to another store, or if the call traps or a host function it
    /// calls fails. A panic in a host function resumes in the caller of this function.
    ///
    /// # Panics
    /// If `store` is not the store that created the function.
    pub fn call(
        &self,
        mut store: impl AsContextMut,
        params: &[Val],
        results: &mut [Val],
    ) -> Result<()> {
        let store = store.as_context_mut().0;
        let ty = self.artifact_ty(&store.opaque).clone();
        check_vals("argument", &ty.params, params.iter().map(Val::ty))?;
        // Only the number of result slots matters: they are overwritten.
        if results.len() != ty.results.len() {
            return Err(Error::msg(format!(
                "expected {} result slots, found {}",
                ty.results.len(),
                results.len()
            )));
        }
        let mut raw = vec![ValRaw::default(); ty.params.len().max(ty.results.len())];
        for (slot, val) in raw.iter_mut().zip(params) {
            *slot = store.opaque.val_to_raw(val)?;
        }
        self.call_raw(store, &mut raw)?;
        for ((slot, ty), raw) in results.iter_mut().zip(ty.results.iter()).zip(&raw) {
            *slot = store.opaque.raw_to_val(*raw, *ty);
        }
        Ok(())
    }

    /// Calls the function with arguments and results in `values` (already type-checked).
    pub(crate) fn call_raw<T: 'static>(
        &self,
        store: &mut StoreInner<T>,
        values: &mut [ValRaw],
    ) -> Result<()> {
        store.opaque.check(self.store);
        match &store.opaque.funcs[self.index as usize] {
            FuncData::Wasm { func_ref, .. } => {
                let func_ref = *func_ref;
                vm::call_wasm(store, func_ref, values)
            }
            FuncData::Host(ctx) => {
                let host = ctx
                    .host::<T>()
                    .ok_or_else(|| Error::bug("host function of another store data type"))?;
                (host.call)(
                    Caller {
                        store,
                        instance: None,
                    },
                    values,
                )
            }
        }
    }

    /// A typed view of the function, after checking that `P` and `R` match its type.
    ///
    /// # Errors
    /// If the parameter or result types differ.
    ///
    /// # Panics
    /// If `store` is not the store that created the function.
    pub fn typed<P: WasmParams, R: WasmResults>(
        &self,
        store: impl AsContext,
    ) -> Result<TypedFunc<P, R>> {
        let store = &store.as_context().0.opaque;
        let ty = self.artifact_ty(store);
        P::typecheck("parameter", &ty.params)?;
        R::typecheck("result", &ty.results)?;
        Ok(TypedFunc::new_unchecked(*self))
    }
}

/// Checks `found` against `expected`, naming the first difference.
pub(crate) fn check_vals(
    what: &str,
    expected: &[ValType],
    found: impl ExactSizeIterator<Item = ValType>,
) -> Result<()> {
    if found.len() != expected.len() {
        return Err(Error::msg(format!(
            "expected {} {what}s, found {}",
            expected.len(),
            found.len()
        )));
    }
    for (i, (e, f)) in expected.iter().zip(found).enumerate() {
        if *e != f {
            return Err(Error::msg(format!(
                "type mismatch for {what} {i}: expected {e}, found {f}"
            )));
        }
    }
    Ok(())
}

impl StoreOpaque {
    /// The raw form of `val`, checking that references belong to this store.
    pub(crate) fn val_to_raw(&mut self, val: &Val) -> Result<ValRaw> {
        Ok(match *val {
            Val::I32(v) => ValRaw::from_u32(v as u32),
            Val::I64(v) => ValRaw::from_u64(v as u64),
            Val::F32(v) => ValRaw::from_u32(v),
            Val::F64(v) => ValRaw::from_u64(v),
            Val::V128(v) => ValRaw::from_u128(v.as_u128()),
            Val::FuncRef(f) => ValRaw::from_usize(self.func_to_raw(f)?),
            Val::ExternRef(e) => ValRaw::from_usize(self.externref_to_raw(e)?),
        })
    }

    /// The value of type `ty` in `raw`.
    pub(crate) fn raw_to_val(&mut self, raw: ValRaw, ty: ValType) -> Val {
        match ty {
            ValType::I32 => Val::I32(raw.get_u32() as i32),
            ValType::I64 => Val::I64(raw.get_u64() as i64),
            ValType::F32 => Val::F32(raw.get_u32()),
            ValType::F64 => Val::F64(raw.get_u64()),
            ValType::V128 => Val::V128(raw.get_u128().into()),
            ValType::FuncRef => Val::FuncRef(self.raw_to_func(raw.get_usize())),
            ValType::ExternRef => Val::ExternRef(self.raw_to_externref(raw.get_usize())),
        }
    }

    /// The funcref value of `func` (0 for null).
    ///
    /// # Errors
    /// If `func` belongs to another store.
    pub(crate) fn func_to_raw(&mut self, func: Option<Func>) -> Result<usize> {
        match func {
            None => Ok(0),
            Some(f) if f.store != self.id => {
                Err(Error::msg("funcref argument belongs to another store"))
            }
            Some(f) => Ok(f.func_ref_addr(self)),
        }
    }

    /// The function whose `VMFuncRef` is at `addr` (0 for null).
    pub(crate) fn raw_to_func(&mut self, addr: usize) -> Option<Func> {
        if addr == 0 {
            return None;
        }
        if let Some(&index) = self.funcref_to_func.get(&addr) {
            return Some(Func {
                store: self.id,
                index,
            });
        }
        // A wasm function that has no handle yet: find its instance by address.
        let (&start, &instance) = self.vmctx_starts.range(..=addr).next_back()?;
        let index = self.instances[instance as usize].func_index_of_ref(addr - start)?;
        Some(self.wasm_func(instance, index))
    }

    /// The handle of function `index` of `instance` (imports resolve to the imported function).
    pub(crate) fn wasm_func(&mut self, instance: u32, index: FuncIndex) -> Func {
        let inst = &self.instances[instance as usize];
        let Some(func_ref) = inst.defined_func_ref(index) else {
            return inst.imported_funcs[index.index()];
        };
        // A function that has a handle had its `VMFuncRef` written when the handle was made.
        if let Some(&i) = self.funcref_to_func.get(&inst.func_ref_slot(index)) {
            return Func {
                store: self.id,
                index: i,
            };
        }
        let addr = inst.write_func_ref(index, &func_ref);
        let i = self.funcs.len() as u32;
        self.funcs.push(FuncData::Wasm {
            instance,
            index,
            func_ref,
        });
        self.funcref_to_func.insert(addr, i);
        Func {
            store: self.id,
            index: i,
        }
    }

    /// Gives host functions that still lack one a `wasm_call` entry: a wasm-to-host trampoline of
    /// their type from any module registered in the store. Wasm can only call a function through
    /// a type its module declares, and every declared type has a trampoline, so a host function
    /// whose type no module knows yet cannot be called by wasm until such a module arrives (and
    /// this runs again on every instantiation).
    pub(crate) fn fill_wasm_calls(&mut self) {
        let pending = core::mem::take(&mut self.funcs_without_wasm_call);
        for index in pending {
            let FuncData::Host(ctx) = &mut self.funcs[index as usize] else {
                continue;
            };
            match self.code.wasm_to_host_trampoline(ctx.type_id()) {
                Some(addr) => ctx.set_wasm_call(addr),
                None => self.funcs_without_wasm_call.push(index),
            }
        }
    }
}
