//! Lane-wise helpers for the SIMD operators: the bitcasts between the `i8x16` every `v128`
//! travels as and the lane type an operator works on, the unary/binary/shift/reduction shapes,
//! constants, shuffles, splats, lane accesses, and the operators that take more than one
//! Cranelift instruction (pseudo-min/max, dot product, widening multiply and add).

use super::super::Cx;
use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{self, ConstantData, Endianness, InstBuilder, MemFlagsData, types::*};
use cranelift_frontend::FunctionBuilder;

/// Which half of the lanes a widening operator reads, and how it extends them.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Widen {
    /// The low half, sign-extended.
    LowS,
    /// The high half, sign-extended.
    HighS,
    /// The low half, zero-extended.
    LowU,
    /// The high half, zero-extended.
    HighU,
}

impl Widen {
    /// The same extension applied to the other half of the lanes.
    fn high(self) -> Self {
        match self {
            Widen::LowS | Widen::HighS => Widen::HighS,
            Widen::LowU | Widen::HighU => Widen::HighU,
        }
    }

    /// Widens half of the lanes of `v` to lanes of twice the width.
    fn apply(self, b: &mut FunctionBuilder<'_>, v: ir::Value) -> ir::Value {
        match self {
            Widen::LowS => b.ins().swiden_low(v),
            Widen::HighS => b.ins().swiden_high(v),
            Widen::LowU => b.ins().uwiden_low(v),
            Widen::HighU => b.ins().uwiden_high(v),
        }
    }
}

/// Reinterprets the 128 bits of `v` as `ty`, lanes in Wasm's little-endian order; a no-op
/// when `v` already has that type.
pub(crate) fn cast(b: &mut FunctionBuilder<'_>, ty: ir::Type, v: ir::Value) -> ir::Value {
    if b.func.dfg.value_type(v) == ty {
        return v;
    }
    let flags = MemFlagsData::new().with_endianness(Endianness::Little);
    b.ins().bitcast(ty, flags, v)
}

/// An all-zero vector of type `ty`.
pub(crate) fn zero_vector(b: &mut FunctionBuilder<'_>, ty: ir::Type) -> ir::Value {
    let c = b.func.dfg.constants.insert(vec![0u8; 16].into());
    b.ins().vconst(ty, c)
}

/// `pmin`: `y < x ? y : x` lane by lane (not `fmin`: no NaN propagation, and `-0`/`+0` keep
/// the first operand).
pub(crate) fn pseudo_min(b: &mut FunctionBuilder<'_>, x: ir::Value, y: ir::Value) -> ir::Value {
    let ty = b.func.dfg.value_type(x);
    let mask = b.ins().fcmp(FloatCC::LessThan, y, x);
    let mask = cast(b, ty, mask);
    b.ins().bitselect(mask, y, x)
}

/// `pmax`: `x < y ? y : x` lane by lane.
pub(crate) fn pseudo_max(b: &mut FunctionBuilder<'_>, x: ir::Value, y: ir::Value) -> ir::Value {
    let ty = b.func.dfg.value_type(x);
    let mask = b.ins().fcmp(FloatCC::LessThan, x, y);
    let mask = cast(b, ty, mask);
    b.ins().bitselect(mask, y, x)
}

impl Cx<'_, '_> {
    /// Pops a `v128` and reinterprets it as `ty`.
    pub(crate) fn pop_vec(&mut self, ty: ir::Type) -> ir::Value {
        let v = self.pop();
        cast(&mut self.b, ty, v)
    }

    /// Pushes a vector of any type as the `i8x16` every `v128` travels as.
    pub(crate) fn push_vec(&mut self, v: ir::Value) {
        let v = cast(&mut self.b, I8X16, v);
        self.push(v);
    }

    /// A one-operand vector operator computed on lanes of type `ty`.
    pub(crate) fn vec_unary(
        &mut self,
        ty: ir::Type,
        f: impl FnOnce(&mut FunctionBuilder<'_>, ir::Value) -> ir::Value,
    ) {
        let a = self.pop_vec(ty);
        let r = f(&mut self.b, a);
        self.push_vec(r);
    }

    /// A two-operand vector operator computed on lanes of type `ty`.
    pub(crate) fn vec_binary(
        &mut self,
        ty: ir::Type,
        f: impl FnOnce(&mut FunctionBuilder<'_>, ir::Value, ir::Value) -> ir::Value,
    ) {
        let y = self.pop_vec(ty);
        let x = self.pop_vec(ty);
        let r = f(&mut self.b, x, y);
        self.push_vec(r);
    }

    /// A shift of the lanes of a `ty` vector by an `i32` amount. Wasm takes the amount modulo
    /// the lane width, as Cranelift's vector shifts do.
    pub(crate) fn vec_shift(
        &mut self,
        ty: ir::Type,
        f: impl FnOnce(&mut FunctionBuilder<'_>, ir::Value, ir::Value) -> ir::Value,
    ) {
        let amount = self.pop();
        let v = self.pop_vec(ty);
        let r = f(&mut self.b, v, amount);
        self.push_vec(r);
    }

    /// An operator reducing a `ty` vector to a scalar, pushed as it is.
    pub(crate) fn vec_reduce(
        &mut self,
        ty: ir::Type,
        f: impl FnOnce(&mut FunctionBuilder<'_>, ir::Value) -> ir::Value,
    ) {
        let v = self.pop_vec(ty);
        let r = f(&mut self.b, v);
        self.push(r);
    }

    /// `iNxM.eq` and the other integer comparisons: a lane mask.
    pub(crate) fn vec_icmp(&mut self, ty: ir::Type, cc: IntCC) {
        self.vec_binary(ty, |b, x, y| b.ins().icmp(cc, x, y));
    }

    /// `fNxM.eq` and the other float comparisons: an integer lane mask.
    pub(crate) fn vec_fcmp(&mut self, ty: ir::Type, cc: FloatCC) {
        self.vec_binary(ty, |b, x, y| b.ins().fcmp(cc, x, y));
    }

    /// `iNxM.all_true`: 1 if no lane is zero.
    pub(crate) fn vec_all_true(&mut self, ty: ir::Type) {
        self.vec_reduce(ty, |b, v| {
            let t = b.ins().vall_true(v);
            b.ins().uextend(I32, t)
        });
    }

    /// `v128.bitselect(v1, v2, c)`: bits of `v1` where `c` is set, of `v2` elsewhere.
    pub(crate) fn vec_bitselect(&mut self) {
        let c = self.pop_vec(I8X16);
        let v2 = self.pop_vec(I8X16);
        let v1 = self.pop_vec(I8X16);
        let r = self.b.ins().bitselect(c, v1, v2);
        self.push_vec(r);
    }

    /// `v128.const`.
    pub(crate) fn vec_const(&mut self, bytes: &[u8; 16]) {
        let c = self.b.func.dfg.constants.insert(bytes.to_vec().into());
        let v = self.b.ins().vconst(I8X16, c);
        self.push(v);
    }

    /// `i8x16.shuffle`: lane `i` of the result is byte `lanes[i]` of the concatenation of the
    /// two operands (validation guarantees every index is below 32).
    pub(crate) fn vec_shuffle(&mut self, lanes: &[u8; 16]) {
        let y = self.pop_vec(I8X16);
        let x = self.pop_vec(I8X16);
        let mask = self
            .b
            .func
            .dfg
            .immediates
            .push(ConstantData::from(&lanes[..]));
        let r = self.b.ins().shuffle(x, y, mask);
        self.push_vec(r);
    }

    /// `iNxM.splat` and `fNxM.splat`; `i8` and `i16` lanes take the low bits of the `i32`.
    pub(crate) fn vec_splat(&mut self, ty: ir::Type) {
        let mut s = self.pop();
        let lane = ty.lane_type();
        if lane.is_int() && lane.bits() < 32 {
            s = self.b.ins().ireduce(lane, s);
        }
        let r = self.b.ins().splat(ty, s);
        self.push_vec(r);
    }

    /// `extract_lane`: lane `lane` of a `ty` vector, post-processed by `f` (sign or zero
    /// extension of `i8`/`i16` lanes to `i32`).
    pub(crate) fn vec_extract(
        &mut self,
        ty: ir::Type,
        lane: u8,
        f: impl FnOnce(&mut FunctionBuilder<'_>, ir::Value) -> ir::Value,
    ) {
        let v = self.pop_vec(ty);
        let x = self.b.ins().extractlane(v, lane);
        let r = f(&mut self.b, x);
        self.push(r);
    }

    /// `replace_lane`; `i8` and `i16` lanes take the low bits of the `i32`.
    pub(crate) fn vec_replace(&mut self, ty: ir::Type, lane: u8) {
        let mut s = self.pop();
        let v = self.pop_vec(ty);
        let lane_ty = ty.lane_type();
        if lane_ty.is_int() && lane_ty.bits() < 32 {
            s = self.b.ins().ireduce(lane_ty, s);
        }
        let r = self.b.ins().insertlane(v, s, lane);
        self.push_vec(r);
    }

    /// `extend_low`/`extend_high`: half of the lanes of a `ty` vector, widened.
    pub(crate) fn vec_widen(&mut self, ty: ir::Type, widen: Widen) {
        self.vec_unary(ty, |b, v| widen.apply(b, v));
    }

    /// `extmul_low`/`extmul_high`: the products of half of the lanes of two `ty` vectors,
    /// widened first so that they cannot overflow.
    pub(crate) fn vec_extmul(&mut self, ty: ir::Type, widen: Widen) {
        self.vec_binary(ty, |b, x, y| {
            let x = widen.apply(b, x);
            let y = widen.apply(b, y);
            b.ins().imul(x, y)
        });
    }

    /// `extadd_pairwise`: sums of adjacent lanes of a `ty` vector, widened with `low`'s
    /// extension.
    pub(crate) fn vec_extadd_pairwise(&mut self, ty: ir::Type, low: Widen) {
        self.vec_unary(ty, |b, v| {
            let lo = low.apply(b, v);
            let hi = low.high().apply(b, v);
            b.ins().iadd_pairwise(lo, hi)
        });
    }

    /// `i32x4.dot_i16x8_s`: the 32-bit products of the signed 16-bit lanes, summed in pairs.
    pub(crate) fn vec_dot(&mut self) {
        self.vec_binary(I16X8, |b, x, y| {
            let lo = Widen::LowS.apply(b, x);
            let y_lo = Widen::LowS.apply(b, y);
            let lo = b.ins().imul(lo, y_lo);
            let hi = Widen::HighS.apply(b, x);
            let y_hi = Widen::HighS.apply(b, y);
            let hi = b.ins().imul(hi, y_hi);
            b.ins().iadd_pairwise(lo, hi)
        });
    }
}
