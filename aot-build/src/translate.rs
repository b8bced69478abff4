//! Translation of Wasm function bodies to Cranelift IR.
//!
//! [`FuncTranslator::translate`] validates and translates one body operator by operator (so a
//! validation error carries its exact byte offset). Module-level concerns (VM context layout,
//! memories, tables, globals, calls) are reached through [`FuncEnv`]; nothing here knows about the
//! artifact file.

mod control;
mod env;
mod limits;
mod ops;
mod simd;

use aot_runtime::artifact::{FuncIndex, FuncType, ModuleInfo, Trap, TypeIndex, VMOffsets, ValType};
use cranelift_codegen::ir::{self, AbiParam, ArgumentPurpose, InstBuilder, TrapCode};
use cranelift_codegen::isa::{CallConv, TargetIsa};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext, Variable};
use std::collections::HashMap;
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
    /// Whether to meter fuel (see `translate/limits.rs`).
    pub consume_fuel: bool,
    /// Whether to check the epoch deadline (see `translate/limits.rs`).
    pub epoch_interruption: bool,
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
    stack: Vec<ir::Value>,
    control: Vec<Frame>,
}

impl FuncTranslator {
    /// A translator with empty scratch space.
    pub fn new() -> Self {
        Self {
            builder_ctx: FunctionBuilderContext::new(),
            stack: Vec::new(),
            control: Vec::new(),
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
        let ty = env.info.func_type(func);
        let sig = wasm_signature(env.isa, ty);
        let mut function =
            ir::Function::with_name_signature(ir::UserFuncName::user(0, func.0), sig);
        let ptr = env.isa.pointer_type();
        let vmctx_gv = function.create_global_value(ir::GlobalValueData::VMContext);
        let readonly = function
            .dfg
            .mem_flags
            .insert(ir::MemFlagsData::trusted().with_readonly())
            .expect("few flags");
        let trusted = function
            .dfg
            .mem_flags
            .insert(ir::MemFlagsData::trusted())
            .expect("few flags");
        let store_gv = function.create_global_value(ir::GlobalValueData::Load {
            base: vmctx_gv,
            offset: (env.offsets.store() as i32).into(),
            global_type: ptr,
            flags: readonly,
        });
        let limit_gv = function.create_global_value(ir::GlobalValueData::Load {
            base: store_gv,
            offset: (aot_runtime::artifact::vmoffsets::VMSTORE_STACK_LIMIT as i32).into(),
            global_type: ptr,
            flags: trusted,
        });
        function.stack_limit = Some(limit_gv);

        let regions = Regions::new(&mut function);
        self.stack.clear();
        self.control.clear();
        let mut builder = FunctionBuilder::new(&mut function, &mut self.builder_ctx);
        let entry = builder.create_block();
        builder.append_block_params_for_function_params(entry);
        builder.switch_to_block(entry);
        builder.seal_block(entry);
        let vmctx = builder.block_params(entry)[0];
        let exit = builder.create_block();
        for &r in ty.results.iter() {
            builder.append_block_param(exit, clif_type(env.isa, r));
        }
        let mut cx = Cx {
            b: builder,
            env,
            stack: &mut self.stack,
            control: &mut self.control,
            reachable: true,
            locals: Vec::new(),
            vmctx,
            ptr,
            sigs: HashMap::new(),
            funcs: HashMap::new(),
            builtin_sigs: HashMap::new(),
            regions,
            fuel: None,
            epoch: None,
        };
        cx.control.push(Frame {
            kind: FrameKind::Block,
            following: exit,
            height: 0,
            num_params: 0,
            num_results: ty.results.len(),
            reached: false,
        });
        cx.declare_params(entry, ty);
        cx.declare_locals(body, validator)?;
        cx.limits_function_entry();

        let mut reader = body.get_operators_reader().map_err(TranslateError::wasm)?;
        while !reader.eof() {
            let offset = reader.original_position();
            let op = reader.read().map_err(TranslateError::wasm)?;
            validator.op(offset, &op).map_err(TranslateError::wasm)?;
            cx.b.set_srcloc(ir::SourceLoc::new(offset as u32));
            if cx.reachable {
                cx.fuel_before_op(&op);
            }
            cx.translate_operator(&op, offset as usize)?;
            cx.limits_after_op(&op);
        }
        reader.finish().map_err(TranslateError::wasm)?;
        debug_assert!(cx.control.is_empty());
        cx.b.finalize(env.isa.frontend_config());
        Ok(function)
    }
}

impl TranslateError {
    fn wasm(e: wasmparser::BinaryReaderError) -> Self {
        Self {
            offset: e.offset() as usize,
            message: e.message().to_string(),
        }
    }

    /// An operator this compiler does not support.
    pub(crate) fn unsupported(offset: usize, what: &str) -> Self {
        Self {
            offset,
            message: format!("unsupported operator `{what}`"),
        }
    }
}

/// What a control frame is.
#[derive(Clone, Debug)]
pub(crate) enum FrameKind {
    /// `block`, and the function body itself.
    Block,
    /// `loop`: branches go to `header`.
    Loop { header: ir::Block },
    /// `if`: `else_block` is `Some` until the `else` is seen; `params` are the block parameters,
    /// which the else branch starts with again.
    If {
        else_block: Option<ir::Block>,
        params: Vec<ir::Value>,
    },
    /// A frame entered in unreachable code: nothing is generated for it.
    Dead,
}

/// An entry of the control stack.
#[derive(Clone, Debug)]
pub(crate) struct Frame {
    pub kind: FrameKind,
    /// The block after `end`, whose parameters are the frame's results.
    pub following: ir::Block,
    /// Height of the value stack below the frame's parameters.
    pub height: usize,
    pub num_params: usize,
    pub num_results: usize,
    /// Whether any jump to `following` was emitted.
    pub reached: bool,
}

/// State of one function translation.
pub(crate) struct Cx<'a, 'f> {
    pub b: FunctionBuilder<'f>,
    pub env: &'a FuncEnv<'a>,
    pub stack: &'a mut Vec<ir::Value>,
    pub control: &'a mut Vec<Frame>,
    /// Whether the current position is reachable; operators in unreachable code are only
    /// validated, except for control structure.
    pub reachable: bool,
    pub locals: Vec<Variable>,
    pub vmctx: ir::Value,
    pub ptr: ir::Type,
    pub sigs: HashMap<TypeIndex, ir::SigRef>,
    pub funcs: HashMap<FuncIndex, ir::FuncRef>,
    pub builtin_sigs: HashMap<u32, ir::SigRef>,
    pub regions: Regions,
    /// Fuel accounting, when the code meters fuel.
    pub fuel: Option<limits::Fuel>,
    /// The cached epoch deadline, when the code checks epochs.
    pub epoch: Option<limits::Epoch>,
}

/// The alias regions of translated code: memory accesses in different regions never alias, so
/// Cranelift may keep a value loaded from one region across stores to another.
#[derive(Copy, Clone)]
pub(crate) struct Regions {
    /// Linear memories.
    pub heap: ir::AliasRegion,
    /// Table elements.
    pub table: ir::AliasRegion,
    /// Mutable fields of VM contexts and of the records they point to (lengths, globals).
    pub vmctx: ir::AliasRegion,
}

impl Regions {
    fn new(func: &mut ir::Function) -> Self {
        let mut region = |user_id, description: &'static str| {
            func.dfg.alias_regions.insert(ir::AliasRegionData {
                user_id,
                description: description.into(),
            })
        };
        Self {
            heap: region(0, "heap"),
            table: region(1, "table"),
            vmctx: region(2, "vmctx"),
        }
    }
}

impl Cx<'_, '_> {
    fn declare_params(&mut self, entry: ir::Block, ty: &FuncType) {
        for (i, &p) in ty.params.iter().enumerate() {
            let var = self.b.declare_var(clif_type(self.env.isa, p));
            let val = self.b.block_params(entry)[i + 2];
            self.b.def_var(var, val);
            self.locals.push(var);
        }
    }

    fn declare_locals(
        &mut self,
        body: &FunctionBody<'_>,
        validator: &mut FuncValidator<ValidatorResources>,
    ) -> Result<(), TranslateError> {
        let mut reader = body.get_locals_reader().map_err(TranslateError::wasm)?;
        for _ in 0..reader.get_count() {
            let offset = reader.original_position();
            let (count, ty) = reader.read().map_err(TranslateError::wasm)?;
            validator
                .define_locals(offset, count, ty)
                .map_err(TranslateError::wasm)?;
            let ty = wasm_val_type(ty).ok_or_else(|| TranslateError {
                offset: offset as usize,
                message: format!("unsupported local type `{ty}`"),
            })?;
            for _ in 0..count {
                let var = self.b.declare_var(clif_type(self.env.isa, ty));
                let zero = self.zero(ty);
                self.b.def_var(var, zero);
                self.locals.push(var);
            }
        }
        Ok(())
    }

    /// The zero value of a type (locals start with it).
    pub fn zero(&mut self, ty: ValType) -> ir::Value {
        match ty {
            ValType::I32 => self.b.ins().iconst(ir::types::I32, 0),
            ValType::I64 => self.b.ins().iconst(ir::types::I64, 0),
            ValType::F32 => self.b.ins().f32const(0.0),
            ValType::F64 => self.b.ins().f64const(0.0),
            ValType::V128 => {
                let c = self.b.func.dfg.constants.insert(vec![0u8; 16].into());
                self.b.ins().vconst(ir::types::I8X16, c)
            }
            ValType::FuncRef | ValType::ExternRef => self.b.ins().iconst(self.ptr, 0),
        }
    }

    /// Pushes a value.
    pub fn push(&mut self, v: ir::Value) {
        self.stack.push(v);
    }

    /// Pops a value.
    pub fn pop(&mut self) -> ir::Value {
        self.stack
            .pop()
            .expect("validated: operand stack underflow")
    }

    /// Pops two values, returning them in push order.
    pub fn pop2(&mut self) -> (ir::Value, ir::Value) {
        let b = self.pop();
        let a = self.pop();
        (a, b)
    }

    /// Pops three values, returning them in push order.
    pub fn pop3(&mut self) -> (ir::Value, ir::Value, ir::Value) {
        let c = self.pop();
        let (a, b) = self.pop2();
        (a, b, c)
    }

    /// The top `n` values, in push order.
    pub fn peekn(&self, n: usize) -> &[ir::Value] {
        &self.stack[self.stack.len() - n..]
    }

    /// Pops `n` values, in push order.
    pub fn popn(&mut self, n: usize) -> Vec<ir::Value> {
        let at = self.stack.len() - n;
        self.stack.split_off(at)
    }

    /// The parameter and result types of a block type.
    pub fn block_type(&self, ty: wasmparser::BlockType) -> (Vec<ValType>, Vec<ValType>) {
        match ty {
            wasmparser::BlockType::Empty => (vec![], vec![]),
            wasmparser::BlockType::Type(t) => (vec![], vec![wasm_val_type(t).expect("validated")]),
            wasmparser::BlockType::FuncType(i) => {
                let ft = &self.env.info.types[i as usize];
                (ft.params.to_vec(), ft.results.to_vec())
            }
        }
    }
}

/// Our value type for a wasmparser value type, if this compiler supports it.
pub(crate) fn wasm_val_type(ty: wasmparser::ValType) -> Option<ValType> {
    Some(match ty {
        wasmparser::ValType::I32 => ValType::I32,
        wasmparser::ValType::I64 => ValType::I64,
        wasmparser::ValType::F32 => ValType::F32,
        wasmparser::ValType::F64 => ValType::F64,
        wasmparser::ValType::V128 => ValType::V128,
        wasmparser::ValType::Ref(r) if r.is_func_ref() => ValType::FuncRef,
        wasmparser::ValType::Ref(r) if r.is_extern_ref() => ValType::ExternRef,
        wasmparser::ValType::Ref(_) => return None,
    })
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
    sig.params
        .push(AbiParam::special(ptr, ArgumentPurpose::VMContext));
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
