//! SIMD (128-bit vector) operators: the whole `simd` proposal of WebAssembly 2.0, one arm per
//! operator, each delegating to a lane-wise helper in [`lanes`] or a memory helper in [`memory`].
//!
//! *Invariant:* every `v128` value outside this module (operand stack, locals, globals, block
//! parameters, calls) is an `i8x16`. An operator bitcasts its operands to the lane type it works
//! on (little-endian lane order, as Wasm defines it) and bitcasts its vector result back to
//! `i8x16`; scalar results (`extract_lane`, `any_true`, `all_true`, `bitmask`) are pushed as
//! `i32`/`i64`/`f32`/`f64`.
//!
//! Each operator maps to the Cranelift instruction with the same semantics, chosen to match
//! the patterns Cranelift's backends recognise (for example `snarrow` of `fcvt_to_sint_sat`
//! and a zero vector for `i32x4.trunc_sat_f64x2_s_zero`). Wasm's shift amounts are taken modulo
//! the lane width, which is exactly what Cranelift's vector shifts do. Relaxed SIMD is not
//! supported: its operators, like any other unknown operator, return an unsupported error.

mod lanes;
mod memory;

use self::lanes::Widen;
use super::{Cx, TranslateError};
use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{InstBuilder, types::*};
use wasmparser::Operator as Op;

impl Cx<'_, '_> {
    /// Translates a SIMD operator (already validated, in reachable code).
    pub fn translate_simd(&mut self, op: &Op<'_>, offset: usize) -> Result<(), TranslateError> {
        match op {
            // Memory.
            Op::V128Load { memarg } => {
                self.vec_load(memarg, 16, |b, f, a| b.ins().load(I8X16, f, a, 0))
            }
            Op::V128Load8x8S { memarg } => {
                self.vec_load(memarg, 8, |b, f, a| b.ins().sload8x8(f, a, 0))
            }
            Op::V128Load8x8U { memarg } => {
                self.vec_load(memarg, 8, |b, f, a| b.ins().uload8x8(f, a, 0))
            }
            Op::V128Load16x4S { memarg } => {
                self.vec_load(memarg, 8, |b, f, a| b.ins().sload16x4(f, a, 0))
            }
            Op::V128Load16x4U { memarg } => {
                self.vec_load(memarg, 8, |b, f, a| b.ins().uload16x4(f, a, 0))
            }
            Op::V128Load32x2S { memarg } => {
                self.vec_load(memarg, 8, |b, f, a| b.ins().sload32x2(f, a, 0))
            }
            Op::V128Load32x2U { memarg } => {
                self.vec_load(memarg, 8, |b, f, a| b.ins().uload32x2(f, a, 0))
            }
            Op::V128Load8Splat { memarg } => self.vec_load_splat(memarg, I8X16),
            Op::V128Load16Splat { memarg } => self.vec_load_splat(memarg, I16X8),
            Op::V128Load32Splat { memarg } => self.vec_load_splat(memarg, I32X4),
            Op::V128Load64Splat { memarg } => self.vec_load_splat(memarg, I64X2),
            Op::V128Load32Zero { memarg } => self.vec_load_zero(memarg, I32X4),
            Op::V128Load64Zero { memarg } => self.vec_load_zero(memarg, I64X2),
            Op::V128Load8Lane { memarg, lane } => self.vec_load_lane(memarg, I8X16, *lane),
            Op::V128Load16Lane { memarg, lane } => self.vec_load_lane(memarg, I16X8, *lane),
            Op::V128Load32Lane { memarg, lane } => self.vec_load_lane(memarg, I32X4, *lane),
            Op::V128Load64Lane { memarg, lane } => self.vec_load_lane(memarg, I64X2, *lane),
            Op::V128Store { memarg } => self.vec_store(memarg),
            Op::V128Store8Lane { memarg, lane } => self.vec_store_lane(memarg, I8X16, *lane),
            Op::V128Store16Lane { memarg, lane } => self.vec_store_lane(memarg, I16X8, *lane),
            Op::V128Store32Lane { memarg, lane } => self.vec_store_lane(memarg, I32X4, *lane),
            Op::V128Store64Lane { memarg, lane } => self.vec_store_lane(memarg, I64X2, *lane),

            // Constants, shuffles, splats and lanes.
            Op::V128Const { value } => self.vec_const(value.bytes()),
            Op::I8x16Shuffle { lanes } => self.vec_shuffle(lanes),
            Op::I8x16Swizzle => self.vec_binary(I8X16, |b, x, y| b.ins().swizzle(x, y)),
            Op::I8x16Splat => self.vec_splat(I8X16),
            Op::I16x8Splat => self.vec_splat(I16X8),
            Op::I32x4Splat => self.vec_splat(I32X4),
            Op::I64x2Splat => self.vec_splat(I64X2),
            Op::F32x4Splat => self.vec_splat(F32X4),
            Op::F64x2Splat => self.vec_splat(F64X2),
            Op::I8x16ExtractLaneS { lane } => {
                self.vec_extract(I8X16, *lane, |b, v| b.ins().sextend(I32, v))
            }
            Op::I8x16ExtractLaneU { lane } => {
                self.vec_extract(I8X16, *lane, |b, v| b.ins().uextend(I32, v))
            }
            Op::I16x8ExtractLaneS { lane } => {
                self.vec_extract(I16X8, *lane, |b, v| b.ins().sextend(I32, v))
            }
            Op::I16x8ExtractLaneU { lane } => {
                self.vec_extract(I16X8, *lane, |b, v| b.ins().uextend(I32, v))
            }
            Op::I32x4ExtractLane { lane } => self.vec_extract(I32X4, *lane, |_, v| v),
            Op::I64x2ExtractLane { lane } => self.vec_extract(I64X2, *lane, |_, v| v),
            Op::F32x4ExtractLane { lane } => self.vec_extract(F32X4, *lane, |_, v| v),
            Op::F64x2ExtractLane { lane } => self.vec_extract(F64X2, *lane, |_, v| v),
            Op::I8x16ReplaceLane { lane } => self.vec_replace(I8X16, *lane),
            Op::I16x8ReplaceLane { lane } => self.vec_replace(I16X8, *lane),
            Op::I32x4ReplaceLane { lane } => self.vec_replace(I32X4, *lane),
            Op::I64x2ReplaceLane { lane } => self.vec_replace(I64X2, *lane),
            Op::F32x4ReplaceLane { lane } => self.vec_replace(F32X4, *lane),
            Op::F64x2ReplaceLane { lane } => self.vec_replace(F64X2, *lane),

            // Integer comparisons (lane masks: all ones where true).
            Op::I8x16Eq => self.vec_icmp(I8X16, IntCC::Equal),
            Op::I8x16Ne => self.vec_icmp(I8X16, IntCC::NotEqual),
            Op::I8x16LtS => self.vec_icmp(I8X16, IntCC::SignedLessThan),
            Op::I8x16LtU => self.vec_icmp(I8X16, IntCC::UnsignedLessThan),
            Op::I8x16GtS => self.vec_icmp(I8X16, IntCC::SignedGreaterThan),
            Op::I8x16GtU => self.vec_icmp(I8X16, IntCC::UnsignedGreaterThan),
            Op::I8x16LeS => self.vec_icmp(I8X16, IntCC::SignedLessThanOrEqual),
            Op::I8x16LeU => self.vec_icmp(I8X16, IntCC::UnsignedLessThanOrEqual),
            Op::I8x16GeS => self.vec_icmp(I8X16, IntCC::SignedGreaterThanOrEqual),
            Op::I8x16GeU => self.vec_icmp(I8X16, IntCC::UnsignedGreaterThanOrEqual),
            Op::I16x8Eq => self.vec_icmp(I16X8, IntCC::Equal),
            Op::I16x8Ne => self.vec_icmp(I16X8, IntCC::NotEqual),
            Op::I16x8LtS => self.vec_icmp(I16X8, IntCC::SignedLessThan),
            Op::I16x8LtU => self.vec_icmp(I16X8, IntCC::UnsignedLessThan),
            Op::I16x8GtS => self.vec_icmp(I16X8, IntCC::SignedGreaterThan),
            Op::I16x8GtU => self.vec_icmp(I16X8, IntCC::UnsignedGreaterThan),
            Op::I16x8LeS => self.vec_icmp(I16X8, IntCC::SignedLessThanOrEqual),
            Op::I16x8LeU => self.vec_icmp(I16X8, IntCC::UnsignedLessThanOrEqual),
            Op::I16x8GeS => self.vec_icmp(I16X8, IntCC::SignedGreaterThanOrEqual),
            Op::I16x8GeU => self.vec_icmp(I16X8, IntCC::UnsignedGreaterThanOrEqual),
            Op::I32x4Eq => self.vec_icmp(I32X4, IntCC::Equal),
            Op::I32x4Ne => self.vec_icmp(I32X4, IntCC::NotEqual),
            Op::I32x4LtS => self.vec_icmp(I32X4, IntCC::SignedLessThan),
            Op::I32x4LtU => self.vec_icmp(I32X4, IntCC::UnsignedLessThan),
            Op::I32x4GtS => self.vec_icmp(I32X4, IntCC::SignedGreaterThan),
            Op::I32x4GtU => self.vec_icmp(I32X4, IntCC::UnsignedGreaterThan),
            Op::I32x4LeS => self.vec_icmp(I32X4, IntCC::SignedLessThanOrEqual),
            Op::I32x4LeU => self.vec_icmp(I32X4, IntCC::UnsignedLessThanOrEqual),
            Op::I32x4GeS => self.vec_icmp(I32X4, IntCC::SignedGreaterThanOrEqual),
            Op::I32x4GeU => self.vec_icmp(I32X4, IntCC::UnsignedGreaterThanOrEqual),
            Op::I64x2Eq => self.vec_icmp(I64X2, IntCC::Equal),
            Op::I64x2Ne => self.vec_icmp(I64X2, IntCC::NotEqual),
            Op::I64x2LtS => self.vec_icmp(I64X2, IntCC::SignedLessThan),
            Op::I64x2GtS => self.vec_icmp(I64X2, IntCC::SignedGreaterThan),
            Op::I64x2LeS => self.vec_icmp(I64X2, IntCC::SignedLessThanOrEqual),
            Op::I64x2GeS => self.vec_icmp(I64X2, IntCC::SignedGreaterThanOrEqual),

            // Float comparisons (ordered except `ne`, as in the scalar operators).
            Op::F32x4Eq => self.vec_fcmp(F32X4, FloatCC::Equal),
            Op::F32x4Ne => self.vec_fcmp(F32X4, FloatCC::NotEqual),
            Op::F32x4Lt => self.vec_fcmp(F32X4, FloatCC::LessThan),
            Op::F32x4Gt => self.vec_fcmp(F32X4, FloatCC::GreaterThan),
            Op::F32x4Le => self.vec_fcmp(F32X4, FloatCC::LessThanOrEqual),
            Op::F32x4Ge => self.vec_fcmp(F32X4, FloatCC::GreaterThanOrEqual),
            Op::F64x2Eq => self.vec_fcmp(F64X2, FloatCC::Equal),
            Op::F64x2Ne => self.vec_fcmp(F64X2, FloatCC::NotEqual),
            Op::F64x2Lt => self.vec_fcmp(F64X2, FloatCC::LessThan),
            Op::F64x2Gt => self.vec_fcmp(F64X2, FloatCC::GreaterThan),
            Op::F64x2Le => self.vec_fcmp(F64X2, FloatCC::LessThanOrEqual),
            Op::F64x2Ge => self.vec_fcmp(F64X2, FloatCC::GreaterThanOrEqual),

            // Bitwise.
            Op::V128Not => self.vec_unary(I8X16, |b, v| b.ins().bnot(v)),
            Op::V128And => self.vec_binary(I8X16, |b, x, y| b.ins().band(x, y)),
            Op::V128AndNot => self.vec_binary(I8X16, |b, x, y| b.ins().band_not(x, y)),
            Op::V128Or => self.vec_binary(I8X16, |b, x, y| b.ins().bor(x, y)),
            Op::V128Xor => self.vec_binary(I8X16, |b, x, y| b.ins().bxor(x, y)),
            Op::V128Bitselect => self.vec_bitselect(),
            Op::V128AnyTrue => self.vec_reduce(I8X16, |b, v| {
                let t = b.ins().vany_true(v);
                b.ins().uextend(I32, t)
            }),

            // Lane-wise integer operators shared by several shapes.
            Op::I8x16AllTrue => self.vec_all_true(I8X16),
            Op::I16x8AllTrue => self.vec_all_true(I16X8),
            Op::I32x4AllTrue => self.vec_all_true(I32X4),
            Op::I64x2AllTrue => self.vec_all_true(I64X2),
            Op::I8x16Bitmask => self.vec_reduce(I8X16, |b, v| b.ins().vhigh_bits(I32, v)),
            Op::I16x8Bitmask => self.vec_reduce(I16X8, |b, v| b.ins().vhigh_bits(I32, v)),
            Op::I32x4Bitmask => self.vec_reduce(I32X4, |b, v| b.ins().vhigh_bits(I32, v)),
            Op::I64x2Bitmask => self.vec_reduce(I64X2, |b, v| b.ins().vhigh_bits(I32, v)),
            Op::I8x16Abs => self.vec_unary(I8X16, |b, v| b.ins().iabs(v)),
            Op::I16x8Abs => self.vec_unary(I16X8, |b, v| b.ins().iabs(v)),
            Op::I32x4Abs => self.vec_unary(I32X4, |b, v| b.ins().iabs(v)),
            Op::I64x2Abs => self.vec_unary(I64X2, |b, v| b.ins().iabs(v)),
            Op::I8x16Neg => self.vec_unary(I8X16, |b, v| b.ins().ineg(v)),
            Op::I16x8Neg => self.vec_unary(I16X8, |b, v| b.ins().ineg(v)),
            Op::I32x4Neg => self.vec_unary(I32X4, |b, v| b.ins().ineg(v)),
            Op::I64x2Neg => self.vec_unary(I64X2, |b, v| b.ins().ineg(v)),
            Op::I8x16Shl => self.vec_shift(I8X16, |b, v, s| b.ins().ishl(v, s)),
            Op::I16x8Shl => self.vec_shift(I16X8, |b, v, s| b.ins().ishl(v, s)),
            Op::I32x4Shl => self.vec_shift(I32X4, |b, v, s| b.ins().ishl(v, s)),
            Op::I64x2Shl => self.vec_shift(I64X2, |b, v, s| b.ins().ishl(v, s)),
            Op::I8x16ShrS => self.vec_shift(I8X16, |b, v, s| b.ins().sshr(v, s)),
            Op::I16x8ShrS => self.vec_shift(I16X8, |b, v, s| b.ins().sshr(v, s)),
            Op::I32x4ShrS => self.vec_shift(I32X4, |b, v, s| b.ins().sshr(v, s)),
            Op::I64x2ShrS => self.vec_shift(I64X2, |b, v, s| b.ins().sshr(v, s)),
            Op::I8x16ShrU => self.vec_shift(I8X16, |b, v, s| b.ins().ushr(v, s)),
            Op::I16x8ShrU => self.vec_shift(I16X8, |b, v, s| b.ins().ushr(v, s)),
            Op::I32x4ShrU => self.vec_shift(I32X4, |b, v, s| b.ins().ushr(v, s)),
            Op::I64x2ShrU => self.vec_shift(I64X2, |b, v, s| b.ins().ushr(v, s)),
            Op::I8x16Add => self.vec_binary(I8X16, |b, x, y| b.ins().iadd(x, y)),
            Op::I16x8Add => self.vec_binary(I16X8, |b, x, y| b.ins().iadd(x, y)),
            Op::I32x4Add => self.vec_binary(I32X4, |b, x, y| b.ins().iadd(x, y)),
            Op::I64x2Add => self.vec_binary(I64X2, |b, x, y| b.ins().iadd(x, y)),
            Op::I8x16Sub => self.vec_binary(I8X16, |b, x, y| b.ins().isub(x, y)),
            Op::I16x8Sub => self.vec_binary(I16X8, |b, x, y| b.ins().isub(x, y)),
            Op::I32x4Sub => self.vec_binary(I32X4, |b, x, y| b.ins().isub(x, y)),
            Op::I64x2Sub => self.vec_binary(I64X2, |b, x, y| b.ins().isub(x, y)),
            Op::I16x8Mul => self.vec_binary(I16X8, |b, x, y| b.ins().imul(x, y)),
            Op::I32x4Mul => self.vec_binary(I32X4, |b, x, y| b.ins().imul(x, y)),
            Op::I64x2Mul => self.vec_binary(I64X2, |b, x, y| b.ins().imul(x, y)),
            Op::I8x16AddSatS => self.vec_binary(I8X16, |b, x, y| b.ins().sadd_sat(x, y)),
            Op::I16x8AddSatS => self.vec_binary(I16X8, |b, x, y| b.ins().sadd_sat(x, y)),
            Op::I8x16AddSatU => self.vec_binary(I8X16, |b, x, y| b.ins().uadd_sat(x, y)),
            Op::I16x8AddSatU => self.vec_binary(I16X8, |b, x, y| b.ins().uadd_sat(x, y)),
            Op::I8x16SubSatS => self.vec_binary(I8X16, |b, x, y| b.ins().ssub_sat(x, y)),
            Op::I16x8SubSatS => self.vec_binary(I16X8, |b, x, y| b.ins().ssub_sat(x, y)),
            Op::I8x16SubSatU => self.vec_binary(I8X16, |b, x, y| b.ins().usub_sat(x, y)),
            Op::I16x8SubSatU => self.vec_binary(I16X8, |b, x, y| b.ins().usub_sat(x, y)),
            Op::I8x16MinS => self.vec_binary(I8X16, |b, x, y| b.ins().smin(x, y)),
            Op::I16x8MinS => self.vec_binary(I16X8, |b, x, y| b.ins().smin(x, y)),
            Op::I32x4MinS => self.vec_binary(I32X4, |b, x, y| b.ins().smin(x, y)),
            Op::I8x16MinU => self.vec_binary(I8X16, |b, x, y| b.ins().umin(x, y)),
            Op::I16x8MinU => self.vec_binary(I16X8, |b, x, y| b.ins().umin(x, y)),
            Op::I32x4MinU => self.vec_binary(I32X4, |b, x, y| b.ins().umin(x, y)),
            Op::I8x16MaxS => self.vec_binary(I8X16, |b, x, y| b.ins().smax(x, y)),
            Op::I16x8MaxS => self.vec_binary(I16X8, |b, x, y| b.ins().smax(x, y)),
            Op::I32x4MaxS => self.vec_binary(I32X4, |b, x, y| b.ins().smax(x, y)),
            Op::I8x16MaxU => self.vec_binary(I8X16, |b, x, y| b.ins().umax(x, y)),
            Op::I16x8MaxU => self.vec_binary(I16X8, |b, x, y| b.ins().umax(x, y)),
            Op::I32x4MaxU => self.vec_binary(I32X4, |b, x, y| b.ins().umax(x, y)),
            Op::I8x16AvgrU => self.vec_binary(I8X16, |b, x, y| b.ins().avg_round(x, y)),
            Op::I16x8AvgrU => self.vec_binary(I16X8, |b, x, y| b.ins().avg_round(x, y)),
            Op::I8x16Popcnt => self.vec_unary(I8X16, |b, v| b.ins().popcnt(v)),
            Op::I16x8Q15MulrSatS => self.vec_binary(I16X8, |b, x, y| b.ins().sqmul_round_sat(x, y)),
            Op::I32x4DotI16x8S => self.vec_dot(),

            // Narrowing, widening and pairwise operators.
            Op::I8x16NarrowI16x8S => self.vec_binary(I16X8, |b, x, y| b.ins().snarrow(x, y)),
            Op::I8x16NarrowI16x8U => self.vec_binary(I16X8, |b, x, y| b.ins().unarrow(x, y)),
            Op::I16x8NarrowI32x4S => self.vec_binary(I32X4, |b, x, y| b.ins().snarrow(x, y)),
            Op::I16x8NarrowI32x4U => self.vec_binary(I32X4, |b, x, y| b.ins().unarrow(x, y)),
            Op::I16x8ExtendLowI8x16S => self.vec_widen(I8X16, Widen::LowS),
            Op::I16x8ExtendHighI8x16S => self.vec_widen(I8X16, Widen::HighS),
            Op::I16x8ExtendLowI8x16U => self.vec_widen(I8X16, Widen::LowU),
            Op::I16x8ExtendHighI8x16U => self.vec_widen(I8X16, Widen::HighU),
            Op::I32x4ExtendLowI16x8S => self.vec_widen(I16X8, Widen::LowS),
            Op::I32x4ExtendHighI16x8S => self.vec_widen(I16X8, Widen::HighS),
            Op::I32x4ExtendLowI16x8U => self.vec_widen(I16X8, Widen::LowU),
            Op::I32x4ExtendHighI16x8U => self.vec_widen(I16X8, Widen::HighU),
            Op::I64x2ExtendLowI32x4S => self.vec_widen(I32X4, Widen::LowS),
            Op::I64x2ExtendHighI32x4S => self.vec_widen(I32X4, Widen::HighS),
            Op::I64x2ExtendLowI32x4U => self.vec_widen(I32X4, Widen::LowU),
            Op::I64x2ExtendHighI32x4U => self.vec_widen(I32X4, Widen::HighU),
            Op::I16x8ExtMulLowI8x16S => self.vec_extmul(I8X16, Widen::LowS),
            Op::I16x8ExtMulHighI8x16S => self.vec_extmul(I8X16, Widen::HighS),
            Op::I16x8ExtMulLowI8x16U => self.vec_extmul(I8X16, Widen::LowU),
            Op::I16x8ExtMulHighI8x16U => self.vec_extmul(I8X16, Widen::HighU),
            Op::I32x4ExtMulLowI16x8S => self.vec_extmul(I16X8, Widen::LowS),
            Op::I32x4ExtMulHighI16x8S => self.vec_extmul(I16X8, Widen::HighS),
            Op::I32x4ExtMulLowI16x8U => self.vec_extmul(I16X8, Widen::LowU),
            Op::I32x4ExtMulHighI16x8U => self.vec_extmul(I16X8, Widen::HighU),
            Op::I64x2ExtMulLowI32x4S => self.vec_extmul(I32X4, Widen::LowS),
            Op::I64x2ExtMulHighI32x4S => self.vec_extmul(I32X4, Widen::HighS),
            Op::I64x2ExtMulLowI32x4U => self.vec_extmul(I32X4, Widen::LowU),
            Op::I64x2ExtMulHighI32x4U => self.vec_extmul(I32X4, Widen::HighU),
            Op::I16x8ExtAddPairwiseI8x16S => self.vec_extadd_pairwise(I8X16, Widen::LowS),
            Op::I16x8ExtAddPairwiseI8x16U => self.vec_extadd_pairwise(I8X16, Widen::LowU),
            Op::I32x4ExtAddPairwiseI16x8S => self.vec_extadd_pairwise(I16X8, Widen::LowS),
            Op::I32x4ExtAddPairwiseI16x8U => self.vec_extadd_pairwise(I16X8, Widen::LowU),

            // Float arithmetic.
            Op::F32x4Abs => self.vec_unary(F32X4, |b, v| b.ins().fabs(v)),
            Op::F64x2Abs => self.vec_unary(F64X2, |b, v| b.ins().fabs(v)),
            Op::F32x4Neg => self.vec_unary(F32X4, |b, v| b.ins().fneg(v)),
            Op::F64x2Neg => self.vec_unary(F64X2, |b, v| b.ins().fneg(v)),
            Op::F32x4Sqrt => self.vec_unary(F32X4, |b, v| b.ins().sqrt(v)),
            Op::F64x2Sqrt => self.vec_unary(F64X2, |b, v| b.ins().sqrt(v)),
            Op::F32x4Ceil => self.vec_unary(F32X4, |b, v| b.ins().ceil(v)),
            Op::F64x2Ceil => self.vec_unary(F64X2, |b, v| b.ins().ceil(v)),
            Op::F32x4Floor => self.vec_unary(F32X4, |b, v| b.ins().floor(v)),
            Op::F64x2Floor => self.vec_unary(F64X2, |b, v| b.ins().floor(v)),
            Op::F32x4Trunc => self.vec_unary(F32X4, |b, v| b.ins().trunc(v)),
            Op::F64x2Trunc => self.vec_unary(F64X2, |b, v| b.ins().trunc(v)),
            Op::F32x4Nearest => self.vec_unary(F32X4, |b, v| b.ins().nearest(v)),
            Op::F64x2Nearest => self.vec_unary(F64X2, |b, v| b.ins().nearest(v)),
            Op::F32x4Add => self.vec_binary(F32X4, |b, x, y| b.ins().fadd(x, y)),
            Op::F64x2Add => self.vec_binary(F64X2, |b, x, y| b.ins().fadd(x, y)),
            Op::F32x4Sub => self.vec_binary(F32X4, |b, x, y| b.ins().fsub(x, y)),
            Op::F64x2Sub => self.vec_binary(F64X2, |b, x, y| b.ins().fsub(x, y)),
            Op::F32x4Mul => self.vec_binary(F32X4, |b, x, y| b.ins().fmul(x, y)),
            Op::F64x2Mul => self.vec_binary(F64X2, |b, x, y| b.ins().fmul(x, y)),
            Op::F32x4Div => self.vec_binary(F32X4, |b, x, y| b.ins().fdiv(x, y)),
            Op::F64x2Div => self.vec_binary(F64X2, |b, x, y| b.ins().fdiv(x, y)),
            Op::F32x4Min => self.vec_binary(F32X4, |b, x, y| b.ins().fmin(x, y)),
            Op::F64x2Min => self.vec_binary(F64X2, |b, x, y| b.ins().fmin(x, y)),
            Op::F32x4Max => self.vec_binary(F32X4, |b, x, y| b.ins().fmax(x, y)),
            Op::F64x2Max => self.vec_binary(F64X2, |b, x, y| b.ins().fmax(x, y)),
            Op::F32x4PMin => self.vec_binary(F32X4, lanes::pseudo_min),
            Op::F64x2PMin => self.vec_binary(F64X2, lanes::pseudo_min),
            Op::F32x4PMax => self.vec_binary(F32X4, lanes::pseudo_max),
            Op::F64x2PMax => self.vec_binary(F64X2, lanes::pseudo_max),

            // Conversions.
            Op::I32x4TruncSatF32x4S => {
                self.vec_unary(F32X4, |b, v| b.ins().fcvt_to_sint_sat(I32X4, v))
            }
            Op::I32x4TruncSatF32x4U => {
                self.vec_unary(F32X4, |b, v| b.ins().fcvt_to_uint_sat(I32X4, v))
            }
            Op::I32x4TruncSatF64x2SZero => self.vec_unary(F64X2, |b, v| {
                let wide = b.ins().fcvt_to_sint_sat(I64X2, v);
                let zero = lanes::zero_vector(b, I64X2);
                b.ins().snarrow(wide, zero)
            }),
            Op::I32x4TruncSatF64x2UZero => self.vec_unary(F64X2, |b, v| {
                let wide = b.ins().fcvt_to_uint_sat(I64X2, v);
                let zero = lanes::zero_vector(b, I64X2);
                b.ins().uunarrow(wide, zero)
            }),
            Op::F32x4ConvertI32x4S => {
                self.vec_unary(I32X4, |b, v| b.ins().fcvt_from_sint(F32X4, v))
            }
            Op::F32x4ConvertI32x4U => {
                self.vec_unary(I32X4, |b, v| b.ins().fcvt_from_uint(F32X4, v))
            }
            Op::F64x2ConvertLowI32x4S => self.vec_unary(I32X4, |b, v| {
                let wide = b.ins().swiden_low(v);
                b.ins().fcvt_from_sint(F64X2, wide)
            }),
            Op::F64x2ConvertLowI32x4U => self.vec_unary(I32X4, |b, v| {
                let wide = b.ins().uwiden_low(v);
                b.ins().fcvt_from_uint(F64X2, wide)
            }),
            Op::F32x4DemoteF64x2Zero => self.vec_unary(F64X2, |b, v| b.ins().fvdemote(v)),
            Op::F64x2PromoteLowF32x4 => self.vec_unary(F32X4, |b, v| b.ins().fvpromote_low(v)),

            other => return Err(TranslateError::unsupported(offset, &operator_name(other))),
        }
        Ok(())
    }
}

/// The name of an operator for an error message: its wasmparser variant name, without
/// immediates.
fn operator_name(op: &Op<'_>) -> String {
    let debug = format!("{op:?}");
    match debug.find([' ', '{', '(']) {
        Some(end) => debug[..end].to_string(),
        None => debug,
    }
}
