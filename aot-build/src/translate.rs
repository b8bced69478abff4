//! Translation of Wasm function bodies to Cranelift IR.
//!
//! [`FuncTranslator::translate`] validates and translates one body operator by operator (so a
//! validation error carries its exact byte offset). Module-level concerns (VM context layout,
//! memories, tables, globals, calls) are reached through [`FuncEnv`]; nothing here knows about the
//! artifact file.

use aot_runtime::artifact::{FuncIndex, FuncType, ModuleInfo, Trap, VMOffsets, ValType};
use cranelift_codegen::ir::{self, AbiParam, ArgumentPurpose, TrapCode};
use cranelift_codegen::isa::{CallConv, TargetIsa};
use cranelift_frontend::FunctionBuilderContext;
use wasmparser::{FuncValidator, FunctionBody, ValidatorResources};

/// What a function translation needs to know about its module and target.
pub(crate) struct FuncEnv<'a> {
    /// The module being compiled.
    pub info: &'a ModuleInfo,
    /// The VM context layout of this module for the target pointer size.
    pub offsets: VMOffsets,
    /// The target.
    pub isa: &'a dyn TargetIsa,
    /// Whether memory accesses are checked explicitly instead of relying on guard pages.
    pub explicit_bounds_checks: bool,
}

/// A translation failure: an invalid module or an unsupported construct.
#[derive(Debug)]
pub(crate) struct TranslateError {
    /// Byte offset in the Wasm binary.
    pub offset: usize,
    /// What is wrong.
    pub message: String,
}

/// Translates function bodies; reuses its allocations across functions.
pub(crate) struct FuncTranslator {
    builder_ctx: FunctionBuilderContext,
}

impl FuncTranslator {
    /// A translator with empty scratch space.
    pub fn new() -> Self {
        Self {
            builder_ctx: FunctionBuilderContext::new(),
        }
    }

    /// Validates and translates the body of defined function `func`.
    pub fn translate(
        &mut self,
        env: &FuncEnv<'_>,
        func: FuncIndex,
        body: &FunctionBody<'_>,
        validator: &mut FuncValidator<ValidatorResources>,
    ) -> Result<ir::Function, TranslateError> {
        let _ = (&mut self.builder_ctx, env, func, body, validator);
        Err(TranslateError {
            offset: body.range().start as usize,
            message: "function translation is not implemented yet".into(),
        })
    }
}

/// The Cranelift type of a Wasm value type.
pub(crate) fn clif_type(isa: &dyn TargetIsa, ty: ValType) -> ir::Type {
    match ty {
        ValType::I32 => ir::types::I32,
        ValType::I64 => ir::types::I64,
        ValType::F32 => ir::types::F32,
        ValType::F64 => ir::types::F64,
        ValType::V128 => ir::types::I8X16,
        ValType::FuncRef | ValType::ExternRef => isa.pointer_type(),
    }
}

/// The signature of every Wasm function of type `ty`: `CallConv::Tail`,
/// `(callee_vmctx, caller_vmctx, params...) -> results`.
pub(crate) fn wasm_signature(isa: &dyn TargetIsa, ty: &FuncType) -> ir::Signature {
    let ptr = isa.pointer_type();
    let mut sig = ir::Signature::new(CallConv::Tail);
    sig.params.push(AbiParam::special(ptr, ArgumentPurpose::VMContext));
    sig.params.push(AbiParam::new(ptr));
    sig.params
        .extend(ty.params.iter().map(|&t| AbiParam::new(clif_type(isa, t))));
    sig.returns
        .extend(ty.results.iter().map(|&t| AbiParam::new(clif_type(isa, t))));
    sig
}

/// The Cranelift trap code the translator emits for `trap`.
pub(crate) fn trap_code(trap: Trap) -> TrapCode {
    match trap {
        Trap::StackOverflow => TrapCode::STACK_OVERFLOW,
        Trap::MemoryOutOfBounds => TrapCode::HEAP_OUT_OF_BOUNDS,
        Trap::IntegerOverflow => TrapCode::INTEGER_OVERFLOW,
        Trap::IntegerDivisionByZero => TrapCode::INTEGER_DIVISION_BY_ZERO,
        Trap::BadConversionToInteger => TrapCode::BAD_CONVERSION_TO_INTEGER,
        other => TrapCode::user(other.to_u8()).expect("trap codes are non-zero"),
    }
}

/// The trap a Cranelift trap code stands for, including the codes Cranelift emits by itself
/// (stack checks, division, float conversion, memory accesses).
pub(crate) fn trap_from_code(code: TrapCode) -> Option<Trap> {
    Some(match code {
        TrapCode::STACK_OVERFLOW => Trap::StackOverflow,
        TrapCode::HEAP_OUT_OF_BOUNDS => Trap::MemoryOutOfBounds,
        TrapCode::INTEGER_OVERFLOW => Trap::IntegerOverflow,
        TrapCode::INTEGER_DIVISION_BY_ZERO => Trap::IntegerDivisionByZero,
        TrapCode::BAD_CONVERSION_TO_INTEGER => Trap::BadConversionToInteger,
        other => return Trap::from_u8(other.as_raw().get()),
    })
}
