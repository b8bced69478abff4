//! Trampolines between the host's array calling convention and the Wasm calling convention, built
//! as Cranelift IR and compiled like any function, so the runtime never needs a compiler.
//!
//! - **Array-to-wasm** (host-to-wasm entry), one per escaping defined function: an `extern "C"`
//!   function `(callee_vmctx, caller_vmctx, values, len) -> bool` that loads the arguments from
//!   the `ValRaw` array, calls the Wasm function directly and stores its results back. It always
//!   returns `true`: a trap never returns through it.
//! - **Wasm-to-host** (exit to a host function), one per distinct function type: a Wasm-ABI
//!   function that spills its arguments into a stack `ValRaw` array, calls the host function's
//!   `array_call` entry (read from its context at `VMHOSTFUNC_ARRAY_CALL`) and traps with
//!   `HostError` when it returns `false`.
//!
//! See ARCHITECTURE.md, "Calling conventions". `ValRaw` slots are 16 bytes, value at offset 0,
//! little-endian; the runtime's array is only byte-aligned, so loads and stores do not claim
//! alignment.

use crate::translate::{clif_type, trap_code, wasm_signature};
use aot_runtime::artifact::vmoffsets::{VAL_RAW_SIZE, VMHOSTFUNC_ARRAY_CALL};
use aot_runtime::artifact::{FuncIndex, FuncType, Trap, TypeIndex};
use cranelift_codegen::ir::{
    self, AbiParam, ExtFuncData, ExternalName, InstBuilder, MemFlagsData, StackSlotData,
    StackSlotKind, UserExternalName, UserFuncName, types,
};
use cranelift_codegen::isa::{CallConv, TargetIsa};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};

/// Namespace of the (informative) names of array-to-wasm trampolines.
const ARRAY_TO_WASM_NAMESPACE: u32 = 1;
/// Namespace of the (informative) names of wasm-to-host trampolines.
const WASM_TO_HOST_NAMESPACE: u32 = 2;

/// Builds trampoline IR, reusing its scratch space.
pub(crate) struct TrampolineBuilder<'a> {
    isa: &'a dyn TargetIsa,
    builder_ctx: FunctionBuilderContext,
}

impl<'a> TrampolineBuilder<'a> {
    /// A builder for `isa`.
    pub fn new(isa: &'a dyn TargetIsa) -> Self {
        Self {
            isa,
            builder_ctx: FunctionBuilderContext::new(),
        }
    }

    /// The signature every array call shares:
    /// `extern "C" fn(callee_vmctx, caller_vmctx, values, len) -> bool`.
    fn array_call_signature(&self) -> ir::Signature {
        let ptr = self.isa.pointer_type();
        let mut sig = ir::Signature::new(CallConv::triple_default(self.isa.triple()));
        sig.params.extend([AbiParam::new(ptr); 4]);
        // `bool` in C; zero-extended for ABIs (Apple's arm64) that want the callee to extend.
        sig.returns.push(AbiParam::new(types::I8).uext());
        sig
    }

    /// The host-to-wasm entry of defined function `func` of type `ty`.
    pub fn array_to_wasm(&mut self, func: FuncIndex, ty: &FuncType) -> ir::Function {
        let isa = self.isa;
        let mut f = ir::Function::with_name_signature(
            UserFuncName::user(ARRAY_TO_WASM_NAMESPACE, func.0),
            self.array_call_signature(),
        );
        let mut b = FunctionBuilder::new(&mut f, &mut self.builder_ctx);
        let block = b.create_block();
        b.append_block_params_for_function_params(block);
        b.switch_to_block(block);
        b.seal_block(block);
        let &[callee_vmctx, caller_vmctx, values, _len] = b.block_params(block) else {
            unreachable!("the array call signature has four parameters")
        };

        let mut args = vec![callee_vmctx, caller_vmctx];
        for (i, &param) in ty.params.iter().enumerate() {
            let ty = clif_type(isa, param);
            args.push(b.ins().load(ty, val_raw_flags(), values, slot_offset(i)));
        }
        let signature = b.import_signature(wasm_signature(isa, ty));
        let name = b
            .func
            .declare_imported_user_function(UserExternalName::new(0, func.0));
        let callee = b.import_function(ExtFuncData {
            name: ExternalName::user(name),
            signature,
            colocated: true,
            patchable: false,
        });
        let call = b.ins().call(callee, &args);
        let results = b.inst_results(call).to_vec();
        for (i, result) in results.into_iter().enumerate() {
            b.ins()
                .store(val_raw_flags(), result, values, slot_offset(i));
        }
        let ok = b.ins().iconst(types::I8, 1);
        b.ins().return_(&[ok]);
        b.finalize(isa.frontend_config());
        f
    }

    /// The exit to a host function of type `ty` (the type section's entry `index`).
    pub fn wasm_to_host(&mut self, index: TypeIndex, ty: &FuncType) -> ir::Function {
        let isa = self.isa;
        let ptr = isa.pointer_type();
        let array_call_signature = self.array_call_signature();
        let mut f = ir::Function::with_name_signature(
            UserFuncName::user(WASM_TO_HOST_NAMESPACE, index.0),
            wasm_signature(isa, ty),
        );
        let mut b = FunctionBuilder::new(&mut f, &mut self.builder_ctx);
        let block = b.create_block();
        b.append_block_params_for_function_params(block);
        b.switch_to_block(block);
        b.seal_block(block);
        let params = b.block_params(block).to_vec();
        let (callee_vmctx, caller_vmctx) = (params[0], params[1]);

        let len = ty.params.len().max(ty.results.len());
        let slot_size = VAL_RAW_SIZE * u32::try_from(len.max(1)).expect("too many values");
        let slot = b.create_sized_stack_slot(StackSlotData::new(
            StackSlotKind::ExplicitSlot,
            slot_size,
            4,
        ));
        for (i, &param) in params[2..].iter().enumerate() {
            b.ins().stack_store(ptr, param, slot, slot_offset(i));
        }
        let values = b.ins().stack_addr(ptr, slot, 0);
        let array_call = b.ins().load(
            ptr,
            MemFlagsData::trusted().with_readonly(),
            callee_vmctx,
            i32::try_from(VMHOSTFUNC_ARRAY_CALL).expect("small offset"),
        );
        let signature = b.import_signature(array_call_signature);
        let len = b
            .ins()
            .iconst(ptr, i64::try_from(len).expect("too many values"));
        let call = b.ins().call_indirect(
            signature,
            array_call,
            &[callee_vmctx, caller_vmctx, values, len],
        );
        let ok = b.inst_results(call)[0];
        b.ins().trapz(ok, trap_code(Trap::HostError));
        let results: Vec<_> = ty
            .results
            .iter()
            .enumerate()
            .map(|(i, &result)| {
                b.ins()
                    .stack_load(ptr, clif_type(isa, result), slot, slot_offset(i))
            })
            .collect();
        b.ins().return_(&results);
        b.finalize(isa.frontend_config());
        f
    }
}

/// Flags of accesses to a `ValRaw` array: never trapping, not aligned.
fn val_raw_flags() -> MemFlagsData {
    MemFlagsData::new().with_notrap()
}

/// Offset of `ValRaw` slot `i`.
fn slot_offset(i: usize) -> i32 {
    i32::try_from(i * VAL_RAW_SIZE as usize).expect("too many values")
}
