//! The four call-boundary entry points of the canonical ABI (`CanonicalABI.md`, `lift_values`
//! and `lower_values`), for typed lists (Rust tuples) and dynamic ones (`[Val]`):
//!
//! | entry point | direction | spilled params (> 16 flat) | spilled result (> 1 flat) |
//! |---|---|---|---|
//! | [`lower_params`] | host -> guest export | `realloc`, one `i32` pointer | - |
//! | [`lift_results`] | host <- guest export | - | the returned `i32` pointer |
//! | [`lift_params`] | guest -> host import | the one `i32` pointer the guest passed | - |
//! | [`lower_results`] | guest <- host import | - | the trailing `i32` out-pointer |
//!
//! Every pointer received or allocated here is checked for alignment and bounds against the
//! layout of the whole parameter or result tuple before anything is read or written.

use super::context::{LiftContext, LowerContext};
use super::lift::{FlatSource, field, flat_count};
use super::lower::FlatSink;
use super::typed::{ComponentNamedList, Fields, Lift, Lower};
use super::values::Val;
use crate::Result;
use crate::artifact::component::{CanonicalAbiInfo, TypeFunc};
use crate::error::Error;
use crate::prelude::*;
use crate::values::ValRaw;

/// A list of values lowered at a boundary: typed tuples (`P: ComponentNamedList + Lower`) and
/// `[Val]`.
pub(crate) trait LowerList {
    /// The number of values, when it is only known at run time (`[Val]`); a typed list has
    /// the right number by its type check.
    fn dynamic_len(&self) -> Option<usize> {
        None
    }

    /// Writes the values as flat core values.
    fn lower_list_flat(
        &self,
        cx: &mut LowerContext<'_>,
        fields: Fields<'_>,
        dst: &mut FlatSink<'_>,
    ) -> Result<()>;

    /// Writes the values as a tuple at `offset`, a checked region of the tuple's layout.
    fn lower_list_to_memory(
        &self,
        cx: &mut LowerContext<'_>,
        fields: Fields<'_>,
        offset: usize,
    ) -> Result<()>;
}

/// A list of values lifted at a boundary: typed tuples (`R: ComponentNamedList + Lift`) and
/// `Vec<Val>` (built from the types).
pub(crate) trait LiftList: Sized {
    /// Reads the values from flat core values.
    fn lift_list_flat(
        cx: &mut LiftContext<'_>,
        fields: Fields<'_>,
        src: &mut FlatSource<'_>,
    ) -> Result<Self>;

    /// Reads the values from `bytes`, the checked region of a tuple of the fields.
    fn lift_list_from_memory(
        cx: &mut LiftContext<'_>,
        fields: Fields<'_>,
        bytes: &[u8],
    ) -> Result<Self>;
}

impl<P: ComponentNamedList + Lower> LowerList for P {
    fn lower_list_flat(
        &self,
        cx: &mut LowerContext<'_>,
        fields: Fields<'_>,
        dst: &mut FlatSink<'_>,
    ) -> Result<()> {
        self.lower_fields_flat(cx, fields, dst)
    }

    fn lower_list_to_memory(
        &self,
        cx: &mut LowerContext<'_>,
        fields: Fields<'_>,
        offset: usize,
    ) -> Result<()> {
        self.lower_fields_to_memory(cx, fields, offset)
    }
}

impl<R: ComponentNamedList + Lift> LiftList for R {
    fn lift_list_flat(
        cx: &mut LiftContext<'_>,
        fields: Fields<'_>,
        src: &mut FlatSource<'_>,
    ) -> Result<Self> {
        R::lift_fields_flat(cx, fields, src)
    }

    fn lift_list_from_memory(
        cx: &mut LiftContext<'_>,
        fields: Fields<'_>,
        bytes: &[u8],
    ) -> Result<Self> {
        R::lift_fields_from_memory(cx, fields, bytes)
    }
}

impl LowerList for [Val] {
    fn dynamic_len(&self) -> Option<usize> {
        Some(self.len())
    }

    fn lower_list_flat(
        &self,
        cx: &mut LowerContext<'_>,
        fields: Fields<'_>,
        dst: &mut FlatSink<'_>,
    ) -> Result<()> {
        check_len(Some(self.len()), fields)?;
        for (val, ty) in self.iter().zip(fields.iter()) {
            val.lower_flat(cx, ty, dst)?;
        }
        Ok(())
    }

    fn lower_list_to_memory(
        &self,
        cx: &mut LowerContext<'_>,
        fields: Fields<'_>,
        offset: usize,
    ) -> Result<()> {
        check_len(Some(self.len()), fields)?;
        let types = cx.types;
        let mut next = 0;
        for (val, ty) in self.iter().zip(fields.iter()) {
            let at = types.canonical_abi(&ty).next_field32(&mut next) as usize;
            val.lower_to_memory(cx, ty, offset + at)?;
        }
        Ok(())
    }
}

impl LiftList for Vec<Val> {
    fn lift_list_flat(
        cx: &mut LiftContext<'_>,
        fields: Fields<'_>,
        src: &mut FlatSource<'_>,
    ) -> Result<Self> {
        fields
            .iter()
            .map(|ty| Val::lift_flat(cx, ty, src))
            .collect()
    }

    fn lift_list_from_memory(
        cx: &mut LiftContext<'_>,
        fields: Fields<'_>,
        bytes: &[u8],
    ) -> Result<Self> {
        let types = cx.types;
        let mut next = 0;
        fields
            .iter()
            .map(|ty| {
                let abi = types.canonical_abi(&ty);
                let bytes = field(bytes, abi.next_field32(&mut next), abi.size32)?;
                Val::lift_from_memory(cx, ty, bytes)
            })
            .collect()
    }
}

/// host -> guest call: lowers `params` into exactly the core params of the lifted function
/// (`dst` is cleared first). Over 16 flat values, the parameters are stored as one tuple in
/// memory allocated with `realloc(0, 0, align, size)` and `dst` is that pointer.
pub(crate) fn lower_params<P: LowerList + ?Sized>(
    cx: &mut LowerContext<'_>,
    ty: &TypeFunc,
    params: &P,
    dst: &mut Vec<ValRaw>,
) -> Result<()> {
    dst.clear();
    let fields = Fields::Named(&ty.params);
    check_len(params.dynamic_len(), fields)?;
    if ty.params_in_memory() {
        let ptr = cx.alloc(1, ty.params_abi, || "spilled parameters".into())?;
        params.lower_list_to_memory(cx, fields, ptr as usize)?;
        dst.push(ValRaw::from_u32(ptr));
        return Ok(());
    }
    dst.resize(flat_count(&ty.params_abi)?, ValRaw::default());
    let mut sink = FlatSink::new(dst);
    params.lower_list_flat(cx, fields, &mut sink)?;
    sink.finish()
}

/// host <- guest: lifts the results from the core results of the lifted function: the value
/// itself, or a returned pointer to the result in memory.
pub(crate) fn lift_results<R: LiftList>(
    cx: &mut LiftContext<'_>,
    ty: &TypeFunc,
    src: &[ValRaw],
) -> Result<R> {
    let fields = Fields::Types(ty.result.as_slice());
    if ty.results_in_memory() {
        let ptr = single_pointer(src, "the return pointer")?;
        return lift_from_pointer(cx, ptr, ty.results_abi, fields, "return area");
    }
    lift_flat(cx, fields, src)
}

/// guest -> host import: lifts the params from the core args of the lowered function. Spilled
/// parameters are one pointer to the parameter tuple (followed by the return pointer, if the
/// result spills too).
pub(crate) fn lift_params<P: LiftList>(
    cx: &mut LiftContext<'_>,
    ty: &TypeFunc,
    src: &[ValRaw],
) -> Result<P> {
    let fields = Fields::Named(&ty.params);
    let src = if ty.results_in_memory() {
        src.split_last().map_or(src, |(_, params)| params)
    } else {
        src
    };
    if ty.params_in_memory() {
        let ptr = single_pointer(src, "the parameters pointer")?;
        return lift_from_pointer(cx, ptr, ty.params_abi, fields, "spilled parameters");
    }
    lift_flat(cx, fields, src)
}

/// guest <- host import: lowers results into the first slots of `dst` (the core results; the
/// array-call buffer may be longer) or, over one flat value, through the return pointer, which
/// is the last of the core `args`.
pub(crate) fn lower_results<R: LowerList + ?Sized>(
    cx: &mut LowerContext<'_>,
    ty: &TypeFunc,
    results: &R,
    args: &[ValRaw],
    dst: &mut [ValRaw],
) -> Result<()> {
    let fields = Fields::Types(ty.result.as_slice());
    check_len(results.dynamic_len(), fields)?;
    if ty.results_in_memory() {
        let ptr = args
            .last()
            .ok_or_else(|| Error::bug("no return pointer among the core arguments"))?
            .get_u32();
        cx.check(ptr, 1, ty.results_abi, || "return area".into())?;
        return results.lower_list_to_memory(cx, fields, ptr as usize);
    }
    let (n, slots) = (flat_count(&ty.results_abi)?, dst.len());
    let dst = dst
        .get_mut(..n)
        .ok_or_else(|| Error::bug(format!("{slots} core value slots for {n} results")))?;
    let mut sink = FlatSink::new(dst);
    results.lower_list_flat(cx, fields, &mut sink)?;
    sink.finish()
}

fn lift_flat<L: LiftList>(
    cx: &mut LiftContext<'_>,
    fields: Fields<'_>,
    src: &[ValRaw],
) -> Result<L> {
    let mut source = FlatSource::new(src);
    let values = L::lift_list_flat(cx, fields, &mut source)?;
    source.finish()?;
    Ok(values)
}

/// Lifts a tuple of `fields` laid out as `abi` at the guest pointer `ptr`.
fn lift_from_pointer<L: LiftList>(
    cx: &mut LiftContext<'_>,
    ptr: u32,
    abi: CanonicalAbiInfo,
    fields: Fields<'_>,
    what: &str,
) -> Result<L> {
    let bytes = cx.slice(ptr, 1, abi, || what.to_string())?;
    L::lift_list_from_memory(cx, fields, bytes)
}

fn single_pointer(src: &[ValRaw], what: &str) -> Result<u32> {
    match src {
        [ptr] => Ok(ptr.get_u32()),
        _ => Err(Error::bug(format!(
            "{} core values where {what} was expected",
            src.len()
        ))),
    }
}

/// Checks the number of dynamic values against the number of types.
fn check_len(len: Option<usize>, fields: Fields<'_>) -> Result<()> {
    match len {
        Some(len) if len != fields.len() => Err(Error::msg(format!(
            "expected {} values, found {len}",
            fields.len()
        ))),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::super::context::test_memory::{Realloc, TestMemory};
    use super::*;
    use crate::artifact::Trap;
    use crate::artifact::component::{
        ComponentTypes, ComponentTypesBuilder, InterfaceType as T, StringEncoding,
    };

    fn func(b: &mut ComponentTypesBuilder, params: &[T], result: Option<T>) -> TypeFunc {
        let params = params
            .iter()
            .enumerate()
            .map(|(i, ty)| (format!("p{i}"), *ty))
            .collect();
        let f = b.func(params, result);
        b.types().funcs[f.index()].clone()
    }

    fn lower_cx<'a>(mem: &'a mut TestMemory, types: &'a ComponentTypes) -> LowerContext<'a> {
        LowerContext::new(mem, StringEncoding::Utf8, types)
    }

    fn lift_cx<'a>(mem: &'a TestMemory, types: &'a ComponentTypes) -> LiftContext<'a> {
        LiftContext::new(Some(&mem.bytes), StringEncoding::Utf8, types)
    }

    #[test]
    fn flat_params_and_results() {
        let mut b = ComponentTypesBuilder::new();
        let ty = func(&mut b, &[T::U32, T::String], Some(T::U64));
        let types = b.finish();
        let mut mem = TestMemory::new();
        let mut raw = vec![ValRaw::from_u32(99)];
        let params = (7u32, "héllo");
        lower_params(&mut lower_cx(&mut mem, &types), &ty, &params, &mut raw).unwrap();
        assert_eq!(raw.len(), 3);
        assert_eq!(raw[0].get_u32(), 7);
        let back: (u32, String) = lift_params(&mut lift_cx(&mem, &types), &ty, &raw).unwrap();
        assert_eq!(back, (7, "héllo".to_string()));
        let back: Vec<Val> = lift_params(&mut lift_cx(&mem, &types), &ty, &raw).unwrap();
        assert_eq!(back, [Val::U32(7), Val::String("héllo".into())]);
        let vals = [Val::U32(7), Val::String("héllo".into())];
        lower_params(&mut lower_cx(&mut mem, &types), &ty, &vals[..], &mut raw).unwrap();
        assert_eq!(raw.len(), 3);

        // One flat result: written into the core results.
        let mut results = [ValRaw::default()];
        let r = (u64::MAX - 1,);
        lower_results(&mut lower_cx(&mut mem, &types), &ty, &r, &raw, &mut results).unwrap();
        assert_eq!(results[0].get_u64(), u64::MAX - 1);
        let back: (u64,) = lift_results(&mut lift_cx(&mem, &types), &ty, &results).unwrap();
        assert_eq!(back, r);
        let back: Vec<Val> = lift_results(&mut lift_cx(&mem, &types), &ty, &results).unwrap();
        assert_eq!(back, [Val::U64(u64::MAX - 1)]);
    }

    #[test]
    fn seventeen_params_spill() {
        let mut b = ComponentTypesBuilder::new();
        let ty = func(&mut b, &[T::U32; 17], None);
        let pair = b.tuple(Box::new([T::U32, T::U32]));
        let mut typed_params = vec![pair];
        typed_params.extend([T::U32; 15]);
        let typed = func(&mut b, &typed_params, None);
        let types = b.finish();
        assert!(ty.params_in_memory());

        let vals: Vec<Val> = (0..17).map(|i| Val::U32(i * 10)).collect();
        let mut mem = TestMemory::new();
        let mut raw = Vec::new();
        lower_params(&mut lower_cx(&mut mem, &types), &ty, &vals[..], &mut raw).unwrap();
        assert_eq!(mem.calls, [(0, 0, 4, 68)]);
        assert_eq!(raw.len(), 1);
        let ptr = raw[0].get_u32() as usize;
        let stored: Vec<u32> = mem.bytes[ptr..ptr + 68]
            .chunks(4)
            .map(|c| u32::from_le_bytes(c.try_into().unwrap()))
            .collect();
        assert_eq!(stored, (0..17).map(|i| i * 10).collect::<Vec<_>>());
        // The guest -> host direction reads them back through the one pointer.
        let back: Vec<Val> = lift_params(&mut lift_cx(&mem, &types), &ty, &raw).unwrap();
        assert_eq!(back, vals);

        // Typed: a 16-tuple whose first element is a pair is 17 flat values.
        let params = (
            (1u32, 2u32),
            3u32,
            4u32,
            5u32,
            6u32,
            7u32,
            8u32,
            9u32,
            10u32,
            11u32,
            12u32,
            13u32,
            14u32,
            15u32,
            16u32,
            17u32,
        );
        let mut mem = TestMemory::new();
        lower_params(&mut lower_cx(&mut mem, &types), &typed, &params, &mut raw).unwrap();
        assert_eq!(mem.calls, [(0, 0, 4, 68)]);
        let back: Vec<Val> = lift_params(&mut lift_cx(&mem, &types), &typed, &raw).unwrap();
        assert_eq!(back[0], Val::Tuple(vec![Val::U32(1), Val::U32(2)]));
        assert_eq!(back[15], Val::U32(17));
        type P = (
            (u32, u32),
            u32,
            u32,
            u32,
            u32,
            u32,
            u32,
            u32,
            u32,
            u32,
            u32,
            u32,
            u32,
            u32,
            u32,
            u32,
        );
        let back: P = lift_params(&mut lift_cx(&mem, &types), &typed, &raw).unwrap();
        assert_eq!((back.0, back.15), ((1, 2), 17));
    }

    #[test]
    fn return_pointers() {
        let mut b = ComponentTypesBuilder::new();
        let pair = b.tuple(Box::new([T::U32, T::String]));
        let ty = func(&mut b, &[T::U8], Some(pair));
        let both = func(&mut b, &[T::U64; 17], Some(pair));
        let types = b.finish();
        assert!(ty.results_in_memory());

        // guest <- host: through the trailing out-pointer argument.
        let mut mem = TestMemory::new();
        let args = [ValRaw::from_u32(1), ValRaw::from_u32(0x100)];
        let results = ((7u32, "h€llo".to_string()),);
        lower_results(
            &mut lower_cx(&mut mem, &types),
            &ty,
            &results,
            &args,
            &mut [],
        )
        .unwrap();
        assert_eq!(mem.bytes[0x100..0x104], 7u32.to_le_bytes());
        // host <- guest: through the returned pointer.
        let src = [ValRaw::from_u32(0x100)];
        let back: ((u32, String),) = lift_results(&mut lift_cx(&mem, &types), &ty, &src).unwrap();
        assert_eq!(back, results);
        let back: Vec<Val> = lift_results(&mut lift_cx(&mem, &types), &ty, &src).unwrap();
        let expected = Val::Tuple(vec![Val::U32(7), Val::String("h€llo".into())]);
        let vals = [expected];
        assert_eq!(back, vals);
        lower_results(
            &mut lower_cx(&mut mem, &types),
            &ty,
            &vals[..],
            &args,
            &mut [],
        )
        .unwrap();

        // Spilled parameters and a return pointer: the pointer to the parameters comes first.
        let params: Vec<Val> = (0..17).map(Val::U64).collect();
        let mut raw = Vec::new();
        lower_params(
            &mut lower_cx(&mut mem, &types),
            &both,
            &params[..],
            &mut raw,
        )
        .unwrap();
        raw.push(ValRaw::from_u32(0x100));
        let back: Vec<Val> = lift_params(&mut lift_cx(&mem, &types), &both, &raw).unwrap();
        assert_eq!(back, params);
    }

    #[test]
    fn pointer_traps() {
        let mut b = ComponentTypesBuilder::new();
        let pair = b.tuple(Box::new([T::U32, T::String]));
        let ty = func(&mut b, &[T::U32; 17], Some(pair));
        let types = b.finish();
        let mem = TestMemory::new();

        let lift = |src: &[ValRaw]| lift_results::<Vec<Val>>(&mut lift_cx(&mem, &types), &ty, src);
        let err = lift(&[ValRaw::from_u32(0x1002)]).unwrap_err();
        assert_eq!(err.trap(), Some(Trap::UnalignedPointer));
        assert_eq!(err.detail(), Some("return area at 0x1002, alignment 4"));
        let err = lift(&[ValRaw::from_u32(0xfffc)]).unwrap_err();
        assert_eq!(err.trap(), Some(Trap::PointerOutOfBounds));
        assert_eq!(
            err.detail(),
            Some("return area at 0xfffc of 12 bytes, memory is 0x10000 bytes")
        );

        let err = lift_params::<Vec<Val>>(
            &mut lift_cx(&mem, &types),
            &ty,
            &[ValRaw::from_u32(0xfff0), ValRaw::from_u32(0)],
        )
        .unwrap_err();
        assert_eq!(err.trap(), Some(Trap::PointerOutOfBounds));
        assert_eq!(
            err.detail(),
            Some("spilled parameters at 0xfff0 of 68 bytes, memory is 0x10000 bytes")
        );

        let mut mem = TestMemory::new();
        let results = ((1u32, "x"),);
        let args = [ValRaw::from_u32(0), ValRaw::from_u32(0x10001)];
        let err = lower_results(
            &mut lower_cx(&mut mem, &types),
            &ty,
            &results,
            &args,
            &mut [],
        )
        .unwrap_err();
        assert_eq!(err.trap(), Some(Trap::UnalignedPointer));

        // realloc returning a pointer out of bounds or misaligned for the spilled parameters.
        let params: Vec<Val> = (0..17).map(Val::U32).collect();
        for (ptr, trap) in [
            (0xfff0, Trap::PointerOutOfBounds),
            (0x102, Trap::UnalignedPointer),
        ] {
            mem.realloc = Realloc::Fixed(ptr);
            let mut raw = Vec::new();
            let err = lower_params(&mut lower_cx(&mut mem, &types), &ty, &params[..], &mut raw)
                .unwrap_err();
            assert_eq!(err.trap(), Some(trap));
        }
        let err = lower_params(
            &mut lower_cx(&mut mem, &types),
            &ty,
            &params[..1],
            &mut Vec::new(),
        )
        .unwrap_err();
        assert_eq!(err.to_string(), "expected 17 values, found 1");
    }
}
