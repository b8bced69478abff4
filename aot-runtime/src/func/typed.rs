//! Statically typed calls: [`TypedFunc`] and the sealed traits that map Rust types to wasm types
//! ([`WasmTy`] for one value, [`WasmParams`]/[`WasmResults`] for tuples of them, [`WasmRet`] for
//! what a host closure may return).

use super::Func;
use crate::error::{Error, Result};
use crate::externref::ExternRef;
use crate::prelude::*;
use crate::store::{AsContextMut, StoreInner, StoreOpaque};
use crate::types::ValType;
use crate::values::{V128, ValRaw};
use core::marker::PhantomData;

mod sealed {
    /// Seals the value traits: only this crate implements them.
    pub trait Sealed {}
}

/// A Rust type that is one wasm value: `i32`, `u32`, `i64`, `u64`, `f32`, `f64`, [`V128`],
/// `Option<Func>` (funcref) and `Option<ExternRef>` (externref).
pub trait WasmTy: sealed::Sealed + Send + Sync + 'static {
    /// The wasm type.
    #[doc(hidden)]
    fn valtype() -> ValType;
    /// The raw form (checks that references belong to `store`).
    #[doc(hidden)]
    fn into_raw(self, store: &mut StoreOpaque) -> Result<ValRaw>;
    /// The value from its raw form.
    #[doc(hidden)]
    fn from_raw(raw: ValRaw, store: &mut StoreOpaque) -> Self;
}

macro_rules! wasm_ty_num {
    ($($ty:ty => $vt:ident, $to:expr, $from:expr;)*) => {$(
        impl sealed::Sealed for $ty {}
        impl WasmTy for $ty {
            fn valtype() -> ValType {
                ValType::$vt
            }
            fn into_raw(self, _: &mut StoreOpaque) -> Result<ValRaw> {
                Ok($to(self))
            }
            fn from_raw(raw: ValRaw, _: &mut StoreOpaque) -> Self {
                $from(raw)
            }
        }
    )*};
}

wasm_ty_num! {
    i32 => I32, |v: i32| ValRaw::from_u32(v as u32), |r: ValRaw| r.get_u32() as i32;
    u32 => I32, ValRaw::from_u32, |r: ValRaw| r.get_u32();
    i64 => I64, |v: i64| ValRaw::from_u64(v as u64), |r: ValRaw| r.get_u64() as i64;
    u64 => I64, ValRaw::from_u64, |r: ValRaw| r.get_u64();
    f32 => F32, |v: f32| ValRaw::from_u32(v.to_bits()), |r: ValRaw| f32::from_bits(r.get_u32());
    f64 => F64, |v: f64| ValRaw::from_u64(v.to_bits()), |r: ValRaw| f64::from_bits(r.get_u64());
    V128 => V128, |v: V128| ValRaw::from_u128(v.as_u128()), |r: ValRaw| V128::from(r.get_u128());
}

impl sealed::Sealed for Option<Func> {}
impl WasmTy for Option<Func> {
    fn valtype() -> ValType {
        ValType::FuncRef
    }
    fn into_raw(self, store: &mut StoreOpaque) -> Result<ValRaw> {
        Ok(ValRaw::from_usize(store.func_to_raw(self)?))
    }
    fn from_raw(raw: ValRaw, store: &mut StoreOpaque) -> Self {
        store.raw_to_func(raw.get_usize())
    }
}

impl sealed::Sealed for Option<ExternRef> {}
impl WasmTy for Option<ExternRef> {
    fn valtype() -> ValType {
        ValType::ExternRef
    }
    fn into_raw(self, store: &mut StoreOpaque) -> Result<ValRaw> {
        Ok(ValRaw::from_usize(store.externref_to_raw(self)?))
    }
    fn from_raw(raw: ValRaw, store: &mut StoreOpaque) -> Self {
        store.raw_to_externref(raw.get_usize())
    }
}

/// A list of wasm values as Rust types: one [`WasmTy`], or a tuple of 0 to 16 of them.
pub trait WasmParams: Send + Sync + 'static + Sized {
    /// How many values.
    #[doc(hidden)]
    const COUNT: usize;
    /// The wasm types.
    #[doc(hidden)]
    fn valtypes() -> Vec<ValType>;
    /// Checks the wasm types against `tys`.
    #[doc(hidden)]
    fn typecheck(what: &str, tys: &[ValType]) -> Result<()>;
    /// Writes the values into `out[..COUNT]`.
    #[doc(hidden)]
    fn store_raw(self, store: &mut StoreOpaque, out: &mut [ValRaw]) -> Result<()>;
    /// Reads the values from `raw[..COUNT]`.
    #[doc(hidden)]
    fn load_raw(store: &mut StoreOpaque, raw: &[ValRaw]) -> Self;
}

/// The results of a typed function: the same shapes as [`WasmParams`].
pub trait WasmResults: WasmParams {}

impl<T: WasmParams> WasmResults for T {}

fn typecheck_list(what: &str, expected: &[ValType], found: &[ValType]) -> Result<()> {
    if expected == found {
        return Ok(());
    }
    let list = |tys: &[ValType]| {
        let names: Vec<String> = tys.iter().map(ToString::to_string).collect();
        format!("[{}]", names.join(", "))
    };
    Err(Error::msg(format!(
        "{what} types do not match: the function has {}, the Rust type gives {}",
        list(expected),
        list(found)
    )))
}

impl<T: WasmTy> WasmParams for T {
    const COUNT: usize = 1;
    fn valtypes() -> Vec<ValType> {
        vec![T::valtype()]
    }
    fn typecheck(what: &str, tys: &[ValType]) -> Result<()> {
        typecheck_list(what, tys, &[T::valtype()])
    }
    fn store_raw(self, store: &mut StoreOpaque, out: &mut [ValRaw]) -> Result<()> {
        out[0] = self.into_raw(store)?;
        Ok(())
    }
    fn load_raw(store: &mut StoreOpaque, raw: &[ValRaw]) -> Self {
        T::from_raw(raw[0], store)
    }
}

macro_rules! wasm_params_tuple {
    ($n:literal $($t:ident $i:tt)*) => {
        #[allow(unused_variables, clippy::unused_unit, reason = "the empty tuple uses neither store nor slots")]
        impl<$($t: WasmTy,)*> WasmParams for ($($t,)*) {
            const COUNT: usize = $n;
            fn valtypes() -> Vec<ValType> {
                vec![$($t::valtype()),*]
            }
            fn typecheck(what: &str, tys: &[ValType]) -> Result<()> {
                typecheck_list(what, tys, &[$($t::valtype()),*])
            }
            fn store_raw(self, store: &mut StoreOpaque, out: &mut [ValRaw]) -> Result<()> {
                $(out[$i] = self.$i.into_raw(store)?;)*
                Ok(())
            }
            fn load_raw(store: &mut StoreOpaque, raw: &[ValRaw]) -> Self {
                ($($t::from_raw(raw[$i], store),)*)
            }
        }
    };
}

wasm_params_tuple!(0);
wasm_params_tuple!(1 A0 0);
wasm_params_tuple!(2 A0 0 A1 1);
wasm_params_tuple!(3 A0 0 A1 1 A2 2);
wasm_params_tuple!(4 A0 0 A1 1 A2 2 A3 3);
wasm_params_tuple!(5 A0 0 A1 1 A2 2 A3 3 A4 4);
wasm_params_tuple!(6 A0 0 A1 1 A2 2 A3 3 A4 4 A5 5);
wasm_params_tuple!(7 A0 0 A1 1 A2 2 A3 3 A4 4 A5 5 A6 6);
wasm_params_tuple!(8 A0 0 A1 1 A2 2 A3 3 A4 4 A5 5 A6 6 A7 7);
wasm_params_tuple!(9 A0 0 A1 1 A2 2 A3 3 A4 4 A5 5 A6 6 A7 7 A8 8);
wasm_params_tuple!(10 A0 0 A1 1 A2 2 A3 3 A4 4 A5 5 A6 6 A7 7 A8 8 A9 9);
wasm_params_tuple!(11 A0 0 A1 1 A2 2 A3 3 A4 4 A5 5 A6 6 A7 7 A8 8 A9 9 A10 10);
wasm_params_tuple!(12 A0 0 A1 1 A2 2 A3 3 A4 4 A5 5 A6 6 A7 7 A8 8 A9 9 A10 10 A11 11);
wasm_params_tuple!(13 A0 0 A1 1 A2 2 A3 3 A4 4 A5 5 A6 6 A7 7 A8 8 A9 9 A10 10 A11 11 A12 12);
wasm_params_tuple!(14 A0 0 A1 1 A2 2 A3 3 A4 4 A5 5 A6 6 A7 7 A8 8 A9 9 A10 10 A11 11 A12 12 A13 13);
wasm_params_tuple!(15 A0 0 A1 1 A2 2 A3 3 A4 4 A5 5 A6 6 A7 7 A8 8 A9 9 A10 10 A11 11 A12 12 A13 13 A14 14);
wasm_params_tuple!(16 A0 0 A1 1 A2 2 A3 3 A4 4 A5 5 A6 6 A7 7 A8 8 A9 9 A10 10 A11 11 A12 12 A13 13 A14 14 A15 15);

/// What a host closure may return: a [`WasmParams`] shape (one value, a tuple, `()`), or a
/// [`Result`] of one (an `Err` becomes the error of the wasm call).
pub trait WasmRet {
    /// The wasm result types.
    #[doc(hidden)]
    fn valtypes() -> Vec<ValType>;
    /// Writes the results into `out`, or returns the error.
    #[doc(hidden)]
    fn into_results(self, store: &mut StoreOpaque, out: &mut [ValRaw]) -> Result<()>;
}

impl<T: WasmParams> WasmRet for T {
    fn valtypes() -> Vec<ValType> {
        T::valtypes()
    }
    fn into_results(self, store: &mut StoreOpaque, out: &mut [ValRaw]) -> Result<()> {
        self.store_raw(store, out)
    }
}

impl<T: WasmParams> WasmRet for Result<T> {
    fn valtypes() -> Vec<ValType> {
        T::valtypes()
    }
    fn into_results(self, store: &mut StoreOpaque, out: &mut [ValRaw]) -> Result<()> {
        self?.store_raw(store, out)
    }
}

/// Largest number of params or results of a [`TypedFunc`] (tuples go up to 16).
const MAX_TYPED_VALUES: usize = 16;

/// The buffer size [`TypedFunc::call`] uses when parameters and results fit in it.
const SMALL_TYPED_VALUES: usize = 4;

/// A function whose parameter and result types were checked once (by [`Func::typed`] or
/// `Instance::get_typed_func`), so calls convert values without further checks.
pub struct TypedFunc<P, R> {
    func: Func,
    _marker: PhantomData<fn(P) -> R>,
}

impl<P, R> Copy for TypedFunc<P, R> {}

impl<P, R> Clone for TypedFunc<P, R> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<P, R> core::fmt::Debug for TypedFunc<P, R> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("TypedFunc")
            .field("func", &self.func)
            .finish()
    }
}

impl<P: WasmParams, R: WasmResults> TypedFunc<P, R> {
    pub(crate) fn new_unchecked(func: Func) -> Self {
        Self {
            func,
            _marker: PhantomData,
        }
    }

    /// The untyped function.
    pub fn func(&self) -> &Func {
        &self.func
    }

    /// Calls the function.
    ///
    /// # Errors
    /// If the call traps or a host function it calls fails, or a reference argument belongs to
    /// another store. A panic in a host function resumes in the caller of this function.
    ///
    /// # Panics
    /// If `store` is not the store that created the function.
    #[inline]
    pub fn call(&self, mut store: impl AsContextMut, params: P) -> Result<R> {
        let store = store.as_context_mut().0;
        // Most functions take and return a few values: a small buffer is cheaper to set up.
        if P::COUNT.max(R::COUNT) <= SMALL_TYPED_VALUES {
            self.call_with::<SMALL_TYPED_VALUES, _>(store, params)
        } else {
            self.call_with::<MAX_TYPED_VALUES, _>(store, params)
        }
    }

    /// [`TypedFunc::call`] with a buffer of `N` slots (at least the parameter and result counts).
    #[inline]
    fn call_with<const N: usize, T: 'static>(
        &self,
        store: &mut StoreInner<T>,
        params: P,
    ) -> Result<R> {
        let mut raw = [ValRaw::default(); N];
        params.store_raw(&mut store.opaque, &mut raw)?;
        let n = P::COUNT.max(R::COUNT);
        self.func.call_raw(store, &mut raw[..n])?;
        Ok(R::load_raw(&mut store.opaque, &raw))
    }
}
