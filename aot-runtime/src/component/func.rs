//! Component functions and the three call paths across a component boundary:
//!
//! - host -> guest ([`Func::call`], [`TypedFunc::call`], `call_lifted`): check the callee may be
//!   entered, push its frame, lower the arguments into the callee (its `realloc`), call the core
//!   function through its array entry, lift the results, run `post-return`, pop the frame;
//! - guest -> host (`call_lowered` with an import callee): the body of the core host function
//!   made for a lowering: check the caller may leave, lift the arguments out of the caller, run
//!   the host closure, lower its results into the caller (its `realloc`);
//! - guest -> guest (`call_lowered` with a lifted callee): a Rust adapter, lift from the caller
//!   into [`Val`]s, then the host -> guest path into the callee, then lower the results back.
//!   Strings are transcoded by construction (decoded with one encoding, encoded with the other).
//!
//! The canonical ABI itself (flattening, spilling, pointer checks) is `params.rs` and its
//! helpers; this file only builds the contexts and enforces the call rules of the canonical ABI
//! (`may_leave`, may-enter, poisoning; docs/components.md §4.6). Frames are pushed and popped by
//! Rust on every path, including errors and panics (traps only skip compiled frames).

use super::context::{GuestMemory, LiftContext, LowerContext};
use super::instantiate::{CallFrame, ResolvedOptions, resolve_func, resolve_options};
use super::params::{self, LiftList, LowerList};
use super::resources::{self, HandleCx};
use super::typed::{ComponentNamedList, Lift, Lower, short_type_name};
use super::types::{ComponentFunc, Type};
use super::values::{Val, typecheck_val};
use crate::artifact::Trap;
use crate::artifact::component::{
    Callee, ComponentTypes, CoreDef, InterfaceType, LoweringIndex, OptionsIndex,
    RuntimeComponentInstanceIndex, TypeFunc, TypeFuncIndex,
};
use crate::error::{Error, Result};
use crate::prelude::*;
use crate::store::{AsContext, AsContextMut, StoreContextMut, StoreId, StoreInner, StoreOpaque};
use crate::values::ValRaw;
use core::marker::PhantomData;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};

/// A function exported by a component instance (a lifted core function).
///
/// A small handle into the store that created it; using it with another store panics.
#[derive(Copy, Clone, Debug)]
pub struct Func {
    pub(crate) store: StoreId,
    pub(crate) index: u32,
}

/// What the store knows about one exported function.
#[derive(Copy, Clone, Debug)]
pub(crate) struct FuncData {
    /// The component instance.
    pub(crate) instance: u32,
    /// The component function type.
    pub(crate) ty: TypeFuncIndex,
    /// The lifted core function.
    pub(crate) func: CoreDef,
    /// The options it was lifted with.
    pub(crate) options: OptionsIndex,
}

/// A [`Func`] whose parameter and result types were checked against `P` and `R` once, when it
/// was made ([`Instance::get_typed_func`](super::Instance::get_typed_func), [`Func::typed`]).
pub struct TypedFunc<P, R> {
    func: Func,
    _marker: PhantomData<fn(P) -> R>,
}

impl<P, R> Clone for TypedFunc<P, R> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<P, R> Copy for TypedFunc<P, R> {}

impl<P, R> core::fmt::Debug for TypedFunc<P, R> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_tuple("TypedFunc").field(&self.func).finish()
    }
}

impl Func {
    fn data(&self, store: &StoreOpaque) -> FuncData {
        store.check(self.store);
        store.components.funcs[self.index as usize]
    }

    /// The component's types and this function's type.
    fn types(&self, store: &StoreOpaque) -> (Arc<ComponentTypes>, TypeFuncIndex) {
        let data = self.data(store);
        let component = &store.components.instances[data.instance as usize].component;
        (component.types().clone(), data.ty)
    }

    /// The function's type.
    ///
    /// # Panics
    /// If `store` is not the store that created the function.
    pub fn ty(&self, store: impl AsContext) -> ComponentFunc {
        let (types, ty) = self.types(&store.as_context().0.opaque);
        ComponentFunc::new(types, ty)
    }

    /// The parameters, with their names and types.
    ///
    /// # Panics
    /// If `store` is not the store that created the function.
    pub fn params(&self, store: impl AsContext) -> Box<[(String, Type)]> {
        let (types, ty) = self.types(&store.as_context().0.opaque);
        types.funcs[ty.index()]
            .params
            .iter()
            .map(|(name, ty)| (name.clone(), Type::new(types.clone(), *ty)))
            .collect()
    }

    /// The result types (none or one).
    ///
    /// # Panics
    /// If `store` is not the store that created the function.
    pub fn results(&self, store: impl AsContext) -> Box<[Type]> {
        let (types, ty) = self.types(&store.as_context().0.opaque);
        types.funcs[ty.index()]
            .result
            .iter()
            .map(|ty| Type::new(types.clone(), *ty))
            .collect()
    }

    /// Calls the function with `params`, writing its results into `results` (one slot per
    /// result; their initial values are ignored). The arguments are type-checked first;
    /// `post-return` runs once the results are lifted.
    ///
    /// # Errors
    /// If the number or types of `params` or the number of `results` do not match the
    /// function's type; if the instance may not be entered (it is on the call stack, or trapped
    /// earlier: [`Trap::CannotEnterComponent`]); if the call traps (with a Wasm backtrace) or a
    /// host function it calls fails (that error, which [`Error::downcast_ref`] gets back).
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
        let data = self.data(&store.opaque);
        let (types, ty) = self.types(&store.opaque);
        let fty = &types.funcs[ty.index()];
        if params.len() != fty.params.len() {
            return Err(Error::msg(format!(
                "expected {} arguments, found {}",
                fty.params.len(),
                params.len()
            )));
        }
        for (i, (val, (name, ty))) in params.iter().zip(fty.params.iter()).enumerate() {
            typecheck_val(val, ty, &types).map_err(|e| {
                Error::msg(format!("type mismatch for argument {i} (`{name}`): {e}"))
            })?;
        }
        let n_results = usize::from(fty.result.is_some());
        if results.len() != n_results {
            return Err(Error::msg(format!(
                "expected {n_results} result slots, found {}",
                results.len()
            )));
        }
        let vals: Vec<Val> = call_lifted(store, &data, params)?;
        for (slot, val) in results.iter_mut().zip(vals) {
            *slot = val;
        }
        Ok(())
    }

    /// A typed view of the function, after checking its parameters against `P` and its result
    /// against `R`.
    ///
    /// # Errors
    /// If the types differ; the message names the parameter or result and both types.
    ///
    /// # Panics
    /// If `store` is not the store that created the function.
    pub fn typed<P, R>(&self, store: impl AsContext) -> Result<TypedFunc<P, R>>
    where
        P: ComponentNamedList + Lower,
        R: ComponentNamedList + Lift,
    {
        self.typed_named(&store.as_context().0.opaque, "")
    }

    /// [`Func::typed`], naming the function `name` in errors.
    pub(crate) fn typed_named<P, R>(
        &self,
        store: &StoreOpaque,
        name: &str,
    ) -> Result<TypedFunc<P, R>>
    where
        P: ComponentNamedList + Lower,
        R: ComponentNamedList + Lift,
    {
        let (types, ty) = self.types(store);
        let fty = &types.funcs[ty.index()];
        let data = self.data(store);
        let known = store.components.instances[data.instance as usize]
            .resource_types
            .iter()
            .map(|rt| rt.is_host().then_some(*rt))
            .collect();
        let what = if name.is_empty() {
            String::from("function")
        } else {
            format!("function `{name}`")
        };
        super::host::with_known_resources(known, || typecheck_signature::<P, R>(fty, &types))
            .map_err(|e| {
                Error::msg(format!(
                    "{what} has type `{}`, not `{} -> {}`: {e}",
                    types.display_func(ty),
                    short_type_name::<P>(),
                    short_type_name::<R>()
                ))
            })?;
        Ok(TypedFunc {
            func: *self,
            _marker: PhantomData,
        })
    }
}

impl<P, R> TypedFunc<P, R>
where
    P: ComponentNamedList + Lower,
    R: ComponentNamedList + Lift,
{
    /// Calls the function; `post-return` runs once the results are lifted.
    ///
    /// # Errors
    /// As [`Func::call`] (the types were checked when this `TypedFunc` was made).
    ///
    /// # Panics
    /// If `store` is not the store that created the function.
    pub fn call(&self, mut store: impl AsContextMut, params: P) -> Result<R> {
        let store = store.as_context_mut().0;
        let data = self.func.data(&store.opaque);
        call_lifted(store, &data, &params)
    }

    /// The untyped function.
    pub fn func(&self) -> Func {
        self.func
    }
}

/// Checks a function type against Rust parameter and result lists: `Ok` or which parameter or
/// result differs and how.
pub(crate) fn typecheck_signature<P: ComponentNamedList, R: ComponentNamedList>(
    ty: &TypeFunc,
    types: &ComponentTypes,
) -> Result<(), String> {
    P::typecheck_named(&ty.params, types).map_err(|e| format!("parameters: {e}"))?;
    let results: Vec<InterfaceType> = ty.result.iter().copied().collect();
    R::typecheck_list(&results, types).map_err(|e| format!("results: {e}"))
}

/// Host -> guest: calls the lifted function `func` with `params`, returning its lifted results.
/// Also the second half of a guest -> guest adapter.
fn call_lifted<T: 'static, P: LowerList + ?Sized, R: LiftList>(
    store: &mut StoreInner<T>,
    func: &FuncData,
    params: &P,
) -> Result<R> {
    let component = store.opaque.components.instances[func.instance as usize]
        .component
        .clone();
    let types = component.types();
    let opts = resolve_options(store, func.instance, func.options)?;
    let core = resolve_func(store, func.instance, &func.func)?;
    let frame = CallFrame {
        instance: func.instance,
        runtime: opts.runtime,
    };
    enter(&mut store.opaque, frame)?;
    resources::push_scope(&mut store.opaque.components);
    let fty = &types.funcs[func.ty.index()];
    let result = catch_unwind(AssertUnwindSafe(|| {
        let results = run_lifted(store, frame, &opts, types, fty, core, params);
        let scope = resources::pop_scope(&mut store.opaque.components, results.is_ok());
        scope.and(results)
    }));
    let ok = matches!(result, Ok(Ok(_)));
    leave(&mut store.opaque, frame, ok);
    result.unwrap_or_else(|payload| resume_unwind(payload))
}

/// The part of [`call_lifted`] that runs with the callee's frame pushed.
fn run_lifted<T: 'static, P: LowerList + ?Sized, R: LiftList>(
    store: &mut StoreInner<T>,
    frame: CallFrame,
    opts: &ResolvedOptions,
    types: &ComponentTypes,
    fty: &TypeFunc,
    core: crate::Func,
    params: &P,
) -> Result<R> {
    let mut raw = Vec::new();
    {
        let mut mem = StoreMemory::new(store, frame.instance, opts);
        let mut cx = LowerContext::new(&mut mem, opts.encoding, types);
        params::lower_params(&mut cx, fty, params, &mut raw)?;
    }
    let core_ty = core.artifact_ty(&store.opaque);
    let (n_params, n_results) = (core_ty.params.len(), core_ty.results.len());
    if raw.len() != n_params {
        return Err(Error::bug(format!(
            "lowered {} core arguments for a function of {n_params} parameters",
            raw.len()
        )));
    }
    raw.resize(n_params.max(n_results), ValRaw::default());
    core.call_raw(store, &mut raw)?;
    raw.truncate(n_results);
    let results = {
        let (memory, handles) = lift_parts(&mut store.opaque, frame.instance, opts);
        let mut cx = LiftContext::new(memory, opts.encoding, types).with_handles(handles);
        params::lift_results::<R>(&mut cx, fty, &raw)?
    };
    if let Some(post_return) = opts.post_return {
        without_leaving(store, frame.instance, frame.runtime, |store| {
            post_return.call_raw(store, &mut raw)
        })?;
    }
    Ok(results)
}

/// Runs `f` in `frame`: enters it (re-entrance and poisoning checks), runs `f` and leaves,
/// poisoning the instance if `f` failed. Used for resource destructors of another instance.
pub(crate) fn call_in_frame<T: 'static, R>(
    store: &mut StoreInner<T>,
    frame: CallFrame,
    f: impl FnOnce(&mut StoreInner<T>) -> Result<R>,
) -> Result<R> {
    enter(&mut store.opaque, frame)?;
    let result = catch_unwind(AssertUnwindSafe(|| f(store)));
    let ok = matches!(result, Ok(Ok(_)));
    leave(&mut store.opaque, frame, ok);
    result.unwrap_or_else(|payload| resume_unwind(payload))
}

/// Pushes `frame`, unless its instance may not be entered: it is already on the stack
/// (re-entrance) or it trapped earlier (poisoned). Both trap with `CannotEnterComponent`.
fn enter(store: &mut StoreOpaque, frame: CallFrame) -> Result<()> {
    let components = &mut store.components;
    let data = &components.instances[frame.instance as usize];
    let name = data.runtime_name(frame.runtime);
    if data.states[frame.runtime.index()].poisoned {
        return Err(Error::trap_with_detail(
            Trap::CannotEnterComponent,
            format!("a trap or host error left instance `{name}` in an earlier call"),
        ));
    }
    if components.stack.contains(&frame) {
        return Err(Error::trap_with_detail(
            Trap::CannotEnterComponent,
            format!("instance `{name}` is on the call stack"),
        ));
    }
    components.stack.push(frame);
    Ok(())
}

/// Pops `frame`; a call that failed poisons its instance (its invariants may be broken).
fn leave(store: &mut StoreOpaque, frame: CallFrame, ok: bool) {
    let components = &mut store.components;
    let popped = components.stack.pop();
    debug_assert_eq!(popped, Some(frame), "component call frames out of order");
    if !ok {
        components.instances[frame.instance as usize].states[frame.runtime.index()].poisoned = true;
    }
}

/// Runs `f` with `may_leave` cleared on runtime instance `runtime` of `instance` (while its
/// `realloc` or `post-return` runs), restoring it afterwards.
fn without_leaving<T, R>(
    store: &mut StoreInner<T>,
    instance: u32,
    runtime: RuntimeComponentInstanceIndex,
    f: impl FnOnce(&mut StoreInner<T>) -> R,
) -> R {
    fn may_leave(store: &mut StoreOpaque, instance: u32, runtime: usize) -> &mut bool {
        &mut store.components.instances[instance as usize].states[runtime].may_leave
    }
    let saved = core::mem::replace(
        may_leave(&mut store.opaque, instance, runtime.index()),
        false,
    );
    let res = catch_unwind(AssertUnwindSafe(|| f(store)));
    *may_leave(&mut store.opaque, instance, runtime.index()) = saved;
    res.unwrap_or_else(|payload| resume_unwind(payload))
}

/// The bytes of memory `m`.
fn memory_bytes(store: &StoreOpaque, m: crate::Memory) -> &[u8] {
    store.check(m.store);
    store.memories[m.index as usize].mem.as_slice()
}

/// The bytes of the options' memory and the handle tables of `instance` (the runtime instance
/// of `opts`), borrowed together for a [`LiftContext`].
fn lift_parts<'a>(
    store: &'a mut StoreOpaque,
    instance: u32,
    opts: &ResolvedOptions,
) -> (Option<&'a [u8]>, HandleCx<'a>) {
    if let Some(m) = opts.memory {
        store.check(m.store);
    }
    let StoreOpaque {
        memories,
        components,
        ..
    } = store;
    let memory = opts
        .memory
        .map(|m| memories[m.index as usize].mem.as_slice());
    let handles = HandleCx {
        components,
        instance,
        runtime: opts.runtime,
    };
    (memory, handles)
}

/// Guest memory and `realloc` of one set of canonical options, over a store.
struct StoreMemory<'a, T> {
    store: &'a mut StoreInner<T>,
    instance: u32,
    opts: ResolvedOptions,
}

impl<'a, T> StoreMemory<'a, T> {
    fn new(store: &'a mut StoreInner<T>, instance: u32, opts: &ResolvedOptions) -> Self {
        Self {
            store,
            instance,
            opts: *opts,
        }
    }
}

impl<T: 'static> GuestMemory for StoreMemory<'_, T> {
    fn memory(&self) -> Option<&[u8]> {
        Some(memory_bytes(&self.store.opaque, self.opts.memory?))
    }

    fn memory_mut(&mut self) -> Option<&mut [u8]> {
        let m = self.opts.memory?;
        let store = &mut self.store.opaque;
        store.check(m.store);
        Some(store.memories[m.index as usize].mem.as_mut_slice())
    }

    fn handles(&mut self) -> Option<HandleCx<'_>> {
        Some(HandleCx {
            components: &mut self.store.opaque.components,
            instance: self.instance,
            runtime: self.opts.runtime,
        })
    }

    fn realloc(&mut self, old_ptr: u32, old_size: u32, align: u32, new_size: u32) -> Result<u32> {
        let realloc = self
            .opts
            .realloc
            .ok_or_else(|| Error::msg("the canonical options name no `realloc` function"))?;
        let mut raw = [old_ptr, old_size, align, new_size].map(ValRaw::from_u32);
        without_leaving(self.store, self.instance, self.opts.runtime, |store| {
            realloc.call_raw(store, &mut raw)
        })?;
        Ok(raw[0].get_u32())
    }
}

/// A host definition of a component function import, made by
/// [`LinkerInstance::func_wrap`](super::LinkerInstance::func_wrap) or
/// [`LinkerInstance::func_new`](super::LinkerInstance::func_new).
pub(crate) struct HostFuncDef<T> {
    /// Lifts the arguments, runs the closure, lowers the results.
    call: Box<ImportFn<T>>,
    /// `func_wrap`: checks the import's type against the closure's Rust types. `None` for
    /// `func_new`, which accepts any type (its results are checked on every call).
    pub(crate) typecheck: Option<SignatureCheck>,
    /// The closure's Rust signature, for link errors: `(u32,) -> ()`.
    pub(crate) rust_type: String,
}

/// Checks a function type against a host function's Rust signature.
pub(crate) type SignatureCheck = fn(&TypeFunc, &ComponentTypes) -> Result<(), String>;

/// The erased body of a host import.
type ImportFn<T> =
    dyn Fn(&mut StoreInner<T>, &ImportCall<'_>, &mut [ValRaw]) -> Result<()> + Send + Sync;

impl<T: 'static> HostFuncDef<T> {
    /// A host function over typed parameters and results.
    pub(crate) fn typed<P, R, F>(f: F) -> Self
    where
        P: ComponentNamedList + Lift + 'static,
        R: ComponentNamedList + Lower + 'static,
        F: Fn(StoreContextMut<'_, T>, P) -> Result<R> + Send + Sync + 'static,
    {
        let call =
            move |store: &mut StoreInner<T>, call: &ImportCall<'_>, values: &mut [ValRaw]| {
                let params: P = call.lift_params(store)?;
                let results = f(StoreContextMut(&mut *store), params)?;
                call.lower_results(store, &results, values)
            };
        Self {
            call: Box::new(call),
            typecheck: Some(typecheck_signature::<P, R>),
            rust_type: format!("{} -> {}", short_type_name::<P>(), short_type_name::<R>()),
        }
    }

    /// A host function over [`Val`]s, whose results are type-checked after every call.
    pub(crate) fn dynamic<F>(f: F) -> Self
    where
        F: Fn(StoreContextMut<'_, T>, &[Val], &mut [Val]) -> Result<()> + Send + Sync + 'static,
    {
        let call =
            move |store: &mut StoreInner<T>, call: &ImportCall<'_>, values: &mut [ValRaw]| {
                let params: Vec<Val> = call.lift_params(store)?;
                let mut results = vec![Val::Bool(false); usize::from(call.ty.result.is_some())];
                f(StoreContextMut(&mut *store), &params, &mut results)?;
                for (i, (val, ty)) in results.iter().zip(call.ty.result.iter()).enumerate() {
                    typecheck_val(val, ty, call.types)
                        .map_err(|e| Error::msg(format!("host function result {i}: {e}")))?;
                }
                call.lower_results(store, &results[..], values)
            };
        Self {
            call: Box::new(call),
            typecheck: None,
            rust_type: String::from("func_new"),
        }
    }
}

/// One call of a lowered function, as seen from the caller: its instance, options, type and
/// core arguments (copied out of the array-call slots, which the results overwrite).
pub(crate) struct ImportCall<'a> {
    instance: u32,
    opts: ResolvedOptions,
    types: &'a ComponentTypes,
    ty: &'a TypeFunc,
    args: &'a [ValRaw],
}

impl ImportCall<'_> {
    /// Lifts the arguments out of the caller.
    fn lift_params<T, P: LiftList>(&self, store: &mut StoreInner<T>) -> Result<P> {
        let (memory, handles) = lift_parts(&mut store.opaque, self.instance, &self.opts);
        let mut cx = LiftContext::new(memory, self.opts.encoding, self.types).with_handles(handles);
        params::lift_params(&mut cx, self.ty, self.args)
    }

    /// Lowers `results` into the caller: into `values` or through the return pointer.
    fn lower_results<T: 'static, R: LowerList + ?Sized>(
        &self,
        store: &mut StoreInner<T>,
        results: &R,
        values: &mut [ValRaw],
    ) -> Result<()> {
        let mut mem = StoreMemory::new(store, self.instance, &self.opts);
        let mut cx = LowerContext::new(&mut mem, self.opts.encoding, self.types);
        params::lower_results(&mut cx, self.ty, results, self.args, values)
    }
}

/// Guest -> host or guest -> guest: the body of the core host function made for lowering
/// `lowering` of component instance `instance`, called with the array-call `values`. `host` is
/// the import's definition when the callee is an import.
pub(crate) fn call_lowered<T: 'static>(
    store: &mut StoreInner<T>,
    instance: u32,
    lowering: LoweringIndex,
    host: Option<&HostFuncDef<T>>,
    values: &mut [ValRaw],
) -> Result<()> {
    let component = store.opaque.components.instances[instance as usize]
        .component
        .clone();
    let def = &component.info().lowerings[lowering.index()];
    let opts = resolve_options(store, instance, def.options)?;
    let data = &store.opaque.components.instances[instance as usize];
    if !data.states[opts.runtime.index()].may_leave {
        return Err(Error::trap_with_detail(
            Trap::CannotLeaveComponent,
            format!(
                "instance `{}` called an import while its realloc or post-return ran",
                data.runtime_name(opts.runtime)
            ),
        ));
    }
    let args: Vec<ValRaw> = values
        .get(..def.core_type.params.len())
        .ok_or_else(|| Error::bug("lowered function called with too few value slots"))?
        .to_vec();
    // Own handles lent to the callee (borrow parameters) are released when the call ends.
    resources::push_scope(&mut store.opaque.components);
    let result = catch_unwind(AssertUnwindSafe(|| {
        let call = (instance, lowering, opts);
        run_lowered(store, call, &component, host, &args, values)
    }));
    let scope = resources::pop_scope(&mut store.opaque.components, false);
    result
        .unwrap_or_else(|payload| resume_unwind(payload))
        .and(scope)
}

/// The part of [`call_lowered`] that runs inside the call's scope.
fn run_lowered<T: 'static>(
    store: &mut StoreInner<T>,
    (instance, lowering, opts): (u32, LoweringIndex, ResolvedOptions),
    component: &super::Component,
    host: Option<&HostFuncDef<T>>,
    args: &[ValRaw],
    values: &mut [ValRaw],
) -> Result<()> {
    let def = &component.info().lowerings[lowering.index()];
    let types = component.types();
    let call = ImportCall {
        instance,
        opts,
        types,
        ty: &types.funcs[def.ty.index()],
        args,
    };
    match (&def.callee, host) {
        (Callee::Import(_), Some(host)) => (host.call)(store, &call, values),
        (Callee::Lifted { func, options }, _) => {
            let params: Vec<Val> = call.lift_params(store)?;
            let callee = FuncData {
                instance,
                ty: def.ty,
                func: *func,
                options: *options,
            };
            let results: Vec<Val> = call_lifted(store, &callee, &params[..])?;
            call.lower_results(store, &results[..], values)
        }
        (Callee::Import(_), None) => Err(Error::bug("host import without a definition")),
    }
}
