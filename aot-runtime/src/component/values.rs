//! [`Val`], a dynamically typed component-model value, with its type check
//! ([`typecheck_val`]) and its canonical ABI: lifting from and lowering to flat core values and
//! guest memory, following the component's types instead of a Rust type. The memory checks,
//! string encodings and scalar rules are the ones the typed traits use (`lift.rs`, `lower.rs`,
//! `string.rs`); only the dispatch over types is here.
//!
//! Lowering checks the value against the type as it goes: a value of the wrong shape is a
//! [`TypeMismatch`] error, never a panic. `list<u8>` is one bounds check and one copy each way.

use super::context::{LiftContext, LowerContext, no_handles};
use super::lift::{
    FlatSource, canonical_f32, canonical_f64, check_case, field, flat_count, lift_bool, lift_char,
    lift_flags_flat, load_discriminant, load_flags, payload, read, read_u32, read_u64,
};
use super::lower::{FlatSink, lower_flags_flat};
use super::resources::{ResourceAny, lift_handle};
use super::string::{lift_string, lower_string};
use super::typed::{TypeMismatch, list_element, list_name, option_type, result_type, tuple_types};
use crate::Result;
use crate::artifact::component::{
    CanonicalAbiInfo, ComponentTypes, InterfaceType, TypeRecord, TypeVariant, VariantInfo,
};
use crate::error::Error;
use crate::prelude::*;
use core::fmt;

/// A component-model value of any type, for dynamic calls ([`Func::call`](super::Func::call),
/// `func_new` host functions) and WAVE text.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    /// `bool`.
    Bool(bool),
    /// `s8`.
    S8(i8),
    /// `u8`.
    U8(u8),
    /// `s16`.
    S16(i16),
    /// `u16`.
    U16(u16),
    /// `s32`.
    S32(i32),
    /// `u32`.
    U32(u32),
    /// `s64`.
    S64(i64),
    /// `u64`.
    U64(u64),
    /// `f32` (every NaN crosses the boundary as the canonical NaN).
    Float32(f32),
    /// `f64` (every NaN crosses the boundary as the canonical NaN).
    Float64(f64),
    /// `char`.
    Char(char),
    /// `string`.
    String(String),
    /// `list<T>`.
    List(Vec<Val>),
    /// A record: its fields by name, in the order of the type.
    Record(Vec<(String, Val)>),
    /// `tuple<..>`.
    Tuple(Vec<Val>),
    /// A variant: the case's name and its payload, if the case has one.
    Variant(String, Option<Box<Val>>),
    /// An enum: the case's name.
    Enum(String),
    /// `option<T>`.
    Option(Option<Box<Val>>),
    /// `result<T, E>`: each side with its payload, if the type has one.
    Result(core::result::Result<Option<Box<Val>>, Option<Box<Val>>>),
    /// Flags: the names of the flags that are set.
    Flags(Vec<String>),
    /// `own<R>` or `borrow<R>` of a guest resource.
    Resource(ResourceAny),
}

/// Spec `lower_own` / `lower_borrow`: the handle `any` becomes in the guest written to.
pub(crate) fn lower_handle(
    cx: &mut LowerContext<'_>,
    any: &ResourceAny,
    ty: InterfaceType,
) -> Result<u32> {
    let mut handles = cx.mem.handles().ok_or_else(no_handles)?;
    match ty {
        InterfaceType::Own(r) => handles.lower_own(r, any),
        InterfaceType::Borrow(r) => handles.lower_borrow(r, any),
        _ => Err(Error::bug("a handle lowered as another type")),
    }
}

/// Checks `val` against `ty`, naming the expected type and what was found on a mismatch
/// (``expected `string`, found `u32` ``).
pub(crate) fn typecheck_val(
    val: &Val,
    ty: &InterfaceType,
    types: &ComponentTypes,
) -> Result<(), TypeMismatch> {
    use InterfaceType as T;
    let mismatch = || TypeMismatch::val(ty, types, val.describe());
    match (val, *ty) {
        (Val::Bool(_), T::Bool)
        | (Val::S8(_), T::S8)
        | (Val::U8(_), T::U8)
        | (Val::S16(_), T::S16)
        | (Val::U16(_), T::U16)
        | (Val::S32(_), T::S32)
        | (Val::U32(_), T::U32)
        | (Val::S64(_), T::S64)
        | (Val::U64(_), T::U64)
        | (Val::Float32(_), T::F32)
        | (Val::Float64(_), T::F64)
        | (Val::Char(_), T::Char)
        | (Val::String(_), T::String) => Ok(()),
        // The resource type itself is checked when the handle is lowered, against the
        // instance's types.
        (Val::Resource(any), T::Own(_)) if any.owned() => Ok(()),
        (Val::Resource(_), T::Borrow(_)) => Ok(()),
        (Val::List(items), T::List(i)) => {
            let list = types.lists.get(i.index()).ok_or_else(mismatch)?;
            for (k, item) in items.iter().enumerate() {
                typecheck_val(item, &list.element, types)
                    .map_err(|e| e.within(format_args!("list element {k}")))?;
            }
            Ok(())
        }
        (Val::Record(fields), T::Record(i)) => {
            let record = types.records.get(i.index()).ok_or_else(mismatch)?;
            let same_names = fields.len() == record.fields.len()
                && fields
                    .iter()
                    .zip(record.fields.iter())
                    .all(|((a, _), (b, _))| a == b);
            if !same_names {
                return Err(mismatch());
            }
            for ((name, field), (_, fty)) in fields.iter().zip(record.fields.iter()) {
                typecheck_val(field, fty, types)
                    .map_err(|e| e.within(format_args!("field `{name}`")))?;
            }
            Ok(())
        }
        (Val::Tuple(vals), T::Tuple(i)) => {
            let tuple = types.tuples.get(i.index()).ok_or_else(mismatch)?;
            if vals.len() != tuple.types.len() {
                return Err(mismatch());
            }
            for (k, (v, vty)) in vals.iter().zip(tuple.types.iter()).enumerate() {
                typecheck_val(v, vty, types)
                    .map_err(|e| e.within(format_args!("tuple element {k}")))?;
            }
            Ok(())
        }
        (Val::Variant(name, payload), T::Variant(i)) => {
            let variant = types.variants.get(i.index()).ok_or_else(mismatch)?;
            let (_, case_ty) = variant
                .cases
                .iter()
                .find(|(case, _)| case == name)
                .ok_or_else(mismatch)?;
            let within = format_args!("case `{name}`");
            typecheck_payload(
                payload.as_deref(),
                case_ty.as_ref(),
                types,
                mismatch,
                within,
            )
        }
        (Val::Enum(name), T::Enum(i)) => match types.enums.get(i.index()) {
            Some(e) if e.names.contains(name) => Ok(()),
            _ => Err(mismatch()),
        },
        (Val::Option(v), T::Option(i)) => {
            let option = types.options.get(i.index()).ok_or_else(mismatch)?;
            match v {
                None => Ok(()),
                Some(v) => {
                    typecheck_val(v, &option.ty, types).map_err(|e| e.within("option payload"))
                }
            }
        }
        (Val::Result(r), T::Result(i)) => {
            let result = types.results.get(i.index()).ok_or_else(mismatch)?;
            match r {
                Ok(v) => {
                    let ok = result.ok.as_ref();
                    typecheck_payload(v.as_deref(), ok, types, mismatch, "ok payload")
                }
                Err(v) => {
                    let err = result.err.as_ref();
                    typecheck_payload(v.as_deref(), err, types, mismatch, "error payload")
                }
            }
        }
        (Val::Flags(names), T::Flags(i)) => match types.flags.get(i.index()) {
            Some(flags) if names.iter().all(|n| flags.names.contains(n)) => Ok(()),
            _ => Err(mismatch()),
        },
        _ => Err(mismatch()),
    }
}

/// A case payload: present in both or absent in both; a mismatch inside it is `within` the
/// case.
fn typecheck_payload(
    payload: Option<&Val>,
    ty: Option<&InterfaceType>,
    types: &ComponentTypes,
    mismatch: impl FnOnce() -> TypeMismatch,
    within: impl fmt::Display,
) -> Result<(), TypeMismatch> {
    match (payload, ty) {
        (Some(v), Some(ty)) => typecheck_val(v, ty, types).map_err(|e| e.within(within)),
        (None, None) => Ok(()),
        _ => Err(mismatch()),
    }
}

impl Val {
    /// What a mismatch says was found: `` `u32` ``, ``enum case `c` ``.
    fn describe(&self) -> String {
        let scalar = |name: &str| format!("`{name}`");
        match self {
            Val::Bool(_) => scalar("bool"),
            Val::S8(_) => scalar("s8"),
            Val::U8(_) => scalar("u8"),
            Val::S16(_) => scalar("s16"),
            Val::U16(_) => scalar("u16"),
            Val::S32(_) => scalar("s32"),
            Val::U32(_) => scalar("u32"),
            Val::S64(_) => scalar("s64"),
            Val::U64(_) => scalar("u64"),
            Val::Float32(_) => scalar("f32"),
            Val::Float64(_) => scalar("f64"),
            Val::Char(_) => scalar("char"),
            Val::String(_) => scalar("string"),
            Val::List(_) => "a list".into(),
            Val::Record(fields) => {
                let names: Vec<String> = fields.iter().map(|(n, _)| format!("`{n}`")).collect();
                format!("a record with fields {{{}}}", names.join(", "))
            }
            Val::Tuple(vals) => format!("a tuple of {} values", vals.len()),
            Val::Variant(name, None) => format!("variant case `{name}` without a payload"),
            Val::Variant(name, Some(_)) => format!("variant case `{name}` with a payload"),
            Val::Enum(name) => format!("enum case `{name}`"),
            Val::Option(_) => "an option".into(),
            Val::Resource(any) if any.owned() => "an own resource".into(),
            Val::Resource(_) => "a borrowed resource".into(),
            Val::Result(Ok(p)) => format!("a result `ok` {}", with_payload(p)),
            Val::Result(Err(p)) => format!("a result `error` {}", with_payload(p)),
            Val::Flags(names) => {
                let names: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
                format!("flags {{{}}}", names.join(", "))
            }
        }
    }

    /// Reads a value of type `ty` from flat core values (spec `lift_flat`).
    pub(crate) fn lift_flat(
        cx: &mut LiftContext<'_>,
        ty: InterfaceType,
        src: &mut FlatSource<'_>,
    ) -> Result<Val> {
        use InterfaceType as T;
        let types = cx.types;
        Ok(match ty {
            T::Bool => Val::Bool(lift_bool(src.next_u32()?)),
            T::S8 => Val::S8(src.next_u32()? as i8),
            T::U8 => Val::U8(src.next_u32()? as u8),
            T::S16 => Val::S16(src.next_u32()? as i16),
            T::U16 => Val::U16(src.next_u32()? as u16),
            T::S32 => Val::S32(src.next_u32()? as i32),
            T::U32 => Val::U32(src.next_u32()?),
            T::S64 => Val::S64(src.next_u64()? as i64),
            T::U64 => Val::U64(src.next_u64()?),
            T::F32 => Val::Float32(src.next_f32()?),
            T::F64 => Val::Float64(src.next_f64()?),
            T::Char => Val::Char(lift_char(src.next_u32()?)?),
            T::String => {
                let ptr = src.next_u32()?;
                Val::String(lift_string(cx, ptr, src.next_u32()?)?)
            }
            T::List(_) => {
                let elem = list_element(types, ty)?;
                let ptr = src.next_u32()?;
                Val::List(lift_list(cx, elem, ptr, src.next_u32()?)?)
            }
            T::Record(_) => {
                let record = record_type(types, ty)?;
                let mut fields = Vec::with_capacity(record.fields.len());
                for (name, fty) in record.fields.iter() {
                    fields.push((name.clone(), Val::lift_flat(cx, *fty, src)?));
                }
                Val::Record(fields)
            }
            T::Tuple(_) => {
                let tys = tuple_types(types, ty)?;
                let vals = tys.iter().map(|t| Val::lift_flat(cx, *t, src));
                Val::Tuple(vals.collect::<Result<_>>()?)
            }
            T::Variant(_) => {
                let variant = variant_type(types, ty)?;
                let end = src.position() + flat_count(&variant.abi)?;
                let case = check_case(src.next_u32()?, variant.cases.len(), "variant")?;
                let (name, case_ty) = &variant.cases[case];
                let payload = lift_payload_flat(cx, *case_ty, src)?;
                src.skip_to(end)?;
                Val::Variant(name.clone(), payload)
            }
            T::Enum(i) => {
                let e = types.enums.get(i.index()).ok_or_else(|| unchecked(ty))?;
                let case = check_case(src.next_u32()?, e.names.len(), "enum")?;
                Val::Enum(e.names[case].clone())
            }
            T::Option(_) => {
                let option = option_type(types, ty)?;
                let end = src.position() + flat_count(&option.abi)?;
                let case = check_case(src.next_u32()?, 2, "option")?;
                let payload = match case {
                    0 => None,
                    _ => lift_payload_flat(cx, Some(option.ty), src)?,
                };
                src.skip_to(end)?;
                Val::Option(payload)
            }
            T::Result(_) => {
                let result = result_type(types, ty)?;
                let end = src.position() + flat_count(&result.abi)?;
                let value = match check_case(src.next_u32()?, 2, "result")? {
                    0 => Ok(lift_payload_flat(cx, result.ok, src)?),
                    _ => Err(lift_payload_flat(cx, result.err, src)?),
                };
                src.skip_to(end)?;
                Val::Result(value)
            }
            T::Flags(i) => {
                let flags = types.flags.get(i.index()).ok_or_else(|| unchecked(ty))?;
                let words = lift_flags_flat(src, flags.names.len())?;
                Val::Flags(flag_names(&flags.names, &words))
            }
            T::Own(_) | T::Borrow(_) => Val::Resource(lift_handle(cx, ty, src.next_u32()?)?),
        })
    }

    /// Reads a value of type `ty` from `bytes`, its checked region of guest memory (spec
    /// `load`).
    pub(crate) fn lift_from_memory(
        cx: &mut LiftContext<'_>,
        ty: InterfaceType,
        bytes: &[u8],
    ) -> Result<Val> {
        use InterfaceType as T;
        let types = cx.types;
        Ok(match ty {
            T::Bool => Val::Bool(read::<1>(bytes, 0)?[0] != 0),
            T::S8 => Val::S8(i8::from_le_bytes(read(bytes, 0)?)),
            T::U8 => Val::U8(read::<1>(bytes, 0)?[0]),
            T::S16 => Val::S16(i16::from_le_bytes(read(bytes, 0)?)),
            T::U16 => Val::U16(u16::from_le_bytes(read(bytes, 0)?)),
            T::S32 => Val::S32(i32::from_le_bytes(read(bytes, 0)?)),
            T::U32 => Val::U32(read_u32(bytes, 0)?),
            T::S64 => Val::S64(i64::from_le_bytes(read(bytes, 0)?)),
            T::U64 => Val::U64(read_u64(bytes, 0)?),
            T::F32 => Val::Float32(canonical_f32(f32::from_bits(read_u32(bytes, 0)?))),
            T::F64 => Val::Float64(canonical_f64(f64::from_bits(read_u64(bytes, 0)?))),
            T::Char => Val::Char(lift_char(read_u32(bytes, 0)?)?),
            T::String => Val::String(lift_string(cx, read_u32(bytes, 0)?, read_u32(bytes, 4)?)?),
            T::List(_) => {
                let elem = list_element(types, ty)?;
                Val::List(lift_list(
                    cx,
                    elem,
                    read_u32(bytes, 0)?,
                    read_u32(bytes, 4)?,
                )?)
            }
            T::Record(_) => {
                let record = record_type(types, ty)?;
                let mut fields = Vec::with_capacity(record.fields.len());
                let mut next = 0;
                for (name, fty) in record.fields.iter() {
                    let abi = types.canonical_abi(fty);
                    let bytes = field(bytes, abi.next_field32(&mut next), abi.size32)?;
                    fields.push((name.clone(), Val::lift_from_memory(cx, *fty, bytes)?));
                }
                Val::Record(fields)
            }
            T::Tuple(_) => {
                let tys = tuple_types(types, ty)?;
                let mut vals = Vec::with_capacity(tys.len());
                let mut next = 0;
                for t in tys {
                    let abi = types.canonical_abi(t);
                    let bytes = field(bytes, abi.next_field32(&mut next), abi.size32)?;
                    vals.push(Val::lift_from_memory(cx, *t, bytes)?);
                }
                Val::Tuple(vals)
            }
            T::Variant(_) => {
                let variant = variant_type(types, ty)?;
                let disc = load_discriminant(bytes, &variant.info)?;
                let case = check_case(disc, variant.cases.len(), "variant")?;
                let (name, case_ty) = &variant.cases[case];
                let bytes = payload(bytes, &variant.info, &variant.abi)?;
                Val::Variant(name.clone(), lift_payload_memory(cx, *case_ty, bytes)?)
            }
            T::Enum(i) => {
                let e = types.enums.get(i.index()).ok_or_else(|| unchecked(ty))?;
                let case = check_case(load_discriminant(bytes, &e.info)?, e.names.len(), "enum")?;
                Val::Enum(e.names[case].clone())
            }
            T::Option(_) => {
                let option = option_type(types, ty)?;
                match check_case(load_discriminant(bytes, &option.info)?, 2, "option")? {
                    0 => Val::Option(None),
                    _ => {
                        let bytes = payload(bytes, &option.info, &option.abi)?;
                        Val::Option(lift_payload_memory(cx, Some(option.ty), bytes)?)
                    }
                }
            }
            T::Result(_) => {
                let result = result_type(types, ty)?;
                let case = check_case(load_discriminant(bytes, &result.info)?, 2, "result")?;
                let bytes = payload(bytes, &result.info, &result.abi)?;
                Val::Result(match case {
                    0 => Ok(lift_payload_memory(cx, result.ok, bytes)?),
                    _ => Err(lift_payload_memory(cx, result.err, bytes)?),
                })
            }
            T::Flags(i) => {
                let flags = types.flags.get(i.index()).ok_or_else(|| unchecked(ty))?;
                let words = load_flags(bytes, flags.names.len())?;
                Val::Flags(flag_names(&flags.names, &words))
            }
            T::Own(_) | T::Borrow(_) => Val::Resource(lift_handle(cx, ty, read_u32(bytes, 0)?)?),
        })
    }

    /// Writes the value as type `ty` into flat core values (spec `lower_flat`).
    pub(crate) fn lower_flat(
        &self,
        cx: &mut LowerContext<'_>,
        ty: InterfaceType,
        dst: &mut FlatSink<'_>,
    ) -> Result<()> {
        use InterfaceType as T;
        let types = cx.types;
        match (self, ty) {
            (Val::Bool(v), T::Bool) => dst.push_u32(u32::from(*v)),
            (Val::S8(v), T::S8) => dst.push_u32(i32::from(*v) as u32),
            (Val::U8(v), T::U8) => dst.push_u32(u32::from(*v)),
            (Val::S16(v), T::S16) => dst.push_u32(i32::from(*v) as u32),
            (Val::U16(v), T::U16) => dst.push_u32(u32::from(*v)),
            (Val::S32(v), T::S32) => dst.push_u32(*v as u32),
            (Val::U32(v), T::U32) => dst.push_u32(*v),
            (Val::S64(v), T::S64) => dst.push_u64(*v as u64),
            (Val::U64(v), T::U64) => dst.push_u64(*v),
            (Val::Float32(v), T::F32) => dst.push_f32(*v),
            (Val::Float64(v), T::F64) => dst.push_f64(*v),
            (Val::Char(v), T::Char) => dst.push_u32(u32::from(*v)),
            (Val::String(s), T::String) => {
                let (ptr, len) = lower_string(cx, s)?;
                dst.push_u32(ptr)?;
                dst.push_u32(len)
            }
            (Val::List(items), T::List(_)) => {
                let (ptr, len) = lower_list(cx, list_element(types, ty)?, items)?;
                dst.push_u32(ptr)?;
                dst.push_u32(len)
            }
            (Val::Record(fields), T::Record(_)) => {
                let record = record_type(types, ty)?;
                check_record(self, fields, record, ty, types)?;
                for ((_, v), (_, fty)) in fields.iter().zip(record.fields.iter()) {
                    v.lower_flat(cx, *fty, dst)?;
                }
                Ok(())
            }
            (Val::Tuple(vals), T::Tuple(_)) => {
                let tys = tuple_types(types, ty)?;
                if vals.len() != tys.len() {
                    return Err(self.mismatch(ty, types));
                }
                for (v, t) in vals.iter().zip(tys) {
                    v.lower_flat(cx, *t, dst)?;
                }
                Ok(())
            }
            (Val::Variant(name, payload), T::Variant(_)) => {
                let variant = variant_type(types, ty)?;
                let (case, case_ty) = self.find_case(variant, name, ty, types)?;
                let case_ty = self.payload_type(payload.as_deref(), case_ty, ty, types)?;
                self.lower_case_flat(cx, (case, case_ty), payload.as_deref(), &variant.abi, dst)
            }
            (Val::Enum(name), T::Enum(i)) => {
                let e = types.enums.get(i.index()).ok_or_else(|| unchecked(ty))?;
                match e.names.iter().position(|n| n == name) {
                    Some(case) => dst.push_u32(case as u32),
                    None => Err(self.mismatch(ty, types)),
                }
            }
            (Val::Option(v), T::Option(_)) => {
                let option = option_type(types, ty)?;
                let case = match v {
                    None => (0, None),
                    Some(_) => (1, Some(option.ty)),
                };
                self.lower_case_flat(cx, case, v.as_deref(), &option.abi, dst)
            }
            (Val::Result(r), T::Result(_)) => {
                let result = result_type(types, ty)?;
                let (case, payload, case_ty) = match r {
                    Ok(v) => (0, v.as_deref(), result.ok),
                    Err(v) => (1, v.as_deref(), result.err),
                };
                let case_ty = self.payload_type(payload, case_ty, ty, types)?;
                self.lower_case_flat(cx, (case, case_ty), payload, &result.abi, dst)
            }
            (Val::Flags(names), T::Flags(i)) => {
                let flags = types.flags.get(i.index()).ok_or_else(|| unchecked(ty))?;
                let words = self.flag_words(names, &flags.names, ty, types)?;
                lower_flags_flat(dst, &words, flags.names.len())
            }
            (Val::Resource(any), T::Own(_) | T::Borrow(_)) => {
                dst.push_u32(lower_handle(cx, any, ty)?)
            }
            _ => Err(self.mismatch(ty, types)),
        }
    }

    /// Writes the value as type `ty` at `offset`, a checked and aligned region of guest memory
    /// (spec `store`).
    pub(crate) fn lower_to_memory(
        &self,
        cx: &mut LowerContext<'_>,
        ty: InterfaceType,
        offset: usize,
    ) -> Result<()> {
        use InterfaceType as T;
        let types = cx.types;
        match (self, ty) {
            (Val::Bool(v), T::Bool) => cx.write(offset, &[u8::from(*v)]),
            (Val::S8(v), T::S8) => cx.write(offset, &v.to_le_bytes()),
            (Val::U8(v), T::U8) => cx.write(offset, &[*v]),
            (Val::S16(v), T::S16) => cx.write(offset, &v.to_le_bytes()),
            (Val::U16(v), T::U16) => cx.write(offset, &v.to_le_bytes()),
            (Val::S32(v), T::S32) => cx.write(offset, &v.to_le_bytes()),
            (Val::U32(v), T::U32) => cx.write(offset, &v.to_le_bytes()),
            (Val::S64(v), T::S64) => cx.write(offset, &v.to_le_bytes()),
            (Val::U64(v), T::U64) => cx.write(offset, &v.to_le_bytes()),
            (Val::Float32(v), T::F32) => {
                cx.write(offset, &canonical_f32(*v).to_bits().to_le_bytes())
            }
            (Val::Float64(v), T::F64) => {
                cx.write(offset, &canonical_f64(*v).to_bits().to_le_bytes())
            }
            (Val::Char(v), T::Char) => cx.write(offset, &u32::from(*v).to_le_bytes()),
            (Val::String(s), T::String) => {
                let (ptr, len) = lower_string(cx, s)?;
                cx.write_pair(offset, ptr, len)
            }
            (Val::List(items), T::List(_)) => {
                let (ptr, len) = lower_list(cx, list_element(types, ty)?, items)?;
                cx.write_pair(offset, ptr, len)
            }
            (Val::Record(fields), T::Record(_)) => {
                let record = record_type(types, ty)?;
                check_record(self, fields, record, ty, types)?;
                let mut next = 0;
                for ((_, v), (_, fty)) in fields.iter().zip(record.fields.iter()) {
                    let at = types.canonical_abi(fty).next_field32(&mut next) as usize;
                    v.lower_to_memory(cx, *fty, offset + at)?;
                }
                Ok(())
            }
            (Val::Tuple(vals), T::Tuple(_)) => {
                let tys = tuple_types(types, ty)?;
                if vals.len() != tys.len() {
                    return Err(self.mismatch(ty, types));
                }
                let mut next = 0;
                for (v, t) in vals.iter().zip(tys) {
                    let at = types.canonical_abi(t).next_field32(&mut next) as usize;
                    v.lower_to_memory(cx, *t, offset + at)?;
                }
                Ok(())
            }
            (Val::Variant(name, payload), T::Variant(_)) => {
                let variant = variant_type(types, ty)?;
                let (case, case_ty) = self.find_case(variant, name, ty, types)?;
                let case_ty = self.payload_type(payload.as_deref(), case_ty, ty, types)?;
                let case = (case, case_ty);
                lower_case_to_memory(cx, case, payload.as_deref(), &variant.info, offset)
            }
            (Val::Enum(name), T::Enum(i)) => {
                let e = types.enums.get(i.index()).ok_or_else(|| unchecked(ty))?;
                match e.names.iter().position(|n| n == name) {
                    Some(case) => cx.write_discriminant(offset, &e.info, case as u32),
                    None => Err(self.mismatch(ty, types)),
                }
            }
            (Val::Option(v), T::Option(_)) => {
                let option = option_type(types, ty)?;
                let case = match v {
                    None => (0, None),
                    Some(_) => (1, Some(option.ty)),
                };
                lower_case_to_memory(cx, case, v.as_deref(), &option.info, offset)
            }
            (Val::Result(r), T::Result(_)) => {
                let result = result_type(types, ty)?;
                let (case, payload, case_ty) = match r {
                    Ok(v) => (0, v.as_deref(), result.ok),
                    Err(v) => (1, v.as_deref(), result.err),
                };
                let case_ty = self.payload_type(payload, case_ty, ty, types)?;
                lower_case_to_memory(cx, (case, case_ty), payload, &result.info, offset)
            }
            (Val::Flags(names), T::Flags(i)) => {
                let flags = types.flags.get(i.index()).ok_or_else(|| unchecked(ty))?;
                let words = self.flag_words(names, &flags.names, ty, types)?;
                cx.write_flags(offset, &words, flags.names.len())
            }
            (Val::Resource(any), T::Own(_) | T::Borrow(_)) => {
                let handle = lower_handle(cx, any, ty)?;
                cx.write(offset, &handle.to_le_bytes())
            }
            _ => Err(self.mismatch(ty, types)),
        }
    }

    /// The error lowering this value as `ty` returns.
    #[cold]
    fn mismatch(&self, ty: InterfaceType, types: &ComponentTypes) -> Error {
        Error::new(TypeMismatch::val(&ty, types, self.describe()))
    }

    /// The case named `name` of `variant`.
    fn find_case(
        &self,
        variant: &TypeVariant,
        name: &str,
        ty: InterfaceType,
        types: &ComponentTypes,
    ) -> Result<(u32, Option<InterfaceType>)> {
        match variant.cases.iter().position(|(case, _)| case == name) {
            Some(case) => Ok((case as u32, variant.cases[case].1)),
            None => Err(self.mismatch(ty, types)),
        }
    }

    /// The payload type of a case, checking that the value has a payload exactly when the case
    /// does.
    fn payload_type(
        &self,
        payload: Option<&Val>,
        case_ty: Option<InterfaceType>,
        ty: InterfaceType,
        types: &ComponentTypes,
    ) -> Result<Option<InterfaceType>> {
        if payload.is_some() == case_ty.is_some() {
            Ok(case_ty)
        } else {
            Err(self.mismatch(ty, types))
        }
    }

    /// Writes a case flat: its index, its payload, then zeros up to the flat count of the whole
    /// variant (spec `lower_flat_variant`).
    fn lower_case_flat(
        &self,
        cx: &mut LowerContext<'_>,
        (case, case_ty): (u32, Option<InterfaceType>),
        payload: Option<&Val>,
        abi: &CanonicalAbiInfo,
        dst: &mut FlatSink<'_>,
    ) -> Result<()> {
        let end = dst.position() + flat_count(abi)?;
        dst.push_u32(case)?;
        if let (Some(v), Some(t)) = (payload, case_ty) {
            v.lower_flat(cx, t, dst)?;
        }
        dst.fill_to(end)
    }

    /// The words of flags `names` of a type with `labels`.
    fn flag_words(
        &self,
        names: &[String],
        labels: &[String],
        ty: InterfaceType,
        types: &ComponentTypes,
    ) -> Result<Vec<u32>> {
        let mut words = vec![0u32; labels.len().div_ceil(32)];
        for name in names {
            let Some(bit) = labels.iter().position(|l| l == name) else {
                return Err(self.mismatch(ty, types));
            };
            words[bit / 32] |= 1 << (bit % 32);
        }
        Ok(words)
    }
}

fn with_payload(payload: &Option<Box<Val>>) -> &'static str {
    if payload.is_some() {
        "with a payload"
    } else {
        "without a payload"
    }
}

#[cold]
fn unchecked(ty: InterfaceType) -> Error {
    super::typed::unchecked(ty)
}

fn record_type(types: &ComponentTypes, ty: InterfaceType) -> Result<&TypeRecord> {
    match ty {
        InterfaceType::Record(i) => types.records.get(i.index()),
        _ => None,
    }
    .ok_or_else(|| unchecked(ty))
}

fn variant_type(types: &ComponentTypes, ty: InterfaceType) -> Result<&TypeVariant> {
    match ty {
        InterfaceType::Variant(i) => types.variants.get(i.index()),
        _ => None,
    }
    .ok_or_else(|| unchecked(ty))
}

/// Checks that a record value has the type's field names, in order.
fn check_record(
    val: &Val,
    fields: &[(String, Val)],
    record: &TypeRecord,
    ty: InterfaceType,
    types: &ComponentTypes,
) -> Result<()> {
    let same = fields.len() == record.fields.len()
        && fields
            .iter()
            .zip(record.fields.iter())
            .all(|((a, _), (b, _))| a == b);
    if same {
        Ok(())
    } else {
        Err(val.mismatch(ty, types))
    }
}

fn lift_payload_flat(
    cx: &mut LiftContext<'_>,
    ty: Option<InterfaceType>,
    src: &mut FlatSource<'_>,
) -> Result<Option<Box<Val>>> {
    match ty {
        Some(ty) => Ok(Some(Box::new(Val::lift_flat(cx, ty, src)?))),
        None => Ok(None),
    }
}

fn lift_payload_memory(
    cx: &mut LiftContext<'_>,
    ty: Option<InterfaceType>,
    bytes: &[u8],
) -> Result<Option<Box<Val>>> {
    match ty {
        Some(ty) => Ok(Some(Box::new(Val::lift_from_memory(cx, ty, bytes)?))),
        None => Ok(None),
    }
}

/// Writes a case into memory: the discriminant at `offset`, the payload at the payload offset.
fn lower_case_to_memory(
    cx: &mut LowerContext<'_>,
    (case, case_ty): (u32, Option<InterfaceType>),
    payload: Option<&Val>,
    info: &VariantInfo,
    offset: usize,
) -> Result<()> {
    cx.write_discriminant(offset, info, case)?;
    match (payload, case_ty) {
        (Some(v), Some(t)) => v.lower_to_memory(cx, t, offset + info.payload_offset32 as usize),
        _ => Ok(()),
    }
}

/// The labels of the bits set in `words`.
fn flag_names(labels: &[String], words: &[u32]) -> Vec<String> {
    labels
        .iter()
        .enumerate()
        .filter(|(i, _)| words.get(i / 32).is_some_and(|w| w >> (i % 32) & 1 == 1))
        .map(|(_, label)| label.clone())
        .collect()
}

/// Reads the list of `len` elements of type `elem` at `ptr`.
fn lift_list(
    cx: &mut LiftContext<'_>,
    elem: InterfaceType,
    ptr: u32,
    len: u32,
) -> Result<Vec<Val>> {
    let types = cx.types;
    let abi = types.canonical_abi(&elem);
    let bytes = cx.slice(ptr, len, abi, || list_name(types, elem))?;
    match (elem, abi.size32 as usize) {
        (InterfaceType::U8, _) => Ok(bytes.iter().map(|b| Val::U8(*b)).collect()),
        (_, 0) => (0..len)
            .map(|_| Val::lift_from_memory(cx, elem, &[]))
            .collect(),
        (_, size) => bytes
            .chunks_exact(size)
            .map(|item| Val::lift_from_memory(cx, elem, item))
            .collect(),
    }
}

/// Allocates and writes a list of `items` of type `elem`, returning its pointer and length.
fn lower_list(cx: &mut LowerContext<'_>, elem: InterfaceType, items: &[Val]) -> Result<(u32, u32)> {
    let types = cx.types;
    let abi = types.canonical_abi(&elem);
    let ptr = cx.alloc(items.len(), abi, || list_name(types, elem))?;
    if elem == InterfaceType::U8 {
        let dst = cx.bytes_mut(ptr as usize, items.len())?;
        for (d, item) in dst.iter_mut().zip(items) {
            match item {
                Val::U8(b) => *d = *b,
                other => return Err(other.mismatch(elem, types)),
            }
        }
    } else {
        for (i, item) in items.iter().enumerate() {
            item.lower_to_memory(cx, elem, ptr as usize + i * abi.size32 as usize)?;
        }
    }
    Ok((ptr, items.len() as u32))
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

    fn names(n: usize) -> Box<[String]> {
        (0..n).map(|i| format!("f{i}")).collect()
    }

    fn some(v: Val) -> Option<Box<Val>> {
        Some(Box::new(v))
    }

    /// Type-checks `v`, then round trips it flat and through memory in every string encoding;
    /// returns the flat core values (utf8).
    fn round_trip(types: &ComponentTypes, ty: T, v: &Val) -> Vec<ValRaw> {
        typecheck_val(v, &ty, types).unwrap();
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
                |cx, src| Val::lift_flat(cx, ty, src),
            )
            .unwrap();
            assert_eq!(&back, v);
            let (_, back) = test_round_trip::memory(
                types,
                ty,
                encoding,
                |cx, offset| v.lower_to_memory(cx, ty, offset),
                |cx, bytes| Val::lift_from_memory(cx, ty, bytes),
            )
            .unwrap();
            assert_eq!(&back, v);
            flat = slots;
        }
        flat
    }

    #[test]
    fn every_type_round_trips() {
        let mut b = ComponentTypesBuilder::new();
        let bytes = b.list(T::U8);
        let strings = b.list(T::String);
        let point = b.record(Box::new([("x".into(), T::S32), ("y".into(), T::F64)]));
        let points = b.list(point);
        let tuple = b.tuple(Box::new([T::Char, T::String, T::U16]));
        let variant = b.variant(Box::new([
            ("none".into(), None),
            ("num".into(), Some(T::U64)),
            ("text".into(), Some(T::String)),
        ]));
        let color = b.enumeration(Box::new(["red".into(), "green".into(), "blue".into()]));
        let opt = b.option(strings);
        let res = b.result(Some(point), Some(T::String));
        let res_bare = b.result(None, None);
        let empty = b.tuple(Box::new([]));
        let types = b.finish();
        let cases = [
            (T::Bool, Val::Bool(true)),
            (T::S8, Val::S8(-5)),
            (T::U8, Val::U8(250)),
            (T::S16, Val::S16(-300)),
            (T::U16, Val::U16(60000)),
            (T::S32, Val::S32(i32::MIN)),
            (T::U32, Val::U32(u32::MAX)),
            (T::S64, Val::S64(-1)),
            (T::U64, Val::U64(u64::MAX)),
            (T::F32, Val::Float32(0.25)),
            (T::F64, Val::Float64(-1e300)),
            (T::Char, Val::Char('€')),
            (T::String, Val::String("h€llo, héllo 👋".into())),
            (bytes, Val::List((0..=255).map(Val::U8).collect())),
            (
                strings,
                Val::List(vec![Val::String("a".into()), Val::String("".into())]),
            ),
            (
                points,
                Val::List(vec![Val::Record(vec![
                    ("x".into(), Val::S32(-1)),
                    ("y".into(), Val::Float64(2.5)),
                ])]),
            ),
            (
                tuple,
                Val::Tuple(vec![Val::Char('x'), Val::String("y".into()), Val::U16(7)]),
            ),
            (variant, Val::Variant("none".into(), None)),
            (variant, Val::Variant("num".into(), some(Val::U64(1 << 40)))),
            (
                variant,
                Val::Variant("text".into(), some(Val::String("t".into()))),
            ),
            (color, Val::Enum("blue".into())),
            (opt, Val::Option(None)),
            (
                opt,
                Val::Option(some(Val::List(vec![Val::String("s".into())]))),
            ),
            (
                res,
                Val::Result(Ok(some(Val::Record(vec![
                    ("x".into(), Val::S32(3)),
                    ("y".into(), Val::Float64(4.0)),
                ])))),
            ),
            (res, Val::Result(Err(some(Val::String("e".into()))))),
            (res_bare, Val::Result(Ok(None))),
            (res_bare, Val::Result(Err(None))),
            (empty, Val::Tuple(Vec::new())),
        ];
        for (ty, v) in &cases {
            round_trip(&types, *ty, v);
        }
    }

    #[test]
    fn flags_of_any_size() {
        let mut b = ComponentTypesBuilder::new();
        let sizes = [0, 1, 3, 8, 9, 16, 17, 32, 33, 40, 64, 65];
        let tys: Vec<T> = sizes.iter().map(|n| b.flags(names(*n))).collect();
        let types = b.finish();
        for (n, ty) in sizes.iter().zip(&tys) {
            let set: Vec<String> = (0..*n)
                .filter(|i| i % 3 != 1)
                .map(|i| format!("f{i}"))
                .collect();
            let slots = round_trip(&types, *ty, &Val::Flags(set.clone()));
            assert_eq!(slots.len(), n.div_ceil(32), "{n} flags");
            round_trip(&types, *ty, &Val::Flags(Vec::new()));
        }
        // 40 flags: f0, f2, f3, f5, .. in two i32s.
        let slots = round_trip(&types, tys[9], &Val::Flags(vec!["f0".into(), "f33".into()]));
        assert_eq!([slots[0].get_u32(), slots[1].get_u32()], [1, 2]);

        // Bits beyond the labels are ignored, flat and in memory.
        let mut cx = LiftContext::new(None, StringEncoding::Utf8, &types);
        let all = [ValRaw::from_u32(u32::MAX)];
        let v = Val::lift_flat(&mut cx, tys[2], &mut FlatSource::new(&all)).unwrap();
        assert_eq!(v, Val::Flags(vec!["f0".into(), "f1".into(), "f2".into()]));
        let v = Val::lift_from_memory(&mut cx, tys[4], &[0, 0xff]).unwrap();
        assert_eq!(v, Val::Flags(vec!["f8".into()]));
        let v = Val::lift_from_memory(&mut cx, tys[8], &[0, 0, 0, 0, 0xfe, 0xff, 0xff, 0xff]);
        assert_eq!(v.unwrap(), Val::Flags(Vec::new()));
    }

    /// The spec's flat shapes of variants and the coercions of `join`.
    #[test]
    fn variant_flat_shapes() {
        let mut b = ComponentTypesBuilder::new();
        let ab = b.variant(Box::new([
            ("a".into(), Some(T::U64)),
            ("b".into(), Some(T::F32)),
        ]));
        let r = b.result(Some(T::U32), Some(T::F32));
        let xyz = b.variant(Box::new([
            ("x".into(), Some(T::U8)),
            ("y".into(), Some(T::F32)),
            ("z".into(), None),
        ]));
        let triple = b.tuple(Box::new([T::U8, T::U8, T::U8]));
        let long = b.variant(Box::new([
            ("a".into(), Some(triple)),
            ("b".into(), Some(T::F64)),
            ("c".into(), Some(T::F32)),
        ]));
        let types = b.finish();
        let u64s = |slots: Vec<ValRaw>| slots.iter().map(ValRaw::get_u64).collect::<Vec<_>>();
        // variant { a(u64), b(f32) } is [i32, i64]: the f32's bits zero-extended.
        let v = Val::Variant("b".into(), some(Val::Float32(1.5)));
        assert_eq!(u64s(round_trip(&types, ab, &v)), [1, 0x3fc0_0000]);
        let v = Val::Variant("a".into(), some(Val::U64(u64::MAX)));
        assert_eq!(u64s(round_trip(&types, ab, &v)), [0, u64::MAX]);
        // result<u32, f32> is [i32, i32]: the f32 reinterpreted.
        let v = Val::Result(Err(some(Val::Float32(-0.0))));
        assert_eq!(u64s(round_trip(&types, r, &v)), [1, 0x8000_0000]);
        // variant { x(u8), y(f32), z } is [i32, i32]; z leaves a zero.
        let v = Val::Variant("y".into(), some(Val::Float32(2.0)));
        assert_eq!(u64s(round_trip(&types, xyz, &v)), [1, 0x4000_0000]);
        assert_eq!(
            u64s(round_trip(&types, xyz, &Val::Variant("z".into(), None))),
            [2, 0]
        );
        // [i32, i64, i32, i32]: c(f32) fills slot 1 and zeroes the rest.
        let v = Val::Variant("c".into(), some(Val::Float32(1.0)));
        assert_eq!(u64s(round_trip(&types, long, &v)), [2, 0x3f80_0000, 0, 0]);
        let v = Val::Variant(
            "a".into(),
            some(Val::Tuple(vec![Val::U8(1), Val::U8(2), Val::U8(3)])),
        );
        assert_eq!(u64s(round_trip(&types, long, &v)), [0, 1, 2, 3]);

        // Lifting wraps the joined i64 slot for an f32 payload.
        let mut cx = LiftContext::new(None, StringEncoding::Utf8, &types);
        let slots = [ValRaw::from_u32(1), ValRaw::from_u64(0xabcd_0000_3fc0_0000)];
        let v = Val::lift_flat(&mut cx, ab, &mut FlatSource::new(&slots)).unwrap();
        assert_eq!(v, Val::Variant("b".into(), some(Val::Float32(1.5))));
    }

    #[test]
    fn lift_traps() {
        let mut b = ComponentTypesBuilder::new();
        let v3 = b.variant(Box::new([
            ("a".into(), None),
            ("b".into(), Some(T::U8)),
            ("c".into(), None),
        ]));
        let e = b.enumeration(names(4));
        let wide = b.list(T::U64);
        let types = b.finish();
        let mut cx = LiftContext::new(None, StringEncoding::Utf8, &types);
        let slots = [ValRaw::from_u32(5), ValRaw::from_u32(0)];
        let err = Val::lift_flat(&mut cx, v3, &mut FlatSource::new(&slots)).unwrap_err();
        assert_eq!(err.trap(), Some(Trap::InvalidDiscriminant));
        assert_eq!(err.detail(), Some("5 for variant with 3 cases"));
        let err = Val::lift_from_memory(&mut cx, e, &[4]).unwrap_err();
        assert_eq!(err.detail(), Some("4 for enum with 4 cases"));
        let err = Val::lift_from_memory(&mut cx, T::Char, &0xdfffu32.to_le_bytes()).unwrap_err();
        assert_eq!(err.trap(), Some(Trap::InvalidChar));

        let memory = vec![0u8; 0x10000];
        let mut cx = LiftContext::new(Some(&memory), StringEncoding::Utf8, &types);
        let mut list = |ptr: u32, len: u32| {
            let slots = [ValRaw::from_u32(ptr), ValRaw::from_u32(len)];
            Val::lift_flat(&mut cx, wide, &mut FlatSource::new(&slots))
        };
        let err = list(0x1004, 1).unwrap_err();
        assert_eq!(err.trap(), Some(Trap::UnalignedPointer));
        assert_eq!(err.detail(), Some("list<u64> at 0x1004, alignment 8"));
        let err = list(0xfff0, 4).unwrap_err();
        assert_eq!(err.trap(), Some(Trap::PointerOutOfBounds));
        assert_eq!(
            err.detail(),
            Some("list<u64> at 0xfff0 of 4 x 8 bytes, memory is 0x10000 bytes")
        );
        assert_eq!(
            list(0, u32::MAX).unwrap_err().trap(),
            Some(Trap::LengthOverflow)
        );
        assert_eq!(list(0xfff8, 1).unwrap(), Val::List(vec![Val::U64(0)]));
        let err = Val::lift_from_memory(&mut cx, T::String, &[0xfe, 0xff, 0, 0, 4, 0, 0, 0]);
        assert_eq!(err.unwrap_err().trap(), Some(Trap::PointerOutOfBounds));
    }

    #[test]
    fn byte_lists_are_one_copy() {
        let mut b = ComponentTypesBuilder::new();
        let bytes = b.list(T::U8);
        let types = b.finish();
        let mut mem = TestMemory::new();
        let mut cx = LowerContext::new(&mut mem, StringEncoding::Utf8, &types);
        let v = Val::List((0..100).map(Val::U8).collect());
        v.lower_to_memory(&mut cx, bytes, 0).unwrap();
        assert_eq!(mem.calls, [(0, 0, 1, 100)]);
        assert_eq!(mem.bytes[..8], [8, 0, 0, 0, 100, 0, 0, 0]);
        assert_eq!(mem.bytes[8..108], (0..100).collect::<Vec<u8>>());
    }

    #[test]
    fn typecheck_and_lowering_mismatches() {
        let mut b = ComponentTypesBuilder::new();
        let strings = b.list(T::String);
        let point = b.record(Box::new([("x".into(), T::S32), ("y".into(), T::S32)]));
        let e = b.enumeration(Box::new(["a".into(), "b".into()]));
        let v = b.variant(Box::new([("a".into(), None), ("b".into(), Some(T::U8))]));
        let f = b.flags(names(2));
        let r = b.result(Some(T::U8), None);
        let types = b.finish();
        let msg = |val: &Val, ty: T| typecheck_val(val, &ty, &types).unwrap_err().to_string();
        assert_eq!(
            msg(&Val::U32(1), T::String),
            "expected `string`, found `u32`"
        );
        assert_eq!(
            msg(
                &Val::List(vec![Val::String("a".into()), Val::U32(1)]),
                strings
            ),
            "expected `string`, found `u32` (in list element 1)"
        );
        let p = Val::Record(vec![("x".into(), Val::S32(1)), ("z".into(), Val::S32(2))]);
        assert_eq!(
            msg(&p, point),
            "expected `record { x: s32, y: s32 }`, found a record with fields {`x`, `z`}"
        );
        let p = Val::Record(vec![("x".into(), Val::S32(1)), ("y".into(), Val::U8(2))]);
        assert_eq!(msg(&p, point), "expected `s32`, found `u8` (in field `y`)");
        assert_eq!(
            msg(&Val::Enum("c".into()), e),
            "expected `enum { a, b }`, found enum case `c`"
        );
        assert_eq!(
            msg(&Val::Variant("b".into(), None), v),
            "expected `variant { a, b(u8) }`, found variant case `b` without a payload"
        );
        assert_eq!(
            msg(&Val::Flags(vec!["f5".into()]), f),
            "expected `flags { f0, f1 }`, found flags {`f5`}"
        );
        assert_eq!(
            msg(&Val::Result(Err(some(Val::U8(1)))), r),
            "expected `result<u8>`, found a result `error` with a payload"
        );
        assert_eq!(
            msg(
                &Val::U8(0),
                T::Own(crate::artifact::component::ResourceIndex(0))
            ),
            "expected `own<resource0>`, found `u8`"
        );

        // Lowering checks as it goes: an error, never a panic.
        let mut mem = TestMemory::new();
        let mut cx = LowerContext::new(&mut mem, StringEncoding::Utf8, &types);
        let mut slots = [ValRaw::default(); 2];
        let mut dst = FlatSink::new(&mut slots);
        let err = Val::U32(1)
            .lower_flat(&mut cx, T::String, &mut dst)
            .unwrap_err();
        assert_eq!(err.to_string(), "expected `string`, found `u32`");
        assert!(err.downcast_ref::<TypeMismatch>().is_some());
        let bad = Val::List(vec![Val::U32(1)]);
        assert!(bad.lower_to_memory(&mut cx, strings, 0).is_err());
        let err = Val::U8(1).lower_to_memory(
            &mut cx,
            T::Own(crate::artifact::component::ResourceIndex(0)),
            0,
        );
        assert_eq!(
            err.unwrap_err().to_string(),
            "expected `own<resource0>`, found `u8`"
        );
        // A handle needs the handle tables of a call over a store.
        let store = crate::AsContext::as_context(&crate::Store::new(()))
            .0
            .opaque
            .id;
        let any = Val::Resource(crate::component::ResourceAny {
            store,
            ty: crate::component::ResourceType::guest(
                store,
                0,
                crate::artifact::component::ResourceIndex(0),
            ),
            index: 0,
            generation: 0,
            own: true,
        });
        let err = any.lower_to_memory(
            &mut cx,
            T::Own(crate::artifact::component::ResourceIndex(0)),
            0,
        );
        assert!(err.unwrap_err().to_string().contains("over a store"));
    }
}
