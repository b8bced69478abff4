//! The canonical ABI's layout math, once, for the compiler, the runtime and derive macros:
//! size and alignment of every interface type ([`CanonicalAbiInfo`]), variant discriminants and
//! payload offsets ([`VariantInfo`]), flattening into core values ([`flatten`], [`FlatType::join`])
//! and the flat-or-memory decision for function types ([`flatten_func`]).
//!
//! Every rule follows `CanonicalABI.md` of the component-model specification (sections
//! "Alignment", "Element Size" and "Flattening"); each function names the spec function it
//! implements. The per-type functions are `const fn`s over [`CanonicalAbiInfo`] values so that
//! `ComponentType::ABI` constants of Rust types are computed by exactly this code. Functions over
//! type tables ([`flatten`], [`flatten_func`]) are plain functions.
//!
//! Arithmetic saturates instead of overflowing, so a corrupt artifact can never make this code
//! panic; [`super::ComponentTypes::validate`] rejects any type whose size reaches
//! [`MAX_TYPE_SIZE`], below which every computation here is exact. Nothing here touches memory.

use super::types::{ComponentTypes, InterfaceType, TypeFunc};
use crate::artifact::types::{FuncType, ValType};
use alloc::vec::Vec;
use serde::{Deserialize, Serialize};

/// Most core parameters a function passes flat; more spill into memory as one tuple
/// (`MAX_FLAT_PARAMS` of the spec).
pub const MAX_FLAT_PARAMS: usize = 16;
/// Most core results a function returns flat; more go through a return pointer
/// (`MAX_FLAT_RESULTS` of the spec).
pub const MAX_FLAT_RESULTS: usize = 1;
/// Sizes of valid types stay below this bound (`2^31` bytes); the loader rejects larger ones, so
/// that no layout computation of a loaded type ever saturates.
pub const MAX_TYPE_SIZE: u32 = 1 << 31;

/// Size, alignment and flat count of an interface type in the 32-bit canonical ABI.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CanonicalAbiInfo {
    /// Bytes the value occupies in linear memory (the spec's `elem_size`), a multiple of
    /// `align32`.
    pub size32: u32,
    /// Alignment in linear memory (the spec's `alignment`): 1, 2, 4 or 8.
    pub align32: u32,
    /// Number of core values the type flattens to, or `None` if that is more than
    /// [`MAX_FLAT_PARAMS`] (such a value is never passed flat).
    pub flat_count: Option<u8>,
}

impl CanonicalAbiInfo {
    /// A type with no bytes and no flat values (empty tuple, flags without labels).
    pub const ZERO: Self = Self::scalar(0, 1);
    /// One-byte scalars: `bool`, `s8`, `u8`.
    pub const SCALAR1: Self = Self::scalar(1, 1);
    /// Two-byte scalars: `s16`, `u16`.
    pub const SCALAR2: Self = Self::scalar(2, 2);
    /// Four-byte scalars: `s32`, `u32`, `f32`, `char`, `own`, `borrow`.
    pub const SCALAR4: Self = Self::scalar(4, 4);
    /// Eight-byte scalars: `s64`, `u64`, `f64`.
    pub const SCALAR8: Self = Self::scalar(8, 8);
    /// `string` and `list<T>`: a pointer and a length, two `i32`s.
    pub const POINTER_PAIR: Self = Self {
        size32: 8,
        align32: 4,
        flat_count: Some(2),
    };

    /// A scalar of `size` bytes (one flat value, none when `size` is 0).
    const fn scalar(size: u32, align: u32) -> Self {
        Self {
            size32: size,
            align32: align,
            flat_count: Some(if size == 0 { 0 } else { 1 }),
        }
    }

    /// A record (or tuple) of `fields`, in order: each field at the next offset aligned for it,
    /// the whole rounded up to the largest alignment (spec `alignment_record`,
    /// `elem_size_record`, `flatten_record`).
    pub const fn record(fields: &[CanonicalAbiInfo]) -> Self {
        let mut size = 0u32;
        let mut align = 1u32;
        let mut flat = Some(0u8);
        let mut i = 0;
        while i < fields.len() {
            let field = &fields[i];
            size = align_to(size, field.align32).saturating_add(field.size32);
            align = max(align, field.align32);
            flat = add_flat(flat, field.flat_count);
            i += 1;
        }
        Self {
            size32: align_to(size, align),
            align32: align,
            flat_count: flat,
        }
    }

    /// A variant whose cases carry these payloads (`None`: no payload). Enums, options and
    /// results are variants too (spec `despecialize`).
    pub const fn variant(cases: &[Option<CanonicalAbiInfo>]) -> Self {
        VariantInfo::new(cases).1
    }

    /// An enum of `count` cases: a variant without payloads.
    pub const fn enumeration(count: usize) -> Self {
        VariantInfo::enumeration(count).1
    }

    /// Flags with `count` labels: 0 bytes for none, 1 byte up to 8, 2 bytes up to 16, then
    /// `4 * ceil(count / 32)` bytes aligned to 4, one `i32` per 32 labels (spec
    /// `alignment_flags`, `elem_size_flags`, `num_i32_flags`).
    pub const fn flags(count: usize) -> Self {
        if count == 0 {
            Self::ZERO
        } else if count <= 8 {
            Self::SCALAR1
        } else if count <= 16 {
            Self::SCALAR2
        } else {
            let words = num_i32_flags(count);
            let size32 = if words > (u32::MAX / 4) as usize {
                !3
            } else {
                words as u32 * 4
            };
            Self {
                size32,
                align32: 4,
                flat_count: if words <= MAX_FLAT_PARAMS {
                    Some(words as u8)
                } else {
                    None
                },
            }
        }
    }

    /// The offset of a field of this type placed at or after `*offset`, advancing `*offset` past
    /// it: how records, tuples and parameter lists are laid out field by field.
    pub const fn next_field32(&self, offset: &mut u32) -> u32 {
        let at = align_to(*offset, self.align32);
        *offset = at.saturating_add(self.size32);
        at
    }

    /// The flat count if it is at most `max`.
    pub const fn flat_count(&self, max: usize) -> Option<usize> {
        match self.flat_count {
            Some(n) if n as usize <= max => Some(n as usize),
            _ => None,
        }
    }
}

/// Size of a variant's discriminant (spec `discriminant_type`).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum DiscriminantSize {
    /// `u8`: up to 256 cases.
    Size1,
    /// `u16`: up to 65536 cases.
    Size2,
    /// `u32`: more cases.
    Size4,
}

impl DiscriminantSize {
    /// The discriminant of a variant with `count` cases: the spec's
    /// `ceil(log2(count) / 8)` bytes, rounded up to 1, 2 or 4. `None` for 0 cases or more than
    /// `2^32 - 1`, which the spec does not allow.
    pub const fn from_count(count: usize) -> Option<Self> {
        if count == 0 {
            None
        } else if count <= 1 << 8 {
            Some(Self::Size1)
        } else if count <= 1 << 16 {
            Some(Self::Size2)
        } else if count as u64 <= u32::MAX as u64 {
            Some(Self::Size4)
        } else {
            None
        }
    }

    /// Bytes of the discriminant in memory.
    pub const fn byte_size(self) -> u32 {
        match self {
            Self::Size1 => 1,
            Self::Size2 => 2,
            Self::Size4 => 4,
        }
    }
}

/// Where a variant's parts are in memory.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct VariantInfo {
    /// The discriminant, at offset 0.
    pub size: DiscriminantSize,
    /// Offset of the payload (of whichever case): the discriminant size aligned to the largest
    /// payload alignment.
    pub payload_offset32: u32,
}

impl VariantInfo {
    /// Layout of a variant whose cases carry these payloads (spec `alignment_variant`,
    /// `elem_size_variant`, `flatten_variant`). A variant without cases, which validation
    /// rejects, is laid out as if it had one.
    pub const fn new(cases: &[Option<CanonicalAbiInfo>]) -> (Self, CanonicalAbiInfo) {
        let mut payload = CanonicalAbiInfo::ZERO;
        let mut i = 0;
        while i < cases.len() {
            if let Some(case) = &cases[i] {
                payload.size32 = max(payload.size32, case.size32);
                payload.align32 = max(payload.align32, case.align32);
                payload.flat_count = max_flat(payload.flat_count, case.flat_count);
            }
            i += 1;
        }
        Self::layout(cases.len(), payload)
    }

    /// Layout of an enum of `count` cases.
    pub const fn enumeration(count: usize) -> (Self, CanonicalAbiInfo) {
        Self::layout(count, CanonicalAbiInfo::ZERO)
    }

    /// Discriminant, then the payload area described by `payload` (largest size, largest
    /// alignment and largest flat count over the cases).
    const fn layout(count: usize, payload: CanonicalAbiInfo) -> (Self, CanonicalAbiInfo) {
        let size = match DiscriminantSize::from_count(count) {
            Some(size) => size,
            None if count == 0 => DiscriminantSize::Size1,
            None => DiscriminantSize::Size4,
        };
        let disc = size.byte_size();
        let payload_offset32 = align_to(disc, payload.align32);
        let align32 = max(disc, payload.align32);
        let info = Self {
            size,
            payload_offset32,
        };
        let abi = CanonicalAbiInfo {
            size32: align_to(payload_offset32.saturating_add(payload.size32), align32),
            align32,
            flat_count: add_flat(Some(1), payload.flat_count),
        };
        (info, abi)
    }
}

/// One core value type of a flattened interface value.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum FlatType {
    /// `i32`.
    I32,
    /// `i64`.
    I64,
    /// `f32`.
    F32,
    /// `f64`.
    F64,
}

impl FlatType {
    /// The type one flat slot of a variant has when two cases put `self` and `other` there (spec
    /// `join`): equal types stay, `i32` and `f32` give `i32`, anything else gives `i64`.
    pub const fn join(self, other: FlatType) -> FlatType {
        match (self, other) {
            (FlatType::I32, FlatType::I32) => FlatType::I32,
            (FlatType::F32, FlatType::F32) => FlatType::F32,
            (FlatType::F64, FlatType::F64) => FlatType::F64,
            (FlatType::I32, FlatType::F32) | (FlatType::F32, FlatType::I32) => FlatType::I32,
            _ => FlatType::I64,
        }
    }

    /// The core value type.
    pub const fn val_type(self) -> ValType {
        match self {
            FlatType::I32 => ValType::I32,
            FlatType::I64 => ValType::I64,
            FlatType::F32 => ValType::F32,
            FlatType::F64 => ValType::F64,
        }
    }
}

/// Which side of the boundary a core function type is computed for (spec `flatten_functype`'s
/// `context`): they differ only when results spill.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Context {
    /// The core function a `canon lift` wraps: spilled results come back as a returned `i32`
    /// pointer.
    Lift,
    /// The core function a `canon lower` produces: spilled results are written through a
    /// trailing `i32` out-pointer parameter.
    Lower,
}

/// Appends the flat core types of `ty` to `out` (spec `flatten_type`).
///
/// # Panics
/// If `ty` refers to an entry missing from `types` (never after
/// [`ComponentTypes::validate`]).
pub fn flatten(types: &ComponentTypes, ty: &InterfaceType, out: &mut Vec<FlatType>) {
    match *ty {
        InterfaceType::Bool
        | InterfaceType::S8
        | InterfaceType::U8
        | InterfaceType::S16
        | InterfaceType::U16
        | InterfaceType::S32
        | InterfaceType::U32
        | InterfaceType::Char
        | InterfaceType::Enum(_)
        | InterfaceType::Own(_)
        | InterfaceType::Borrow(_) => out.push(FlatType::I32),
        InterfaceType::S64 | InterfaceType::U64 => out.push(FlatType::I64),
        InterfaceType::F32 => out.push(FlatType::F32),
        InterfaceType::F64 => out.push(FlatType::F64),
        InterfaceType::String | InterfaceType::List(_) => {
            out.extend([FlatType::I32, FlatType::I32]);
        }
        InterfaceType::Record(i) => {
            for (_, field) in types.records[i.index()].fields.iter() {
                flatten(types, field, out);
            }
        }
        InterfaceType::Tuple(i) => {
            for field in types.tuples[i.index()].types.iter() {
                flatten(types, field, out);
            }
        }
        InterfaceType::Variant(i) => {
            let cases = types.variants[i.index()].cases.iter();
            flatten_variant(types, cases.map(|(_, ty)| ty.as_ref()), out);
        }
        InterfaceType::Option(i) => {
            let some = &types.options[i.index()].ty;
            flatten_variant(types, [None, Some(some)].into_iter(), out);
        }
        InterfaceType::Result(i) => {
            let result = &types.results[i.index()];
            let cases = [result.ok.as_ref(), result.err.as_ref()];
            flatten_variant(types, cases.into_iter(), out);
        }
        InterfaceType::Flags(i) => {
            let words = num_i32_flags(types.flags[i.index()].names.len());
            out.extend(core::iter::repeat_n(FlatType::I32, words));
        }
    }
}

/// The core function type of a component function type (spec `flatten_functype`): parameters
/// over [`MAX_FLAT_PARAMS`] become one `i32` pointer to the parameter tuple; results over
/// [`MAX_FLAT_RESULTS`] become a returned `i32` ([`Context::Lift`]) or a trailing `i32`
/// out-pointer parameter ([`Context::Lower`]).
///
/// # Panics
/// If `ty` refers to an entry missing from `types` (never after
/// [`ComponentTypes::validate`]).
pub fn flatten_func(ty: &TypeFunc, types: &ComponentTypes, cx: Context) -> FuncType {
    let mut params = Vec::new();
    if ty.params_in_memory() {
        params.push(FlatType::I32);
    } else {
        for (_, param) in ty.params.iter() {
            flatten(types, param, &mut params);
        }
    }
    let mut results = Vec::new();
    if ty.results_in_memory() {
        match cx {
            Context::Lift => results.push(FlatType::I32),
            Context::Lower => params.push(FlatType::I32),
        }
    } else if let Some(result) = &ty.result {
        flatten(types, result, &mut results);
    }
    FuncType::new(
        params.into_iter().map(FlatType::val_type),
        results.into_iter().map(FlatType::val_type),
    )
}

impl TypeFunc {
    /// Whether the parameters travel in memory, as one tuple, because they flatten to more than
    /// [`MAX_FLAT_PARAMS`] core values.
    pub fn params_in_memory(&self) -> bool {
        self.params_abi.flat_count(MAX_FLAT_PARAMS).is_none()
    }

    /// Whether the result travels in memory, through a return pointer, because it flattens to
    /// more than [`MAX_FLAT_RESULTS`] core values.
    pub fn results_in_memory(&self) -> bool {
        self.results_abi.flat_count(MAX_FLAT_RESULTS).is_none()
    }
}

/// Rounds `offset` up to a multiple of `align`, a power of two (spec `align_to`). Saturates near
/// `u32::MAX`.
pub const fn align_to(offset: u32, align: u32) -> u32 {
    debug_assert!(align.is_power_of_two());
    let mask = align.wrapping_sub(1);
    offset.saturating_add(mask) & !mask
}

/// Number of `i32`s a flags value of `count` labels flattens to (spec `num_i32_flags`).
pub const fn num_i32_flags(count: usize) -> usize {
    count.div_ceil(32)
}

/// Joins the flat types of each case's payload into `out`, after an `i32` discriminant (spec
/// `flatten_variant`).
fn flatten_variant<'a>(
    types: &ComponentTypes,
    cases: impl Iterator<Item = Option<&'a InterfaceType>>,
    out: &mut Vec<FlatType>,
) {
    out.push(FlatType::I32);
    let start = out.len();
    let mut case_flat = Vec::new();
    for payload in cases.flatten() {
        case_flat.clear();
        flatten(types, payload, &mut case_flat);
        for (i, &flat) in case_flat.iter().enumerate() {
            match out.get_mut(start + i) {
                Some(slot) => *slot = slot.join(flat),
                None => out.push(flat),
            }
        }
    }
}

const fn max(a: u32, b: u32) -> u32 {
    if a > b { a } else { b }
}

/// The flat count of two values side by side; `None` once over [`MAX_FLAT_PARAMS`].
const fn add_flat(a: Option<u8>, b: Option<u8>) -> Option<u8> {
    match (a, b) {
        (Some(a), Some(b)) if a as usize + b as usize <= MAX_FLAT_PARAMS => Some(a + b),
        _ => None,
    }
}

/// The flat count of a slot shared by two cases; `None` if either is over.
const fn max_flat(a: Option<u8>, b: Option<u8>) -> Option<u8> {
    match (a, b) {
        (Some(a), Some(b)) => Some(if a > b { a } else { b }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::artifact::component::{ComponentTypesBuilder, InterfaceType as T};
    use FlatType::{F32, F64, I32, I64};
    use alloc::boxed::Box;
    use alloc::string::{String, ToString};
    use alloc::vec;

    /// `(size, align, flat count)` of an ABI, for compact assertions.
    fn sizes(abi: CanonicalAbiInfo) -> (u32, u32, Option<u8>) {
        (abi.size32, abi.align32, abi.flat_count)
    }

    fn flat(b: &ComponentTypesBuilder, ty: T) -> Vec<FlatType> {
        let mut out = Vec::new();
        flatten(b.types(), &ty, &mut out);
        // The flat count of the layout always agrees with the flattening.
        let abi = b.types().canonical_abi(&ty);
        assert_eq!(abi.flat_count.map(usize::from), Some(out.len()), "{ty:?}");
        out
    }

    fn named<I: IntoIterator<Item = T>>(tys: I) -> Box<[(String, T)]> {
        tys.into_iter()
            .enumerate()
            .map(|(i, ty)| (alloc::format!("f{i}"), ty))
            .collect()
    }

    fn labels(n: usize) -> Box<[String]> {
        (0..n).map(|i| i.to_string()).collect()
    }

    #[test]
    fn scalars() {
        let b = ComponentTypesBuilder::new();
        let types = b.types();
        let cases = [
            (T::Bool, (1, 1)),
            (T::S8, (1, 1)),
            (T::U8, (1, 1)),
            (T::S16, (2, 2)),
            (T::U16, (2, 2)),
            (T::S32, (4, 4)),
            (T::U32, (4, 4)),
            (T::S64, (8, 8)),
            (T::U64, (8, 8)),
            (T::F32, (4, 4)),
            (T::F64, (8, 8)),
            (T::Char, (4, 4)),
            (T::String, (8, 4)),
        ];
        for (ty, (size, align)) in cases {
            let abi = types.canonical_abi(&ty);
            assert_eq!((abi.size32, abi.align32), (size, align), "{ty:?}");
        }
        assert_eq!(flat(&b, T::Bool), [I32]);
        assert_eq!(flat(&b, T::U64), [I64]);
        assert_eq!(flat(&b, T::S64), [I64]);
        assert_eq!(flat(&b, T::F32), [F32]);
        assert_eq!(flat(&b, T::F64), [F64]);
        assert_eq!(flat(&b, T::Char), [I32]);
        assert_eq!(flat(&b, T::String), [I32, I32]);
    }

    #[test]
    fn records_and_field_offsets() {
        let mut b = ComponentTypesBuilder::new();
        // record { u8, u32, u8 }: padding after each u8.
        let r = b.record(named([T::U8, T::U32, T::U8]));
        let abi = b.types().canonical_abi(&r);
        assert_eq!(sizes(abi), (12, 4, Some(3)));
        let mut offset = 0;
        let offsets =
            [T::U8, T::U32, T::U8].map(|ty| b.types().canonical_abi(&ty).next_field32(&mut offset));
        assert_eq!(offsets, [0, 4, 8]);
        assert_eq!(offset, 9);
        assert_eq!(align_to(offset, abi.align32), 12);
        assert_eq!(flat(&b, r), [I32, I32, I32]);

        // The spec's heap tests: tuple<u8, u8, u16, u32> is 8 bytes, tuple<u8, u16, u8, u32>
        // 12; tuple<u16, u8> is 4; tuple<tuple<u16, u8>, u8> is 6.
        let t1 = b.tuple(Box::new([T::U8, T::U8, T::U16, T::U32]));
        let t2 = b.tuple(Box::new([T::U8, T::U16, T::U8, T::U32]));
        let t3 = b.tuple(Box::new([T::U16, T::U8]));
        let t4 = b.tuple(Box::new([t3, T::U8]));
        assert_eq!(sizes(b.types().canonical_abi(&t1)), (8, 4, Some(4)));
        assert_eq!(sizes(b.types().canonical_abi(&t2)), (12, 4, Some(4)));
        assert_eq!(sizes(b.types().canonical_abi(&t3)), (4, 2, Some(2)));
        assert_eq!(sizes(b.types().canonical_abi(&t4)), (6, 2, Some(3)));
        let mut offset = 0;
        let offsets = [T::U8, T::U16, T::U8, T::U32]
            .map(|ty| b.types().canonical_abi(&ty).next_field32(&mut offset));
        assert_eq!(offsets, [0, 2, 4, 8]);

        // record { x: u8, y: u16, z: u32 } (spec `test`): offsets 0, 2, 4, size 8.
        let xyz = b.record(named([T::U8, T::U16, T::U32]));
        assert_eq!(sizes(b.types().canonical_abi(&xyz)), (8, 4, Some(3)));
        // u64 after a u8: offset 8, size 16, align 8.
        let wide = b.record(named([T::U8, T::U64]));
        assert_eq!(sizes(b.types().canonical_abi(&wide)), (16, 8, Some(2)));
        assert_eq!(flat(&b, wide), [I32, I64]);
        // The empty tuple (parameters of a nullary function).
        assert_eq!(CanonicalAbiInfo::record(&[]), CanonicalAbiInfo::ZERO);
    }

    #[test]
    fn flags_of_any_count() {
        // (labels, size, align, flat i32s)
        let cases = [
            (0, 0, 1, 0),
            (1, 1, 1, 1),
            (8, 1, 1, 1),
            (9, 2, 2, 1),
            (16, 2, 2, 1),
            (17, 4, 4, 1),
            (32, 4, 4, 1),
            (33, 8, 4, 2),
            (40, 8, 4, 2),
            (64, 8, 4, 2),
            (65, 12, 4, 3),
            (512, 64, 4, 16),
        ];
        let mut b = ComponentTypesBuilder::new();
        for (n, size, align, words) in cases {
            let abi = CanonicalAbiInfo::flags(n);
            assert_eq!(sizes(abi), (size, align, Some(words)), "{n} flags");
            assert_eq!(num_i32_flags(n), usize::from(words), "{n} flags");
            let ty = b.flags(labels(n));
            assert_eq!(flat(&b, ty), vec![I32; usize::from(words)], "{n} flags");
        }
        // Over 16 flat values the flags are never passed flat.
        assert_eq!(sizes(CanonicalAbiInfo::flags(513)), (68, 4, None));
    }

    #[test]
    fn discriminant_sizes() {
        assert_eq!(DiscriminantSize::from_count(0), None);
        assert_eq!(
            DiscriminantSize::from_count(1),
            Some(DiscriminantSize::Size1)
        );
        assert_eq!(
            DiscriminantSize::from_count(256),
            Some(DiscriminantSize::Size1)
        );
        assert_eq!(
            DiscriminantSize::from_count(257),
            Some(DiscriminantSize::Size2)
        );
        assert_eq!(
            DiscriminantSize::from_count(65536),
            Some(DiscriminantSize::Size2)
        );
        assert_eq!(
            DiscriminantSize::from_count(65537),
            Some(DiscriminantSize::Size4)
        );
        assert_eq!(
            DiscriminantSize::from_count(1 << 24),
            Some(DiscriminantSize::Size4)
        );
        // Between 2^24 and 2^32 the spec's Python gives no type; its intent (and ours) is u32.
        assert_eq!(
            DiscriminantSize::from_count((1 << 24) + 1),
            Some(DiscriminantSize::Size4)
        );
        #[cfg(target_pointer_width = "64")]
        {
            let max = u32::MAX as usize;
            assert_eq!(
                DiscriminantSize::from_count(max),
                Some(DiscriminantSize::Size4)
            );
            assert_eq!(DiscriminantSize::from_count(max + 1), None);
        }

        // 256 cases fit a u8 discriminant, 257 need a u16 (spec `discriminant_type`).
        assert_eq!(sizes(CanonicalAbiInfo::enumeration(256)), (1, 1, Some(1)));
        assert_eq!(sizes(CanonicalAbiInfo::enumeration(257)), (2, 2, Some(1)));
        assert_eq!(sizes(CanonicalAbiInfo::enumeration(65537)), (4, 4, Some(1)));
        let cases_256 = [Some(CanonicalAbiInfo::SCALAR1); 256];
        let (info, abi) = VariantInfo::new(&cases_256);
        assert_eq!(
            (info.size, info.payload_offset32),
            (DiscriminantSize::Size1, 1)
        );
        assert_eq!(sizes(abi), (2, 1, Some(2)));
        let cases_257 = [Some(CanonicalAbiInfo::SCALAR1); 257];
        let (info, abi) = VariantInfo::new(&cases_257);
        assert_eq!(
            (info.size, info.payload_offset32),
            (DiscriminantSize::Size2, 2)
        );
        assert_eq!(sizes(abi), (4, 2, Some(2)));

        let mut b = ComponentTypesBuilder::new();
        let e256 = b.enumeration(labels(256));
        let e257 = b.enumeration(labels(257));
        assert_eq!(b.types().canonical_abi(&e256).size32, 1);
        assert_eq!(b.types().canonical_abi(&e257).size32, 2);
        assert_eq!(flat(&b, e257), [I32]);
    }

    #[test]
    fn variants_options_results() {
        let mut b = ComponentTypesBuilder::new();
        // option<u64>: discriminant, then the payload aligned to 8.
        let opt = b.option(T::U64);
        let T::Option(i) = opt else { unreachable!() };
        let info = b.types().options[i.index()].info;
        assert_eq!(info.payload_offset32, 8);
        assert_eq!(sizes(b.types().canonical_abi(&opt)), (16, 8, Some(2)));
        assert_eq!(flat(&b, opt), [I32, I64]);

        // result<u8, f64> flattens to [i32, i64]: u8 (i32) joined with f64 is i64.
        let res = b.result(Some(T::U8), Some(T::F64));
        assert_eq!(flat(&b, res), [I32, I64]);
        assert_eq!(sizes(b.types().canonical_abi(&res)), (16, 8, Some(2)));
        // The spec's vectors: variant { x(u8), y(f32), z } is [i32, i32]; option<f32> is
        // [i32, f32]; result<u8, u32> is [i32, i32].
        let v = b.variant(Box::new([
            ("x".into(), Some(T::U8)),
            ("y".into(), Some(T::F32)),
            ("z".into(), None),
        ]));
        assert_eq!(flat(&b, v), [I32, I32]);
        assert_eq!(sizes(b.types().canonical_abi(&v)), (8, 4, Some(2)));
        let of32 = b.option(T::F32);
        assert_eq!(flat(&b, of32), [I32, F32]);
        let r = b.result(Some(T::U8), Some(T::U32));
        assert_eq!(flat(&b, r), [I32, I32]);
        // result without payloads, result<_, string>.
        let unit = b.result(None, None);
        assert_eq!(sizes(b.types().canonical_abi(&unit)), (1, 1, Some(1)));
        assert_eq!(flat(&b, unit), [I32]);
        let err_only = b.result(None, Some(T::String));
        assert_eq!(sizes(b.types().canonical_abi(&err_only)), (12, 4, Some(3)));
        assert_eq!(flat(&b, err_only), [I32, I32, I32]);

        // Payloads of different lengths: slots join position by position, the longest wins.
        let triple = b.tuple(Box::new([T::U8, T::U8, T::U8]));
        let v = b.variant(Box::new([
            ("a".into(), Some(triple)),
            ("b".into(), Some(T::F64)),
            ("c".into(), Some(T::F32)),
        ]));
        assert_eq!(flat(&b, v), [I32, I64, I32, I32]);
        let v = b.variant(Box::new([
            ("a".into(), Some(T::F32)),
            ("b".into(), Some(T::F64)),
        ]));
        assert_eq!(flat(&b, v), [I32, I64]);
        let v = b.variant(Box::new([
            ("a".into(), Some(T::F32)),
            ("b".into(), Some(T::F32)),
        ]));
        assert_eq!(flat(&b, v), [I32, F32]);
        let v = b.variant(Box::new([
            ("a".into(), Some(T::F64)),
            ("b".into(), Some(T::U64)),
        ]));
        assert_eq!(flat(&b, v), [I32, I64]);

        // option<option<u8>>: 3 bytes, three i32s.
        let inner = b.option(T::U8);
        let outer = b.option(inner);
        assert_eq!(sizes(b.types().canonical_abi(&inner)), (2, 1, Some(2)));
        assert_eq!(sizes(b.types().canonical_abi(&outer)), (3, 1, Some(3)));
        assert_eq!(flat(&b, outer), [I32, I32, I32]);
    }

    #[test]
    fn join_table() {
        let all = [I32, I64, F32, F64];
        for a in all {
            for b in all {
                let expected = match (a, b) {
                    _ if a == b => a,
                    (I32, F32) | (F32, I32) => I32,
                    _ => I64,
                };
                assert_eq!(a.join(b), expected, "{a:?} {b:?}");
                assert_eq!(a.join(b), b.join(a));
            }
        }
    }

    #[test]
    fn lists_and_strings_are_pointer_pairs() {
        let mut b = ComponentTypesBuilder::new();
        let bytes = b.list(T::U8);
        let strings = b.list(T::String);
        let nested = b.list(strings);
        for ty in [T::String, bytes, strings, nested] {
            assert_eq!(flat(&b, ty), [I32, I32]);
            assert_eq!(sizes(b.types().canonical_abi(&ty)), (8, 4, Some(2)));
        }
    }

    #[test]
    fn flat_count_saturates_past_the_limit() {
        let mut b = ComponentTypesBuilder::new();
        let sixteen = b.tuple(vec![T::U32; 16].into());
        let seventeen = b.tuple(vec![T::U32; 17].into());
        assert_eq!(b.types().canonical_abi(&sixteen).flat_count, Some(16));
        assert_eq!(b.types().canonical_abi(&seventeen).flat_count, None);
        let opt = b.option(seventeen);
        assert_eq!(b.types().canonical_abi(&opt).flat_count, None);
        let opt = b.option(sixteen);
        assert_eq!(b.types().canonical_abi(&opt).flat_count, None);
        let big = b.tuple(vec![T::U64; 15].into());
        let opt = b.option(big);
        assert_eq!(b.types().canonical_abi(&opt).flat_count, Some(16));
        assert_eq!(
            b.types().canonical_abi(&opt).flat_count(MAX_FLAT_RESULTS),
            None
        );
    }

    /// The spec's `test_flatten` vectors, for both contexts.
    #[test]
    fn flatten_functypes() {
        let mut b = ComponentTypesBuilder::new();
        let params = [T::U8, T::F32, T::F64];
        let tup_f32 = b.tuple(Box::new([T::F32]));
        let tup_f32_f32 = b.tuple(Box::new([T::F32, T::F32]));
        let tup_u8_u8 = b.tuple(Box::new([T::U8, T::U8]));
        /// Parameters, result, expected flat parameters and results.
        type Case<'a> = (&'a [T], Option<T>, &'a [ValType], &'a [ValType]);
        let cases: [Case<'_>; 5] = [
            (
                &params,
                None,
                &[ValType::I32, ValType::F32, ValType::F64],
                &[],
            ),
            (
                &params,
                Some(T::F32),
                &[ValType::I32, ValType::F32, ValType::F64],
                &[ValType::F32],
            ),
            (
                &params,
                Some(T::U8),
                &[ValType::I32, ValType::F32, ValType::F64],
                &[ValType::I32],
            ),
            (
                &params,
                Some(tup_f32),
                &[ValType::I32, ValType::F32, ValType::F64],
                &[ValType::F32],
            ),
            (
                &params,
                Some(tup_f32_f32),
                &[ValType::I32, ValType::F32, ValType::F64],
                &[],
            ),
        ];
        for (i, (params, result, flat_params, flat_results)) in cases.into_iter().enumerate() {
            let f = b.func(named(params.iter().copied()), result);
            let ty = &b.types().funcs[f.index()];
            let lift = flatten_func(ty, b.types(), Context::Lift);
            let lower = flatten_func(ty, b.types(), Context::Lower);
            if i < 4 {
                assert_eq!(*lift.params, *flat_params, "case {i}");
                assert_eq!(*lift.results, *flat_results, "case {i}");
                assert_eq!(lift, lower, "case {i}");
                assert!(!ty.results_in_memory());
            } else {
                // Two flat results: a returned pointer (lift) or an out-pointer (lower).
                assert!(ty.results_in_memory());
                assert_eq!(*lift.params, *flat_params);
                assert_eq!(*lift.results, [ValType::I32]);
                assert_eq!(
                    *lower.params,
                    [ValType::I32, ValType::F32, ValType::F64, ValType::I32]
                );
                assert!(lower.results.is_empty());
            }
        }

        // 17 flat parameters spill into one pointer, in both contexts.
        let f = b.func(named(vec![T::U8; 17]), None);
        let ty = &b.types().funcs[f.index()];
        assert!(ty.params_in_memory());
        assert_eq!(ty.params_abi.size32, 17);
        assert_eq!(ty.params_abi.align32, 1);
        let lift = flatten_func(ty, b.types(), Context::Lift);
        assert_eq!(lift, FuncType::new([ValType::I32], []));
        assert_eq!(flatten_func(ty, b.types(), Context::Lower), lift);

        // 17 params and a two-value result: both spill.
        let f = b.func(named(vec![T::U8; 17]), Some(tup_u8_u8));
        let ty = &b.types().funcs[f.index()];
        let lift = flatten_func(ty, b.types(), Context::Lift);
        let lower = flatten_func(ty, b.types(), Context::Lower);
        assert_eq!(lift, FuncType::new([ValType::I32], [ValType::I32]));
        assert_eq!(lower, FuncType::new([ValType::I32, ValType::I32], []));

        // Exactly 16 flat parameters stay flat: a string is two of them.
        let mut sixteen = vec![T::String; 7];
        sixteen.extend([T::U32, T::U64]);
        let f = b.func(named(sixteen), Some(T::String));
        let ty = &b.types().funcs[f.index()];
        assert!(!ty.params_in_memory());
        let lower = flatten_func(ty, b.types(), Context::Lower);
        assert_eq!(lower.params.len(), 17);
        assert_eq!(lower.params[15], ValType::I64);
        assert_eq!(lower.params[16], ValType::I32);
        let lift = flatten_func(ty, b.types(), Context::Lift);
        assert_eq!(lift.params.len(), 16);
        assert_eq!(*lift.results, [ValType::I32]);
    }

    #[test]
    fn align_to_rounds_up() {
        assert_eq!(align_to(0, 8), 0);
        assert_eq!(align_to(1, 8), 8);
        assert_eq!(align_to(9, 4), 12);
        assert_eq!(align_to(7, 1), 7);
        // Saturates instead of overflowing.
        assert!(align_to(u32::MAX, 8) >= MAX_TYPE_SIZE);
    }

    #[test]
    fn abi_is_const() {
        // `ComponentType::ABI` constants are computed by these functions at compile time.
        const PAIR: CanonicalAbiInfo =
            CanonicalAbiInfo::record(&[CanonicalAbiInfo::SCALAR1, CanonicalAbiInfo::SCALAR8]);
        const OPT: CanonicalAbiInfo = CanonicalAbiInfo::variant(&[None, Some(PAIR)]);
        const FIELD: u32 = {
            let mut offset = 1;
            PAIR.next_field32(&mut offset)
        };
        assert_eq!(sizes(PAIR), (16, 8, Some(2)));
        assert_eq!(sizes(OPT), (24, 8, Some(3)));
        assert_eq!(FIELD, 8);
    }
}
