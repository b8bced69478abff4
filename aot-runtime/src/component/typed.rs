//! The Rust side of typed calls: [`ComponentType`] (layout and type check), [`Lower`] and
//! [`Lift`] (the canonical ABI for a Rust type), [`ComponentNamedList`] (parameter and result
//! lists), their impls for the standard types, and [`TypeMismatch`].
//!
//! Type checks are structural and happen once, when a typed function is obtained or a host
//! function is linked; lifting and lowering then trust the type but still look every table entry
//! up with `get`, so a value lowered against a type it was never checked against is an error,
//! never a panic. `&str` and `&[T]` are `Lower` only: a lifted borrow of guest memory could not
//! outlive post-return. In a `result`, `()` stands for an absent payload.
//!
//! Parameter and result lists are not types in the tables: they are [`Fields`] (the function's
//! parameters, or its result as a list of zero or one type). Tuples lift and lower field lists;
//! every other type treats a list of exactly one field as itself.

use super::context::{LiftContext, LowerContext};
use super::lift::{
    self, FlatSource, canonical_f32, canonical_f64, check_case, flat_count, lift_bool, lift_char,
    load_discriminant, payload, read, read_u32,
};
use super::lower::FlatSink;
use super::string::{lift_string, lower_string};
use crate::Result;
use crate::artifact::component::{
    CanonicalAbiInfo, ComponentTypes, InterfaceType, TypeOption, TypeResult,
};
use crate::error::Error;
use crate::prelude::*;
use core::fmt;

/// A Rust type with a component-model counterpart: its layout, and a check against a type of a
/// component.
pub trait ComponentType {
    /// Size, alignment and flat count of the type in the canonical ABI.
    const ABI: CanonicalAbiInfo;

    /// Checks that `ty`, a type of the component with these `types`, is this Rust type's
    /// counterpart.
    ///
    /// # Errors
    /// A [`TypeMismatch`] naming the expected type and this Rust type.
    fn typecheck(ty: &InterfaceType, types: &ComponentTypes) -> Result<(), TypeMismatch>;

    /// Checks this type against a list of field types (parameters or results): tuples match
    /// their elements, any other type a list of exactly itself.
    #[doc(hidden)]
    fn typecheck_fields(fields: Fields<'_>, types: &ComponentTypes) -> Result<(), TypeMismatch> {
        match fields.single() {
            Some(ty) => Self::typecheck(&ty, types),
            None => Err(TypeMismatch::rust_fields::<Self>(fields, types)),
        }
    }
}

/// A Rust type that can be passed to a component (lowered).
pub trait Lower: ComponentType {
    /// Writes the value's flat core values (spec `lower_flat`).
    #[doc(hidden)]
    fn lower_flat(
        &self,
        cx: &mut LowerContext<'_>,
        ty: InterfaceType,
        dst: &mut FlatSink<'_>,
    ) -> Result<()>;

    /// Writes the value into guest memory at `offset`, a checked and aligned region of
    /// `Self::ABI.size32` bytes (spec `store`).
    #[doc(hidden)]
    fn lower_to_memory(
        &self,
        cx: &mut LowerContext<'_>,
        ty: InterfaceType,
        offset: usize,
    ) -> Result<()>;

    /// Allocates and writes a list of `items` whose element type is `elem`, returning its
    /// pointer and length (spec `store_list_into_range`). `u8` and `i8` make it one copy.
    #[doc(hidden)]
    fn lower_list(
        items: &[Self],
        cx: &mut LowerContext<'_>,
        elem: InterfaceType,
    ) -> Result<(u32, u32)>
    where
        Self: Sized,
    {
        let types = cx.types;
        let abi = Self::ABI;
        let ptr = cx.alloc(items.len(), abi, || list_name(types, elem))?;
        for (i, item) in items.iter().enumerate() {
            item.lower_to_memory(cx, elem, ptr as usize + i * abi.size32 as usize)?;
        }
        Ok((ptr, items.len() as u32))
    }

    /// Writes the value as a list of fields, flat (see [`ComponentType::typecheck_fields`]).
    #[doc(hidden)]
    fn lower_fields_flat(
        &self,
        cx: &mut LowerContext<'_>,
        fields: Fields<'_>,
        dst: &mut FlatSink<'_>,
    ) -> Result<()> {
        self.lower_flat(cx, single_field(fields)?, dst)
    }

    /// Writes the value as a list of fields laid out as a record at `offset`.
    #[doc(hidden)]
    fn lower_fields_to_memory(
        &self,
        cx: &mut LowerContext<'_>,
        fields: Fields<'_>,
        offset: usize,
    ) -> Result<()> {
        self.lower_to_memory(cx, single_field(fields)?, offset)
    }
}

/// A Rust type that can be received from a component (lifted).
pub trait Lift: ComponentType + Sized {
    /// Reads the value from flat core values (spec `lift_flat`).
    #[doc(hidden)]
    fn lift_flat(
        cx: &mut LiftContext<'_>,
        ty: InterfaceType,
        src: &mut FlatSource<'_>,
    ) -> Result<Self>;

    /// Reads the value from `bytes`, its checked region of guest memory (at least
    /// `Self::ABI.size32` bytes; spec `load`).
    #[doc(hidden)]
    fn lift_from_memory(cx: &mut LiftContext<'_>, ty: InterfaceType, bytes: &[u8]) -> Result<Self>;

    /// Reads the list of `len` elements of type `elem` at `ptr` (spec `load_list_from_range`).
    /// `u8` and `i8` make it one copy.
    #[doc(hidden)]
    fn lift_list(
        cx: &mut LiftContext<'_>,
        elem: InterfaceType,
        ptr: u32,
        len: u32,
    ) -> Result<Vec<Self>> {
        let types = cx.types;
        let bytes = cx.slice(ptr, len, Self::ABI, || list_name(types, elem))?;
        match Self::ABI.size32 as usize {
            0 => (0..len)
                .map(|_| Self::lift_from_memory(cx, elem, &[]))
                .collect(),
            size => bytes
                .chunks_exact(size)
                .map(|item| Self::lift_from_memory(cx, elem, item))
                .collect(),
        }
    }

    /// Reads the value as a list of fields, flat.
    #[doc(hidden)]
    fn lift_fields_flat(
        cx: &mut LiftContext<'_>,
        fields: Fields<'_>,
        src: &mut FlatSource<'_>,
    ) -> Result<Self> {
        Self::lift_flat(cx, single_field(fields)?, src)
    }

    /// Reads the value as a list of fields laid out as a record in `bytes`.
    #[doc(hidden)]
    fn lift_fields_from_memory(
        cx: &mut LiftContext<'_>,
        fields: Fields<'_>,
        bytes: &[u8],
    ) -> Result<Self> {
        Self::lift_from_memory(cx, single_field(fields)?, bytes)
    }
}

/// A Rust tuple standing for the parameters or the results of a function: `()`, `(A,)`, ..
/// up to 16 elements.
pub trait ComponentNamedList: ComponentType {
    /// Checks the list against the types of parameters or results.
    ///
    /// # Errors
    /// A [`TypeMismatch`] naming the expected types and this Rust type.
    fn typecheck_list(tys: &[InterfaceType], types: &ComponentTypes) -> Result<(), TypeMismatch> {
        Self::typecheck_fields(Fields::Types(tys), types)
    }

    /// Checks the list against named parameters.
    #[doc(hidden)]
    fn typecheck_named(
        params: &[(String, InterfaceType)],
        types: &ComponentTypes,
    ) -> Result<(), TypeMismatch> {
        Self::typecheck_fields(Fields::Named(params), types)
    }
}

/// The types of a list of values that is not itself a type of the tables: a function's
/// parameters, its result (zero or one type), a tuple's elements.
#[doc(hidden)]
#[derive(Copy, Clone, Debug)]
pub enum Fields<'a> {
    /// Plain types.
    Types(&'a [InterfaceType]),
    /// Named types (parameters).
    Named(&'a [(String, InterfaceType)]),
}

impl<'a> Fields<'a> {
    /// Number of fields.
    pub(crate) fn len(&self) -> usize {
        match self {
            Fields::Types(tys) => tys.len(),
            Fields::Named(tys) => tys.len(),
        }
    }

    /// The type of field `i`.
    pub(crate) fn get(&self, i: usize) -> Option<InterfaceType> {
        match self {
            Fields::Types(tys) => tys.get(i).copied(),
            Fields::Named(tys) => tys.get(i).map(|(_, ty)| *ty),
        }
    }

    /// The types in order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = InterfaceType> + 'a {
        let fields = *self;
        (0..fields.len()).filter_map(move |i| fields.get(i))
    }

    fn single(&self) -> Option<InterfaceType> {
        if self.len() == 1 { self.get(0) } else { None }
    }

    /// `(u32, string)`.
    fn display(&self, types: &ComponentTypes) -> String {
        let tys: Vec<String> = self
            .iter()
            .map(|ty| types.display(&ty).to_string())
            .collect();
        format!("({})", tys.join(", "))
    }
}

/// A Rust type or a [`Val`](super::Val) that does not match a component type.
///
/// Displays as ``expected `string`, found Rust type `u32` `` (or ``found `u32` `` for a value),
/// followed by where inside the type the mismatch is: `(in field `name`)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TypeMismatch {
    kind: MismatchKind,
    /// Innermost first: `element 1`, `field `a``.
    path: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum MismatchKind {
    Types { expected: String, found: String },
}

impl TypeMismatch {
    /// `ty` expected, the Rust type `T` found.
    #[cold]
    pub(crate) fn rust<T: ?Sized>(ty: &InterfaceType, types: &ComponentTypes) -> Self {
        let found = format!("Rust type `{}`", short_type_name::<T>());
        Self::val(ty, types, found)
    }

    /// The list `fields` expected, the Rust type `T` found.
    #[cold]
    fn rust_fields<T: ?Sized>(fields: Fields<'_>, types: &ComponentTypes) -> Self {
        Self::new(
            fields.display(types),
            format!("Rust type `{}`", short_type_name::<T>()),
        )
    }

    /// `ty` expected, `found` (already formatted: ``a `u32` ``) found.
    #[cold]
    pub(crate) fn val(ty: &InterfaceType, types: &ComponentTypes, found: String) -> Self {
        Self::new(types.display(ty).to_string(), found)
    }

    fn new(expected: String, found: String) -> Self {
        Self {
            kind: MismatchKind::Types { expected, found },
            path: Vec::new(),
        }
    }

    /// Says the mismatch is inside `segment` (`element 1`, ``field `a` ``) of the outer type.
    #[cold]
    pub(crate) fn within(mut self, segment: impl fmt::Display) -> Self {
        self.path.push(segment.to_string());
        self
    }
}

impl fmt::Display for TypeMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            MismatchKind::Types { expected, found } => {
                write!(f, "expected `{expected}`, found {found}")?;
            }
        }
        if !self.path.is_empty() {
            write!(f, " (in {})", self.path.join(" of "))?;
        }
        Ok(())
    }
}

impl core::error::Error for TypeMismatch {}

/// The name of `T` without module paths: `Vec<String>`, `(u32, &str)`.
pub(crate) fn short_type_name<T: ?Sized>() -> String {
    let full = core::any::type_name::<T>();
    let mut out = String::with_capacity(full.len());
    let mut segment_start = 0;
    let mut chars = full.chars().peekable();
    while let Some(c) = chars.next() {
        if c == ':' && chars.peek() == Some(&':') {
            chars.next();
            out.truncate(segment_start);
        } else {
            out.push(c);
            if !(c.is_alphanumeric() || c == '_') {
                segment_start = out.len();
            }
        }
    }
    out
}

/// `list<T>` for trap details.
pub(crate) fn list_name(types: &ComponentTypes, elem: InterfaceType) -> String {
    format!("list<{}>", types.display(&elem))
}

/// The error for a value lifted or lowered as a type it was not checked against.
#[cold]
pub(crate) fn unchecked(ty: InterfaceType) -> Error {
    Error::bug(format!(
        "a value lifted or lowered as {ty:?} was not type-checked against it"
    ))
}

fn single_field(fields: Fields<'_>) -> Result<InterfaceType> {
    fields
        .single()
        .ok_or_else(|| Error::bug(format!("one value lifted or lowered as {fields:?}")))
}

fn field_ty(fields: Fields<'_>, i: usize) -> Result<InterfaceType> {
    fields
        .get(i)
        .ok_or_else(|| Error::bug(format!("field {i} of {fields:?}")))
}

fn check_count(fields: Fields<'_>, n: usize) -> Result<()> {
    if fields.len() == n {
        Ok(())
    } else {
        Err(Error::bug(format!(
            "{n} values lifted or lowered as {fields:?}"
        )))
    }
}

/// The element type of a list type.
pub(crate) fn list_element(types: &ComponentTypes, ty: InterfaceType) -> Result<InterfaceType> {
    match ty {
        InterfaceType::List(i) => types.lists.get(i.index()).map(|l| l.element),
        _ => None,
    }
    .ok_or_else(|| unchecked(ty))
}

/// The element types of a tuple type.
pub(crate) fn tuple_types(types: &ComponentTypes, ty: InterfaceType) -> Result<&[InterfaceType]> {
    match ty {
        InterfaceType::Tuple(i) => types.tuples.get(i.index()).map(|t| &*t.types),
        _ => None,
    }
    .ok_or_else(|| unchecked(ty))
}

/// An option type.
pub(crate) fn option_type(types: &ComponentTypes, ty: InterfaceType) -> Result<&TypeOption> {
    match ty {
        InterfaceType::Option(i) => types.options.get(i.index()),
        _ => None,
    }
    .ok_or_else(|| unchecked(ty))
}

/// A result type.
pub(crate) fn result_type(types: &ComponentTypes, ty: InterfaceType) -> Result<&TypeResult> {
    match ty {
        InterfaceType::Result(i) => types.results.get(i.index()),
        _ => None,
    }
    .ok_or_else(|| unchecked(ty))
}

/// Checks a scalar Rust type `T` whose counterpart is `expected`.
fn typecheck_scalar<T: ?Sized>(
    ty: &InterfaceType,
    types: &ComponentTypes,
    expected: InterfaceType,
) -> Result<(), TypeMismatch> {
    if *ty == expected {
        Ok(())
    } else {
        Err(TypeMismatch::rust::<T>(ty, types))
    }
}

/// Checks a payload of a `result`: present, against `T`; absent, `T` must be `()`.
fn typecheck_payload<T: ComponentType>(
    payload: Option<&InterfaceType>,
    types: &ComponentTypes,
) -> Result<(), TypeMismatch> {
    match payload {
        Some(ty) => T::typecheck(ty, types),
        None => T::typecheck_fields(Fields::Types(&[]), types),
    }
}

/// A function checking one element type, as tuples list them.
type Typecheck = fn(&InterfaceType, &ComponentTypes) -> Result<(), TypeMismatch>;

/// Checks each field against its function, naming the position in a mismatch.
fn typecheck_each(
    fields: Fields<'_>,
    types: &ComponentTypes,
    checks: &[Typecheck],
    what: &str,
) -> Result<(), TypeMismatch> {
    for (i, (ty, check)) in fields.iter().zip(checks).enumerate() {
        check(&ty, types).map_err(|e| e.within(format_args!("{what} {i}")))?;
    }
    Ok(())
}

macro_rules! scalars {
    // `list<u8>` and `list<s8>`: one bounds check and one copy each way.
    (@lower_list bytes) => {
        fn lower_list(
            items: &[Self],
            cx: &mut LowerContext<'_>,
            elem: InterfaceType,
        ) -> Result<(u32, u32)> {
            let types = cx.types;
            let ptr = cx.alloc(items.len(), Self::ABI, || list_name(types, elem))?;
            let dst = cx.bytes_mut(ptr as usize, items.len())?;
            for (d, v) in dst.iter_mut().zip(items) {
                *d = v.to_le_bytes()[0];
            }
            Ok((ptr, items.len() as u32))
        }
    };
    (@lift_list bytes) => {
        fn lift_list(
            cx: &mut LiftContext<'_>,
            elem: InterfaceType,
            ptr: u32,
            len: u32,
        ) -> Result<Vec<Self>> {
            let types = cx.types;
            let bytes = cx.slice(ptr, len, Self::ABI, || list_name(types, elem))?;
            Ok(bytes.iter().map(|b| Self::from_le_bytes([*b])).collect())
        }
    };
    (@push i32, $dst:ident, $v:expr) => { $dst.push_u32($v) };
    (@push i64, $dst:ident, $v:expr) => { $dst.push_u64($v) };
    (@push f32, $dst:ident, $v:expr) => { $dst.push_f32($v) };
    (@push f64, $dst:ident, $v:expr) => { $dst.push_f64($v) };
    (@next i32, $src:ident) => { $src.next_u32()? };
    (@next i64, $src:ident) => { $src.next_u64()? };
    (@next f32, $src:ident) => { $src.next_f32()? };
    (@next f64, $src:ident) => { $src.next_f64()? };
    ($(
        $t:ty => $iface:ident, $abi:ident, $flat:ident,
        lower: $lower:expr, lift: $lift:expr, store: $store:expr, load: $load:expr
        $(, $bytes:ident)?;
    )*) => {$(
        impl ComponentType for $t {
            const ABI: CanonicalAbiInfo = CanonicalAbiInfo::$abi;

            fn typecheck(ty: &InterfaceType, types: &ComponentTypes) -> Result<(), TypeMismatch> {
                typecheck_scalar::<Self>(ty, types, InterfaceType::$iface)
            }
        }

        impl Lower for $t {
            fn lower_flat(
                &self,
                _: &mut LowerContext<'_>,
                _: InterfaceType,
                dst: &mut FlatSink<'_>,
            ) -> Result<()> {
                scalars!(@push $flat, dst, ($lower)(*self))
            }

            fn lower_to_memory(
                &self,
                cx: &mut LowerContext<'_>,
                _: InterfaceType,
                offset: usize,
            ) -> Result<()> {
                cx.write(offset, &($store)(*self))
            }

            $(scalars!(@lower_list $bytes);)?
        }

        impl Lift for $t {
            fn lift_flat(
                _: &mut LiftContext<'_>,
                _: InterfaceType,
                src: &mut FlatSource<'_>,
            ) -> Result<Self> {
                ($lift)(scalars!(@next $flat, src))
            }

            fn lift_from_memory(
                _: &mut LiftContext<'_>,
                _: InterfaceType,
                bytes: &[u8],
            ) -> Result<Self> {
                ($load)(read(bytes, 0)?)
            }

            $(scalars!(@lift_list $bytes);)?
        }
    )*};
}

// Narrow integers travel as an `i32`: lowering sign- or zero-extends, lifting keeps the low bits
// (spec `lower_flat_signed`, `lift_flat_unsigned`, `lift_flat_signed`). `bool` lifts any
// non-zero value as `true`, floats canonicalize NaNs both ways, `char` is validated.
scalars! {
    u8 => U8, SCALAR1, i32, lower: u32::from, lift: |raw: u32| Ok(raw as u8),
        store: u8::to_le_bytes, load: |b| Ok(u8::from_le_bytes(b)), bytes;
    i8 => S8, SCALAR1, i32, lower: |v: i8| i32::from(v) as u32, lift: |raw: u32| Ok(raw as i8),
        store: i8::to_le_bytes, load: |b| Ok(i8::from_le_bytes(b)), bytes;
    u16 => U16, SCALAR2, i32, lower: u32::from, lift: |raw: u32| Ok(raw as u16),
        store: u16::to_le_bytes, load: |b| Ok(u16::from_le_bytes(b));
    i16 => S16, SCALAR2, i32, lower: |v: i16| i32::from(v) as u32,
        lift: |raw: u32| Ok(raw as i16),
        store: i16::to_le_bytes, load: |b| Ok(i16::from_le_bytes(b));
    u32 => U32, SCALAR4, i32, lower: |v: u32| v, lift: |raw: u32| Ok(raw),
        store: u32::to_le_bytes, load: |b| Ok(u32::from_le_bytes(b));
    i32 => S32, SCALAR4, i32, lower: |v: i32| v as u32, lift: |raw: u32| Ok(raw as i32),
        store: i32::to_le_bytes, load: |b| Ok(i32::from_le_bytes(b));
    u64 => U64, SCALAR8, i64, lower: |v: u64| v, lift: |raw: u64| Ok(raw),
        store: u64::to_le_bytes, load: |b| Ok(u64::from_le_bytes(b));
    i64 => S64, SCALAR8, i64, lower: |v: i64| v as u64, lift: |raw: u64| Ok(raw as i64),
        store: i64::to_le_bytes, load: |b| Ok(i64::from_le_bytes(b));
    bool => Bool, SCALAR1, i32, lower: u32::from, lift: |raw: u32| Ok(lift_bool(raw)),
        store: |v: bool| [u8::from(v)], load: |b: [u8; 1]| Ok(lift_bool(u32::from(b[0])));
    f32 => F32, SCALAR4, f32, lower: |v: f32| v, lift: Ok,
        store: |v: f32| canonical_f32(v).to_bits().to_le_bytes(),
        load: |b| Ok(canonical_f32(f32::from_le_bytes(b)));
    f64 => F64, SCALAR8, f64, lower: |v: f64| v, lift: Ok,
        store: |v: f64| canonical_f64(v).to_bits().to_le_bytes(),
        load: |b| Ok(canonical_f64(f64::from_le_bytes(b)));
    char => Char, SCALAR4, i32, lower: u32::from, lift: lift_char,
        store: |v: char| u32::from(v).to_le_bytes(),
        load: |b| lift_char(u32::from_le_bytes(b));
}

macro_rules! string_types {
    ($($t:ty),*) => {$(
        impl ComponentType for $t {
            const ABI: CanonicalAbiInfo = CanonicalAbiInfo::POINTER_PAIR;

            fn typecheck(ty: &InterfaceType, types: &ComponentTypes) -> Result<(), TypeMismatch> {
                typecheck_scalar::<Self>(ty, types, InterfaceType::String)
            }
        }

        impl Lower for $t {
            fn lower_flat(
                &self,
                cx: &mut LowerContext<'_>,
                _: InterfaceType,
                dst: &mut FlatSink<'_>,
            ) -> Result<()> {
                let (ptr, len) = lower_string(cx, self)?;
                dst.push_u32(ptr)?;
                dst.push_u32(len)
            }

            fn lower_to_memory(
                &self,
                cx: &mut LowerContext<'_>,
                _: InterfaceType,
                offset: usize,
            ) -> Result<()> {
                let (ptr, len) = lower_string(cx, self)?;
                cx.write_pair(offset, ptr, len)
            }
        }
    )*};
}

string_types!(str, String, Box<str>);

impl Lift for String {
    fn lift_flat(
        cx: &mut LiftContext<'_>,
        _: InterfaceType,
        src: &mut FlatSource<'_>,
    ) -> Result<Self> {
        let ptr = src.next_u32()?;
        lift_string(cx, ptr, src.next_u32()?)
    }

    fn lift_from_memory(cx: &mut LiftContext<'_>, _: InterfaceType, bytes: &[u8]) -> Result<Self> {
        lift_string(cx, read_u32(bytes, 0)?, read_u32(bytes, 4)?)
    }
}

impl Lift for Box<str> {
    fn lift_flat(
        cx: &mut LiftContext<'_>,
        ty: InterfaceType,
        src: &mut FlatSource<'_>,
    ) -> Result<Self> {
        String::lift_flat(cx, ty, src).map(String::into_boxed_str)
    }

    fn lift_from_memory(cx: &mut LiftContext<'_>, ty: InterfaceType, bytes: &[u8]) -> Result<Self> {
        String::lift_from_memory(cx, ty, bytes).map(String::into_boxed_str)
    }
}

fn typecheck_list<L: ?Sized, T: ComponentType>(
    ty: &InterfaceType,
    types: &ComponentTypes,
) -> Result<(), TypeMismatch> {
    match ty {
        InterfaceType::List(i) => match types.lists.get(i.index()) {
            Some(list) => T::typecheck(&list.element, types).map_err(|e| e.within("list element")),
            None => Err(TypeMismatch::rust::<L>(ty, types)),
        },
        _ => Err(TypeMismatch::rust::<L>(ty, types)),
    }
}

impl<T: ComponentType> ComponentType for [T] {
    const ABI: CanonicalAbiInfo = CanonicalAbiInfo::POINTER_PAIR;

    fn typecheck(ty: &InterfaceType, types: &ComponentTypes) -> Result<(), TypeMismatch> {
        typecheck_list::<Self, T>(ty, types)
    }
}

impl<T: Lower> Lower for [T] {
    fn lower_flat(
        &self,
        cx: &mut LowerContext<'_>,
        ty: InterfaceType,
        dst: &mut FlatSink<'_>,
    ) -> Result<()> {
        let elem = list_element(cx.types, ty)?;
        let (ptr, len) = T::lower_list(self, cx, elem)?;
        dst.push_u32(ptr)?;
        dst.push_u32(len)
    }

    fn lower_to_memory(
        &self,
        cx: &mut LowerContext<'_>,
        ty: InterfaceType,
        offset: usize,
    ) -> Result<()> {
        let elem = list_element(cx.types, ty)?;
        let (ptr, len) = T::lower_list(self, cx, elem)?;
        cx.write_pair(offset, ptr, len)
    }
}

impl<T: ComponentType> ComponentType for Vec<T> {
    const ABI: CanonicalAbiInfo = CanonicalAbiInfo::POINTER_PAIR;

    fn typecheck(ty: &InterfaceType, types: &ComponentTypes) -> Result<(), TypeMismatch> {
        typecheck_list::<Self, T>(ty, types)
    }
}

impl<T: Lower> Lower for Vec<T> {
    fn lower_flat(
        &self,
        cx: &mut LowerContext<'_>,
        ty: InterfaceType,
        dst: &mut FlatSink<'_>,
    ) -> Result<()> {
        self.as_slice().lower_flat(cx, ty, dst)
    }

    fn lower_to_memory(
        &self,
        cx: &mut LowerContext<'_>,
        ty: InterfaceType,
        offset: usize,
    ) -> Result<()> {
        self.as_slice().lower_to_memory(cx, ty, offset)
    }
}

impl<T: Lift> Lift for Vec<T> {
    fn lift_flat(
        cx: &mut LiftContext<'_>,
        ty: InterfaceType,
        src: &mut FlatSource<'_>,
    ) -> Result<Self> {
        let elem = list_element(cx.types, ty)?;
        let ptr = src.next_u32()?;
        T::lift_list(cx, elem, ptr, src.next_u32()?)
    }

    fn lift_from_memory(cx: &mut LiftContext<'_>, ty: InterfaceType, bytes: &[u8]) -> Result<Self> {
        let elem = list_element(cx.types, ty)?;
        T::lift_list(cx, elem, read_u32(bytes, 0)?, read_u32(bytes, 4)?)
    }
}

impl<T: ComponentType + ?Sized> ComponentType for &T {
    const ABI: CanonicalAbiInfo = T::ABI;

    fn typecheck(ty: &InterfaceType, types: &ComponentTypes) -> Result<(), TypeMismatch> {
        T::typecheck(ty, types)
    }

    fn typecheck_fields(fields: Fields<'_>, types: &ComponentTypes) -> Result<(), TypeMismatch> {
        T::typecheck_fields(fields, types)
    }
}

impl<T: Lower + ?Sized> Lower for &T {
    fn lower_flat(
        &self,
        cx: &mut LowerContext<'_>,
        ty: InterfaceType,
        dst: &mut FlatSink<'_>,
    ) -> Result<()> {
        T::lower_flat(self, cx, ty, dst)
    }

    fn lower_to_memory(
        &self,
        cx: &mut LowerContext<'_>,
        ty: InterfaceType,
        offset: usize,
    ) -> Result<()> {
        T::lower_to_memory(self, cx, ty, offset)
    }

    fn lower_fields_flat(
        &self,
        cx: &mut LowerContext<'_>,
        fields: Fields<'_>,
        dst: &mut FlatSink<'_>,
    ) -> Result<()> {
        T::lower_fields_flat(self, cx, fields, dst)
    }

    fn lower_fields_to_memory(
        &self,
        cx: &mut LowerContext<'_>,
        fields: Fields<'_>,
        offset: usize,
    ) -> Result<()> {
        T::lower_fields_to_memory(self, cx, fields, offset)
    }
}

impl<T: ComponentType> ComponentType for Option<T> {
    const ABI: CanonicalAbiInfo = CanonicalAbiInfo::variant(&[None, Some(T::ABI)]);

    fn typecheck(ty: &InterfaceType, types: &ComponentTypes) -> Result<(), TypeMismatch> {
        match ty {
            InterfaceType::Option(i) => match types.options.get(i.index()) {
                Some(option) => {
                    T::typecheck(&option.ty, types).map_err(|e| e.within("option payload"))
                }
                None => Err(TypeMismatch::rust::<Self>(ty, types)),
            },
            _ => Err(TypeMismatch::rust::<Self>(ty, types)),
        }
    }
}

impl<T: Lower> Lower for Option<T> {
    fn lower_flat(
        &self,
        cx: &mut LowerContext<'_>,
        ty: InterfaceType,
        dst: &mut FlatSink<'_>,
    ) -> Result<()> {
        let option = option_type(cx.types, ty)?;
        let end = dst.position() + flat_count(&Self::ABI)?;
        match self {
            None => dst.push_u32(0)?,
            Some(v) => {
                dst.push_u32(1)?;
                v.lower_flat(cx, option.ty, dst)?;
            }
        }
        dst.fill_to(end)
    }

    fn lower_to_memory(
        &self,
        cx: &mut LowerContext<'_>,
        ty: InterfaceType,
        offset: usize,
    ) -> Result<()> {
        let option = option_type(cx.types, ty)?;
        match self {
            None => cx.write_discriminant(offset, &option.info, 0),
            Some(v) => {
                cx.write_discriminant(offset, &option.info, 1)?;
                let at = offset + option.info.payload_offset32 as usize;
                v.lower_to_memory(cx, option.ty, at)
            }
        }
    }
}

impl<T: Lift> Lift for Option<T> {
    fn lift_flat(
        cx: &mut LiftContext<'_>,
        ty: InterfaceType,
        src: &mut FlatSource<'_>,
    ) -> Result<Self> {
        let option = option_type(cx.types, ty)?;
        let end = src.position() + flat_count(&Self::ABI)?;
        let value = match check_case(src.next_u32()?, 2, "option")? {
            0 => None,
            _ => Some(T::lift_flat(cx, option.ty, src)?),
        };
        src.skip_to(end)?;
        Ok(value)
    }

    fn lift_from_memory(cx: &mut LiftContext<'_>, ty: InterfaceType, bytes: &[u8]) -> Result<Self> {
        let option = option_type(cx.types, ty)?;
        match check_case(load_discriminant(bytes, &option.info)?, 2, "option")? {
            0 => Ok(None),
            _ => {
                let payload = payload(bytes, &option.info, &Self::ABI)?;
                Ok(Some(T::lift_from_memory(cx, option.ty, payload)?))
            }
        }
    }
}

impl<T: ComponentType, E: ComponentType> ComponentType for core::result::Result<T, E> {
    const ABI: CanonicalAbiInfo = CanonicalAbiInfo::variant(&[Some(T::ABI), Some(E::ABI)]);

    fn typecheck(ty: &InterfaceType, types: &ComponentTypes) -> Result<(), TypeMismatch> {
        match ty {
            InterfaceType::Result(i) => match types.results.get(i.index()) {
                Some(result) => {
                    typecheck_payload::<T>(result.ok.as_ref(), types)
                        .map_err(|e| e.within("ok payload"))?;
                    typecheck_payload::<E>(result.err.as_ref(), types)
                        .map_err(|e| e.within("error payload"))
                }
                None => Err(TypeMismatch::rust::<Self>(ty, types)),
            },
            _ => Err(TypeMismatch::rust::<Self>(ty, types)),
        }
    }
}

/// Lowers a case's payload flat; an absent payload is an empty field list (`()`).
fn lower_payload_flat<T: Lower>(
    v: &T,
    cx: &mut LowerContext<'_>,
    ty: Option<InterfaceType>,
    dst: &mut FlatSink<'_>,
) -> Result<()> {
    match ty {
        Some(ty) => v.lower_flat(cx, ty, dst),
        None => v.lower_fields_flat(cx, Fields::Types(&[]), dst),
    }
}

fn lower_payload_to_memory<T: Lower>(
    v: &T,
    cx: &mut LowerContext<'_>,
    ty: Option<InterfaceType>,
    offset: usize,
) -> Result<()> {
    match ty {
        Some(ty) => v.lower_to_memory(cx, ty, offset),
        None => v.lower_fields_to_memory(cx, Fields::Types(&[]), offset),
    }
}

fn lift_payload_flat<T: Lift>(
    cx: &mut LiftContext<'_>,
    ty: Option<InterfaceType>,
    src: &mut FlatSource<'_>,
) -> Result<T> {
    match ty {
        Some(ty) => T::lift_flat(cx, ty, src),
        None => T::lift_fields_flat(cx, Fields::Types(&[]), src),
    }
}

fn lift_payload_from_memory<T: Lift>(
    cx: &mut LiftContext<'_>,
    ty: Option<InterfaceType>,
    bytes: &[u8],
) -> Result<T> {
    match ty {
        Some(ty) => T::lift_from_memory(cx, ty, bytes),
        None => T::lift_fields_from_memory(cx, Fields::Types(&[]), bytes),
    }
}

impl<T: Lower, E: Lower> Lower for core::result::Result<T, E> {
    fn lower_flat(
        &self,
        cx: &mut LowerContext<'_>,
        ty: InterfaceType,
        dst: &mut FlatSink<'_>,
    ) -> Result<()> {
        let result = result_type(cx.types, ty)?;
        let end = dst.position() + flat_count(&Self::ABI)?;
        match self {
            Ok(v) => {
                dst.push_u32(0)?;
                lower_payload_flat(v, cx, result.ok, dst)?;
            }
            Err(e) => {
                dst.push_u32(1)?;
                lower_payload_flat(e, cx, result.err, dst)?;
            }
        }
        dst.fill_to(end)
    }

    fn lower_to_memory(
        &self,
        cx: &mut LowerContext<'_>,
        ty: InterfaceType,
        offset: usize,
    ) -> Result<()> {
        let result = result_type(cx.types, ty)?;
        let at = offset + result.info.payload_offset32 as usize;
        match self {
            Ok(v) => {
                cx.write_discriminant(offset, &result.info, 0)?;
                lower_payload_to_memory(v, cx, result.ok, at)
            }
            Err(e) => {
                cx.write_discriminant(offset, &result.info, 1)?;
                lower_payload_to_memory(e, cx, result.err, at)
            }
        }
    }
}

impl<T: Lift, E: Lift> Lift for core::result::Result<T, E> {
    fn lift_flat(
        cx: &mut LiftContext<'_>,
        ty: InterfaceType,
        src: &mut FlatSource<'_>,
    ) -> Result<Self> {
        let result = result_type(cx.types, ty)?;
        let end = src.position() + flat_count(&Self::ABI)?;
        let value = match check_case(src.next_u32()?, 2, "result")? {
            0 => Ok(lift_payload_flat(cx, result.ok, src)?),
            _ => Err(lift_payload_flat(cx, result.err, src)?),
        };
        src.skip_to(end)?;
        Ok(value)
    }

    fn lift_from_memory(cx: &mut LiftContext<'_>, ty: InterfaceType, bytes: &[u8]) -> Result<Self> {
        let result = result_type(cx.types, ty)?;
        let case = check_case(load_discriminant(bytes, &result.info)?, 2, "result")?;
        let payload = payload(bytes, &result.info, &Self::ABI)?;
        Ok(match case {
            0 => Ok(lift_payload_from_memory(cx, result.ok, payload)?),
            _ => Err(lift_payload_from_memory(cx, result.err, payload)?),
        })
    }
}

impl ComponentType for () {
    const ABI: CanonicalAbiInfo = CanonicalAbiInfo::ZERO;

    fn typecheck(ty: &InterfaceType, types: &ComponentTypes) -> Result<(), TypeMismatch> {
        match ty {
            InterfaceType::Tuple(i)
                if types
                    .tuples
                    .get(i.index())
                    .is_some_and(|t| t.types.is_empty()) =>
            {
                Ok(())
            }
            _ => Err(TypeMismatch::rust::<Self>(ty, types)),
        }
    }

    fn typecheck_fields(fields: Fields<'_>, types: &ComponentTypes) -> Result<(), TypeMismatch> {
        if fields.len() == 0 {
            Ok(())
        } else {
            Err(TypeMismatch::rust_fields::<Self>(fields, types))
        }
    }
}

impl Lower for () {
    fn lower_flat(
        &self,
        cx: &mut LowerContext<'_>,
        ty: InterfaceType,
        _: &mut FlatSink<'_>,
    ) -> Result<()> {
        tuple_types(cx.types, ty).map(drop)
    }

    fn lower_to_memory(
        &self,
        cx: &mut LowerContext<'_>,
        ty: InterfaceType,
        _: usize,
    ) -> Result<()> {
        tuple_types(cx.types, ty).map(drop)
    }

    fn lower_fields_flat(
        &self,
        _: &mut LowerContext<'_>,
        fields: Fields<'_>,
        _: &mut FlatSink<'_>,
    ) -> Result<()> {
        check_count(fields, 0)
    }

    fn lower_fields_to_memory(
        &self,
        _: &mut LowerContext<'_>,
        fields: Fields<'_>,
        _: usize,
    ) -> Result<()> {
        check_count(fields, 0)
    }
}

impl Lift for () {
    fn lift_flat(
        cx: &mut LiftContext<'_>,
        ty: InterfaceType,
        _: &mut FlatSource<'_>,
    ) -> Result<Self> {
        tuple_types(cx.types, ty).map(drop)
    }

    fn lift_from_memory(cx: &mut LiftContext<'_>, ty: InterfaceType, _: &[u8]) -> Result<Self> {
        tuple_types(cx.types, ty).map(drop)
    }

    fn lift_fields_flat(
        _: &mut LiftContext<'_>,
        fields: Fields<'_>,
        _: &mut FlatSource<'_>,
    ) -> Result<Self> {
        check_count(fields, 0)
    }

    fn lift_fields_from_memory(
        _: &mut LiftContext<'_>,
        fields: Fields<'_>,
        _: &[u8],
    ) -> Result<Self> {
        check_count(fields, 0)
    }
}

impl ComponentNamedList for () {}

macro_rules! tuples {
    ($($n:literal: $($t:ident $i:tt),+;)*) => {$(
        impl<$($t: ComponentType),+> ComponentType for ($($t,)+) {
            const ABI: CanonicalAbiInfo = CanonicalAbiInfo::record(&[$($t::ABI),+]);

            fn typecheck(ty: &InterfaceType, types: &ComponentTypes) -> Result<(), TypeMismatch> {
                let elements = match ty {
                    InterfaceType::Tuple(i) => types.tuples.get(i.index()),
                    _ => None,
                };
                match elements {
                    Some(tuple) if tuple.types.len() == $n => {
                        let checks: &[Typecheck] = &[$($t::typecheck),+];
                        typecheck_each(Fields::Types(&tuple.types), types, checks, "tuple element")
                    }
                    _ => Err(TypeMismatch::rust::<Self>(ty, types)),
                }
            }

            fn typecheck_fields(
                fields: Fields<'_>,
                types: &ComponentTypes,
            ) -> Result<(), TypeMismatch> {
                if fields.len() != $n {
                    return Err(TypeMismatch::rust_fields::<Self>(fields, types));
                }
                let checks: &[Typecheck] = &[$($t::typecheck),+];
                typecheck_each(fields, types, checks, "value")
            }
        }

        impl<$($t: Lower),+> Lower for ($($t,)+) {
            fn lower_flat(
                &self,
                cx: &mut LowerContext<'_>,
                ty: InterfaceType,
                dst: &mut FlatSink<'_>,
            ) -> Result<()> {
                let fields = Fields::Types(tuple_types(cx.types, ty)?);
                self.lower_fields_flat(cx, fields, dst)
            }

            fn lower_to_memory(
                &self,
                cx: &mut LowerContext<'_>,
                ty: InterfaceType,
                offset: usize,
            ) -> Result<()> {
                let fields = Fields::Types(tuple_types(cx.types, ty)?);
                self.lower_fields_to_memory(cx, fields, offset)
            }

            fn lower_fields_flat(
                &self,
                cx: &mut LowerContext<'_>,
                fields: Fields<'_>,
                dst: &mut FlatSink<'_>,
            ) -> Result<()> {
                check_count(fields, $n)?;
                $(self.$i.lower_flat(cx, field_ty(fields, $i)?, dst)?;)+
                Ok(())
            }

            fn lower_fields_to_memory(
                &self,
                cx: &mut LowerContext<'_>,
                fields: Fields<'_>,
                offset: usize,
            ) -> Result<()> {
                check_count(fields, $n)?;
                let mut next = 0;
                $(
                    let at = offset + $t::ABI.next_field32(&mut next) as usize;
                    self.$i.lower_to_memory(cx, field_ty(fields, $i)?, at)?;
                )+
                Ok(())
            }
        }

        impl<$($t: Lift),+> Lift for ($($t,)+) {
            fn lift_flat(
                cx: &mut LiftContext<'_>,
                ty: InterfaceType,
                src: &mut FlatSource<'_>,
            ) -> Result<Self> {
                let fields = Fields::Types(tuple_types(cx.types, ty)?);
                Self::lift_fields_flat(cx, fields, src)
            }

            fn lift_from_memory(
                cx: &mut LiftContext<'_>,
                ty: InterfaceType,
                bytes: &[u8],
            ) -> Result<Self> {
                let fields = Fields::Types(tuple_types(cx.types, ty)?);
                Self::lift_fields_from_memory(cx, fields, bytes)
            }

            fn lift_fields_flat(
                cx: &mut LiftContext<'_>,
                fields: Fields<'_>,
                src: &mut FlatSource<'_>,
            ) -> Result<Self> {
                check_count(fields, $n)?;
                Ok(($($t::lift_flat(cx, field_ty(fields, $i)?, src)?,)+))
            }

            fn lift_fields_from_memory(
                cx: &mut LiftContext<'_>,
                fields: Fields<'_>,
                bytes: &[u8],
            ) -> Result<Self> {
                check_count(fields, $n)?;
                let mut next = 0;
                Ok(($({
                    let at = $t::ABI.next_field32(&mut next);
                    let bytes = lift::field(bytes, at, $t::ABI.size32)?;
                    $t::lift_from_memory(cx, field_ty(fields, $i)?, bytes)?
                },)+))
            }
        }

        impl<$($t: ComponentType),+> ComponentNamedList for ($($t,)+) {}
    )*};
}

tuples! {
    1: A 0;
    2: A 0, B 1;
    3: A 0, B 1, C 2;
    4: A 0, B 1, C 2, D 3;
    5: A 0, B 1, C 2, D 3, E 4;
    6: A 0, B 1, C 2, D 3, E 4, F 5;
    7: A 0, B 1, C 2, D 3, E 4, F 5, G 6;
    8: A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7;
    9: A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8;
    10: A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9;
    11: A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10;
    12: A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11;
    13: A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11, M 12;
    14: A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11, M 12, N 13;
    15: A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11, M 12, N 13, O 14;
    16: A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11, M 12, N 13, O 14, P 15;
}

#[cfg(test)]
mod tests {
    use super::super::context::test_memory::TestMemory;
    use super::super::context::test_round_trip;
    use super::*;
    use crate::artifact::Trap;
    use crate::artifact::component::{ComponentTypesBuilder, StringEncoding};
    use crate::values::ValRaw;
    use InterfaceType as T;
    use core::fmt::Debug;

    /// Checks `v` against `ty`, then round trips it flat and through memory in every string
    /// encoding; returns the flat core values (utf8).
    fn round_trip<V>(types: &ComponentTypes, ty: T, v: V) -> Vec<ValRaw>
    where
        V: Lift + Lower + PartialEq + Debug,
    {
        V::typecheck(&ty, types).unwrap();
        assert_eq!(V::ABI, types.canonical_abi(&ty), "{v:?}");
        let mut flat = Vec::new();
        for encoding in [
            StringEncoding::CompactUtf16,
            StringEncoding::Utf16,
            StringEncoding::Utf8,
        ] {
            let (slots, back) = test_round_trip::flat(
                types,
                ty,
                encoding,
                |cx, dst| v.lower_flat(cx, ty, dst),
                |cx, src| V::lift_flat(cx, ty, src),
            )
            .unwrap();
            assert_eq!(back, v);
            let (_, back) = test_round_trip::memory(
                types,
                ty,
                encoding,
                |cx, offset| v.lower_to_memory(cx, ty, offset),
                |cx, bytes| V::lift_from_memory(cx, ty, bytes),
            )
            .unwrap();
            assert_eq!(back, v);
            flat = slots;
        }
        flat
    }

    #[test]
    fn scalars() {
        let types = ComponentTypes::default();
        for v in [false, true] {
            round_trip(&types, T::Bool, v);
        }
        for v in [0, 1, -1, i8::MIN, i8::MAX] {
            round_trip(&types, T::S8, v);
        }
        for v in [0, 1, u8::MAX] {
            round_trip(&types, T::U8, v);
        }
        for v in [i16::MIN, -1, i16::MAX] {
            round_trip(&types, T::S16, v);
        }
        round_trip(&types, T::U16, u16::MAX);
        round_trip(&types, T::S32, i32::MIN);
        round_trip(&types, T::U32, u32::MAX);
        round_trip(&types, T::S64, i64::MIN);
        round_trip(&types, T::U64, u64::MAX);
        round_trip(&types, T::F32, -1.5f32);
        round_trip(&types, T::F64, f64::INFINITY);
        for c in ['a', 'é', '€', '👋', '\0', char::MAX] {
            round_trip(&types, T::Char, c);
        }
        // Narrow signed integers are sign-extended into their i32.
        assert_eq!(round_trip(&types, T::S8, -1i8)[0].get_u32(), u32::MAX);
        assert_eq!(round_trip(&types, T::U8, 0xffu8)[0].get_u32(), 0xff);
    }

    #[test]
    fn flat_lift_wraps_and_validates() {
        let types = ComponentTypes::default();
        let lift = |slot: ValRaw, ty: T| {
            let mut cx = LiftContext::new(None, StringEncoding::Utf8, &types);
            let slots = [slot];
            let mut src = FlatSource::new(&slots);
            (
                u8::lift_flat(&mut cx, T::U8, &mut FlatSource::new(&slots)).ok(),
                i8::lift_flat(&mut cx, T::S8, &mut FlatSource::new(&slots)).ok(),
                i16::lift_flat(&mut cx, T::S16, &mut FlatSource::new(&slots)).ok(),
                bool::lift_flat(&mut cx, T::Bool, &mut FlatSource::new(&slots)).ok(),
                char::lift_flat(&mut cx, ty, &mut src),
            )
        };
        // Bits above the type's width are ignored; any non-zero i32 is `true`.
        let (u, s, s16, b, _) = lift(ValRaw::from_u32(0x1234_56ff), T::Char);
        assert_eq!(
            (u, s, s16, b),
            (Some(0xff), Some(-1), Some(0x56ff), Some(true))
        );
        let (.., b, c) = lift(ValRaw::from_u32(0x100), T::Char);
        assert_eq!(b, Some(true));
        assert_eq!(c.unwrap(), '\u{100}');
        let (.., c) = lift(ValRaw::from_u32(0xd800), T::Char);
        let err = c.unwrap_err();
        assert_eq!(err.trap(), Some(Trap::InvalidChar));
        assert_eq!(err.detail(), Some("0xd800"));
        // Memory: a char above 0x10ffff.
        let mut cx = LiftContext::new(None, StringEncoding::Utf8, &types);
        let err =
            char::lift_from_memory(&mut cx, T::Char, &0x11_0000u32.to_le_bytes()).unwrap_err();
        assert_eq!(err.trap(), Some(Trap::InvalidChar));
    }

    #[test]
    fn nans_are_canonical() {
        let types = ComponentTypes::default();
        let nan32 = f32::from_bits(0xffc0_1234);
        let nan64 = f64::from_bits(0xfff8_0000_0000_1234);
        let (slots, back) = test_round_trip::flat(
            &types,
            T::F32,
            StringEncoding::Utf8,
            |cx, dst| nan32.lower_flat(cx, T::F32, dst),
            |cx, src| f32::lift_flat(cx, T::F32, src),
        )
        .unwrap();
        assert_eq!(slots[0].get_u32(), 0x7fc0_0000);
        assert_eq!(back.to_bits(), 0x7fc0_0000);
        let (bytes, back) = test_round_trip::memory(
            &types,
            T::F64,
            StringEncoding::Utf8,
            |cx, offset| nan64.lower_to_memory(cx, T::F64, offset),
            |cx, bytes| f64::lift_from_memory(cx, T::F64, bytes),
        )
        .unwrap();
        assert_eq!(bytes, 0x7ff8_0000_0000_0000u64.to_le_bytes());
        assert_eq!(back.to_bits(), 0x7ff8_0000_0000_0000);
        // Lifting canonicalizes too.
        let slots = [ValRaw::from_u32(0x7f80_0001)];
        let mut cx = LiftContext::new(None, StringEncoding::Utf8, &types);
        let f = f32::lift_flat(&mut cx, T::F32, &mut FlatSource::new(&slots)).unwrap();
        assert_eq!(f.to_bits(), 0x7fc0_0000);
    }

    #[test]
    fn strings_and_lists() {
        let mut b = ComponentTypesBuilder::new();
        let bytes = b.list(T::U8);
        let signed = b.list(T::S8);
        let strings = b.list(T::String);
        let inner = b.list(T::U32);
        let nested = b.list(inner);
        let wide = b.list(T::U64);
        let unit = b.tuple(Box::new([]));
        let units = b.list(unit);
        let types = b.finish();
        for s in ["", "hello", "héllo", "h€llo", "👋 wave"] {
            round_trip(&types, T::String, s.to_string());
            round_trip(&types, T::String, Box::<str>::from(s));
        }
        round_trip(&types, bytes, vec![0u8, 1, 2, 255]);
        round_trip(&types, signed, vec![-128i8, 0, 127]);
        round_trip(
            &types,
            strings,
            vec!["a".to_string(), "h€llo".into(), String::new()],
        );
        round_trip(&types, nested, vec![vec![1u32, 2], vec![], vec![u32::MAX]]);
        round_trip(&types, wide, vec![u64::MAX, 0, 7]);
        round_trip(&types, units, vec![(), (), ()]);
        round_trip(&types, bytes, Vec::<u8>::new());

        // `&str` and `&[T]` lower like `String` and `Vec<T>`.
        let (_, back) = test_round_trip::flat(
            &types,
            strings,
            StringEncoding::Utf8,
            |cx, dst| ["x", "yz"][..].lower_flat(cx, strings, dst),
            |cx, src| Vec::<String>::lift_flat(cx, strings, src),
        )
        .unwrap();
        assert_eq!(back, ["x", "yz"]);
        <&str>::typecheck(&T::String, &types).unwrap();
        <&[u8]>::typecheck(&bytes, &types).unwrap();
    }

    #[test]
    fn byte_lists_are_one_copy() {
        let mut b = ComponentTypesBuilder::new();
        let bytes = b.list(T::U8);
        let types = b.finish();
        let mut mem = TestMemory::new();
        let mut cx = LowerContext::new(&mut mem, StringEncoding::Utf8, &types);
        let data: Vec<u8> = (0..=255).collect();
        let mut slots = [ValRaw::default(); 2];
        data.lower_flat(&mut cx, bytes, &mut FlatSink::new(&mut slots))
            .unwrap();
        assert_eq!(mem.calls, [(0, 0, 1, 256)]);
        let (ptr, len) = (slots[0].get_u32() as usize, slots[1].get_u32() as usize);
        assert_eq!(len, 256);
        assert_eq!(mem.bytes[ptr..ptr + len], data[..]);
    }

    #[test]
    fn options_results_tuples() {
        let mut b = ComponentTypesBuilder::new();
        let opt_u64 = b.option(T::U64);
        let opt_u8 = b.option(T::U8);
        let opt_opt = b.option(opt_u8);
        let opt_string = b.option(T::String);
        let res = b.result(Some(T::U32), Some(T::F32));
        let res_unit = b.result(None, Some(T::String));
        let res_bare = b.result(None, None);
        let res_ok = b.result(Some(T::String), None);
        let tuple = b.tuple(Box::new([T::U8, T::String, T::U64, T::Char]));
        let nested = b.tuple(Box::new([tuple, opt_u64]));
        let types = b.finish();
        round_trip(&types, opt_u64, None::<u64>);
        round_trip(&types, opt_u64, Some(u64::MAX));
        round_trip(&types, opt_opt, Some(Some(7u8)));
        round_trip(&types, opt_opt, Some(None::<u8>));
        round_trip(&types, opt_opt, None::<Option<u8>>);
        round_trip(&types, opt_string, Some("h€llo".to_string()));
        round_trip(&types, res, Ok::<u32, f32>(7));
        round_trip(&types, res, Err::<u32, f32>(-2.5));
        round_trip(&types, res_unit, Ok::<(), String>(()));
        round_trip(&types, res_unit, Err::<(), String>("bad".into()));
        round_trip(&types, res_bare, Ok::<(), ()>(()));
        round_trip(&types, res_bare, Err::<(), ()>(()));
        round_trip(&types, res_ok, Ok::<String, ()>("fine".into()));
        let t = (1u8, "two".to_string(), 3u64, '4');
        round_trip(&types, tuple, t.clone());
        round_trip(&types, nested, (t, Some(5u64)));
    }

    /// The spec's flat shapes: `result<u32, f32>` is `[i32, i32]` (the f32 reinterpreted),
    /// `result<u64, f32>` is `[i32, i64]` (the f32 bits zero-extended), `option<f32>` is
    /// `[i32, f32]`; a case with a shorter payload leaves zeros.
    #[test]
    fn variant_flat_shapes_and_joins() {
        let mut b = ComponentTypesBuilder::new();
        let r32 = b.result(Some(T::U32), Some(T::F32));
        let r64 = b.result(Some(T::U64), Some(T::F32));
        let of32 = b.option(T::F32);
        let pair = b.tuple(Box::new([T::U8, T::U8]));
        let rpair = b.result(Some(pair), Some(T::F64));
        let types = b.finish();
        let slots = round_trip(&types, r32, Err::<u32, f32>(1.5));
        assert_eq!(
            slots.iter().map(ValRaw::get_u64).collect::<Vec<_>>(),
            [1, 0x3fc0_0000]
        );
        let slots = round_trip(&types, r32, Ok::<u32, f32>(9));
        assert_eq!(
            slots.iter().map(ValRaw::get_u64).collect::<Vec<_>>(),
            [0, 9]
        );
        let slots = round_trip(&types, r64, Err::<u64, f32>(1.5));
        assert_eq!(
            slots.iter().map(ValRaw::get_u128).collect::<Vec<_>>(),
            [1, 0x3fc0_0000]
        );
        let slots = round_trip(&types, of32, Some(2.0f32));
        assert_eq!(slots[1].get_u32(), 2.0f32.to_bits());
        let slots = round_trip(&types, of32, None::<f32>);
        assert_eq!(slots[1].get_u128(), 0);
        // result<tuple<u8, u8>, f64> is [i32, i64, i32]; the error case zeroes the last slot.
        let slots = round_trip(&types, rpair, Err::<(u8, u8), f64>(0.5));
        let expected = [1, 0.5f64.to_bits(), 0];
        assert_eq!(
            slots.iter().map(ValRaw::get_u64).collect::<Vec<_>>(),
            expected
        );

        // Lifting an f32 out of a joined i64 slot wraps: high bits are ignored.
        let slots = [ValRaw::from_u32(1), ValRaw::from_u64(0xffff_ffff_3fc0_0000)];
        let mut cx = LiftContext::new(None, StringEncoding::Utf8, &types);
        let v = Result::<u64, f32>::lift_flat(&mut cx, r64, &mut FlatSource::new(&slots));
        assert_eq!(v.unwrap(), Err(1.5));
    }

    #[test]
    fn traps() {
        let mut b = ComponentTypesBuilder::new();
        let wide = b.list(T::U64);
        let opt = b.option(T::U8);
        let res = b.result(None, None);
        let types = b.finish();
        let memory = vec![0u8; 0x10000];
        let mut cx = LiftContext::new(Some(&memory), StringEncoding::Utf8, &types);
        let lift_list = |cx: &mut LiftContext<'_>, ptr: u32, len: u32| {
            let slots = [ValRaw::from_u32(ptr), ValRaw::from_u32(len)];
            Vec::<u64>::lift_flat(cx, wide, &mut FlatSource::new(&slots))
        };
        let err = lift_list(&mut cx, 0x1004, 1).unwrap_err();
        assert_eq!(err.trap(), Some(Trap::UnalignedPointer));
        assert_eq!(err.detail(), Some("list<u64> at 0x1004, alignment 8"));
        let err = lift_list(&mut cx, 0xfff0, 4).unwrap_err();
        assert_eq!(err.trap(), Some(Trap::PointerOutOfBounds));
        assert_eq!(
            err.detail(),
            Some("list<u64> at 0xfff0 of 4 x 8 bytes, memory is 0x10000 bytes")
        );
        let err = lift_list(&mut cx, 0, 0x2000_0000).unwrap_err();
        assert_eq!(err.trap(), Some(Trap::LengthOverflow));
        assert_eq!(lift_list(&mut cx, 0xfff0, 2).unwrap(), [0, 0]);

        let slots = [ValRaw::from_u32(2), ValRaw::from_u32(0)];
        let err = Option::<u8>::lift_flat(&mut cx, opt, &mut FlatSource::new(&slots)).unwrap_err();
        assert_eq!(err.trap(), Some(Trap::InvalidDiscriminant));
        assert_eq!(err.detail(), Some("2 for option with 2 cases"));
        let err = Result::<(), ()>::lift_from_memory(&mut cx, res, &[7]).unwrap_err();
        assert_eq!(err.trap(), Some(Trap::InvalidDiscriminant));
        assert_eq!(err.detail(), Some("7 for result with 2 cases"));
        // No memory option: an error, not a panic.
        let mut cx = LiftContext::new(None, StringEncoding::Utf8, &types);
        assert!(lift_list(&mut cx, 0, 0).unwrap_err().trap().is_none());
    }

    #[test]
    fn typecheck_messages() {
        let mut b = ComponentTypesBuilder::new();
        let strings = b.list(T::String);
        let pair = b.tuple(Box::new([T::U32, T::U32]));
        let res = b.result(Some(T::U32), Some(T::String));
        let opt = b.option(pair);
        let types = b.finish();
        let msg = |r: Result<(), TypeMismatch>| r.unwrap_err().to_string();
        assert_eq!(
            msg(u32::typecheck(&T::String, &types)),
            "expected `string`, found Rust type `u32`"
        );
        assert_eq!(
            msg(Vec::<u32>::typecheck(&strings, &types)),
            "expected `string`, found Rust type `u32` (in list element)"
        );
        assert_eq!(
            msg(<(u32,)>::typecheck(&pair, &types)),
            "expected `tuple<u32, u32>`, found Rust type `(u32,)`"
        );
        assert_eq!(
            msg(Option::<(u32, String)>::typecheck(&opt, &types)),
            "expected `u32`, found Rust type `String` (in tuple element 1 of option payload)"
        );
        assert_eq!(
            msg(Result::<u32, ()>::typecheck(&res, &types)),
            "expected `string`, found Rust type `()` (in error payload)"
        );
        Result::<u32, String>::typecheck(&res, &types).unwrap();
        assert_eq!(
            msg(<(u32, String)>::typecheck_list(&[T::U32], &types)),
            "expected `(u32)`, found Rust type `(u32, String)`"
        );
        <(u32, &str)>::typecheck_list(&[T::U32, T::String], &types).unwrap();
        <()>::typecheck_list(&[], &types).unwrap();
        let params = [("a".to_string(), T::U32), ("b".to_string(), T::U32)];
        assert_eq!(
            msg(<(u32, bool)>::typecheck_named(&params, &types)),
            "expected `u32`, found Rust type `bool` (in value 1)"
        );
        let own = T::Own(crate::artifact::component::ResourceIndex(0));
        for m in [
            msg(u32::typecheck(&own, &types)),
            msg(Vec::<u8>::typecheck(&own, &types)),
        ] {
            assert!(
                m.starts_with("expected `own<resource0>`, found Rust type"),
                "{m}"
            );
        }
    }

    #[test]
    fn sixteen_tuple() {
        let mut b = ComponentTypesBuilder::new();
        let ty = b.tuple(vec![T::U8; 16].into());
        let types = b.finish();
        type Sixteen = (
            u8,
            u8,
            u8,
            u8,
            u8,
            u8,
            u8,
            u8,
            u8,
            u8,
            u8,
            u8,
            u8,
            u8,
            u8,
            u8,
        );
        let v: Sixteen = (0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
        Sixteen::typecheck(&ty, &types).unwrap();
        let (slots, back) = test_round_trip::flat(
            &types,
            ty,
            StringEncoding::Utf8,
            |cx, dst| v.lower_flat(cx, ty, dst),
            |cx, src| Sixteen::lift_flat(cx, ty, src),
        )
        .unwrap();
        assert_eq!(slots[15].get_u32(), 15);
        assert_eq!((back.0, back.7, back.15), (0, 7, 15));
        let (bytes, back) = test_round_trip::memory(
            &types,
            ty,
            StringEncoding::Utf8,
            |cx, offset| v.lower_to_memory(cx, ty, offset),
            |cx, bytes| Sixteen::lift_from_memory(cx, ty, bytes),
        )
        .unwrap();
        assert_eq!(bytes, (0..16).collect::<Vec<u8>>());
        assert_eq!((back.0, back.7, back.15), (0, 7, 15));
    }
}
