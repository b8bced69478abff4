//! Host functions: [`HostFunc`] (a type-erased closure over the array calling convention plus
//! its wasm type) and [`IntoFunc`], implemented by a macro for Rust closures of 0 to 16 wasm
//! parameters, with or without a leading [`Caller`].
//!
//! A `HostFunc` does not belong to a store; `Func::wrap`/`Func::new` and the linker put it into
//! one through a `vm::HostFuncContextBox`, whose `array_call` shim finds the store from the
//! calling VM context and runs [`HostFunc::call`].

use super::typed::{WasmRet, WasmTy};
use super::{Caller, check_vals};
use crate::error::{Error, Result};
use crate::prelude::*;
use crate::types::FuncType;
use crate::values::{Val, ValRaw};
use crate::vm::type_registry;

/// The closure type every host function is erased to: arguments in, results out, through the
/// array calling convention slots.
pub type HostCall<T> = dyn Fn(Caller<'_, T>, &mut [ValRaw]) -> Result<()> + Send + Sync;

/// A host function, independent of any store.
pub struct HostFunc<T> {
    pub(crate) ty: FuncType,
    pub(crate) type_id: u32,
    pub(crate) call: Box<HostCall<T>>,
}

impl<T> HostFunc<T> {
    pub(crate) fn new(ty: FuncType, call: Box<HostCall<T>>) -> Self {
        let type_id = type_registry::register(&ty.inner);
        Self { ty, type_id, call }
    }

    /// A host function over [`Val`]s; the results it writes are checked against `ty`.
    pub(crate) fn new_dynamic(
        ty: FuncType,
        f: impl Fn(Caller<'_, T>, &[Val], &mut [Val]) -> Result<()> + Send + Sync + 'static,
    ) -> Self {
        let sig = ty.inner.clone();
        let call = move |caller: Caller<'_, T>, values: &mut [ValRaw]| -> Result<()> {
            let params: Vec<Val> = sig
                .params
                .iter()
                .zip(values.iter())
                .map(|(t, r)| caller.store.opaque.raw_to_val(*r, *t))
                .collect();
            let mut results: Vec<Val> = sig.results.iter().map(|t| Val::default_for(*t)).collect();
            f(
                Caller {
                    store: &mut *caller.store,
                    instance: caller.instance,
                },
                &params,
                &mut results,
            )?;
            check_vals(
                "host function result",
                &sig.results,
                results.iter().map(Val::ty),
            )?;
            for (slot, val) in values.iter_mut().zip(&results) {
                *slot = caller.store.opaque.val_to_raw(val)?;
            }
            Ok(())
        };
        HostFunc::new(ty, Box::new(call))
    }
}

/// A Rust closure that can become a host function: `Fn(A1, ..., An) -> R` or
/// `Fn(Caller<'_, T>, A1, ..., An) -> R` (`Send + Sync + 'static`) with `Ai:` [`WasmTy`],
/// `n <= 16`, and `R:` [`WasmRet`] (`()`, one value, a tuple, or a `Result` of those).
///
/// `Params` and `Results` only drive type inference; name neither.
pub trait IntoFunc<T, Params, Results>: Send + Sync + 'static {
    /// Erases the closure.
    #[doc(hidden)]
    fn into_host_func(self) -> HostFunc<T>;
}

/// Reports an argument count mismatch (a broken trampoline, never a user error).
#[cold]
fn short_values() -> Error {
    Error::bug("host function called with too few value slots")
}

macro_rules! impl_into_func {
    ($($arg:ident)*) => {
        #[allow(non_snake_case, reason = "macro-generated for every arity")]
        impl<T, F, $($arg,)* R> IntoFunc<T, ($($arg,)*), R> for F
        where
            T: 'static,
            F: Fn($($arg),*) -> R + Send + Sync + 'static,
            $($arg: WasmTy,)*
            R: WasmRet + 'static,
        {
            fn into_host_func(self) -> HostFunc<T> {
                // The same function, ignoring its `Caller`.
                let with_caller = move |_: Caller<'_, T>, $($arg: $arg),*| self($($arg),*);
                <_ as IntoFunc<T, (Caller<'_, T>, $($arg,)*), R>>::into_host_func(with_caller)
            }
        }

        #[allow(non_snake_case, unused_mut, unused_variables, unused_assignments, reason = "macro-generated for every arity")]
        impl<T, F, $($arg,)* R> IntoFunc<T, (Caller<'_, T>, $($arg,)*), R> for F
        where
            T: 'static,
            F: Fn(Caller<'_, T>, $($arg),*) -> R + Send + Sync + 'static,
            $($arg: WasmTy,)*
            R: WasmRet + 'static,
        {
            fn into_host_func(self) -> HostFunc<T> {
                let ty = FuncType::new([$($arg::valtype()),*], R::valtypes());
                let call = move |mut caller: Caller<'_, T>, values: &mut [ValRaw]| -> Result<()> {
                    let mut i = 0;
                    $(
                        let $arg = $arg::from_raw(*values.get(i).ok_or_else(short_values)?, &mut caller.store.opaque);
                        i += 1;
                    )*
                    let ret = self(
                        Caller { store: &mut *caller.store, instance: caller.instance },
                        $($arg),*
                    );
                    ret.into_results(&mut caller.store.opaque, values)
                };
                HostFunc::new(ty, Box::new(call))
            }
        }
    };
}

impl_into_func!();
impl_into_func!(A1);
impl_into_func!(A1 A2);
impl_into_func!(A1 A2 A3);
impl_into_func!(A1 A2 A3 A4);
impl_into_func!(A1 A2 A3 A4 A5);
impl_into_func!(A1 A2 A3 A4 A5 A6);
impl_into_func!(A1 A2 A3 A4 A5 A6 A7);
impl_into_func!(A1 A2 A3 A4 A5 A6 A7 A8);
impl_into_func!(A1 A2 A3 A4 A5 A6 A7 A8 A9);
impl_into_func!(A1 A2 A3 A4 A5 A6 A7 A8 A9 A10);
impl_into_func!(A1 A2 A3 A4 A5 A6 A7 A8 A9 A10 A11);
impl_into_func!(A1 A2 A3 A4 A5 A6 A7 A8 A9 A10 A11 A12);
impl_into_func!(A1 A2 A3 A4 A5 A6 A7 A8 A9 A10 A11 A12 A13);
impl_into_func!(A1 A2 A3 A4 A5 A6 A7 A8 A9 A10 A11 A12 A13 A14);
impl_into_func!(A1 A2 A3 A4 A5 A6 A7 A8 A9 A10 A11 A12 A13 A14 A15);
impl_into_func!(A1 A2 A3 A4 A5 A6 A7 A8 A9 A10 A11 A12 A13 A14 A15 A16);
