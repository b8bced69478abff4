//! The run-time half of `#[derive(ComponentType, Lift, Lower)]` and `flags!` (the macros are in
//! `aot-macros`): the helpers their expansions call, re-exported as
//! `aot_runtime::component::__internal`. Nothing here is a public API.
//!
//! An expansion only lists what the Rust type knows (its names, its field and payload types and
//! their `ABI` constants); these helpers do the rest with the same code [`Val`](super::Val) and
//! the standard impls use: the discriminant, flags and region helpers of `lift.rs` and `lower.rs`,
//! [`TypeMismatch`] for structural checks (names and order compared exactly, the first difference
//! named), and the flat variant rule (a case writes its index, its payload, then zeros up to the
//! variant's flat count; slot widening is the [`FlatSink`]/[`FlatSource`] representation's).
//!
//! Lifting and lowering trust the type check but look every table entry up with `get`, so a value
//! used with a type it was never checked against is an error, never a panic.

/// The helpers derive and `flags!` expansions call. Hidden; not a stable API.
#[doc(hidden)]
pub mod __internal {
    use crate::artifact::component::{TypeEnum, TypeFlags, TypeRecord, TypeVariant};
    use crate::component::lift::{self, check_case, flat_count, load_discriminant, payload};
    use crate::component::lower;
    use crate::component::typed::{short_type_name, unchecked};
    use crate::error::Error;
    use crate::prelude::*;
    use core::fmt;

    pub use crate::Result;
    pub use crate::artifact::component::{CanonicalAbiInfo, ComponentTypes, InterfaceType};
    pub use crate::component::lift::FlatSource;
    pub use crate::component::lower::FlatSink;
    pub use crate::component::{
        ComponentType, Lift, LiftContext, Lower, LowerContext, TypeMismatch,
    };

    /// The type check of one field or payload type (`<F as ComponentType>::typecheck`).
    pub type Typecheck = fn(&InterfaceType, &ComponentTypes) -> Result<(), TypeMismatch>;

    /// `T` does not match `ty`; `detail` says how (`with field `b` where `a` is expected`).
    #[cold]
    fn mismatch<T: ?Sized>(
        ty: &InterfaceType,
        types: &ComponentTypes,
        detail: &str,
    ) -> TypeMismatch {
        let found = format!("Rust type `{}`", short_type_name::<T>());
        let found = if detail.is_empty() {
            found
        } else {
            format!("{found} {detail}")
        };
        TypeMismatch::val(ty, types, found)
    }

    /// The first difference between the Rust names (`ours`) and the type's (`theirs`), if any,
    /// as a detail of a mismatch: `with field `b` where `a` is expected`, `without case `c``,
    /// `with extra flag `d``.
    fn first_difference<'s>(
        what: &str,
        ours: impl ExactSizeIterator<Item = &'s str>,
        theirs: impl ExactSizeIterator<Item = &'s str>,
    ) -> Option<String> {
        let (mut ours, mut theirs) = (ours, theirs);
        loop {
            match (ours.next(), theirs.next()) {
                (None, None) => return None,
                (Some(a), Some(b)) if a == b => {}
                (Some(a), Some(b)) => {
                    return Some(format!("with {what} `{a}` where `{b}` is expected"));
                }
                (Some(a), None) => return Some(format!("with extra {what} `{a}`")),
                (None, Some(b)) => return Some(format!("without {what} `{b}`")),
            }
        }
    }

    /// Checks a record type against a struct `R` with these fields (name and type check, in
    /// order).
    ///
    /// # Errors
    /// A [`TypeMismatch`] naming `R` and the first differing name, or the field whose type
    /// differs.
    pub fn typecheck_record<R: ?Sized>(
        ty: &InterfaceType,
        types: &ComponentTypes,
        fields: &[(&str, Typecheck)],
    ) -> Result<(), TypeMismatch> {
        let record = match ty {
            InterfaceType::Record(i) => types.records.get(i.index()),
            _ => None,
        }
        .ok_or_else(|| mismatch::<R>(ty, types, ""))?;
        let ours = fields.iter().map(|(name, _)| *name);
        let theirs = record.fields.iter().map(|(name, _)| name.as_str());
        if let Some(detail) = first_difference("field", ours, theirs) {
            return Err(mismatch::<R>(ty, types, &detail));
        }
        for ((name, check), (_, field_ty)) in fields.iter().zip(record.fields.iter()) {
            check(field_ty, types).map_err(|e| e.within(format_args!("field `{name}`")))?;
        }
        Ok(())
    }

    /// Checks a variant type against an enum `V` with these cases (a payload's type check, or
    /// `None` for a case without payload).
    ///
    /// # Errors
    /// A [`TypeMismatch`] naming `V` and the first differing name or payload.
    pub fn typecheck_variant<V: ?Sized>(
        ty: &InterfaceType,
        types: &ComponentTypes,
        cases: &[(&str, Option<Typecheck>)],
    ) -> Result<(), TypeMismatch> {
        let variant = match ty {
            InterfaceType::Variant(i) => types.variants.get(i.index()),
            _ => None,
        }
        .ok_or_else(|| mismatch::<V>(ty, types, ""))?;
        let ours = cases.iter().map(|(name, _)| *name);
        let theirs = variant.cases.iter().map(|(name, _)| name.as_str());
        if let Some(detail) = first_difference("case", ours, theirs) {
            return Err(mismatch::<V>(ty, types, &detail));
        }
        for ((name, check), (_, case_ty)) in cases.iter().zip(variant.cases.iter()) {
            match (check, case_ty) {
                (Some(check), Some(case_ty)) => {
                    check(case_ty, types).map_err(|e| e.within(format_args!("case `{name}`")))?
                }
                (None, None) => {}
                (Some(_), None) => {
                    let detail = format!("whose case `{name}` has a payload");
                    return Err(mismatch::<V>(ty, types, &detail));
                }
                (None, Some(_)) => {
                    let detail = format!("whose case `{name}` has no payload");
                    return Err(mismatch::<V>(ty, types, &detail));
                }
            }
        }
        Ok(())
    }

    /// Checks an enum type against an enum `E` with these case names.
    ///
    /// # Errors
    /// A [`TypeMismatch`] naming `E` and the first differing name.
    pub fn typecheck_enum<E: ?Sized>(
        ty: &InterfaceType,
        types: &ComponentTypes,
        names: &[&str],
    ) -> Result<(), TypeMismatch> {
        let e = match ty {
            InterfaceType::Enum(i) => types.enums.get(i.index()),
            _ => None,
        }
        .ok_or_else(|| mismatch::<E>(ty, types, ""))?;
        let theirs = e.names.iter().map(String::as_str);
        match first_difference("case", names.iter().copied(), theirs) {
            Some(detail) => Err(mismatch::<E>(ty, types, &detail)),
            None => Ok(()),
        }
    }

    /// Checks a flags type against a `flags!` type `F` with these flag names.
    ///
    /// # Errors
    /// A [`TypeMismatch`] naming `F` and the first differing name.
    pub fn typecheck_flags<F: ?Sized>(
        ty: &InterfaceType,
        types: &ComponentTypes,
        names: &[&str],
    ) -> Result<(), TypeMismatch> {
        let flags = match ty {
            InterfaceType::Flags(i) => types.flags.get(i.index()),
            _ => None,
        }
        .ok_or_else(|| mismatch::<F>(ty, types, ""))?;
        let theirs = flags.names.iter().map(String::as_str);
        match first_difference("flag", names.iter().copied(), theirs) {
            Some(detail) => Err(mismatch::<F>(ty, types, &detail)),
            None => Ok(()),
        }
    }

    // ---- records ----

    fn record_type(types: &ComponentTypes, ty: InterfaceType, n: usize) -> Result<&TypeRecord> {
        match ty {
            InterfaceType::Record(i) => types.records.get(i.index()),
            _ => None,
        }
        .filter(|r| r.fields.len() == n)
        .ok_or_else(|| unchecked(ty))
    }

    fn field_types<const N: usize>(
        types: &ComponentTypes,
        ty: InterfaceType,
    ) -> Result<[InterfaceType; N]> {
        let record = record_type(types, ty, N)?;
        let mut out = [InterfaceType::Bool; N];
        for (slot, (_, field)) in out.iter_mut().zip(record.fields.iter()) {
            *slot = *field;
        }
        Ok(out)
    }

    /// The field types of record `ty`, which has `N` fields, for lowering.
    ///
    /// # Errors
    /// If `ty` is not a record of `N` fields (a value never checked against it).
    pub fn record_fields_lower<const N: usize>(
        cx: &LowerContext<'_>,
        ty: InterfaceType,
    ) -> Result<[InterfaceType; N]> {
        field_types(cx.types, ty)
    }

    /// The field types of record `ty`, which has `N` fields, for lifting.
    ///
    /// # Errors
    /// If `ty` is not a record of `N` fields.
    pub fn record_fields_lift<const N: usize>(
        cx: &LiftContext<'_>,
        ty: InterfaceType,
    ) -> Result<[InterfaceType; N]> {
        field_types(cx.types, ty)
    }

    /// The offset in memory of the next field, of layout `abi`, of a record at `offset`
    /// (`next` is the running offset inside the record, see
    /// [`CanonicalAbiInfo::next_field32`]).
    pub fn field_offset(offset: usize, abi: CanonicalAbiInfo, next: &mut u32) -> usize {
        offset + abi.next_field32(next) as usize
    }

    /// The bytes of the next field, of layout `abi`, of a record's `bytes`.
    ///
    /// # Errors
    /// If the field is outside `bytes` (a layout that does not match the type).
    pub fn field_bytes<'b>(
        bytes: &'b [u8],
        abi: CanonicalAbiInfo,
        next: &mut u32,
    ) -> Result<&'b [u8]> {
        lift::field(bytes, abi.next_field32(next), abi.size32)
    }

    // ---- variants ----

    fn variant_type(types: &ComponentTypes, ty: InterfaceType, n: usize) -> Result<&TypeVariant> {
        match ty {
            InterfaceType::Variant(i) => types.variants.get(i.index()),
            _ => None,
        }
        .filter(|v| v.cases.len() == n)
        .ok_or_else(|| unchecked(ty))
    }

    /// The payload type of `case` of `variant`, checked against the presence of a Rust payload.
    fn case_type(
        variant: &TypeVariant,
        ty: InterfaceType,
        case: u32,
        has_payload: bool,
    ) -> Result<Option<InterfaceType>> {
        match variant.cases.get(case as usize) {
            Some((_, case_ty)) if case_ty.is_some() == has_payload => Ok(*case_ty),
            _ => Err(unchecked(ty)),
        }
    }

    /// Lowers case `case` of variant `ty` (of `n` cases) flat: its index, its payload, then
    /// zeros up to the variant's flat count (spec `lower_flat_variant`).
    ///
    /// # Errors
    /// Lowering the payload fails, or `ty` does not match.
    pub fn lower_variant_flat<P: Lower + ?Sized>(
        cx: &mut LowerContext<'_>,
        ty: InterfaceType,
        n: usize,
        case: u32,
        payload: Option<&P>,
        dst: &mut FlatSink<'_>,
    ) -> Result<()> {
        let variant = variant_type(cx.types, ty, n)?;
        let case_ty = case_type(variant, ty, case, payload.is_some())?;
        let end = dst.position() + flat_count(&variant.abi)?;
        dst.push_u32(case)?;
        if let (Some(p), Some(t)) = (payload, case_ty) {
            p.lower_flat(cx, t, dst)?;
        }
        dst.fill_to(end)
    }

    /// Lowers case `case` of variant `ty` (of `n` cases) into memory at `offset`: the
    /// discriminant, then the payload at the payload offset (spec `store_variant`).
    ///
    /// # Errors
    /// Lowering the payload fails, or `ty` does not match.
    pub fn lower_variant_to_memory<P: Lower + ?Sized>(
        cx: &mut LowerContext<'_>,
        ty: InterfaceType,
        n: usize,
        case: u32,
        payload: Option<&P>,
        offset: usize,
    ) -> Result<()> {
        let variant = variant_type(cx.types, ty, n)?;
        let case_ty = case_type(variant, ty, case, payload.is_some())?;
        cx.write_discriminant(offset, &variant.info, case)?;
        match (payload, case_ty) {
            (Some(p), Some(t)) => {
                p.lower_to_memory(cx, t, offset + variant.info.payload_offset32 as usize)
            }
            _ => Ok(()),
        }
    }

    /// Lifts variant `ty` (of `n` cases) from flat values: reads and checks the discriminant
    /// (`InvalidDiscriminant`), lets `case` build the value from the case index and payload
    /// type, then skips the slots the case did not use (spec `lift_flat_variant`).
    ///
    /// # Errors
    /// A bad discriminant, `case`'s error, or `ty` does not match.
    pub fn lift_variant_flat<V>(
        cx: &mut LiftContext<'_>,
        ty: InterfaceType,
        n: usize,
        src: &mut FlatSource<'_>,
        case: impl FnOnce(
            &mut LiftContext<'_>,
            usize,
            Option<InterfaceType>,
            &mut FlatSource<'_>,
        ) -> Result<V>,
    ) -> Result<V> {
        let variant = variant_type(cx.types, ty, n)?;
        let end = src.position() + flat_count(&variant.abi)?;
        let index = check_case(src.next_u32()?, n, "variant")?;
        let case_ty = variant.cases.get(index).and_then(|(_, t)| *t);
        let value = case(cx, index, case_ty, src)?;
        src.skip_to(end)?;
        Ok(value)
    }

    /// Lifts variant `ty` (of `n` cases) from its `bytes` in memory: checks the discriminant,
    /// then lets `case` build the value from the case index, payload type and payload bytes
    /// (spec `load_variant`).
    ///
    /// # Errors
    /// A bad discriminant, `case`'s error, or `ty` does not match.
    pub fn lift_variant_from_memory<V>(
        cx: &mut LiftContext<'_>,
        ty: InterfaceType,
        n: usize,
        bytes: &[u8],
        case: impl FnOnce(&mut LiftContext<'_>, usize, Option<InterfaceType>, &[u8]) -> Result<V>,
    ) -> Result<V> {
        let variant = variant_type(cx.types, ty, n)?;
        let index = check_case(load_discriminant(bytes, &variant.info)?, n, "variant")?;
        let case_ty = variant.cases.get(index).and_then(|(_, t)| *t);
        let bytes = payload(bytes, &variant.info, &variant.abi)?;
        case(cx, index, case_ty, bytes)
    }

    /// Lifts a case's payload of type `ty` flat (`None`: the type's case has no payload, which
    /// the type check rules out).
    ///
    /// # Errors
    /// Lifting fails.
    pub fn lift_payload_flat<P: Lift>(
        cx: &mut LiftContext<'_>,
        ty: Option<InterfaceType>,
        src: &mut FlatSource<'_>,
    ) -> Result<P> {
        match ty {
            Some(ty) => P::lift_flat(cx, ty, src),
            None => Err(no_payload_type()),
        }
    }

    /// Lifts a case's payload of type `ty` from its bytes.
    ///
    /// # Errors
    /// Lifting fails.
    pub fn lift_payload_from_memory<P: Lift>(
        cx: &mut LiftContext<'_>,
        ty: Option<InterfaceType>,
        bytes: &[u8],
    ) -> Result<P> {
        match ty {
            Some(ty) => P::lift_from_memory(cx, ty, bytes),
            None => Err(no_payload_type()),
        }
    }

    /// Checks that the type's case has no payload, as the Rust case.
    ///
    /// # Errors
    /// If it has one (a type never checked against the Rust type).
    pub fn no_payload(ty: Option<InterfaceType>) -> Result<()> {
        match ty {
            None => Ok(()),
            Some(ty) => Err(Error::bug(format!(
                "a variant case without payload lifted as a case with payload {ty:?}"
            ))),
        }
    }

    #[cold]
    fn no_payload_type() -> Error {
        Error::bug("a variant case with payload lifted as a case without one")
    }

    /// The error for a case index past the Rust cases (ruled out by the discriminant check).
    #[cold]
    pub fn bad_case(case: usize) -> Error {
        Error::bug(format!("variant case {case} has no Rust counterpart"))
    }

    // ---- enums ----

    fn enum_type(types: &ComponentTypes, ty: InterfaceType, n: usize) -> Result<&TypeEnum> {
        match ty {
            InterfaceType::Enum(i) => types.enums.get(i.index()),
            _ => None,
        }
        .filter(|e| e.names.len() == n)
        .ok_or_else(|| unchecked(ty))
    }

    /// Lowers case `case` of enum `ty` (of `n` cases) flat.
    ///
    /// # Errors
    /// `ty` does not match.
    pub fn lower_enum_flat(
        cx: &LowerContext<'_>,
        ty: InterfaceType,
        n: usize,
        case: u32,
        dst: &mut FlatSink<'_>,
    ) -> Result<()> {
        enum_type(cx.types, ty, n)?;
        dst.push_u32(case)
    }

    /// Lowers case `case` of enum `ty` (of `n` cases) into memory at `offset`.
    ///
    /// # Errors
    /// `ty` does not match.
    pub fn lower_enum_to_memory(
        cx: &mut LowerContext<'_>,
        ty: InterfaceType,
        n: usize,
        case: u32,
        offset: usize,
    ) -> Result<()> {
        let info = enum_type(cx.types, ty, n)?.info;
        cx.write_discriminant(offset, &info, case)
    }

    /// Lifts the case index of enum `ty` (of `n` cases) from flat values.
    ///
    /// # Errors
    /// A bad discriminant (`InvalidDiscriminant`), or `ty` does not match.
    pub fn lift_enum_flat(
        cx: &LiftContext<'_>,
        ty: InterfaceType,
        n: usize,
        src: &mut FlatSource<'_>,
    ) -> Result<usize> {
        enum_type(cx.types, ty, n)?;
        check_case(src.next_u32()?, n, "enum")
    }

    /// Lifts the case index of enum `ty` (of `n` cases) from its bytes.
    ///
    /// # Errors
    /// A bad discriminant (`InvalidDiscriminant`), or `ty` does not match.
    pub fn lift_enum_from_memory(
        cx: &LiftContext<'_>,
        ty: InterfaceType,
        n: usize,
        bytes: &[u8],
    ) -> Result<usize> {
        let e = enum_type(cx.types, ty, n)?;
        check_case(load_discriminant(bytes, &e.info)?, n, "enum")
    }

    // ---- flags ----

    fn flags_type(types: &ComponentTypes, ty: InterfaceType, n: usize) -> Result<&TypeFlags> {
        match ty {
            InterfaceType::Flags(i) => types.flags.get(i.index()),
            _ => None,
        }
        .filter(|f| f.names.len() == n)
        .ok_or_else(|| unchecked(ty))
    }

    /// Lowers flags `ty` (of `n` flags, set bits in `words` of 32 flags) flat.
    ///
    /// # Errors
    /// `ty` does not match.
    pub fn lower_flags_flat(
        cx: &LowerContext<'_>,
        ty: InterfaceType,
        n: usize,
        words: &[u32],
        dst: &mut FlatSink<'_>,
    ) -> Result<()> {
        flags_type(cx.types, ty, n)?;
        lower::lower_flags_flat(dst, words, n)
    }

    /// Lowers flags `ty` (of `n` flags) into memory at `offset`.
    ///
    /// # Errors
    /// `ty` does not match.
    pub fn lower_flags_to_memory(
        cx: &mut LowerContext<'_>,
        ty: InterfaceType,
        n: usize,
        words: &[u32],
        offset: usize,
    ) -> Result<()> {
        flags_type(cx.types, ty, n)?;
        cx.write_flags(offset, words, n)
    }

    fn words<const W: usize>(words: Vec<u32>) -> Result<[u32; W]> {
        let len = words.len();
        words
            .try_into()
            .map_err(|_| Error::bug(format!("{len} words of flags lifted as {W}")))
    }

    /// Lifts flags `ty` (of `n` flags, `W` words) from flat values; bits past the flags are
    /// ignored.
    ///
    /// # Errors
    /// `ty` does not match.
    pub fn lift_flags_flat<const W: usize>(
        cx: &LiftContext<'_>,
        ty: InterfaceType,
        n: usize,
        src: &mut FlatSource<'_>,
    ) -> Result<[u32; W]> {
        flags_type(cx.types, ty, n)?;
        words(lift::lift_flags_flat(src, n)?)
    }

    /// Lifts flags `ty` (of `n` flags, `W` words) from their bytes; bits past the flags are
    /// ignored.
    ///
    /// # Errors
    /// `ty` does not match.
    pub fn lift_flags_from_memory<const W: usize>(
        cx: &LiftContext<'_>,
        ty: InterfaceType,
        n: usize,
        bytes: &[u8],
    ) -> Result<[u32; W]> {
        flags_type(cx.types, ty, n)?;
        words(lift::load_flags(bytes, n)?)
    }

    /// Whether every bit of `b` is set in `a`.
    pub fn flags_contains(a: &[u32], b: &[u32]) -> bool {
        a.iter().zip(b).all(|(a, b)| a & b == *b)
    }

    /// `Debug` of a flags value: `Perms(READ | WRITE_ALL)`, `Perms()` when empty. `consts` are
    /// the Rust names of the flags, in bit order.
    ///
    /// # Errors
    /// The formatter's.
    pub fn fmt_flags(
        f: &mut fmt::Formatter<'_>,
        type_name: &str,
        consts: &[&str],
        words: &[u32],
    ) -> fmt::Result {
        write!(f, "{type_name}(")?;
        let set = consts
            .iter()
            .enumerate()
            .filter(|(i, _)| words.get(i / 32).is_some_and(|w| w >> (i % 32) & 1 == 1));
        for (k, (_, name)) in set.enumerate() {
            if k > 0 {
                f.write_str(" | ")?;
            }
            f.write_str(name)?;
        }
        f.write_str(")")
    }

    #[cfg(test)]
    mod tests {
        use super::*;
        use crate::artifact::component::ComponentTypesBuilder;
        use crate::artifact::component::StringEncoding;
        use crate::component::context::test_memory::TestMemory;
        use crate::values::ValRaw;

        fn check_u32(ty: &InterfaceType, types: &ComponentTypes) -> Result<(), TypeMismatch> {
            u32::typecheck(ty, types)
        }

        fn check_string(ty: &InterfaceType, types: &ComponentTypes) -> Result<(), TypeMismatch> {
            String::typecheck(ty, types)
        }

        #[test]
        fn record_typecheck_names_the_first_difference() {
            let mut b = ComponentTypesBuilder::new();
            let rec = b.record(Box::new([
                ("name".into(), InterfaceType::String),
                ("age".into(), InterfaceType::U32),
            ]));
            let types = b.finish();
            let msg = |fields: &[(&str, Typecheck)]| {
                typecheck_record::<str>(&rec, &types, fields).map_err(|e| e.to_string())
            };
            msg(&[("name", check_string), ("age", check_u32)]).unwrap();
            let expected = "expected `record { name: string, age: u32 }`, found Rust type `str`";
            assert_eq!(
                msg(&[("name", check_string), ("years", check_u32)]).unwrap_err(),
                format!("{expected} with field `years` where `age` is expected")
            );
            assert_eq!(
                msg(&[("name", check_string)]).unwrap_err(),
                format!("{expected} without field `age`")
            );
            assert_eq!(
                msg(&[("name", check_string), ("age", check_string)]).unwrap_err(),
                "expected `u32`, found Rust type `String` (in field `age`)"
            );
            assert_eq!(
                typecheck_enum::<str>(&rec, &types, &["a"])
                    .unwrap_err()
                    .to_string(),
                expected
            );
        }

        #[test]
        fn variants_flat_and_in_memory() {
            let mut b = ComponentTypesBuilder::new();
            let v = b.variant(Box::new([
                ("a".into(), Some(InterfaceType::F32)),
                ("b".into(), Some(InterfaceType::U64)),
                ("c".into(), None),
            ]));
            let types = b.finish();
            let mut mem = TestMemory::new();
            let mut cx = LowerContext::new(&mut mem, StringEncoding::Utf8, &types);
            let mut slots = [ValRaw::from_u64(u64::MAX); 2];
            let mut dst = FlatSink::new(&mut slots);
            lower_variant_flat(&mut cx, v, 3, 0, Some(&1.5f32), &mut dst).unwrap();
            dst.finish().unwrap();
            // The f32 payload is zero-extended into the joined i64 slot.
            assert_eq!(slots[1].get_u64(), u64::from(1.5f32.to_bits()));
            let mut cx = LowerContext::new(&mut mem, StringEncoding::Utf8, &types);
            lower_variant_to_memory::<()>(&mut cx, v, 3, 2, None, 16).unwrap();
            lower_variant_to_memory(&mut cx, v, 3, 1, Some(&7u64), 32).unwrap();
            assert_eq!(mem.bytes[16], 2);
            assert_eq!(
                mem.bytes[32..48],
                [1, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0]
            );
            // A payload where the type has none is refused, not lowered.
            let mut cx = LowerContext::new(&mut mem, StringEncoding::Utf8, &types);
            assert!(lower_variant_to_memory(&mut cx, v, 3, 2, Some(&1u8), 0).is_err());

            let mut cx = LiftContext::new(Some(&mem.bytes), StringEncoding::Utf8, &types);
            let mut src = FlatSource::new(&slots);
            let got = lift_variant_flat(&mut cx, v, 3, &mut src, |cx, case, t, src| {
                assert_eq!(case, 0);
                lift_payload_flat::<f32>(cx, t, src)
            });
            assert_eq!(got.unwrap(), 1.5);
            src.finish().unwrap();
            let got = lift_variant_from_memory(&mut cx, v, 3, &mem.bytes[32..48], |cx, c, t, b| {
                Ok((c, lift_payload_from_memory::<u64>(cx, t, b)?))
            });
            assert_eq!(got.unwrap(), (1, 7));
            let bad = [ValRaw::from_u32(3), ValRaw::default()];
            let err = lift_variant_flat(&mut cx, v, 3, &mut FlatSource::new(&bad), |_, _, _, _| {
                Ok(())
            })
            .unwrap_err();
            assert_eq!(err.trap(), Some(crate::Trap::InvalidDiscriminant));
            assert_eq!(err.detail(), Some("3 for variant with 3 cases"));
        }

        #[test]
        fn flags_words() {
            let mut b = ComponentTypesBuilder::new();
            let names: Box<[String]> = (0..40).map(|i| format!("f{i}")).collect();
            let f = b.flags(names);
            let types = b.finish();
            let mut mem = TestMemory::new();
            let mut cx = LowerContext::new(&mut mem, StringEncoding::Utf8, &types);
            lower_flags_to_memory(&mut cx, f, 40, &[1, 1 << 7], 8).unwrap();
            let cx = LiftContext::new(Some(&mem.bytes), StringEncoding::Utf8, &types);
            let words: [u32; 2] = lift_flags_from_memory(&cx, f, 40, &mem.bytes[8..16]).unwrap();
            assert_eq!(words, [1, 1 << 7]);
            assert!(lift_flags_from_memory::<2>(&cx, f, 39, &mem.bytes[8..16]).is_err());
            assert!(flags_contains(&[0b111, 1], &[0b101, 1]));
            assert!(!flags_contains(&[0b111, 0], &[0b101, 1]));
        }
    }
}
