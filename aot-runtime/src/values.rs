//! Wasm values as the host sees them ([`Val`], [`Ref`], [`V128`]) and as compiled code passes
//! them in the array calling convention ([`ValRaw`], crate-private).
//!
//! Converting a reference to its raw form needs the store (a funcref becomes a
//! `*const VMFuncRef`, an externref a store handle); that lives in `store.rs`.

use crate::externref::ExternRef;
use crate::func::Func;
use crate::types::ValType;

/// A 128-bit SIMD value.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct V128(u128);

impl V128 {
    /// The bits, little-endian lane order.
    pub fn as_u128(&self) -> u128 {
        self.0
    }
}

impl From<u128> for V128 {
    fn from(bits: u128) -> V128 {
        V128(bits)
    }
}

impl From<V128> for u128 {
    fn from(v: V128) -> u128 {
        v.0
    }
}

/// A Wasm value.
#[derive(Copy, Clone, Debug)]
pub enum Val {
    /// A 32-bit integer.
    I32(i32),
    /// A 64-bit integer.
    I64(i64),
    /// A 32-bit float, as its bits (so NaN payloads survive).
    F32(u32),
    /// A 64-bit float, as its bits (so NaN payloads survive).
    F64(u64),
    /// A 128-bit vector.
    V128(V128),
    /// A nullable function reference.
    FuncRef(Option<Func>),
    /// A nullable external reference.
    ExternRef(Option<ExternRef>),
}

macro_rules! accessors {
    ($($get:ident $unwrap:ident $variant:ident $ty:ty => $conv:expr;)*) => {$(
        #[doc = concat!("The value if it is a `", stringify!($variant), "`.")]
        pub fn $get(&self) -> Option<$ty> {
            match *self {
                Val::$variant(v) => Some($conv(v)),
                _ => None,
            }
        }

        #[doc = concat!("The value, which must be a `", stringify!($variant), "`.")]
        ///
        /// # Panics
        /// If the value has another type.
        pub fn $unwrap(&self) -> $ty {
            self.$get().unwrap_or_else(|| {
                panic!(concat!("expected ", stringify!($variant), ", found {:?}"), self.ty())
            })
        }
    )*};
}

impl Val {
    /// The type of the value.
    pub fn ty(&self) -> ValType {
        match self {
            Val::I32(_) => ValType::I32,
            Val::I64(_) => ValType::I64,
            Val::F32(_) => ValType::F32,
            Val::F64(_) => ValType::F64,
            Val::V128(_) => ValType::V128,
            Val::FuncRef(_) => ValType::FuncRef,
            Val::ExternRef(_) => ValType::ExternRef,
        }
    }

    /// A null `funcref`.
    pub fn null_func_ref() -> Val {
        Val::FuncRef(None)
    }

    /// A null `externref`.
    pub fn null_extern_ref() -> Val {
        Val::ExternRef(None)
    }

    /// The zero (or null) value of `ty`, the default of locals and table elements.
    pub fn default_for(ty: ValType) -> Val {
        match ty {
            ValType::I32 => Val::I32(0),
            ValType::I64 => Val::I64(0),
            ValType::F32 => Val::F32(0),
            ValType::F64 => Val::F64(0),
            ValType::V128 => Val::V128(V128(0)),
            ValType::FuncRef => Val::FuncRef(None),
            ValType::ExternRef => Val::ExternRef(None),
        }
    }

    accessors! {
        i32 unwrap_i32 I32 i32 => |v| v;
        i64 unwrap_i64 I64 i64 => |v| v;
        f32 unwrap_f32 F32 f32 => f32::from_bits;
        f64 unwrap_f64 F64 f64 => f64::from_bits;
        v128 unwrap_v128 V128 V128 => |v| v;
        funcref unwrap_funcref FuncRef Option<Func> => |v| v;
        externref unwrap_externref ExternRef Option<ExternRef> => |v| v;
    }

    /// The value as a reference, if it is one.
    pub fn ref_(&self) -> Option<Ref> {
        match *self {
            Val::FuncRef(f) => Some(Ref::Func(f)),
            Val::ExternRef(e) => Some(Ref::Extern(e)),
            _ => None,
        }
    }
}

impl From<i32> for Val {
    fn from(v: i32) -> Val {
        Val::I32(v)
    }
}

impl From<u32> for Val {
    fn from(v: u32) -> Val {
        Val::I32(v as i32)
    }
}

impl From<i64> for Val {
    fn from(v: i64) -> Val {
        Val::I64(v)
    }
}

impl From<u64> for Val {
    fn from(v: u64) -> Val {
        Val::I64(v as i64)
    }
}

impl From<f32> for Val {
    fn from(v: f32) -> Val {
        Val::F32(v.to_bits())
    }
}

impl From<f64> for Val {
    fn from(v: f64) -> Val {
        Val::F64(v.to_bits())
    }
}

impl From<V128> for Val {
    fn from(v: V128) -> Val {
        Val::V128(v)
    }
}

impl From<Func> for Val {
    fn from(v: Func) -> Val {
        Val::FuncRef(Some(v))
    }
}

impl From<Option<Func>> for Val {
    fn from(v: Option<Func>) -> Val {
        Val::FuncRef(v)
    }
}

impl From<ExternRef> for Val {
    fn from(v: ExternRef) -> Val {
        Val::ExternRef(Some(v))
    }
}

impl From<Option<ExternRef>> for Val {
    fn from(v: Option<ExternRef>) -> Val {
        Val::ExternRef(v)
    }
}

impl From<Ref> for Val {
    fn from(r: Ref) -> Val {
        match r {
            Ref::Func(f) => Val::FuncRef(f),
            Ref::Extern(e) => Val::ExternRef(e),
        }
    }
}

/// A reference value: the content of a table element.
#[derive(Copy, Clone, Debug)]
pub enum Ref {
    /// A nullable function reference.
    Func(Option<Func>),
    /// A nullable external reference.
    Extern(Option<ExternRef>),
}

impl Ref {
    /// The value type of the reference.
    pub fn ty(&self) -> ValType {
        match self {
            Ref::Func(_) => ValType::FuncRef,
            Ref::Extern(_) => ValType::ExternRef,
        }
    }

    /// Whether this is a null reference.
    pub fn is_null(&self) -> bool {
        matches!(self, Ref::Func(None) | Ref::Extern(None))
    }

    /// The function, if this is a non-null funcref.
    pub fn as_func(&self) -> Option<Func> {
        match *self {
            Ref::Func(f) => f,
            Ref::Extern(_) => None,
        }
    }

    /// The externref, if this is a non-null externref.
    pub fn as_extern(&self) -> Option<ExternRef> {
        match *self {
            Ref::Extern(e) => e,
            Ref::Func(_) => None,
        }
    }

    /// The null reference of `ty`.
    ///
    /// # Panics
    /// If `ty` is not a reference type.
    pub fn null(ty: ValType) -> Ref {
        match ty {
            ValType::FuncRef => Ref::Func(None),
            ValType::ExternRef => Ref::Extern(None),
            other => panic!("{other} is not a reference type"),
        }
    }
}

impl From<Func> for Ref {
    fn from(f: Func) -> Ref {
        Ref::Func(Some(f))
    }
}

impl From<Option<Func>> for Ref {
    fn from(f: Option<Func>) -> Ref {
        Ref::Func(f)
    }
}

impl From<ExternRef> for Ref {
    fn from(e: ExternRef) -> Ref {
        Ref::Extern(Some(e))
    }
}

impl From<Option<ExternRef>> for Ref {
    fn from(e: Option<ExternRef>) -> Ref {
        Ref::Extern(e)
    }
}

/// One 16-byte slot of the array calling convention: the value little-endian at offset 0, the
/// rest zero. Byte-aligned on purpose: compiled code's spill slots promise no alignment.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
#[repr(C)]
#[doc(hidden)]
pub struct ValRaw([u8; 16]);

impl ValRaw {
    pub(crate) fn from_u128(v: u128) -> ValRaw {
        ValRaw(v.to_le_bytes())
    }

    pub(crate) fn from_u64(v: u64) -> ValRaw {
        ValRaw::from_u128(u128::from(v))
    }

    pub(crate) fn from_u32(v: u32) -> ValRaw {
        ValRaw::from_u128(u128::from(v))
    }

    pub(crate) fn from_usize(v: usize) -> ValRaw {
        ValRaw::from_u64(v as u64)
    }

    pub(crate) fn get_u128(&self) -> u128 {
        u128::from_le_bytes(self.0)
    }

    pub(crate) fn get_u64(&self) -> u64 {
        u64::from_le_bytes(self.0[..8].try_into().unwrap())
    }

    pub(crate) fn get_u32(&self) -> u32 {
        u32::from_le_bytes(self.0[..4].try_into().unwrap())
    }

    pub(crate) fn get_usize(&self) -> usize {
        self.get_u64() as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_round_trip() {
        assert_eq!(ValRaw::from_u32(u32::MAX).get_u32(), u32::MAX);
        assert_eq!(ValRaw::from_u32(7).get_u64(), 7);
        assert_eq!(ValRaw::from_u64(u64::MAX - 1).get_u64(), u64::MAX - 1);
        assert_eq!(ValRaw::from_u128(u128::MAX).get_u128(), u128::MAX);
        assert_eq!(core::mem::size_of::<ValRaw>(), 16);
    }

    #[test]
    fn floats_keep_bits() {
        let nan = f32::from_bits(0x7fc0_0001);
        assert!(matches!(Val::from(nan), Val::F32(0x7fc0_0001)));
        assert_eq!(Val::F32(0x7fc0_0001).unwrap_f32().to_bits(), 0x7fc0_0001);
    }
}
