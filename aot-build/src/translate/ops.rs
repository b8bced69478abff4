//! The operator table: one arm per non-SIMD Wasm operator, each delegating to a family helper
//! (control, memory, numeric, table, call). SIMD operators are in `simd.rs`.
//!
//! Code after an unconditional transfer is unreachable: there only the control structure is
//! tracked, so that `else` and `end` find their frames.

use super::{Cx, TranslateError};
use aot_runtime::artifact::builtins::Builtin;
use aot_runtime::artifact::{
    DataIndex, ElemIndex, FuncIndex, GlobalIndex, MemoryIndex, TableIndex, Trap, TypeIndex,
};
use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::immediates::{Ieee32, Ieee64};
use cranelift_codegen::ir::{self, InstBuilder, MemFlagsData, types::*};
use cranelift_frontend::FunctionBuilder;
use wasmparser::{MemArg, Operator as Op};

/// The memory a memory instruction accesses.
pub(crate) fn mem_index(memarg: &MemArg) -> MemoryIndex {
    match memarg.target {
        wasmparser::MemArgTarget::Memory(m) => MemoryIndex(m),
        wasmparser::MemArgTarget::Array(_) => unreachable!("validated: GC arrays are disabled"),
    }
}

impl Cx<'_, '_> {
    /// Translates one operator (already validated).
    pub fn translate_operator(&mut self, op: &Op<'_>, offset: usize) -> Result<(), TranslateError> {
        if !self.reachable {
            match op {
                Op::Block { .. } | Op::Loop { .. } | Op::If { .. } => {
                    self.translate_block(wasmparser::BlockType::Empty)
                }
                Op::Else => self.translate_else(),
                Op::End => self.translate_end(),
                _ => {}
            }
            return Ok(());
        }
        match op {
            // Control.
            Op::Unreachable => self.translate_unreachable(),
            Op::Nop => {}
            Op::Block { blockty } => self.translate_block(*blockty),
            Op::Loop { blockty } => self.translate_loop(*blockty),
            Op::If { blockty } => self.translate_if(*blockty),
            Op::Else => self.translate_else(),
            Op::End => self.translate_end(),
            Op::Br { relative_depth } => self.translate_br(*relative_depth),
            Op::BrIf { relative_depth } => self.translate_br_if(*relative_depth),
            Op::BrTable { targets } => self.translate_br_table(targets, offset)?,
            Op::Return => self.translate_return(),
            Op::Call { function_index } => self.translate_call(FuncIndex(*function_index), false),
            Op::ReturnCall { function_index } => {
                self.translate_call(FuncIndex(*function_index), true)
            }
            Op::CallIndirect {
                type_index,
                table_index,
            } => self.translate_call_indirect(
                TypeIndex(*type_index),
                TableIndex(*table_index),
                false,
            ),
            Op::ReturnCallIndirect {
                type_index,
                table_index,
            } => {
                self.translate_call_indirect(TypeIndex(*type_index), TableIndex(*table_index), true)
            }

            // Parametric.
            Op::Drop => {
                self.pop();
            }
            Op::Select | Op::TypedSelect { .. } => {
                let (a, b, c) = self.pop3();
                let v = self.b.ins().select(c, a, b);
                self.push(v);
            }

            // Variables.
            Op::LocalGet { local_index } => {
                let v = self.b.use_var(self.locals[*local_index as usize]);
                self.push(v);
            }
            Op::LocalSet { local_index } => {
                let v = self.pop();
                self.b.def_var(self.locals[*local_index as usize], v);
            }
            Op::LocalTee { local_index } => {
                let v = *self.stack.last().expect("validated");
                self.b.def_var(self.locals[*local_index as usize], v);
            }
            Op::GlobalGet { global_index } => {
                let v = self.global_get(GlobalIndex(*global_index));
                self.push(v);
            }
            Op::GlobalSet { global_index } => {
                let v = self.pop();
                self.global_set(GlobalIndex(*global_index), v);
            }

            // Memory.
            Op::I32Load { memarg } => self.load(memarg, 4, |b, f, a| b.ins().load(I32, f, a, 0)),
            Op::I64Load { memarg } => self.load(memarg, 8, |b, f, a| b.ins().load(I64, f, a, 0)),
            Op::F32Load { memarg } => self.load(memarg, 4, |b, f, a| b.ins().load(F32, f, a, 0)),
            Op::F64Load { memarg } => self.load(memarg, 8, |b, f, a| b.ins().load(F64, f, a, 0)),
            Op::I32Load8S { memarg } => {
                self.load(memarg, 1, |b, f, a| b.ins().sload8(I32, f, a, 0))
            }
            Op::I32Load8U { memarg } => {
                self.load(memarg, 1, |b, f, a| b.ins().uload8(I32, f, a, 0))
            }
            Op::I32Load16S { memarg } => {
                self.load(memarg, 2, |b, f, a| b.ins().sload16(I32, f, a, 0))
            }
            Op::I32Load16U { memarg } => {
                self.load(memarg, 2, |b, f, a| b.ins().uload16(I32, f, a, 0))
            }
            Op::I64Load8S { memarg } => {
                self.load(memarg, 1, |b, f, a| b.ins().sload8(I64, f, a, 0))
            }
            Op::I64Load8U { memarg } => {
                self.load(memarg, 1, |b, f, a| b.ins().uload8(I64, f, a, 0))
            }
            Op::I64Load16S { memarg } => {
                self.load(memarg, 2, |b, f, a| b.ins().sload16(I64, f, a, 0))
            }
            Op::I64Load16U { memarg } => {
                self.load(memarg, 2, |b, f, a| b.ins().uload16(I64, f, a, 0))
            }
            Op::I64Load32S { memarg } => self.load(memarg, 4, |b, f, a| b.ins().sload32(f, a, 0)),
            Op::I64Load32U { memarg } => self.load(memarg, 4, |b, f, a| b.ins().uload32(f, a, 0)),
            Op::I32Store { memarg }
            | Op::I64Store { memarg }
            | Op::F32Store { memarg }
            | Op::F64Store { memarg } => self.store(memarg, |b, f, v, a| {
                b.ins().store(f, v, a, 0);
            }),
            Op::I32Store8 { memarg } | Op::I64Store8 { memarg } => {
                self.store(memarg, |b, f, v, a| {
                    b.ins().istore8(f, v, a, 0);
                })
            }
            Op::I32Store16 { memarg } | Op::I64Store16 { memarg } => {
                self.store(memarg, |b, f, v, a| {
                    b.ins().istore16(f, v, a, 0);
                })
            }
            Op::I64Store32 { memarg } => self.store(memarg, |b, f, v, a| {
                b.ins().istore32(f, v, a, 0);
            }),
            Op::MemorySize { mem } => {
                let len = self.memory_length(MemoryIndex(*mem));
                let pages = self.b.ins().ushr_imm_u(len, 16);
                let pages = self.b.ins().ireduce(I32, pages);
                self.push(pages);
            }
            Op::MemoryGrow { mem } => {
                let delta = self.pop();
                let mem = self.i32_const(*mem);
                let r = self.call_grow_builtin(Builtin::MemoryGrow, &[mem, delta]);
                self.push(r);
            }
            Op::MemoryFill { mem } => {
                let (dst, val, len) = self.pop3();
                let mem = self.i32_const(*mem);
                self.call_checked_builtin(
                    Builtin::MemoryFill,
                    &[mem, dst, val, len],
                    Trap::MemoryOutOfBounds,
                );
            }
            Op::MemoryCopy { dst_mem, src_mem } => {
                let (dst, src, len) = self.pop3();
                let dm = self.i32_const(*dst_mem);
                let sm = self.i32_const(*src_mem);
                self.call_checked_builtin(
                    Builtin::MemoryCopy,
                    &[dm, dst, sm, src, len],
                    Trap::MemoryOutOfBounds,
                );
            }
            Op::MemoryInit { data_index, mem } => {
                let (dst, src, len) = self.pop3();
                let m = self.i32_const(*mem);
                let d = self.i32_const(DataIndex(*data_index).0);
                self.call_checked_builtin(
                    Builtin::MemoryInit,
                    &[m, d, dst, src, len],
                    Trap::MemoryOutOfBounds,
                );
            }
            Op::DataDrop { data_index } => {
                let d = self.i32_const(*data_index);
                self.call_builtin(Builtin::DataDrop, &[d]);
            }

            // Constants.
            Op::I32Const { value } => {
                let v = self.b.ins().iconst(I32, i64::from(*value));
                self.push(v);
            }
            Op::I64Const { value } => {
                let v = self.b.ins().iconst(I64, *value);
                self.push(v);
            }
            Op::F32Const { value } => {
                let v = self.b.ins().f32const(Ieee32::with_bits(value.bits()));
                self.push(v);
            }
            Op::F64Const { value } => {
                let v = self.b.ins().f64const(Ieee64::with_bits(value.bits()));
                self.push(v);
            }

            // References.
            Op::RefNull { .. } => {
                let v = self.b.ins().iconst(self.ptr, 0);
                self.push(v);
            }
            Op::RefIsNull => {
                let r = self.pop();
                let is_null = self.b.ins().icmp_imm_u(IntCC::Equal, r, 0);
                let v = self.b.ins().uextend(I32, is_null);
                self.push(v);
            }
            Op::RefFunc { function_index } => {
                let v = self.func_ref(FuncIndex(*function_index));
                self.push(v);
            }

            // Tables.
            Op::TableGet { table } => {
                let index = self.pop();
                let v = self.table_get(TableIndex(*table), index);
                self.push(v);
            }
            Op::TableSet { table } => {
                let (index, value) = self.pop2();
                self.table_set(TableIndex(*table), index, value);
            }
            Op::TableSize { table } => {
                let size = self.table_size(TableIndex(*table));
                let v = if self.ptr == I32 {
                    size
                } else {
                    self.b.ins().ireduce(I32, size)
                };
                self.push(v);
            }
            Op::TableGrow { table } => {
                let (init, delta) = self.pop2();
                let t = self.i32_const(*table);
                let r = self.call_grow_builtin(Builtin::TableGrow, &[t, delta, init]);
                self.push(r);
            }
            Op::TableFill { table } => {
                let (dst, val, len) = self.pop3();
                let t = self.i32_const(*table);
                self.call_checked_builtin(
                    Builtin::TableFill,
                    &[t, dst, val, len],
                    Trap::TableOutOfBounds,
                );
            }
            Op::TableCopy {
                dst_table,
                src_table,
            } => {
                let (dst, src, len) = self.pop3();
                let dt = self.i32_const(*dst_table);
                let st = self.i32_const(*src_table);
                self.call_checked_builtin(
                    Builtin::TableCopy,
                    &[dt, st, dst, src, len],
                    Trap::TableOutOfBounds,
                );
            }
            Op::TableInit { elem_index, table } => {
                let (dst, src, len) = self.pop3();
                let t = self.i32_const(*table);
                let e = self.i32_const(ElemIndex(*elem_index).0);
                self.call_checked_builtin(
                    Builtin::TableInit,
                    &[t, e, dst, src, len],
                    Trap::TableOutOfBounds,
                );
            }
            Op::ElemDrop { elem_index } => {
                let e = self.i32_const(*elem_index);
                self.call_builtin(Builtin::ElemDrop, &[e]);
            }

            // Integer comparisons.
            Op::I32Eqz | Op::I64Eqz => {
                let a = self.pop();
                let c = self.b.ins().icmp_imm_u(IntCC::Equal, a, 0);
                self.push_bool(c);
            }
            Op::I32Eq | Op::I64Eq => self.icmp(IntCC::Equal),
            Op::I32Ne | Op::I64Ne => self.icmp(IntCC::NotEqual),
            Op::I32LtS | Op::I64LtS => self.icmp(IntCC::SignedLessThan),
            Op::I32LtU | Op::I64LtU => self.icmp(IntCC::UnsignedLessThan),
            Op::I32GtS | Op::I64GtS => self.icmp(IntCC::SignedGreaterThan),
            Op::I32GtU | Op::I64GtU => self.icmp(IntCC::UnsignedGreaterThan),
            Op::I32LeS | Op::I64LeS => self.icmp(IntCC::SignedLessThanOrEqual),
            Op::I32LeU | Op::I64LeU => self.icmp(IntCC::UnsignedLessThanOrEqual),
            Op::I32GeS | Op::I64GeS => self.icmp(IntCC::SignedGreaterThanOrEqual),
            Op::I32GeU | Op::I64GeU => self.icmp(IntCC::UnsignedGreaterThanOrEqual),

            // Float comparisons.
            Op::F32Eq | Op::F64Eq => self.fcmp(FloatCC::Equal),
            Op::F32Ne | Op::F64Ne => self.fcmp(FloatCC::NotEqual),
            Op::F32Lt | Op::F64Lt => self.fcmp(FloatCC::LessThan),
            Op::F32Gt | Op::F64Gt => self.fcmp(FloatCC::GreaterThan),
            Op::F32Le | Op::F64Le => self.fcmp(FloatCC::LessThanOrEqual),
            Op::F32Ge | Op::F64Ge => self.fcmp(FloatCC::GreaterThanOrEqual),

            // Integer arithmetic.
            Op::I32Clz | Op::I64Clz => self.unary(|b, a| b.ins().clz(a)),
            Op::I32Ctz | Op::I64Ctz => self.unary(|b, a| b.ins().ctz(a)),
            Op::I32Popcnt | Op::I64Popcnt => self.unary(|b, a| b.ins().popcnt(a)),
            Op::I32Add | Op::I64Add => self.binary(|b, x, y| b.ins().iadd(x, y)),
            Op::I32Sub | Op::I64Sub => self.binary(|b, x, y| b.ins().isub(x, y)),
            Op::I32Mul | Op::I64Mul => self.binary(|b, x, y| b.ins().imul(x, y)),
            Op::I32DivS | Op::I64DivS => self.binary(|b, x, y| b.ins().sdiv(x, y)),
            Op::I32DivU | Op::I64DivU => self.binary(|b, x, y| b.ins().udiv(x, y)),
            Op::I32RemS | Op::I64RemS => self.binary(|b, x, y| b.ins().srem(x, y)),
            Op::I32RemU | Op::I64RemU => self.binary(|b, x, y| b.ins().urem(x, y)),
            Op::I32And | Op::I64And => self.binary(|b, x, y| b.ins().band(x, y)),
            Op::I32Or | Op::I64Or => self.binary(|b, x, y| b.ins().bor(x, y)),
            Op::I32Xor | Op::I64Xor => self.binary(|b, x, y| b.ins().bxor(x, y)),
            Op::I32Shl | Op::I64Shl => self.binary(|b, x, y| b.ins().ishl(x, y)),
            Op::I32ShrS | Op::I64ShrS => self.binary(|b, x, y| b.ins().sshr(x, y)),
            Op::I32ShrU | Op::I64ShrU => self.binary(|b, x, y| b.ins().ushr(x, y)),
            Op::I32Rotl | Op::I64Rotl => self.binary(|b, x, y| b.ins().rotl(x, y)),
            Op::I32Rotr | Op::I64Rotr => self.binary(|b, x, y| b.ins().rotr(x, y)),

            // Float arithmetic.
            Op::F32Abs | Op::F64Abs => self.unary(|b, a| b.ins().fabs(a)),
            Op::F32Neg | Op::F64Neg => self.unary(|b, a| b.ins().fneg(a)),
            Op::F32Ceil | Op::F64Ceil => self.unary(|b, a| b.ins().ceil(a)),
            Op::F32Floor | Op::F64Floor => self.unary(|b, a| b.ins().floor(a)),
            Op::F32Trunc | Op::F64Trunc => self.unary(|b, a| b.ins().trunc(a)),
            Op::F32Nearest | Op::F64Nearest => self.unary(|b, a| b.ins().nearest(a)),
            Op::F32Sqrt | Op::F64Sqrt => self.unary(|b, a| b.ins().sqrt(a)),
            Op::F32Add | Op::F64Add => self.binary(|b, x, y| b.ins().fadd(x, y)),
            Op::F32Sub | Op::F64Sub => self.binary(|b, x, y| b.ins().fsub(x, y)),
            Op::F32Mul | Op::F64Mul => self.binary(|b, x, y| b.ins().fmul(x, y)),
            Op::F32Div | Op::F64Div => self.binary(|b, x, y| b.ins().fdiv(x, y)),
            Op::F32Min | Op::F64Min => self.binary(|b, x, y| b.ins().fmin(x, y)),
            Op::F32Max | Op::F64Max => self.binary(|b, x, y| b.ins().fmax(x, y)),
            Op::F32Copysign | Op::F64Copysign => self.binary(|b, x, y| b.ins().fcopysign(x, y)),

            // Conversions.
            Op::I32WrapI64 => self.unary(|b, a| b.ins().ireduce(I32, a)),
            Op::I64ExtendI32S => self.unary(|b, a| b.ins().sextend(I64, a)),
            Op::I64ExtendI32U => self.unary(|b, a| b.ins().uextend(I64, a)),
            Op::I32Extend8S => self.sign_extend(I32, I8),
            Op::I32Extend16S => self.sign_extend(I32, I16),
            Op::I64Extend8S => self.sign_extend(I64, I8),
            Op::I64Extend16S => self.sign_extend(I64, I16),
            Op::I64Extend32S => self.sign_extend(I64, I32),
            Op::I32TruncF32S | Op::I32TruncF64S => self.unary(|b, a| b.ins().fcvt_to_sint(I32, a)),
            Op::I32TruncF32U | Op::I32TruncF64U => self.unary(|b, a| b.ins().fcvt_to_uint(I32, a)),
            Op::I64TruncF32S | Op::I64TruncF64S => self.unary(|b, a| b.ins().fcvt_to_sint(I64, a)),
            Op::I64TruncF32U | Op::I64TruncF64U => self.unary(|b, a| b.ins().fcvt_to_uint(I64, a)),
            Op::I32TruncSatF32S | Op::I32TruncSatF64S => {
                self.unary(|b, a| b.ins().fcvt_to_sint_sat(I32, a))
            }
            Op::I32TruncSatF32U | Op::I32TruncSatF64U => {
                self.unary(|b, a| b.ins().fcvt_to_uint_sat(I32, a))
            }
            Op::I64TruncSatF32S | Op::I64TruncSatF64S => {
                self.unary(|b, a| b.ins().fcvt_to_sint_sat(I64, a))
            }
            Op::I64TruncSatF32U | Op::I64TruncSatF64U => {
                self.unary(|b, a| b.ins().fcvt_to_uint_sat(I64, a))
            }
            Op::F32ConvertI32S | Op::F32ConvertI64S => {
                self.unary(|b, a| b.ins().fcvt_from_sint(F32, a))
            }
            Op::F32ConvertI32U | Op::F32ConvertI64U => {
                self.unary(|b, a| b.ins().fcvt_from_uint(F32, a))
            }
            Op::F64ConvertI32S | Op::F64ConvertI64S => {
                self.unary(|b, a| b.ins().fcvt_from_sint(F64, a))
            }
            Op::F64ConvertI32U | Op::F64ConvertI64U => {
                self.unary(|b, a| b.ins().fcvt_from_uint(F64, a))
            }
            Op::F32DemoteF64 => self.unary(|b, a| b.ins().fdemote(F32, a)),
            Op::F64PromoteF32 => self.unary(|b, a| b.ins().fpromote(F64, a)),
            Op::I32ReinterpretF32 => self.bitcast(I32),
            Op::I64ReinterpretF64 => self.bitcast(I64),
            Op::F32ReinterpretI32 => self.bitcast(F32),
            Op::F64ReinterpretI64 => self.bitcast(F64),

            other => return self.translate_simd(other, offset),
        }
        Ok(())
    }

    fn push_bool(&mut self, c: ir::Value) {
        let v = self.b.ins().uextend(I32, c);
        self.push(v);
    }

    fn icmp(&mut self, cc: IntCC) {
        let (x, y) = self.pop2();
        let c = self.b.ins().icmp(cc, x, y);
        self.push_bool(c);
    }

    fn fcmp(&mut self, cc: FloatCC) {
        let (x, y) = self.pop2();
        let c = self.b.ins().fcmp(cc, x, y);
        self.push_bool(c);
    }

    /// Applies a one-operand instruction to the top of the stack.
    pub fn unary(&mut self, f: impl FnOnce(&mut FunctionBuilder<'_>, ir::Value) -> ir::Value) {
        let a = self.pop();
        let v = f(&mut self.b, a);
        self.push(v);
    }

    /// Applies a two-operand instruction to the top two values of the stack.
    pub fn binary(
        &mut self,
        f: impl FnOnce(&mut FunctionBuilder<'_>, ir::Value, ir::Value) -> ir::Value,
    ) {
        let (x, y) = self.pop2();
        let v = f(&mut self.b, x, y);
        self.push(v);
    }

    fn sign_extend(&mut self, to: ir::Type, from: ir::Type) {
        self.unary(|b, a| {
            let narrow = b.ins().ireduce(from, a);
            b.ins().sextend(to, narrow)
        });
    }

    fn bitcast(&mut self, to: ir::Type) {
        self.unary(|b, a| b.ins().bitcast(to, MemFlagsData::new(), a));
    }

    /// A load of `size` bytes from the memory and offset of `memarg`.
    pub fn load(
        &mut self,
        memarg: &MemArg,
        size: u32,
        f: impl FnOnce(&mut FunctionBuilder<'_>, MemFlagsData, ir::Value) -> ir::Value,
    ) {
        let index = self.pop();
        let addr = self.memory_address(mem_index(memarg), index, memarg.offset, size);
        let flags = self.heap_flags();
        let v = f(&mut self.b, flags, addr);
        self.push(v);
    }

    /// A store of the top value to the memory and offset of `memarg`; `f` chooses the (possibly
    /// narrowing) store instruction.
    pub fn store(
        &mut self,
        memarg: &MemArg,
        f: impl FnOnce(&mut FunctionBuilder<'_>, MemFlagsData, ir::Value, ir::Value),
    ) {
        let (index, value) = self.pop2();
        // wasmparser sets `max_align` to the natural alignment, which is the access size.
        let size = 1u32 << memarg.max_align;
        let addr = self.memory_address(mem_index(memarg), index, memarg.offset, size);
        let flags = self.heap_flags();
        f(&mut self.b, flags, value, addr);
    }
}
