//! Artifact round trip: compile a module, read it back with the runtime's reader and check every
//! section against what the module says.

use crate::{Aligned, compile, host};
use aot_runtime::artifact::format::{EF_AOT_COMPONENT, EF_AOT_MODULE, SECTION_TEXT};
use aot_runtime::artifact::read::{ArtifactRef, HostInfo};
use aot_runtime::artifact::{FORMAT_VERSION, Kind, ModuleInfo, Trap};
use object::read::elf::{ElfFile64, FileHeader};
use object::{Endianness, Object, ObjectSection, ObjectSymbol, SymbolKind};

/// Byte offsets inside `DEMO`'s binary encoding are checked below, so keep its bodies stable.
const DEMO: &str = r#"
(module $demo
  (import "env" "log" (func $log (param i32)))
  (import "env" "log2" (func $log2 (param i32)))
  (memory (export "memory") 1)
  (func $add (export "add") (param i32 i32) (result i32)
    local.get 0 local.get 1 i32.add)
  (func $div (export "div") (param i32 i32) (result i32)
    local.get 0 local.get 1 i32.div_s)
  (func $twice (param i32) (result i32)
    local.get 0 local.get 0 call $add)
  (func (export "call_twice") (param i32) (result i32)
    local.get 0 call $twice)
  (data (i32.const 16) "hello, world")
  (data "passive bytes"))
"#;

fn parse(bytes: &Aligned) -> ArtifactRef<'_> {
    ArtifactRef::parse(bytes.bytes(), Kind::Module, &host()).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn compat_record_describes_the_build() {
    let bytes = Aligned::new(&compile(DEMO));
    let art = parse(&bytes);
    let c = &art.compat;
    assert_eq!(c.format_version, FORMAT_VERSION);
    assert_eq!(c.kind, Kind::Module);
    assert_eq!(c.flags, 0, "guard pages by default on 64-bit hosts");
    assert_eq!(c.pointer_width, 8);
    assert_eq!(c.producer, env!("CARGO_PKG_VERSION"));
    assert!(c.target.starts_with(std::env::consts::ARCH), "{}", c.target);
    assert_eq!(c.settings, "opt_level=speed");
    if cfg!(target_arch = "x86_64") {
        assert_eq!(c.cpu_features, "popcnt,sse3,sse4.1,sse4.2,ssse3");
    }
    use aot_runtime::artifact::header::features::*;
    assert_eq!(
        c.wasm_features,
        SIMD | TAIL_CALL | EXTENDED_CONST | MULTI_MEMORY | REFERENCE_TYPES | BULK_MEMORY
    );

    let mut config = aot_build::Config::new();
    config
        .bounds_checks(aot_build::BoundsChecks::Explicit)
        .wasm_simd(false)
        .opt_level(aot_build::OptLevel::None);
    let bytes = Aligned::new(&config.compile_bytes(DEMO.as_bytes()).unwrap());
    let c = parse(&bytes).compat;
    assert!(c.explicit_bounds_checks());
    assert_eq!(c.wasm_features & SIMD, 0);
    assert_eq!(c.settings, "opt_level=none");
}

#[test]
fn every_section_round_trips() {
    let wasm = wat::parse_str(DEMO).unwrap();
    let bytes = Aligned::new(&compile(DEMO));
    let art = parse(&bytes);
    let info: ModuleInfo = postcard::from_bytes(art.info).unwrap();
    let text_len = art.text.len() as u32;
    assert!(text_len > 0);

    // Metadata.
    assert_eq!(info.name, "demo");
    assert_eq!(info.num_imported.funcs, 2);
    assert_eq!(info.num_defined_funcs(), 4);
    assert_eq!(info.func_names.len(), 5, "{:?}", info.func_names);
    assert_eq!(info.wasm_to_host_trampolines.len(), info.types.len());
    // `log` and `log2` have the same type, so they share one trampoline.
    let log_ty = info.funcs[0].index();
    assert_eq!(info.funcs[1].index(), log_ty);

    // Function table: one entry per defined function, inside `.text`, in order, aligned.
    assert_eq!(art.funcs.len(), 4);
    let funcs: Vec<_> = (0..4).map(|i| art.funcs.get(i)).collect();
    let mut end = 0;
    for f in &funcs {
        assert_eq!(f.text_offset % 16, 0);
        assert!(f.text_offset >= end && f.text_len > 0);
        end = f.text_offset + f.text_len;
        assert!(end <= text_len);
        assert!((f.wasm_offset as usize) < wasm.len());
    }
    // Escaping functions (the exported ones) have an array trampoline after the functions; the
    // private `$twice` has none.
    for (i, f) in funcs.iter().enumerate() {
        if i == 2 {
            assert_eq!(f.array_trampoline, u32::MAX);
        } else {
            assert!(f.array_trampoline >= end && f.array_trampoline < text_len);
        }
    }
    for &t in &info.wasm_to_host_trampolines {
        assert!(t >= end && t < text_len);
    }

    // Trap table: sorted; the division traps (zero divisor, overflow) lie in `div`, and every
    // wasm-to-host trampoline can raise `HostError`.
    assert!(!art.traps.is_empty());
    let traps: Vec<_> = (0..art.traps.len())
        .map(|i| {
            let at = art.traps.offset(i);
            (at, art.traps.lookup(at).unwrap())
        })
        .collect();
    assert!(traps.windows(2).all(|w| w[0].0 < w[1].0));
    let div = funcs[1];
    let in_div = |at: u32| (div.text_offset..div.text_offset + div.text_len).contains(&at);
    let div_traps: Vec<_> = traps.iter().filter(|(at, _)| in_div(*at)).collect();
    assert!(
        div_traps
            .iter()
            .any(|(_, t)| *t == Trap::IntegerDivisionByZero),
        "{traps:?}"
    );
    for &t in &info.wasm_to_host_trampolines {
        assert!(
            traps
                .iter()
                .any(|&(at, trap)| trap == Trap::HostError && at > t && at < t + 256),
            "no HostError trap in the trampoline at {t:#x}: {traps:?}"
        );
    }

    // Address map: the division's trap sites map back to the `i32.div_s` instruction (body of
    // `div`: locals count, `local.get 0`, `local.get 1`, then `i32.div_s`), and trampolines map
    // to no Wasm offset.
    let div_s = div.wasm_offset + 1 + 2 + 2;
    assert_eq!(wasm[div_s as usize], 0x6d, "i32.div_s opcode");
    for (at, _) in &div_traps {
        assert_eq!(art.addrmap.lookup(*at), Some(div_s), "trap at {at:#x}");
    }
    assert_eq!(art.addrmap.lookup(funcs[0].array_trampoline), None);
    assert_eq!(art.addrmap.lookup(info.wasm_to_host_trampolines[0]), None);

    // Data: both segments, byte for byte.
    assert_eq!(info.data.len(), 2);
    let segment = |i: usize| {
        let d = &info.data[i];
        &art.data[d.data_offset as usize..(d.data_offset + d.data_len) as usize]
    };
    assert_eq!(segment(0), b"hello, world");
    assert_eq!(segment(1), b"passive bytes");
    assert!(info.data[0].active.is_some() && info.data[1].active.is_none());
}

#[test]
fn elf_header_and_symbols() {
    let bytes = Aligned::new(&compile(DEMO));
    let art = parse(&bytes);
    let elf = ElfFile64::<Endianness>::parse(bytes.bytes()).unwrap();
    let e_flags = elf.elf_header().e_flags(elf.endian());
    assert_eq!(e_flags & (EF_AOT_MODULE | EF_AOT_COMPONENT), EF_AOT_MODULE);
    assert!(elf.sections().all(|s| s.relocations().next().is_none()));

    let text = elf.section_by_name(SECTION_TEXT).unwrap().index();
    let symbols: Vec<(String, u64, u64)> = elf
        .symbols()
        .filter(|s| s.section_index() == Some(text) && s.kind() == SymbolKind::Text)
        .map(|s| (s.name().unwrap().to_string(), s.address(), s.size()))
        .collect();
    let find = |name: &str| {
        symbols
            .iter()
            .find(|s| s.0 == name)
            .unwrap_or_else(|| panic!("no symbol `{name}` in {symbols:?}"))
    };
    for (i, name) in ["demo::add", "demo::div", "demo::twice", "demo::func[5]"]
        .into_iter()
        .enumerate()
    {
        let f = art.funcs.get(i);
        assert_eq!(find(name).1, u64::from(f.text_offset), "{name}");
        assert_eq!(find(name).2, u64::from(f.text_len), "{name}");
    }
    assert_eq!(
        find("demo::array_call[2]").1,
        u64::from(art.funcs.get(0).array_trampoline)
    );
    let info: ModuleInfo = postcard::from_bytes(art.info).unwrap();
    let log_ty = info.funcs[0].index();
    assert_eq!(
        find(&format!("demo::wasm_to_host[{log_ty}]")).1,
        u64::from(info.wasm_to_host_trampolines[log_ty])
    );
    // 4 functions, 3 array trampolines, one wasm-to-host trampoline per distinct type.
    assert_eq!(symbols.len(), 4 + 3 + 3, "{symbols:?}");
}

#[test]
fn module_name_precedence() {
    let named = |config: &aot_build::Config, wat: &str| {
        let bytes = Aligned::new(&config.compile_bytes(wat.as_bytes()).unwrap());
        let info: ModuleInfo = postcard::from_bytes(parse(&bytes).info).unwrap();
        info.name
    };
    let config = aot_build::Config::new();
    assert_eq!(named(&config, "(module)"), "module");
    assert_eq!(named(&config, "(module $from_wat)"), "from_wat");
    let mut config = aot_build::Config::new();
    config.module_name("chosen");
    assert_eq!(named(&config, "(module $from_wat)"), "chosen");
}

#[test]
fn output_is_deterministic() {
    let a = compile(DEMO);
    let b = compile(DEMO);
    assert!(a == b, "two compilations of the same module differ");
    let mut config = aot_build::Config::new();
    config.opt_level(aot_build::OptLevel::None);
    assert_ne!(config.compile_bytes(DEMO.as_bytes()).unwrap(), a);
}

#[test]
fn cross_compiles_for_aarch64() {
    let mut config = aot_build::Config::new();
    config
        .target("aarch64-unknown-linux-gnu")
        .cpu_features(&["lse"]);
    let bytes = Aligned::new(&config.compile_bytes(DEMO.as_bytes()).unwrap());
    let aarch64 = HostInfo {
        arch: "aarch64",
        os: "linux",
        ..host()
    };
    let art = ArtifactRef::parse(bytes.bytes(), Kind::Module, &aarch64).unwrap();
    assert_eq!(art.compat.target, "aarch64-unknown-linux-gnu");
    assert_eq!(art.compat.cpu_features, "lse,neon");
    // `call_twice` calls `twice` with a `bl` whose target is patched to `twice`.
    let caller = art.funcs.get(3);
    let callee = art.funcs.get(2);
    let code = &art.text[caller.text_offset as usize..][..caller.text_len as usize];
    let targets: Vec<u32> = code
        .chunks_exact(4)
        .enumerate()
        .filter_map(|(i, w)| {
            let insn = u32::from_le_bytes(w.try_into().unwrap());
            (insn & 0xfc00_0000 == 0x9400_0000).then(|| {
                let imm = ((insn & 0x03ff_ffff) << 6) as i32 >> 6;
                (caller.text_offset as i64 + i as i64 * 4 + imm as i64 * 4) as u32
            })
        })
        .collect();
    assert_eq!(targets, [callee.text_offset]);
    // The host refuses it.
    if std::env::consts::ARCH != "aarch64" {
        assert!(ArtifactRef::parse(bytes.bytes(), Kind::Module, &host()).is_err());
    }
}

#[test]
fn x86_64_calls_are_resolved() {
    let mut config = aot_build::Config::new();
    config.target("x86_64-unknown-linux-gnu");
    let bytes = Aligned::new(&config.compile_bytes(DEMO.as_bytes()).unwrap());
    let x86_64 = HostInfo {
        arch: "x86_64",
        os: "linux",
        ..host()
    };
    let art = ArtifactRef::parse(bytes.bytes(), Kind::Module, &x86_64).unwrap();
    // `call_twice` calls `twice` with a `call rel32` (E8) reaching `twice`, and the array
    // trampoline of `add` reaches `add`.
    let reaches = |from: u32, len: u32, to: u32| {
        let code = &art.text[from as usize..(from + len) as usize];
        (0..code.len().saturating_sub(4)).any(|i| {
            code[i] == 0xe8 && {
                let rel = i32::from_le_bytes(code[i + 1..i + 5].try_into().unwrap());
                i64::from(from) + i as i64 + 5 + i64::from(rel) == i64::from(to)
            }
        })
    };
    let (caller, callee) = (art.funcs.get(3), art.funcs.get(2));
    assert!(reaches(
        caller.text_offset,
        caller.text_len,
        callee.text_offset
    ));
    let add = art.funcs.get(0);
    assert!(reaches(add.array_trampoline, 64, add.text_offset));
}
