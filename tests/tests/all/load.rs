//! Loading and compatibility: artifacts that were truncated, patched or crafted are refused with
//! the right `LoadError`, and never crash the process. Each negative test starts from a real
//! artifact that loads (checked), so what it changes is the only reason for the error.

use aot_runtime::artifact::format::{EF_AOT_COMPONENT, SECTION_COMPAT};
use aot_runtime::artifact::{FORMAT_VERSION, Kind};
use aot_runtime::{ErrorKind, Instance, LoadError, Store};
use object::read::elf::{ElfFile64, FileHeader};
use object::write::{self, Relocation, SectionId, Symbol, SymbolSection};
use object::{
    BinaryFormat, Endianness, FileFlags, Object, ObjectSection, RelocationEncoding,
    RelocationFlags, RelocationKind, SectionKind, SymbolFlags, SymbolKind, SymbolScope,
};

const WAT: &str = r#"(module (func (export "answer") (result i32) i32.const 42))"#;

fn artifact() -> Vec<u8> {
    aot_tests::compile(WAT).unwrap()
}

/// Loads `bytes` and runs `answer`, which must return 42.
fn check_runs(bytes: &[u8]) {
    let module = aot_tests::load(bytes).unwrap();
    let mut store = Store::new(());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let answer = instance
        .get_typed_func::<(), i32>(&mut store, "answer")
        .unwrap();
    assert_eq!(answer.call(&mut store, ()).unwrap(), 42);
}

/// Loads `bytes`, which must fail with a load error.
fn load_error(bytes: &[u8]) -> LoadError {
    match aot_tests::load(bytes) {
        Ok(_) => panic!("the artifact loaded"),
        Err(e) => match e.kind() {
            ErrorKind::Load(err) => err.clone(),
            _ => panic!("expected a load error, got: {e}"),
        },
    }
}

/// File offset of the compatibility record.
fn compat_offset(bytes: &[u8]) -> usize {
    let file = object::File::parse(bytes).unwrap();
    let section = file.section_by_name(SECTION_COMPAT).unwrap();
    usize::try_from(section.file_range().unwrap().0).unwrap()
}

#[test]
fn truncated_artifacts_are_refused() {
    let bytes = artifact();
    check_runs(&bytes);
    assert!(matches!(load_error(&[]), LoadError::NotElf(_)));
    let step = (bytes.len() / 200).max(1);
    for len in (0..bytes.len()).step_by(step).chain([bytes.len() - 1]) {
        // Any load error will do; what matters is an `Err` for every prefix, never a crash.
        load_error(&bytes[..len]);
    }
}

#[test]
fn wrong_format_version_is_refused() {
    let mut bytes = artifact();
    let at = compat_offset(&bytes) + 8;
    let version = u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap());
    assert_eq!(version, FORMAT_VERSION);
    bytes[at..at + 4].copy_from_slice(&(FORMAT_VERSION + 1).to_le_bytes());
    assert_eq!(
        load_error(&bytes),
        LoadError::FormatVersion {
            artifact: FORMAT_VERSION + 1,
            runtime: FORMAT_VERSION,
        }
    );
}

#[test]
fn wrong_target_is_refused_naming_both_sides() {
    let (other, other_arch) = if cfg!(target_arch = "x86_64") {
        ("aarch64-unknown-linux-gnu", "aarch64")
    } else {
        ("x86_64-unknown-linux-gnu", "x86_64")
    };
    let bytes = aot_build::Config::new()
        .target(other)
        .compile_bytes(WAT.as_bytes())
        .unwrap();
    let err = load_error(&bytes);
    let LoadError::Incompatible { artifact, runtime } = &err else {
        panic!("expected an incompatible-target error, got: {err}");
    };
    assert!(artifact.contains(other), "{artifact}");
    assert!(runtime.contains(std::env::consts::ARCH), "{runtime}");
    assert!(!runtime.contains(other_arch), "{runtime}");
    let msg = err.to_string();
    assert!(
        msg.contains(other) && msg.contains(std::env::consts::ARCH),
        "{msg}"
    );
}

#[test]
fn component_loaded_as_module_is_refused() {
    let mut bytes = artifact();
    // ELF64 `e_flags` is at offset 48; the record's kind byte at offset 12.
    bytes[48..52].copy_from_slice(&EF_AOT_COMPONENT.to_le_bytes());
    let kind = compat_offset(&bytes) + 12;
    bytes[kind] = Kind::Component.to_u8();
    assert_eq!(
        load_error(&bytes),
        LoadError::WrongKind {
            expected: Kind::Module,
            found: Kind::Component,
        }
    );
}

/// Rewrites the artifact section by section with `object::write` (same header fields), letting
/// `extra` add to it; `.text` is passed to `extra`.
fn rebuild(bytes: &[u8], extra: impl FnOnce(&mut write::Object<'_>, SectionId)) -> Vec<u8> {
    let file = ElfFile64::<Endianness>::parse(bytes).unwrap();
    let header = file.elf_header();
    let endian = file.endian();
    let mut obj = write::Object::new(BinaryFormat::Elf, file.architecture(), Endianness::Little);
    obj.flags = FileFlags::Elf {
        os_abi: header.e_ident().os_abi,
        abi_version: header.e_ident().abi_version,
        e_flags: header.e_flags(endian),
    };
    let mut text = None;
    for section in file.sections() {
        let name = section.name().unwrap();
        if matches!(name, "" | ".symtab" | ".strtab" | ".shstrtab") {
            continue; // Regenerated by the writer.
        }
        let kind = if name == ".text" {
            SectionKind::Text
        } else {
            SectionKind::ReadOnlyData
        };
        let id = obj.add_section(Vec::new(), name.as_bytes().to_vec(), kind);
        obj.append_section_data(id, section.data().unwrap(), section.align().max(1));
        if name == ".text" {
            text = Some(id);
        }
    }
    extra(&mut obj, text.expect("artifact has .text"));
    let mut bytes = obj.write().unwrap();
    // The layout changed: the checksum over the whole file must be computed again.
    aot_runtime::artifact::read::seal_checksum(&mut bytes).unwrap();
    bytes
}

#[test]
fn rebuilt_artifact_still_loads() {
    // The control for the two tests below: rewriting alone changes nothing that matters.
    check_runs(&rebuild(&artifact(), |_, _| {}));
}

#[test]
fn relocations_are_refused() {
    let bytes = rebuild(&artifact(), |obj, text| {
        let symbol = obj.add_symbol(Symbol {
            name: b"target".to_vec(),
            value: 0,
            size: 0,
            kind: SymbolKind::Text,
            scope: SymbolScope::Compilation,
            weak: false,
            section: SymbolSection::Section(text),
            flags: SymbolFlags::None,
        });
        obj.add_relocation(
            text,
            Relocation {
                offset: 0,
                symbol,
                addend: -4,
                flags: RelocationFlags::Generic {
                    kind: RelocationKind::Relative,
                    encoding: RelocationEncoding::Generic,
                    size: 32,
                },
            },
        )
        .unwrap();
    });
    assert_eq!(
        load_error(&bytes),
        LoadError::Relocations(".rela.text".into())
    );
}

#[test]
fn unknown_section_is_refused() {
    let bytes = rebuild(&artifact(), |obj, _| {
        let id = obj.add_section(
            Vec::new(),
            b".aot.future".to_vec(),
            SectionKind::ReadOnlyData,
        );
        obj.append_section_data(id, &[1, 2, 3, 4], 1);
    });
    assert_eq!(
        load_error(&bytes),
        LoadError::UnknownSection(".aot.future".into())
    );
}

#[test]
fn every_single_byte_corruption_loads_or_is_refused_without_crashing() {
    // Loading must never panic or crash, whatever byte of the artifact is damaged: either the
    // damage is detected (a load error) or it lies in bytes loading does not interpret (code,
    // data, padding). Each byte is flipped in turn, and also set to 0xff (lengths, counts).
    let bytes = aot_tests::compile(
        r#"(module $m
          (import "env" "f" (func $f (param i32)))
          (memory (export "mem") 1 2)
          (table 2 funcref)
          (global $g (mut i32) (i32.const 7))
          (elem (i32.const 0) $a $b)
          (data (i32.const 8) "hello")
          (func $a (export "a") (result i32) (i32.div_s (global.get $g) (i32.const 2)))
          (func $b (param i32) (call $f (local.get 0))))"#,
    )
    .unwrap();
    let mut refused = 0;
    for i in 0..bytes.len() {
        for patch in [bytes[i] ^ 0x5a, 0xff] {
            if patch == bytes[i] {
                continue;
            }
            let mut damaged = bytes.clone();
            damaged[i] = patch;
            let outcome = std::panic::catch_unwind(|| aot_tests::load(&damaged).map(drop).is_err());
            match outcome {
                Ok(true) => refused += 1,
                Ok(false) => {}
                Err(_) => panic!("loading panicked with byte {i:#x} set to {patch:#04x}"),
            }
        }
    }
    // The header, compatibility record, section table and metadata are checked: many
    // corruptions must be caught.
    assert!(
        refused > bytes.len() / 2,
        "only {refused} corruptions refused"
    );
}
