//! The module environment: parses and validates a Wasm binary with wasmparser and turns its
//! sections into an [`aot_runtime::artifact::ModuleInfo`], the concatenated data-segment bytes
//! and the list of function bodies (each with the validator that the translator drives operator
//! by operator).
//!
//! The validator's feature set is exactly WebAssembly 2.0 plus the proposals the
//! [`crate::Config`] enables, so every other proposal is rejected by wasmparser; such errors are
//! reported as "unsupported proposal `<name>`". Function bodies are not read here (the
//! translator does that), and nothing here knows about Cranelift.

use crate::config::WasmFeatures as ConfigFeatures;
use crate::error::{Error, Phase};
use aot_runtime::artifact::module::{
    ConstExpr, ConstOp, DataSegment, ElemItems, ElemKind, ElemSegment, Export, Import, TableImage,
};
use aot_runtime::artifact::{
    EntityIndex, FuncIndex, FuncType, GlobalIndex, GlobalType, Limits, MemoryIndex, MemoryType,
    ModuleInfo, TableIndex, TableType, TypeIndex, ValType,
};
use wasmparser::{
    BinaryReaderError, CompositeInnerType, DataKind, ElementItems, ElementKind, ExternalKind,
    FuncToValidate, FunctionBody, HeapType, KnownCustom, Name, Operator, Parser, Payload, RefType,
    TableInit, TypeRef, ValidPayload, Validator, ValidatorResources, WasmFeatures,
};

/// A parsed and validated module, function bodies excepted.
pub(crate) struct ModuleEnvironment<'a> {
    /// Everything but the code. `name` and `wasm_to_host_trampolines` are left empty.
    pub info: ModuleInfo,
    /// The module name from the name section, if any.
    pub name_section_module_name: Option<String>,
    /// Bytes of every data segment, concatenated (the `.aot.data` section).
    pub data: Vec<u8>,
    /// One entry per defined function, in order.
    pub bodies: Vec<FunctionBodyData<'a>>,
}

/// A function body and what validates it.
pub(crate) struct FunctionBodyData<'a> {
    /// The body, borrowing the Wasm binary.
    pub body: FunctionBody<'a>,
    /// Turned into a `FuncValidator` by the caller.
    pub validator: FuncToValidate<ValidatorResources>,
}

impl FunctionBodyData<'_> {
    /// Size of the body in bytes.
    pub fn size(&self) -> usize {
        let range = self.body.range();
        usize::try_from(range.end - range.start).unwrap_or(usize::MAX)
    }
}

/// The wasmparser feature set: WebAssembly 2.0 (which includes SIMD unless disabled) plus the
/// enabled proposals, nothing else.
pub(crate) fn wasm_features(config: &ConfigFeatures) -> WasmFeatures {
    let mut features = WasmFeatures::WASM2;
    features.set(WasmFeatures::SIMD, config.simd);
    features.set(WasmFeatures::TAIL_CALL, config.tail_call);
    features.set(WasmFeatures::EXTENDED_CONST, config.extended_const);
    features.set(WasmFeatures::MULTI_MEMORY, config.multi_memory);
    features
}

/// Parses and validates `wasm` (a binary) with `features`.
pub(crate) fn parse<'a>(
    wasm: &'a [u8],
    config: &ConfigFeatures,
) -> Result<ModuleEnvironment<'a>, Error> {
    parse_at(wasm, 0, config)
}

/// Parses and validates `wasm`, a core module found at byte `base_offset` of a larger binary (a
/// component), so that every offset (errors, function bodies, data segments, source locations)
/// is absolute in that binary.
pub(crate) fn parse_at<'a>(
    wasm: &'a [u8],
    base_offset: u64,
    config: &ConfigFeatures,
) -> Result<ModuleEnvironment<'a>, Error> {
    if Parser::is_component(wasm) {
        return Err(Error::new(
            Phase::Parse,
            "internal error: a component reached the core module parser",
        ));
    }
    let features = wasm_features(config);
    let mut validator = Validator::new_with_features(features);
    let mut parser = Parser::new(base_offset);
    parser.set_features(features);
    let mut env = ModuleEnvironment {
        info: ModuleInfo::default(),
        name_section_module_name: None,
        data: Vec::new(),
        bodies: Vec::new(),
    };
    for payload in parser.parse_all(wasm) {
        let payload = payload.map_err(|e| wasm_error(Phase::Parse, &e, config))?;
        match validator
            .payload(&payload)
            .map_err(|e| wasm_error(Phase::Validate, &e, config))?
        {
            ValidPayload::Func(validator, body) => {
                env.bodies.push(FunctionBodyData { body, validator });
            }
            ValidPayload::Parser(_) => {
                return Err(Error::new(Phase::Parse, "nested modules are not supported"));
            }
            ValidPayload::Ok | ValidPayload::End(_) => env.section(payload)?,
        }
    }
    Ok(env)
}

/// Computes the [`TableImage`] of every defined table from the leading active element segments
/// that can be applied at build time, and turns those segments into empty declarative ones
/// (after instantiation an applied active segment is dropped, exactly like a declarative one).
///
/// A segment qualifies when it targets a defined funcref table whose elements start null, its
/// offset is a constant, its items are constant function references or nulls, and it fits the
/// table's minimum size (so it cannot trap). The first active segment that does not qualify ends
/// the run: it and every later one are applied at instantiation as before, in order, after the
/// images, which is the spec's order.
///
/// Run it after [`escaping_funcs`]: the functions of an emptied segment still escape.
pub(crate) fn preapply_elems(info: &mut ModuleInfo) {
    let n_imported = info.num_imported.tables as usize;
    let mut images: Vec<Vec<Option<FuncIndex>>> = vec![Vec::new(); info.table_inits.len()];
    for seg in &mut info.elems {
        let ElemKind::Active { table, offset } = &seg.kind else {
            continue;
        };
        let Some(defined) = table.index().checked_sub(n_imported) else {
            break;
        };
        let ty = &info.tables[table.index()];
        if ty.element != ValType::FuncRef || info.table_inits[defined].is_some() {
            break;
        }
        let start = match *offset.0 {
            [ConstOp::I32Const(v)] => u64::from(v as u32),
            _ => break,
        };
        let items: Option<Vec<Option<FuncIndex>>> = match &seg.items {
            ElemItems::Funcs(funcs) => Some(funcs.iter().map(|&f| Some(f)).collect()),
            ElemItems::Exprs(exprs) => exprs
                .iter()
                .map(|e| match *e.0 {
                    [ConstOp::RefFunc(f)] => Some(Some(f)),
                    [ConstOp::RefNull(_)] => Some(None),
                    _ => None,
                })
                .collect(),
        };
        let Some(items) = items else {
            break;
        };
        let end = start + items.len() as u64;
        if end > ty.limits.min {
            break;
        }
        let image = &mut images[defined];
        if image.len() < end as usize {
            image.resize(end as usize, None);
        }
        image[start as usize..end as usize].copy_from_slice(&items);
        seg.kind = ElemKind::Declared;
        seg.items = ElemItems::Funcs(Vec::new());
    }
    info.table_images = images
        .into_iter()
        .map(|mut image| {
            // Trailing nulls are what an image leaves out anyway.
            while image.last() == Some(&None) {
                image.pop();
            }
            TableImage(image.into_boxed_slice())
        })
        .collect();
}

/// Wraps a wasmparser error, naming the proposal (or component model feature) when a disabled
/// feature caused it.
pub(crate) fn wasm_error(phase: Phase, e: &BinaryReaderError, config: &ConfigFeatures) -> Error {
    let proposal = match e.missing_wasm_feature() {
        Some(feature) => feature
            .iter_names()
            .next()
            .map(|(name, _)| name.to_lowercase().replace('_', "-")),
        // The one feature error wasmparser does not tag (the spec tests expect its text).
        None if e.message() == "multiple memories" => Some("multi-memory".to_string()),
        None => None,
    };
    let message = match proposal {
        Some(name) => match component_feature(&name) {
            Some(what) => format!(
                "unsupported component model feature `{name}` ({what}): {}",
                e.message()
            ),
            None => proposal_message(&name, e.message(), config),
        },
        None => e.message().to_string(),
    };
    Error::new(phase, message).with_offset(e.offset())
}

/// What a component model feature flag of wasmparser covers, for error messages; `None` for
/// core proposals.
fn component_feature(name: &str) -> Option<&'static str> {
    Some(match name {
        "cm-async" => "async functions, streams, futures",
        "cm-async-stackful" => "stackful async functions",
        "cm-more-async-builtins" => "more async builtins",
        "cm-threading" => "threads",
        "cm-error-context" => "error-context",
        "cm-fixed-length-lists" => "fixed-length lists",
        "cm-map" => "map",
        "cm-gc" => "the gc option",
        "cm64" => "64-bit memories in canonical options",
        "cm-values" => "value imports and start functions",
        "cm-nested-names" => "nested namespaces in names",
        "cm-forward" => "stream and future forwarding",
        "cm-accessors" => "accessor names",
        "cm-canon-names" => "version suffixes in names",
        "component-model" => "components",
        _ => return None,
    })
}

/// Names the proposal in a function validator's "`<proposal>` support is not enabled" message,
/// which reaches us as text through the translator.
pub(crate) fn describe_operator_error(message: &str, config: &ConfigFeatures) -> String {
    const OPERATOR_PROPOSALS: &[(&str, &str)] = &[
        ("SIMD", "simd"),
        ("relaxed SIMD", "relaxed-simd"),
        ("threads", "threads"),
        ("shared-everything-threads", "shared-everything-threads"),
        ("exceptions", "exceptions"),
        ("tail calls", "tail-call"),
        ("function references", "function-references"),
        ("memory control", "memory-control"),
        ("gc", "gc"),
        ("legacy exceptions", "legacy-exceptions"),
        ("stack switching", "stack-switching"),
        ("wide arithmetic", "wide-arithmetic"),
        ("acquire-release atomics", "acquire-release-atomics"),
        ("custom descriptors operations", "custom-descriptors"),
    ];
    let proposal = message
        .strip_suffix(" support is not enabled")
        .and_then(|desc| {
            OPERATOR_PROPOSALS
                .iter()
                .find(|(d, _)| *d == desc)
                .map(|(_, name)| *name)
        });
    match proposal {
        Some(name) => proposal_message(name, message, config),
        None => message.to_string(),
    }
}

/// "unsupported proposal `name`: message", or how to enable it if the `Config` disabled it.
fn proposal_message(name: &str, message: &str, config: &ConfigFeatures) -> String {
    let setter = match name {
        "simd" if !config.simd => Some("wasm_simd"),
        "tail-call" if !config.tail_call => Some("wasm_tail_call"),
        "extended-const" if !config.extended_const => Some("wasm_extended_const"),
        "multi-memory" if !config.multi_memory => Some("wasm_multi_memory"),
        _ => None,
    };
    match setter {
        Some(setter) => format!(
            "disabled proposal `{name}` (enable it with `Config::{setter}(true)`): {message}"
        ),
        None => format!("unsupported proposal `{name}`: {message}"),
    }
}

type ParseResult<T> = Result<T, Error>;

/// Turns wasmparser's reading errors (the binary was validated, so they are unlikely) into ours.
trait OrParseError<T> {
    fn or_parse_error(self) -> ParseResult<T>;
}

impl<T> OrParseError<T> for Result<T, BinaryReaderError> {
    fn or_parse_error(self) -> ParseResult<T> {
        self.map_err(|e| Error::new(Phase::Parse, e.message()).with_offset(e.offset()))
    }
}

impl ModuleEnvironment<'_> {
    /// Records what a validated section declares.
    fn section(&mut self, payload: Payload<'_>) -> ParseResult<()> {
        let info = &mut self.info;
        match payload {
            Payload::TypeSection(reader) => self.type_section(reader)?,
            Payload::ImportSection(reader) => self.import_section(reader)?,
            Payload::FunctionSection(reader) => {
                for ty in reader {
                    info.funcs.push(TypeIndex(ty.or_parse_error()?));
                }
            }
            Payload::TableSection(reader) => {
                for table in reader.into_iter_with_offsets() {
                    let (offset, table) = table.or_parse_error()?;
                    info.tables.push(table_type(&table.ty, offset)?);
                    info.table_inits.push(match table.init {
                        TableInit::RefNull => None,
                        TableInit::Expr(expr) => Some(const_expr(&expr)?),
                    });
                }
            }
            Payload::MemorySection(reader) => {
                for memory in reader.into_iter_with_offsets() {
                    let (offset, memory) = memory.or_parse_error()?;
                    info.memories.push(memory_type(&memory, offset)?);
                }
            }
            Payload::GlobalSection(reader) => {
                for global in reader.into_iter_with_offsets() {
                    let (offset, global) = global.or_parse_error()?;
                    info.globals.push(global_type(&global.ty, offset)?);
                    info.global_inits.push(const_expr(&global.init_expr)?);
                }
            }
            Payload::ExportSection(reader) => self.export_section(reader)?,
            Payload::StartSection { func, .. } => info.start = Some(FuncIndex(func)),
            Payload::ElementSection(reader) => {
                for elem in reader {
                    info.elems.push(elem_segment(elem.or_parse_error()?)?);
                }
            }
            Payload::DataSection(reader) => self.data_section(reader)?,
            Payload::CustomSection(reader) => {
                if let KnownCustom::Name(names) = reader.as_known() {
                    // A malformed name section is not an error (it is only a debugging aid):
                    // what was read before the problem is kept.
                    let _ = self.name_section(names);
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn type_section(&mut self, reader: wasmparser::TypeSectionReader<'_>) -> ParseResult<()> {
        for group in reader {
            for (offset, sub) in group.or_parse_error()?.into_types_and_offsets() {
                let CompositeInnerType::Func(ty) = &sub.composite_type.inner else {
                    return Err(unsupported("non-function types", offset));
                };
                self.info.types.push(func_type(ty, offset)?);
            }
        }
        Ok(())
    }

    fn import_section(&mut self, reader: wasmparser::ImportSectionReader<'_>) -> ParseResult<()> {
        let info = &mut self.info;
        for import in reader.into_imports_with_offsets() {
            let (offset, import) = import.or_parse_error()?;
            let index = match import.ty {
                TypeRef::Func(ty) => {
                    info.num_imported.funcs += 1;
                    info.funcs.push(TypeIndex(ty));
                    EntityIndex::Func(FuncIndex::new(info.funcs.len() - 1))
                }
                TypeRef::Table(ty) => {
                    info.num_imported.tables += 1;
                    info.tables.push(table_type(&ty, offset)?);
                    EntityIndex::Table(TableIndex::new(info.tables.len() - 1))
                }
                TypeRef::Memory(ty) => {
                    info.num_imported.memories += 1;
                    info.memories.push(memory_type(&ty, offset)?);
                    EntityIndex::Memory(MemoryIndex::new(info.memories.len() - 1))
                }
                TypeRef::Global(ty) => {
                    info.num_imported.globals += 1;
                    info.globals.push(global_type(&ty, offset)?);
                    EntityIndex::Global(GlobalIndex::new(info.globals.len() - 1))
                }
                TypeRef::Tag(_) | TypeRef::FuncExact(_) => {
                    return Err(unsupported("this kind of import", offset));
                }
            };
            info.imports.push(Import {
                module: import.module.to_string(),
                name: import.name.to_string(),
                index,
            });
        }
        Ok(())
    }

    fn export_section(&mut self, reader: wasmparser::ExportSectionReader<'_>) -> ParseResult<()> {
        for export in reader.into_iter_with_offsets() {
            let (offset, export) = export.or_parse_error()?;
            let index = match export.kind {
                ExternalKind::Func => EntityIndex::Func(FuncIndex(export.index)),
                ExternalKind::Table => EntityIndex::Table(TableIndex(export.index)),
                ExternalKind::Memory => EntityIndex::Memory(MemoryIndex(export.index)),
                ExternalKind::Global => EntityIndex::Global(GlobalIndex(export.index)),
                ExternalKind::Tag | ExternalKind::FuncExact => {
                    return Err(unsupported("this kind of export", offset));
                }
            };
            self.info.exports.push(Export {
                name: export.name.to_string(),
                index,
            });
        }
        Ok(())
    }

    /// Appends every segment's bytes to the data buffer and records where they are.
    fn data_section(&mut self, reader: wasmparser::DataSectionReader<'_>) -> ParseResult<()> {
        for data in reader {
            let data = data.or_parse_error()?;
            let offset = data.range.start;
            let too_big = || unsupported("more than 4 GiB of data segments", offset);
            let data_offset = u32::try_from(self.data.len()).map_err(|_| too_big())?;
            let data_len = u32::try_from(data.data.len()).map_err(|_| too_big())?;
            data_offset.checked_add(data_len).ok_or_else(too_big)?;
            self.data.extend_from_slice(data.data);
            let active = match data.kind {
                DataKind::Passive => None,
                DataKind::Active {
                    memory_index,
                    offset_expr,
                } => Some((MemoryIndex(memory_index), const_expr(&offset_expr)?)),
            };
            self.info.data.push(DataSegment {
                active,
                data_offset,
                data_len,
            });
        }
        Ok(())
    }

    /// Reads the module name and function names.
    fn name_section(&mut self, names: wasmparser::NameSectionReader<'_>) -> ParseResult<()> {
        for name in names {
            match name.or_parse_error()? {
                Name::Module { name, .. } => {
                    self.name_section_module_name = Some(name.to_string());
                }
                Name::Function(map) => {
                    for naming in map {
                        let naming = naming.or_parse_error()?;
                        self.info
                            .func_names
                            .push((FuncIndex(naming.index), naming.name.to_string()));
                    }
                    // Keep the first name of each function, sorted by index.
                    self.info.func_names.sort_by_key(|(index, _)| *index);
                    self.info.func_names.dedup_by_key(|(index, _)| *index);
                }
                _ => {}
            }
        }
        Ok(())
    }
}

/// Which defined functions escape, indexed by defined function index: those the host or another
/// instance can get hold of, and which therefore need a host-to-wasm (array call) trampoline.
///
/// A function escapes if it is exported, is the start function (the runtime calls it), or is
/// named by an element segment or a constant expression. A `ref.func` in a function body needs
/// no scan: validation requires its function to be declared by one of those already (the spec's
/// C.refs). Call it before [`preapply_elems`] empties segments.
pub(crate) fn escaping_funcs(info: &ModuleInfo) -> Vec<bool> {
    let mut escaping = vec![false; info.num_defined_funcs()];
    let mut mark = |func: FuncIndex| {
        if let Some(defined) = info.defined_func_index(func) {
            escaping[defined.index()] = true;
        }
    };
    let mark_expr = |expr: &ConstExpr, mark: &mut dyn FnMut(FuncIndex)| {
        for op in &expr.0 {
            if let ConstOp::RefFunc(func) = op {
                mark(*func);
            }
        }
    };
    for export in &info.exports {
        if let EntityIndex::Func(func) = export.index {
            mark(func);
        }
    }
    if let Some(start) = info.start {
        mark(start);
    }
    for elem in &info.elems {
        match &elem.items {
            ElemItems::Funcs(funcs) => funcs.iter().for_each(|f| mark(*f)),
            ElemItems::Exprs(exprs) => exprs.iter().for_each(|e| mark_expr(e, &mut mark)),
        }
    }
    for expr in info
        .global_inits
        .iter()
        .chain(info.table_inits.iter().flatten())
    {
        mark_expr(expr, &mut mark);
    }
    escaping
}

fn unsupported(what: &str, offset: u64) -> Error {
    Error::new(Phase::Validate, format!("{what} are not supported")).with_offset(offset)
}

/// Converts a function type; `offset` locates it for errors.
pub(crate) fn func_type(ty: &wasmparser::FuncType, offset: u64) -> ParseResult<FuncType> {
    let convert = |types: &[wasmparser::ValType]| {
        types
            .iter()
            .map(|t| val_type(*t, offset))
            .collect::<ParseResult<Vec<_>>>()
    };
    Ok(FuncType::new(convert(ty.params())?, convert(ty.results())?))
}

fn val_type(ty: wasmparser::ValType, offset: u64) -> ParseResult<ValType> {
    Ok(match ty {
        wasmparser::ValType::I32 => ValType::I32,
        wasmparser::ValType::I64 => ValType::I64,
        wasmparser::ValType::F32 => ValType::F32,
        wasmparser::ValType::F64 => ValType::F64,
        wasmparser::ValType::V128 => ValType::V128,
        wasmparser::ValType::Ref(rt) => ref_type(rt, offset)?,
    })
}

fn ref_type(ty: RefType, offset: u64) -> ParseResult<ValType> {
    if ty == RefType::FUNCREF {
        Ok(ValType::FuncRef)
    } else if ty == RefType::EXTERNREF {
        Ok(ValType::ExternRef)
    } else {
        Err(Error::new(
            Phase::Validate,
            format!("reference type `{ty}` is not supported"),
        )
        .with_offset(offset))
    }
}

fn heap_type(ty: HeapType, offset: u64) -> ParseResult<ValType> {
    if ty == HeapType::FUNC {
        Ok(ValType::FuncRef)
    } else if ty == HeapType::EXTERN {
        Ok(ValType::ExternRef)
    } else {
        Err(Error::new(
            Phase::Validate,
            format!("heap type `{ty:?}` is not supported"),
        )
        .with_offset(offset))
    }
}

fn table_type(ty: &wasmparser::TableType, offset: u64) -> ParseResult<TableType> {
    Ok(TableType {
        element: ref_type(ty.element_type, offset)?,
        limits: Limits {
            min: ty.initial,
            max: ty.maximum,
        },
    })
}

fn memory_type(ty: &wasmparser::MemoryType, offset: u64) -> ParseResult<MemoryType> {
    // The validator already refused memory64, shared memories and custom page sizes.
    if ty.memory64 || ty.shared || ty.page_size_log2.is_some() {
        return Err(unsupported(
            "64-bit, shared and custom-page-size memories",
            offset,
        ));
    }
    Ok(MemoryType {
        limits: Limits {
            min: ty.initial,
            max: ty.maximum,
        },
    })
}

fn global_type(ty: &wasmparser::GlobalType, offset: u64) -> ParseResult<GlobalType> {
    Ok(GlobalType {
        content: val_type(ty.content_type, offset)?,
        mutable: ty.mutable,
    })
}

fn elem_segment(elem: wasmparser::Element<'_>) -> ParseResult<ElemSegment> {
    let offset = elem.range.start;
    let kind = match elem.kind {
        ElementKind::Passive => ElemKind::Passive,
        ElementKind::Declared => ElemKind::Declared,
        ElementKind::Active {
            table_index,
            offset_expr,
        } => ElemKind::Active {
            table: TableIndex(table_index.unwrap_or(0)),
            offset: const_expr(&offset_expr)?,
        },
    };
    let (ty, items) = match elem.items {
        ElementItems::Functions(funcs) => (
            ValType::FuncRef,
            ElemItems::Funcs(
                funcs
                    .into_iter()
                    .map(|f| f.map(FuncIndex))
                    .collect::<Result<_, _>>()
                    .or_parse_error()?,
            ),
        ),
        ElementItems::Expressions(ty, exprs) => (
            ref_type(ty, offset)?,
            ElemItems::Exprs(
                exprs
                    .into_iter()
                    .map(|e| const_expr(&e.or_parse_error()?))
                    .collect::<ParseResult<_>>()?,
            ),
        ),
    };
    Ok(ElemSegment { kind, ty, items })
}

/// Converts a (validated) constant expression; a non-constant operator is an error.
fn const_expr(expr: &wasmparser::ConstExpr<'_>) -> ParseResult<ConstExpr> {
    let mut reader = expr.get_operators_reader();
    let mut ops = Vec::new();
    loop {
        let (op, offset) = reader.read_with_offset().or_parse_error()?;
        ops.push(match op {
            Operator::End => break,
            Operator::I32Const { value } => ConstOp::I32Const(value),
            Operator::I64Const { value } => ConstOp::I64Const(value),
            Operator::F32Const { value } => ConstOp::F32Const(value.bits()),
            Operator::F64Const { value } => ConstOp::F64Const(value.bits()),
            Operator::V128Const { value } => {
                ConstOp::V128Const(u128::from_le_bytes(*value.bytes()))
            }
            Operator::GlobalGet { global_index } => ConstOp::GlobalGet(GlobalIndex(global_index)),
            Operator::RefNull { hty } => ConstOp::RefNull(heap_type(hty, offset)?),
            Operator::RefFunc { function_index } => ConstOp::RefFunc(FuncIndex(function_index)),
            Operator::I32Add => ConstOp::I32Add,
            Operator::I32Sub => ConstOp::I32Sub,
            Operator::I32Mul => ConstOp::I32Mul,
            Operator::I64Add => ConstOp::I64Add,
            Operator::I64Sub => ConstOp::I64Sub,
            Operator::I64Mul => ConstOp::I64Mul,
            other => {
                return Err(Error::new(
                    Phase::Validate,
                    format!("constant expression required: `{other:?}` is not constant"),
                )
                .with_offset(offset));
            }
        });
    }
    Ok(ConstExpr(ops.into_boxed_slice()))
}

#[cfg(test)]
mod tests;
