//! Assembly of the artifact: lays every compiled function and trampoline out in one `.text`,
//! resolves the calls between them, and writes the sections described on
//! [`aot_runtime::artifact::write::ArtifactBuilder`] as one ELF file.
//!
//! Layout of `.text`: for each module (one for a module artifact, every static module in order
//! for a component), its defined functions in index order, then its array-to-wasm trampolines
//! (in function order); then the wasm-to-host trampolines (one per distinct function type across
//! modules, in order of first use); each 16-byte aligned; padding is filled with trapping bytes. Every offset in `.aot.funcs`, `.aot.traps` and `.aot.addrmap`
//! is absolute in `.text`. The output depends only on its inputs (no hash-map order, no time,
//! no paths), so builds are byte-identical.

use crate::codegen::{CallReloc, CompiledFunction, IsaSetup};
use crate::error::{Error, Phase};
use aot_runtime::artifact::component::{ComponentInfo, StaticModule};
use aot_runtime::artifact::read::FuncLoc;
use aot_runtime::artifact::write::{
    AddressMapBuilder, ArtifactBuilder, FuncTableBuilder, TextSymbol, TrapTableBuilder,
};
use aot_runtime::artifact::{
    CompatRecord, DefinedFuncIndex, FORMAT_VERSION, FuncIndex, Kind, ModuleInfo, TypeIndex,
};
use cranelift_codegen::binemit::Reloc;
use target_lexicon::Architecture;

/// Alignment of every function and trampoline in `.text`.
const CODE_ALIGN: usize = 16;

/// Everything compiled for one module, ready to be laid out.
pub(crate) struct CompiledModule {
    /// The module's metadata; `wasm_to_host_trampolines` is filled here.
    pub info: ModuleInfo,
    /// The module's data-segment bytes (offsets in `info` are relative to them).
    pub data: Vec<u8>,
    /// Defined functions, in order, with the offset of their body in the Wasm binary.
    pub funcs: Vec<(CompiledFunction, u32)>,
    /// Array-to-wasm trampolines of the escaping functions, ascending.
    pub array_to_wasm: Vec<(DefinedFuncIndex, CompiledFunction)>,
}

/// The wasm-to-host trampolines of the artifact, shared by all its modules.
pub(crate) struct WasmToHost {
    /// One per distinct function type, with the first module and type index that has it.
    pub trampolines: Vec<(usize, TypeIndex, CompiledFunction)>,
    /// For every module, for every entry of its type section, its index in `trampolines`.
    pub of_type: Vec<Vec<usize>>,
}

/// What `.aot.info` describes.
pub(crate) enum Metadata {
    /// A module artifact: the (only) module's `ModuleInfo`.
    Module,
    /// A component artifact: its plan, whose `modules` are filled here from the compiled
    /// modules, in order.
    Component(Box<ComponentInfo>),
}

/// One piece of code placed in `.text`.
struct Placed<'a> {
    offset: u32,
    code: &'a CompiledFunction,
    /// Whether its source locations are Wasm offsets (functions) or meaningless (trampolines).
    has_wasm_origin: bool,
}

/// Where a module's units are in the list of placed units: its functions, then its array
/// trampolines.
#[derive(Copy, Clone)]
struct ModuleUnits {
    first: usize,
    funcs: usize,
    arrays: usize,
}

/// Lays out, links and writes the artifact. For a component, the modules are placed one after
/// another (each module's functions, then its array trampolines), then the wasm-to-host
/// trampolines they share; `.aot.funcs` lists every module's functions in that order,
/// `.aot.data` holds every module's data.
pub(crate) fn emit(
    mut modules: Vec<CompiledModule>,
    wasm_to_host: WasmToHost,
    metadata: Metadata,
    setup: &IsaSetup,
    wasm_features: u64,
) -> Result<Vec<u8>, Error> {
    let arch = setup.triple.architecture;
    let Layout {
        text,
        placed,
        units,
    } = layout(&modules, &wasm_to_host, arch)?;
    let placed_hosts = &placed[units.last().map_or(0, |u| u.first + u.funcs + u.arrays)..];

    let mut funcs_section = FuncTableBuilder::default();
    let mut first_funcs = Vec::with_capacity(modules.len());
    let mut next_func = 0u32;
    for (module, unit) in modules.iter().zip(&units) {
        let placed_funcs = &placed[unit.first..unit.first + unit.funcs];
        let placed_arrays = &placed[unit.first + unit.funcs..unit.first + unit.funcs + unit.arrays];
        func_table(
            &mut funcs_section,
            &module.funcs,
            placed_funcs,
            &module.array_to_wasm,
            placed_arrays,
        )?;
        first_funcs.push(next_func);
        next_func = u32::try_from(module.funcs.len())
            .ok()
            .and_then(|n| next_func.checked_add(n))
            .ok_or_else(text_too_big)?;
    }
    let mut traps = TrapTableBuilder::default();
    let mut addrmap = AddressMapBuilder::default();
    for unit in &placed {
        for &(offset, trap) in &unit.code.traps {
            traps.push(unit.offset + offset, trap);
        }
        add_address_map(&mut addrmap, unit)?;
    }
    let symbols = symbols(&modules, &units, &placed, &wasm_to_host)?;
    let host_offsets: Vec<Vec<u32>> = wasm_to_host
        .of_type
        .iter()
        .map(|of_type| of_type.iter().map(|&i| placed_hosts[i].offset).collect())
        .collect();
    let mut data = Vec::new();
    for (module, offsets) in modules.iter_mut().zip(host_offsets) {
        module.info.wasm_to_host_trampolines = offsets;
        append_data(&mut data, module)?;
    }
    let encode_error = |e: postcard::Error| {
        Error::new(
            Phase::Emit,
            format!("cannot encode the artifact metadata: {e}"),
        )
    };
    let (kind, encoded_info) = match metadata {
        Metadata::Module => {
            let [module] = &modules[..] else {
                return Err(Error::new(
                    Phase::Emit,
                    "internal error: a module artifact holds exactly one module",
                ));
            };
            let info = postcard::to_allocvec(&module.info).map_err(encode_error)?;
            (Kind::Module, info)
        }
        Metadata::Component(mut info) => {
            info.modules = modules
                .into_iter()
                .zip(first_funcs)
                .map(|(module, first_func)| StaticModule {
                    info: module.info,
                    first_func,
                })
                .collect();
            // The runtime refuses an inconsistent plan; finding one here is a compiler bug.
            info.validate().map_err(|e| {
                Error::new(
                    Phase::Emit,
                    format!("internal error: the component plan is inconsistent: {e}"),
                )
            })?;
            if info.num_funcs() != Some(next_func as usize) {
                return Err(Error::new(
                    Phase::Emit,
                    "internal error: the component's modules do not cover `.aot.funcs`",
                ));
            }
            (
                Kind::Component,
                postcard::to_allocvec(&*info).map_err(encode_error)?,
            )
        }
    };
    Ok(ArtifactBuilder {
        arch: match arch {
            Architecture::X86_64 => object::Architecture::X86_64,
            _ => object::Architecture::Aarch64,
        },
        compat: compat_record(setup, kind, wasm_features),
        text,
        symbols,
        info: encoded_info,
        funcs: funcs_section.finish(),
        traps: traps.finish(),
        addrmap: addrmap.finish(),
        data,
    }
    .finish())
}

/// Appends a module's data to `.aot.data`, making its segments' offsets absolute in it.
fn append_data(data: &mut Vec<u8>, module: &mut CompiledModule) -> Result<(), Error> {
    let too_big = || Error::new(Phase::Emit, "more than 4 GiB of data segments");
    let base = u32::try_from(data.len()).map_err(|_| too_big())?;
    for segment in &mut module.info.data {
        segment.data_offset = segment
            .data_offset
            .checked_add(base)
            .filter(|offset| offset.checked_add(segment.data_len).is_some())
            .ok_or_else(too_big)?;
    }
    data.extend_from_slice(&module.data);
    u32::try_from(data.len()).map_err(|_| too_big())?;
    Ok(())
}

/// `.text` and where everything is in it.
struct Layout<'a> {
    text: Vec<u8>,
    /// Every unit, in `.text` order.
    placed: Vec<Placed<'a>>,
    /// Where each module's units are in `placed`.
    units: Vec<ModuleUnits>,
}

/// Places every unit in `.text` (for each module its functions and array trampolines, then the
/// wasm-to-host trampolines), then patches each module's calls with its own function offsets.
fn layout<'a>(
    modules: &'a [CompiledModule],
    wasm_to_host: &'a WasmToHost,
    arch: Architecture,
) -> Result<Layout<'a>, Error> {
    let mut text = Vec::new();
    let mut placed = Vec::new();
    let mut units = Vec::with_capacity(modules.len());
    let mut place = |text: &mut Vec<u8>, code: &'a CompiledFunction, has_wasm_origin| {
        let offset = append_code(text, &code.code, arch)?;
        placed.push(Placed {
            offset,
            code,
            has_wasm_origin,
        });
        Ok::<_, Error>(())
    };
    let mut first = 0;
    for module in modules {
        for (code, _) in &module.funcs {
            place(&mut text, code, true)?;
        }
        for (_, code) in &module.array_to_wasm {
            place(&mut text, code, false)?;
        }
        let unit = ModuleUnits {
            first,
            funcs: module.funcs.len(),
            arrays: module.array_to_wasm.len(),
        };
        first += unit.funcs + unit.arrays;
        units.push(unit);
    }
    for (_, _, code) in &wasm_to_host.trampolines {
        place(&mut text, code, false)?;
    }
    for (module, unit) in modules.iter().zip(&units) {
        let info = &module.info;
        let module_placed = &placed[unit.first..unit.first + unit.funcs + unit.arrays];
        let func_offset = |callee: FuncIndex| {
            let defined = info.defined_func_index(callee)?;
            (defined.index() < unit.funcs).then(|| module_placed[defined.index()].offset)
        };
        for unit in module_placed {
            for call in &unit.code.calls {
                let target = func_offset(call.callee).ok_or_else(|| {
                    Error::new(
                        Phase::Emit,
                        format!(
                            "internal error: call relocation to function {}, which is not \
                             defined by the module",
                            call.callee.0
                        ),
                    )
                })?;
                patch_call(&mut text, unit.offset, call, target)?;
            }
        }
    }
    if placed[first..]
        .iter()
        .any(|unit| !unit.code.calls.is_empty())
    {
        return Err(Error::new(
            Phase::Emit,
            "internal error: a wasm-to-host trampoline calls a function directly",
        ));
    }
    Ok(Layout {
        text,
        placed,
        units,
    })
}

/// Appends a module's entries to `.aot.funcs`: where each function is, and its array
/// trampoline if it escapes.
fn func_table(
    table: &mut FuncTableBuilder,
    funcs: &[(CompiledFunction, u32)],
    placed_funcs: &[Placed<'_>],
    array_to_wasm: &[(DefinedFuncIndex, CompiledFunction)],
    placed_arrays: &[Placed<'_>],
) -> Result<(), Error> {
    let mut arrays = array_to_wasm.iter().zip(placed_arrays).peekable();
    for (i, ((code, wasm_offset), unit)) in funcs.iter().zip(placed_funcs).enumerate() {
        let array_trampoline = arrays
            .next_if(|((defined, _), _)| defined.index() == i)
            .map_or(u32::MAX, |(_, tramp)| tramp.offset);
        table.push(FuncLoc {
            text_offset: unit.offset,
            text_len: code_len(code)?,
            array_trampoline,
            wasm_offset: *wasm_offset,
        });
    }
    Ok(())
}

/// The compatibility record: everything the runtime checks before trusting the code.
fn compat_record(setup: &IsaSetup, kind: Kind, wasm_features: u64) -> CompatRecord {
    CompatRecord {
        format_version: FORMAT_VERSION,
        kind,
        flags: setup.compat_flags(),
        pointer_width: setup.pointer_bytes,
        wasm_features,
        // aot-build and aot-runtime are released in lockstep, so this is also the version of
        // the runtime that can load the artifact.
        producer: env!("CARGO_PKG_VERSION").to_string(),
        target: setup.target_name.clone(),
        cpu_features: setup.cpu_features.join(","),
        settings: setup.settings_record(),
    }
}

fn text_too_big() -> Error {
    Error::new(Phase::Emit, "the compiled code is larger than 4 GiB")
}

fn code_len(code: &CompiledFunction) -> Result<u32, Error> {
    u32::try_from(code.code.len()).map_err(|_| text_too_big())
}

/// Appends `code` at the next aligned offset, padding with bytes that trap if executed
/// (`int3` on x86_64, `udf #0` words on aarch64), and returns that offset.
fn append_code(text: &mut Vec<u8>, code: &[u8], arch: Architecture) -> Result<u32, Error> {
    let padding = match arch {
        Architecture::X86_64 => 0xcc,
        _ => 0x00,
    };
    let offset = text.len().next_multiple_of(CODE_ALIGN);
    text.resize(offset, padding);
    text.extend_from_slice(code);
    u32::try_from(text.len()).map_err(|_| text_too_big())?;
    Ok(offset as u32)
}

/// Resolves one direct call of the unit at `unit_offset` to the function at `target`.
fn patch_call(
    text: &mut [u8],
    unit_offset: u32,
    call: &CallReloc,
    target: u32,
) -> Result<(), Error> {
    let site = unit_offset as usize + call.offset as usize;
    let delta = i64::from(target) + call.addend - site as i64;
    let out_of_range = || {
        Error::new(
            Phase::Emit,
            format!("call at text offset {site:#x} cannot reach its target {target:#x}"),
        )
    };
    let field: &mut [u8; 4] = text
        .get_mut(site..site + 4)
        .and_then(|f| f.try_into().ok())
        .ok_or_else(out_of_range)?;
    match call.kind {
        Reloc::X86CallPCRel4 => {
            let delta = i32::try_from(delta).map_err(|_| out_of_range())?;
            *field = delta.to_le_bytes();
        }
        Reloc::Arm64Call => {
            // `bl` holds a signed 26-bit word offset.
            if delta % 4 != 0 || !(-(1 << 27)..(1 << 27)).contains(&delta) {
                return Err(out_of_range());
            }
            let insn = u32::from_le_bytes(*field);
            let imm26 = ((delta >> 2) as u32) & 0x03ff_ffff;
            *field = ((insn & 0xfc00_0000) | imm26).to_le_bytes();
        }
        other => {
            return Err(Error::new(
                Phase::Emit,
                format!("internal error: unexpected relocation {other}"),
            ));
        }
    }
    Ok(())
}

/// Adds the unit's source locations: Wasm offsets for functions, "none" for trampolines and for
/// code without a location.
fn add_address_map(map: &mut AddressMapBuilder, unit: &Placed<'_>) -> Result<(), Error> {
    let start = unit.offset;
    map.push(start, u32::MAX);
    if unit.has_wasm_origin {
        let mut srclocs = unit.code.srclocs.iter().peekable();
        while let Some(&(from, to, wasm)) = srclocs.next() {
            map.push(start + from, wasm);
            if srclocs.peek().is_none_or(|next| next.0 > to) {
                map.push(start + to, u32::MAX);
            }
        }
    }
    map.push(start + code_len(unit.code)?, u32::MAX);
    Ok(())
}

/// One symbol per function (`<module>::<name>` or `<module>::func[<index>]`) and trampoline;
/// the modules of a component are named `<component>/<module>`.
fn symbols(
    modules: &[CompiledModule],
    units: &[ModuleUnits],
    placed: &[Placed<'_>],
    wasm_to_host: &WasmToHost,
) -> Result<Vec<TextSymbol>, Error> {
    let mut names = Vec::with_capacity(placed.len());
    for module in modules {
        let info = &module.info;
        let name = &info.name;
        names.extend((0..info.num_defined_funcs()).map(|i| {
            let func = info.func_index(DefinedFuncIndex::new(i));
            match info.func_name(func) {
                Some(func_name) => format!("{name}::{func_name}"),
                None => format!("{name}::func[{}]", func.0),
            }
        }));
        names.extend(module.array_to_wasm.iter().map(|(defined, _)| {
            let func: FuncIndex = info.func_index(*defined);
            format!("{name}::array_call[{}]", func.0)
        }));
    }
    names.extend(
        wasm_to_host
            .trampolines
            .iter()
            .map(|(m, ty, _)| format!("{}::wasm_to_host[{}]", modules[*m].info.name, ty.0)),
    );
    debug_assert_eq!(
        units.iter().map(|u| u.funcs + u.arrays).sum::<usize>() + wasm_to_host.trampolines.len(),
        placed.len()
    );
    names
        .into_iter()
        .zip(placed)
        .map(|(name, unit)| {
            Ok(TextSymbol {
                name,
                offset: unit.offset,
                len: code_len(unit.code)?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn x86_calls_are_pc_relative() {
        let mut text = vec![0u8; 64];
        let call = CallReloc {
            offset: 1,
            kind: Reloc::X86CallPCRel4,
            callee: FuncIndex(0),
            addend: -4,
        };
        patch_call(&mut text, 32, &call, 0).unwrap();
        // Field at 33; the next instruction is at 37; the target is 0.
        assert_eq!(i32::from_le_bytes(text[33..37].try_into().unwrap()), -37);
    }

    #[test]
    fn aarch64_calls_patch_the_bl_immediate() {
        let mut text = vec![0u8; 64];
        text[16..20].copy_from_slice(&0x9400_0000u32.to_le_bytes()); // bl #0
        let call = CallReloc {
            offset: 0,
            kind: Reloc::Arm64Call,
            callee: FuncIndex(0),
            addend: 0,
        };
        patch_call(&mut text, 16, &call, 0).unwrap();
        let insn = u32::from_le_bytes(text[16..20].try_into().unwrap());
        assert_eq!(insn, 0x9400_0000 | 0x03ff_fffc);
    }

    #[test]
    fn code_is_aligned_and_padded() {
        let mut text = vec![0x90; 3];
        let at = append_code(&mut text, &[1, 2], Architecture::X86_64).unwrap();
        assert_eq!(at, 16);
        assert_eq!(&text[3..16], &[0xcc; 13]);
        assert_eq!(&text[16..], &[1, 2]);
    }
}
