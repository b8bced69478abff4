//! SIMD loads and stores: whole vectors, extending loads, splats, zero-extended scalars and
//! single lanes. Addresses come from [`Cx::memory_address`], which applies the configured bounds
//! checks for the exact access size; accesses may be unaligned, as Wasm allows.

use super::super::Cx;
use super::super::ops::mem_index;
use cranelift_codegen::ir::{self, InstBuilder, MemFlagsData, types::*};
use cranelift_frontend::FunctionBuilder;
use wasmparser::MemArg;

impl Cx<'_, '_> {
    /// The address of a `size`-byte access at the popped index plus `memarg`'s offset.
    fn vec_address(&mut self, memarg: &MemArg, size: u32) -> ir::Value {
        let index = self.pop();
        self.memory_address(mem_index(memarg), index, memarg.offset, size)
    }

    /// A load of `size` bytes producing a vector: `f` emits the load from the address.
    pub(crate) fn vec_load(
        &mut self,
        memarg: &MemArg,
        size: u32,
        f: impl FnOnce(&mut FunctionBuilder<'_>, MemFlagsData, ir::Value) -> ir::Value,
    ) {
        let addr = self.vec_address(memarg, size);
        let flags = self.heap_flags();
        let v = f(&mut self.b, flags, addr);
        self.push_vec(v);
    }

    /// `v128.loadN_splat`: one lane of `ty` loaded and copied to every lane.
    pub(crate) fn vec_load_splat(&mut self, memarg: &MemArg, ty: ir::Type) {
        let lane = ty.lane_type();
        self.vec_load(memarg, lane.bytes(), |b, flags, addr| {
            let s = b.ins().load(lane, flags, addr, 0);
            b.ins().splat(ty, s)
        });
    }

    /// `v128.loadN_zero`: one lane of `ty` loaded into lane 0, the other lanes zero.
    pub(crate) fn vec_load_zero(&mut self, memarg: &MemArg, ty: ir::Type) {
        let lane = ty.lane_type();
        self.vec_load(memarg, lane.bytes(), |b, flags, addr| {
            let s = b.ins().load(lane, flags, addr, 0);
            b.ins().scalar_to_vector(ty, s)
        });
    }

    /// `v128.loadN_lane`: the operand vector with lane `lane` (of `ty`) replaced by a load.
    pub(crate) fn vec_load_lane(&mut self, memarg: &MemArg, ty: ir::Type, lane: u8) {
        let v = self.pop_vec(ty);
        let lane_ty = ty.lane_type();
        self.vec_load(memarg, lane_ty.bytes(), |b, flags, addr| {
            let s = b.ins().load(lane_ty, flags, addr, 0);
            b.ins().insertlane(v, s, lane)
        });
    }

    /// `v128.store`.
    pub(crate) fn vec_store(&mut self, memarg: &MemArg) {
        let v = self.pop_vec(I8X16);
        let addr = self.vec_address(memarg, 16);
        let flags = self.heap_flags();
        self.b.ins().store(flags, v, addr, 0);
    }

    /// `v128.storeN_lane`: lane `lane` (of `ty`) of the operand vector stored alone.
    pub(crate) fn vec_store_lane(&mut self, memarg: &MemArg, ty: ir::Type, lane: u8) {
        let v = self.pop_vec(ty);
        let addr = self.vec_address(memarg, ty.lane_bits() / 8);
        let s = self.b.ins().extractlane(v, lane);
        let flags = self.heap_flags();
        self.b.ins().store(flags, s, addr, 0);
    }
}
