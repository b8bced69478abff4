//! Assembly of the artifact: lays every compiled function and trampoline out in one `.text`,
//! resolves the calls between them, and writes the sections described on
//! [`aot_runtime::artifact::write::ArtifactBuilder`] as one ELF file.
//!
//! Layout of `.text`: defined functions in index order, then array-to-wasm trampolines (in
//! function order), then wasm-to-host trampolines (in type order), each 16-byte aligned; padding
//! is filled with trapping bytes. Every offset in `.aot.funcs`, `.aot.traps` and `.aot.addrmap`
//! is absolute in `.text`. The output depends only on its inputs (no hash-map order, no time,
//! no paths), so builds are byte-identical.

use crate::codegen::{CallReloc, CompiledFunction, IsaSetup};
use crate::error::{Error, Phase};
use aot_runtime::artifact::header::FLAG_EXPLICIT_BOUNDS_CHECKS;
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
    /// The `.aot.data` bytes.
    pub data: Vec<u8>,
    /// Defined functions, in order, with the offset of their body in the Wasm binary.
    pub funcs: Vec<(CompiledFunction, u32)>,
    /// Array-to-wasm trampolines of the escaping functions, ascending.
    pub array_to_wasm: Vec<(DefinedFuncIndex, CompiledFunction)>,
    /// Wasm-to-host trampolines.
    pub wasm_to_host: WasmToHost,
    /// The `features` bits of the compatibility record.
    pub wasm_features: u64,
}

/// The wasm-to-host trampolines of a module.
pub(crate) struct WasmToHost {
    /// One per distinct function type, named by the first type index with that type.
    pub trampolines: Vec<(TypeIndex, CompiledFunction)>,
    /// For every entry of the type section, its index in `trampolines`.
    pub of_type: Vec<usize>,
}

/// One piece of code placed in `.text`.
struct Placed<'a> {
    offset: u32,
    code: &'a CompiledFunction,
    /// Whether its source locations are Wasm offsets (functions) or meaningless (trampolines).
    has_wasm_origin: bool,
}

/// Lays out, links and writes the artifact.
pub(crate) fn emit(module: CompiledModule, setup: &IsaSetup) -> Result<Vec<u8>, Error> {
    let CompiledModule {
        mut info,
        data,
        funcs,
        array_to_wasm,
        wasm_to_host,
        wasm_features,
    } = module;
    let arch = setup.triple.architecture;
    let units = funcs
        .iter()
        .map(|(f, _)| (f, true))
        .chain(array_to_wasm.iter().map(|(_, f)| (f, false)))
        .chain(wasm_to_host.trampolines.iter().map(|(_, f)| (f, false)));
    let (text, placed) = layout(units, &info, arch)?;

    let (placed_funcs, rest) = placed.split_at(funcs.len());
    let (placed_arrays, placed_hosts) = rest.split_at(array_to_wasm.len());
    info.wasm_to_host_trampolines = wasm_to_host
        .of_type
        .iter()
        .map(|&i| placed_hosts[i].offset)
        .collect();
    let funcs_section = func_table(&funcs, placed_funcs, &array_to_wasm, placed_arrays)?;
    let mut traps = TrapTableBuilder::default();
    let mut addrmap = AddressMapBuilder::default();
    for unit in &placed {
        for &(offset, trap) in &unit.code.traps {
            traps.push(unit.offset + offset, trap);
        }
        add_address_map(&mut addrmap, unit)?;
    }
    let symbols = symbols(&info, &placed, &array_to_wasm, &wasm_to_host.trampolines)?;
    let encoded_info = postcard::to_allocvec(&info).map_err(|e| {
        Error::new(
            Phase::Emit,
            format!("cannot encode the module metadata: {e}"),
        )
    })?;
    Ok(ArtifactBuilder {
        arch: match arch {
            Architecture::X86_64 => object::Architecture::X86_64,
            _ => object::Architecture::Aarch64,
        },
        compat: compat_record(setup, wasm_features),
        text,
        symbols,
        info: encoded_info,
        funcs: funcs_section,
        traps: traps.finish(),
        addrmap: addrmap.finish(),
        data,
    }
    .finish())
}

/// Places every unit in `.text`, then patches the calls now that every address is known.
fn layout<'a>(
    units: impl Iterator<Item = (&'a CompiledFunction, bool)>,
    info: &ModuleInfo,
    arch: Architecture,
) -> Result<(Vec<u8>, Vec<Placed<'a>>), Error> {
    let mut text = Vec::new();
    let mut placed = Vec::new();
    for (code, has_wasm_origin) in units {
        let offset = append_code(&mut text, &code.code, arch)?;
        placed.push(Placed {
            offset,
            code,
            has_wasm_origin,
        });
    }
    let func_offset = |callee: FuncIndex| {
        let defined = info.defined_func_index(callee)?;
        (defined.index() < info.num_defined_funcs()).then(|| placed[defined.index()].offset)
    };
    for unit in &placed {
        for call in &unit.code.calls {
            let target = func_offset(call.callee).ok_or_else(|| {
                Error::new(
                    Phase::Emit,
                    format!(
                        "internal error: call relocation to function {}, which is not defined \
                         by the module",
                        call.callee.0
                    ),
                )
            })?;
            patch_call(&mut text, unit.offset, call, target)?;
        }
    }
    Ok((text, placed))
}

/// The `.aot.funcs` section: where each function is, and its array trampoline if it escapes.
fn func_table(
    funcs: &[(CompiledFunction, u32)],
    placed_funcs: &[Placed<'_>],
    array_to_wasm: &[(DefinedFuncIndex, CompiledFunction)],
    placed_arrays: &[Placed<'_>],
) -> Result<Vec<u8>, Error> {
    let mut table = FuncTableBuilder::default();
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
    Ok(table.finish())
}

/// The compatibility record: everything the runtime checks before trusting the code.
fn compat_record(setup: &IsaSetup, wasm_features: u64) -> CompatRecord {
    CompatRecord {
        format_version: FORMAT_VERSION,
        kind: Kind::Module,
        flags: if setup.explicit_bounds_checks {
            FLAG_EXPLICIT_BOUNDS_CHECKS
        } else {
            0
        },
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

/// One symbol per function (`<module>::<name>` or `<module>::func[<index>]`) and trampoline.
fn symbols(
    info: &ModuleInfo,
    placed: &[Placed<'_>],
    array_to_wasm: &[(DefinedFuncIndex, CompiledFunction)],
    wasm_to_host: &[(TypeIndex, CompiledFunction)],
) -> Result<Vec<TextSymbol>, Error> {
    let module = &info.name;
    let func_names = (0..info.num_defined_funcs()).map(|i| {
        let func = info.func_index(DefinedFuncIndex::new(i));
        match info.func_name(func) {
            Some(name) => format!("{module}::{name}"),
            None => format!("{module}::func[{}]", func.0),
        }
    });
    let array_names = array_to_wasm.iter().map(|(defined, _)| {
        let func: FuncIndex = info.func_index(*defined);
        format!("{module}::array_call[{}]", func.0)
    });
    let host_names = wasm_to_host
        .iter()
        .map(|(ty, _)| format!("{module}::wasm_to_host[{}]", ty.0));
    func_names
        .chain(array_names)
        .chain(host_names)
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
