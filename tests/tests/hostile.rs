//! Hostile artifacts: bytes that did not come from `aot-build` unchanged must give an `Err` from
//! `Module::deserialize`, never a panic or a crash.
//!
//! Every case starts from a real artifact (several fixtures, checked to load) and damages it:
//! random mutations (bit flips, overwritten, inserted, deleted and duplicated ranges),
//! truncations at every length class, wrong section offsets and sizes and other ELF header
//! fields, and metadata (`.aot.info`, decoded as the real `ModuleInfo`) with out-of-range indices
//! and lengths, re-encoded into a rebuilt artifact. Damage as such is caught by the checksum, so
//! each family is also run *resealed* (the checksum recomputed after the damage), which is what
//! exercises the parsing and validation behind it: resealed cases must still never panic, and the
//! ones that make the artifact inconsistent must be refused.
//!
//! Each test prints one line `hostile <family>: N cases, R refused, L loaded, 0 panics`.
//! Everything is seeded: a failure names the case to replay.

#![forbid(unsafe_code)]

// The differential harness, shared with the fuzz target (fuzz/fuzz_targets/differential.rs).
#[path = "../shared/differential.rs"]
mod differential;

use aot_runtime::artifact::format::{
    SECTION_ADDRMAP, SECTION_COMPAT, SECTION_DATA, SECTION_FUNCS, SECTION_INFO, SECTION_TEXT,
    SECTION_TRAPS,
};
use aot_runtime::artifact::header::CompatRecord;
use aot_runtime::artifact::module::{
    ConstExpr, ConstOp, DataSegment, ElemItems, ElemKind, Export, ModuleInfo,
};
use aot_runtime::artifact::read::{check_module_info, seal_checksum, verify_checksum};
use aot_runtime::artifact::write::ArtifactBuilder;
use aot_runtime::artifact::{
    EntityIndex, FuncIndex, GlobalIndex, MemoryIndex, TableIndex, TypeIndex, ValType,
};
use aot_runtime::{ErrorKind, LoadError, Module};
use object::{Object, ObjectSection};
use std::io::Write;
use std::panic::{AssertUnwindSafe, catch_unwind};

/// A module using every kind of item the metadata describes (no imports, so that a damaged
/// artifact that still loads can be instantiated without a linker).
const RICH: &str = r#"(module $rich
  (type $t (func (param i32) (result i32)))
  (memory (export "mem") 1 2)
  (memory $m2 1)
  (table $tab (export "tab") 4 8 funcref)
  (table $ext 2 externref)
  (global $g (export "g") (mut i32) (i32.const 7))
  (global $h i64 (i64.add (i64.const 1) (i64.const 2)))
  (global $fr funcref (ref.func $a))
  (elem (i32.const 0) $a $b)
  (elem (offset (i32.add (i32.const 1) (i32.const 1))) $b)
  (elem $passive funcref (ref.func $a) (ref.null func))
  (elem declare func $c)
  (data (i32.const 8) "hello")
  (data $m2 (i32.const 0) "two")
  (data $pdata "passive")
  (func $a (export "a") (type $t) (i32.div_s (local.get 0) (global.get $g)))
  (func $b (param i32) (result i32) (call_indirect (type $t) (local.get 0) (i32.const 0)))
  (func $c (export "c") (result v128) (v128.const i64x2 1 2))
  (func $start (global.set $g (i32.add (global.get $g) (i32.const 1))))
  (start $start))"#;

/// A module with imports of every kind.
const IMPORTS: &str = r#"(module
  (import "env" "f" (func $f (param i32)))
  (import "env" "g" (global $g i32))
  (import "env" "m" (memory 1))
  (import "env" "t" (table 1 funcref))
  (func (export "run") (call $f (global.get $g))))"#;

/// A small module, and one with SIMD, tail calls and bulk memory.
const SMALL: &str = r#"(module (func (export "answer") (result i32) i32.const 42))"#;
const MIXED: &str = r#"(module
  (memory 1)
  (func $loop (param i32) (result i32)
    (if (result i32) (i32.eqz (local.get 0)) (then (i32.const 0))
      (else (return_call $loop (i32.sub (local.get 0) (i32.const 1))))))
  (func (export "simd") (param v128) (result v128) (i32x4.add (local.get 0) (local.get 0)))
  (func (export "fill") (memory.fill (i32.const 0) (i32.const 1) (i32.const 100))))"#;

fn fixtures() -> Vec<(&'static str, Vec<u8>)> {
    [
        ("rich", RICH),
        ("imports", IMPORTS),
        ("small", SMALL),
        ("mixed", MIXED),
    ]
    .into_iter()
    .map(|(name, wat)| {
        let bytes = aot_tests::compile(wat).unwrap();
        aot_tests::load(&bytes).unwrap_or_else(|e| panic!("fixture {name} loads: {e}"));
        (name, bytes)
    })
    .collect()
}

/// How loading a damaged artifact ended.
#[derive(Debug)]
enum Loaded {
    Refused(LoadError),
    Loaded(Module),
}

/// Loads `bytes`, turning a panic into a test failure that names `case`.
fn load(bytes: &[u8], case: &str) -> Loaded {
    match catch_unwind(|| aot_tests::load(bytes)) {
        Ok(Ok(module)) => Loaded::Loaded(module),
        Ok(Err(e)) => match e.kind() {
            ErrorKind::Load(err) => Loaded::Refused(err.clone()),
            _ => panic!("{case}: a load failure that is not a LoadError: {e}"),
        },
        Err(panic) => panic!(
            "{case}: loading panicked: {}",
            differential::panic_message(&*panic)
        ),
    }
}

/// Instantiates a module that loaded after damage to its metadata: errors are fine, panics are
/// not (returned as `Err` with the panic message). Modules with imports get none (so
/// instantiation must refuse them).
fn instantiate(module: &Module) -> Result<(), String> {
    catch_unwind(AssertUnwindSafe(|| {
        let mut store = aot_runtime::Store::new(());
        aot_runtime::Instance::new(&mut store, module, &[]).map(drop)
    }))
    .map(drop)
    .map_err(|panic| differential::panic_message(&*panic))
}

/// Counts of one family, printed at the end of its test.
#[derive(Default)]
struct Tally {
    cases: usize,
    refused: usize,
    loaded: usize,
}

impl Tally {
    fn record(&mut self, loaded: &Loaded) {
        self.cases += 1;
        match loaded {
            Loaded::Refused(_) => self.refused += 1,
            Loaded::Loaded(_) => self.loaded += 1,
        }
    }

    fn print(&self, family: &str) {
        writeln!(
            std::io::stdout().lock(),
            "hostile {family}: {} cases, {} refused, {} loaded, 0 panics",
            self.cases,
            self.refused,
            self.loaded
        )
        .unwrap();
    }
}

/// SplitMix64, seeded per test.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// One random mutation of `bytes`; returns what it did.
fn mutate(bytes: &mut Vec<u8>, rng: &mut Rng) -> String {
    let len = bytes.len();
    match rng.below(7) {
        0 => {
            let at = rng.below(len);
            let bit = rng.below(8);
            bytes[at] ^= 1 << bit;
            format!("flip bit {bit} of byte {at:#x}")
        }
        1 => {
            let at = rng.below(len);
            let v = rng.next() as u8;
            bytes[at] = v;
            format!("set byte {at:#x} to {v:#04x}")
        }
        2 => {
            let at = rng.below(len);
            let n = (1 + rng.below(64)).min(len - at);
            let fill = [0x00, 0xff, rng.next() as u8][rng.below(3)];
            bytes[at..at + n].fill(fill);
            format!("fill {n} bytes at {at:#x} with {fill:#04x}")
        }
        3 => {
            let at = rng.below(len);
            let n = 1 + rng.below(32);
            let junk: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
            bytes.splice(at..at, junk);
            format!("insert {n} random bytes at {at:#x}")
        }
        4 => {
            let at = rng.below(len);
            let n = (1 + rng.below(64)).min(len - at);
            bytes.drain(at..at + n);
            format!("delete {n} bytes at {at:#x}")
        }
        5 => {
            let from = rng.below(len);
            let n = (1 + rng.below(64)).min(len - from);
            let to = rng.below(len - n + 1);
            bytes.copy_within(from..from + n, to);
            format!("copy {n} bytes from {from:#x} to {to:#x}")
        }
        _ => {
            // A little-endian word set to an edge value: lengths, counts and offsets.
            let at = rng.below(len.saturating_sub(8));
            let v: u64 =
                [0, 1, u64::from(u32::MAX), u64::MAX, len as u64, 0x8000_0000][rng.below(6)];
            let n = [4, 8][rng.below(2)];
            bytes[at..at + n].copy_from_slice(&v.to_le_bytes()[..n]);
            format!("set {n}-byte word at {at:#x} to {v:#x}")
        }
    }
}

#[test]
fn random_mutations_are_refused() {
    let mut tally = Tally::default();
    let mut resealed = Tally::default();
    let mut rng = Rng(0x686f_7374_696c_6531);
    for (name, original) in fixtures() {
        for i in 0..600 {
            let mut bytes = original.clone();
            let mut what = Vec::new();
            for _ in 0..1 + rng.below(3) {
                what.push(mutate(&mut bytes, &mut rng));
            }
            if bytes == original {
                continue;
            }
            let case = format!("{name} mutation {i} ({})", what.join(", "));
            // As damaged: the checksum (or the container before it) refuses it.
            let loaded = load(&bytes, &case);
            tally.record(&loaded);
            if let Loaded::Loaded(_) = loaded {
                panic!("{case}: a damaged artifact loaded");
            }
            // Resealed: the parser and validator behind the checksum see the damage. Code bytes
            // are not interpreted at load, so some of these load; none may panic.
            if seal_checksum(&mut bytes).is_ok() {
                resealed.record(&load(&bytes, &format!("{case}, resealed")));
            }
        }
    }
    tally.print("random mutations");
    resealed.print("random mutations resealed");
    assert!(tally.cases >= 2000);
}

#[test]
fn truncations_at_every_length_class_are_refused() {
    let mut tally = Tally::default();
    for (name, bytes) in fixtures() {
        let file = object::File::parse(&*bytes).unwrap();
        // Every length up to 256 (ELF header, first section headers), every section boundary
        // and its neighbours, and 400 lengths spread over the rest.
        let mut lengths: Vec<usize> = (0..256).collect();
        for section in file.sections() {
            if let Some((start, size)) = section.file_range() {
                for at in [start, start + size] {
                    let at = at as usize;
                    lengths.extend([at.saturating_sub(1), at, at + 1]);
                }
            }
        }
        let step = (bytes.len() / 400).max(1);
        lengths.extend((0..bytes.len()).step_by(step));
        lengths.extend([bytes.len() - 8, bytes.len() - 1]);
        lengths.retain(|&l| l < bytes.len());
        lengths.sort_unstable();
        lengths.dedup();
        for len in lengths {
            let case = format!("{name} truncated to {len} of {} bytes", bytes.len());
            let mut cut = bytes[..len].to_vec();
            let loaded = load(&cut, &case);
            tally.record(&loaded);
            if let Loaded::Loaded(_) = loaded {
                panic!("{case}: loaded");
            }
            // Resealed, where the record is still there: the section table is cut short.
            if seal_checksum(&mut cut).is_ok() {
                let loaded = load(&cut, &format!("{case}, resealed"));
                tally.record(&loaded);
                if let Loaded::Loaded(_) = loaded {
                    panic!("{case}, resealed: loaded");
                }
            }
        }
    }
    tally.print("truncations");
}

/// Offsets of the fields of an ELF64 section header.
const SH_NAME: usize = 0;
const SH_TYPE: usize = 4;
const SH_OFFSET: usize = 0x18;
const SH_SIZE: usize = 0x20;
const SH_LINK: usize = 0x28;
const SH_ADDRALIGN: usize = 0x30;
const SH_ENTSIZE: usize = 0x38;

/// The section header table: (file offset of each header, name).
fn section_headers(bytes: &[u8]) -> Vec<(usize, String)> {
    let shoff = u64::from_le_bytes(bytes[0x28..0x30].try_into().unwrap()) as usize;
    let file = object::File::parse(bytes).unwrap();
    file.sections()
        .map(|s| {
            (
                shoff + s.index().0 * 64,
                s.name().unwrap_or("?").to_string(),
            )
        })
        .collect()
}

fn put(bytes: &mut [u8], at: usize, width: usize, value: u64) {
    bytes[at..at + width].copy_from_slice(&value.to_le_bytes()[..width]);
}

fn get(bytes: &[u8], at: usize, width: usize) -> u64 {
    let mut b = [0u8; 8];
    b[..width].copy_from_slice(&bytes[at..at + width]);
    u64::from_le_bytes(b)
}

#[test]
fn wrong_elf_section_offsets_and_sizes_are_refused() {
    let mut tally = Tally::default();
    let mut resealed = Tally::default();
    for (name, bytes) in fixtures() {
        let len = bytes.len() as u64;
        let headers = section_headers(&bytes);
        let offsets: Vec<u64> = headers
            .iter()
            .map(|(at, _)| get(&bytes, at + SH_OFFSET, 8))
            .collect();
        // (what, file offset of the field, width, values to try, must the resealed artifact
        // be refused?)
        let mut edits: Vec<(String, usize, usize, Vec<u64>, bool)> = Vec::new();
        // ELF header: section table offset, entry size, count, name table index.
        let shoff = get(&bytes, 0x28, 8);
        edits.push((
            "e_shoff".into(),
            0x28,
            8,
            vec![
                0,
                1,
                shoff + 1,
                shoff - 64,
                len,
                len - 63,
                u64::MAX,
                1 << 40,
            ],
            true,
        ));
        edits.push((
            "e_shentsize".into(),
            0x3a,
            2,
            vec![0, 1, 63, 65, 128, 0xffff],
            true,
        ));
        let shnum = get(&bytes, 0x3c, 2);
        edits.push((
            "e_shnum".into(),
            0x3c,
            2,
            vec![0, 1, shnum + 1, shnum + 100, 0xffff],
            true,
        ));
        edits.push((
            "e_shstrndx".into(),
            0x3e,
            2,
            vec![0, 1, shnum, shnum + 1, 0xffff],
            true,
        ));
        edits.push(("e_machine".into(), 0x12, 2, vec![0, 3, 0xb7, 0xffff], true));
        edits.push((
            "e_flags".into(),
            0x30,
            4,
            vec![0, 3, 4, u64::from(u32::MAX)],
            true,
        ));
        for (i, (at, section)) in headers.iter().enumerate() {
            if i == 0 {
                continue;
            }
            let off = get(&bytes, at + SH_OFFSET, 8);
            let size = get(&bytes, at + SH_SIZE, 8);
            // Our sections' contents are interpreted: beyond the file, they must be refused.
            let ours = section.starts_with(".aot.") || section == SECTION_TEXT;
            // (An empty section reads as empty wherever it points.)
            let mut bad_offsets = vec![len, len + 1, u64::MAX, u64::MAX - 7, len - size + 1];
            bad_offsets.retain(|&o| o.checked_add(size).is_none_or(|end| end > len));
            edits.push((
                format!("{section} sh_offset"),
                at + SH_OFFSET,
                8,
                bad_offsets,
                ours && size > 0,
            ));
            edits.push((
                format!("{section} sh_size"),
                at + SH_SIZE,
                8,
                vec![len - off + 1, len, u64::MAX, 1 << 40],
                ours,
            ));
            // In-bounds but wrong: another section's bytes, shorter, longer, off by one. The
            // loader may accept some (e.g. `.text` one byte longer); none may panic.
            let mut plausible = vec![0, off + 1, off.saturating_sub(1)];
            plausible.extend(offsets.iter().copied());
            edits.push((
                format!("{section} sh_offset (in bounds)"),
                at + SH_OFFSET,
                8,
                plausible,
                false,
            ));
            edits.push((
                format!("{section} sh_size (in bounds)"),
                at + SH_SIZE,
                8,
                vec![
                    0,
                    1,
                    size.saturating_sub(1),
                    size + 1,
                    size / 2,
                    (len - off).min(size * 2),
                ],
                false,
            ));
            edits.push((
                format!("{section} sh_name"),
                at + SH_NAME,
                4,
                vec![0, 1, u64::from(u32::MAX), 1 << 20],
                false,
            ));
            edits.push((
                format!("{section} sh_type"),
                at + SH_TYPE,
                4,
                vec![
                    0,
                    4, /* RELA */
                    8, /* NOBITS */
                    9, /* REL */
                    u64::from(u32::MAX),
                ],
                false,
            ));
            edits.push((
                format!("{section} sh_link"),
                at + SH_LINK,
                4,
                vec![0xffff, u64::from(u32::MAX)],
                false,
            ));
            edits.push((
                format!("{section} sh_addralign"),
                at + SH_ADDRALIGN,
                8,
                vec![0, 3, 1 << 63],
                false,
            ));
            edits.push((
                format!("{section} sh_entsize"),
                at + SH_ENTSIZE,
                8,
                vec![0, 1, 7, u64::MAX],
                false,
            ));
        }
        for (what, at, width, values, must_refuse) in edits {
            for value in values {
                if get(&bytes, at, width) == value & (u64::MAX >> (64 - 8 * width)) {
                    continue;
                }
                let case = format!("{name}: {what} = {value:#x}");
                let mut damaged = bytes.clone();
                put(&mut damaged, at, width, value);
                let loaded = load(&damaged, &case);
                tally.record(&loaded);
                if let Loaded::Loaded(_) = loaded {
                    panic!("{case}: loaded");
                }
                if seal_checksum(&mut damaged).is_ok() {
                    let case = format!("{case}, resealed");
                    let loaded = load(&damaged, &case);
                    resealed.record(&loaded);
                    if must_refuse && let Loaded::Loaded(_) = loaded {
                        panic!("{case}: loaded");
                    }
                }
            }
        }
    }
    tally.print("ELF header fields");
    resealed.print("ELF header fields resealed");
}

/// The sections of an artifact, for rebuilding it with other metadata.
struct Parts {
    compat: CompatRecord,
    arch: object::Architecture,
    text: Vec<u8>,
    info: ModuleInfo,
    funcs: Vec<u8>,
    traps: Vec<u8>,
    addrmap: Vec<u8>,
    data: Vec<u8>,
}

impl Parts {
    fn of(bytes: &[u8]) -> Parts {
        let file = object::File::parse(bytes).unwrap();
        let section = |name: &str| file.section_by_name(name).unwrap().data().unwrap().to_vec();
        Parts {
            compat: CompatRecord::decode(&section(SECTION_COMPAT)).unwrap(),
            arch: file.architecture(),
            text: section(SECTION_TEXT),
            info: postcard::from_bytes(&section(SECTION_INFO)).unwrap(),
            funcs: section(SECTION_FUNCS),
            traps: section(SECTION_TRAPS),
            addrmap: section(SECTION_ADDRMAP),
            data: section(SECTION_DATA),
        }
    }

    /// A complete, sealed artifact with `info` encoded in place of the original metadata.
    fn build(&self, info: &[u8]) -> Vec<u8> {
        ArtifactBuilder {
            arch: self.arch,
            compat: self.compat.clone(),
            text: self.text.clone(),
            symbols: Vec::new(),
            info: info.to_vec(),
            funcs: self.funcs.clone(),
            traps: self.traps.clone(),
            addrmap: self.addrmap.clone(),
            data: self.data.clone(),
        }
        .finish()
    }
}

/// One corruption of the metadata: a name and the change.
type Corruption = (&'static str, fn(&mut ModuleInfo));

const BIG: u32 = u32::MAX;

/// Out-of-range indices and lengths, one field at a time. Each makes the metadata inconsistent
/// with itself or with the other sections, so each must be refused at load.
fn corruptions() -> Vec<Corruption> {
    vec![
        ("function type index", |i| i.funcs[0] = TypeIndex(BIG)),
        ("function type index = types.len()", |i| {
            let n = i.types.len() as u32;
            i.funcs[0] = TypeIndex(n)
        }),
        ("one function too many", |i| {
            let t = i.funcs[0];
            i.funcs.push(t)
        }),
        ("one function too few", |i| {
            i.funcs.pop();
        }),
        ("imported functions > functions", |i| {
            i.num_imported.funcs = i.funcs.len() as u32 + 1
        }),
        ("imported tables > tables", |i| i.num_imported.tables = BIG),
        ("imported memories > memories", |i| {
            i.num_imported.memories = BIG
        }),
        ("imported globals > globals", |i| {
            i.num_imported.globals = BIG
        }),
        ("export of a missing function", |i| {
            i.exports.push(Export {
                name: "x".into(),
                index: EntityIndex::Func(FuncIndex(BIG)),
            })
        }),
        ("export of a missing table", |i| {
            let n = i.tables.len() as u32;
            i.exports.push(Export {
                name: "x".into(),
                index: EntityIndex::Table(TableIndex(n)),
            })
        }),
        ("export of a missing memory", |i| {
            let n = i.memories.len() as u32;
            i.exports.push(Export {
                name: "x".into(),
                index: EntityIndex::Memory(MemoryIndex(n)),
            })
        }),
        ("export of a missing global", |i| {
            let n = i.globals.len() as u32;
            i.exports.push(Export {
                name: "x".into(),
                index: EntityIndex::Global(GlobalIndex(n)),
            })
        }),
        ("start function out of range", |i| {
            i.start = Some(FuncIndex(BIG))
        }),
        ("start function = functions.len()", |i| {
            i.start = Some(FuncIndex(i.funcs.len() as u32))
        }),
        ("global initializer reads a missing global", |i| {
            i.global_inits[0] = ConstExpr(Box::new([ConstOp::GlobalGet(GlobalIndex(BIG))]))
        }),
        ("global initializer refers to a missing function", |i| {
            let last = i.global_inits.len() - 1;
            i.global_inits[last] = ConstExpr(Box::new([ConstOp::RefFunc(FuncIndex(BIG))]))
        }),
        ("global initializer missing", |i| {
            i.global_inits.pop();
        }),
        ("global initializer too many", |i| {
            i.global_inits
                .push(ConstExpr(Box::new([ConstOp::I32Const(0)])))
        }),
        ("global initializer of the wrong type", |i| {
            i.global_inits[0] = ConstExpr(Box::new([ConstOp::V128Const(1)]))
        }),
        ("global initializer that underflows the stack", |i| {
            i.global_inits[0] = ConstExpr(Box::new([ConstOp::I32Add]))
        }),
        ("global initializer that is empty", |i| {
            i.global_inits[0] = ConstExpr(Box::new([]))
        }),
        ("table initializers: one too many", |i| {
            i.table_inits.push(None)
        }),
        ("table initializers: one too few", |i| {
            i.table_inits.pop();
        }),
        ("element segment into a missing table", |i| {
            for e in &mut i.elems {
                if let ElemKind::Active { table, .. } = &mut e.kind {
                    *table = TableIndex(BIG);
                }
            }
        }),
        ("table image: one too few", |i| {
            i.table_images.pop();
        }),
        ("table image of a missing function", |i| {
            i.table_images[0].0 = vec![Some(FuncIndex(BIG))].into();
        }),
        ("table image longer than its table", |i| {
            i.table_images[0].0 = vec![None; 5].into();
        }),
        ("table image of an externref table", |i| {
            i.table_images[1].0 = vec![Some(FuncIndex(0))].into();
        }),
        ("element segment of a missing function", |i| {
            for e in &mut i.elems {
                if let ElemItems::Funcs(f) = &mut e.items {
                    f.push(FuncIndex(BIG));
                }
            }
        }),
        ("element expression of a missing function", |i| {
            for e in &mut i.elems {
                if let ElemItems::Exprs(x) = &mut e.items {
                    x.push(ConstExpr(Box::new([ConstOp::RefFunc(FuncIndex(BIG))])));
                }
            }
        }),
        ("element segment offset reads a missing global", |i| {
            for e in &mut i.elems {
                if let ElemKind::Active { offset, .. } = &mut e.kind {
                    *offset = ConstExpr(Box::new([ConstOp::GlobalGet(GlobalIndex(BIG))]));
                }
            }
        }),
        ("element segment of externrefs into a funcref table", |i| {
            for e in &mut i.elems {
                if let ElemKind::Active { .. } = e.kind {
                    e.ty = ValType::ExternRef;
                    e.items = ElemItems::Exprs(vec![ConstExpr(Box::new([ConstOp::RefNull(
                        ValType::ExternRef,
                    )]))]);
                }
            }
        }),
        ("data segment into a missing memory", |i| {
            for d in &mut i.data {
                if let Some((memory, _)) = &mut d.active {
                    *memory = MemoryIndex(BIG);
                }
            }
        }),
        ("data segment beyond `.aot.data`", |i| {
            i.data[0].data_len = BIG
        }),
        ("data segment offset beyond `.aot.data`", |i| {
            i.data[0].data_offset = BIG - 1;
            i.data[0].data_len = 2
        }),
        ("data segment offset reads a missing global", |i| {
            for d in &mut i.data {
                if let Some((_, offset)) = &mut d.active {
                    *offset = ConstExpr(Box::new([ConstOp::GlobalGet(GlobalIndex(BIG))]));
                }
            }
        }),
        ("extra data segment beyond `.aot.data`", |i| {
            i.data.push(DataSegment {
                active: None,
                data_offset: BIG,
                data_len: BIG,
            })
        }),
        ("memory of more than 4 GiB", |i| {
            i.memories[0].limits.min = 65537
        }),
        ("memory maximum of more than 4 GiB", |i| {
            i.memories[0].limits.max = Some(u64::MAX)
        }),
        ("memory minimum above its maximum", |i| {
            i.memories[0].limits.min = 3;
            i.memories[0].limits.max = Some(2)
        }),
        ("table of a non-reference type", |i| {
            i.tables[0].element = ValType::I32
        }),
        ("table larger than 2^32 elements", |i| {
            i.tables[0].limits.min = u64::from(u32::MAX) + 1
        }),
        ("table minimum above its maximum", |i| {
            i.tables[0].limits.min = 9;
            i.tables[0].limits.max = Some(8)
        }),
        ("global of a type its initializer does not have", |i| {
            i.globals[0].content = ValType::F64
        }),
        ("wasm-to-host trampoline outside `.text`", |i| {
            i.wasm_to_host_trampolines[0] = BIG - 1
        }),
        ("wasm-to-host trampolines: one too few", |i| {
            i.wasm_to_host_trampolines.pop();
        }),
        ("function names out of order or out of range", |i| {
            i.func_names.push((FuncIndex(BIG), "x".into()));
            i.func_names.push((FuncIndex(0), "y".into()));
        }),
    ]
}

#[test]
fn metadata_with_out_of_range_indices_is_refused() {
    let bytes = aot_tests::compile(RICH).unwrap();
    let parts = Parts::of(&bytes);
    // The control: rebuilding from the decoded parts loads and runs.
    let rebuilt = parts.build(&postcard::to_allocvec(&parts.info).unwrap());
    verify_checksum(&rebuilt).unwrap();
    let Loaded::Loaded(module) = load(&rebuilt, "rebuilt") else {
        panic!("the rebuilt artifact does not load");
    };
    instantiate(&module).unwrap();

    check_module_info(&parts.info).unwrap();

    let mut tally = Tally::default();
    let mut pending = 0;
    let mut panics = Vec::new();
    let mut gaps = Vec::new();
    let verbose = std::env::var_os("AOT_HOSTILE_VERBOSE").is_some();
    for (what, corrupt) in corruptions() {
        let mut info = parts.info.clone();
        corrupt(&mut info);
        assert_ne!(info, parts.info, "{what}: the corruption changes nothing");
        let artifact = parts.build(&postcard::to_allocvec(&info).unwrap());
        let loaded = load(&artifact, what);
        tally.record(&loaded);
        if let Loaded::Loaded(module) = &loaded {
            // Not refused at load. `read::check_module_info` must refuse it: until the loader
            // calls it, that is reported here, with what instantiating the accepted module does.
            let instantiated = instantiate(module);
            if instantiated.is_err() {
                panics.push(what);
            }
            match check_module_info(&info) {
                Err(e) => {
                    pending += 1;
                    if verbose {
                        println!("{what}: loads ({instantiated:?} at instantiation); {e}");
                    }
                }
                Ok(()) => gaps.push(format!("{what}: {instantiated:?}")),
            }
        }
    }
    tally.print("metadata corruptions");
    writeln!(
        std::io::stdout().lock(),
        "hostile metadata: {pending} corruptions load today and are refused by \
         read::check_module_info, which the loader does not call yet; {} of them make \
         instantiation panic: {panics:?} (AOT_HOSTILE_VERBOSE=1 for details)",
        panics.len()
    )
    .unwrap();
    assert!(
        gaps.is_empty(),
        "metadata corruptions nothing refuses: {gaps:#?}"
    );
}

#[test]
fn random_metadata_bytes_never_panic() {
    // The postcard bytes themselves damaged (lengths, varints, enum tags), then sealed.
    let mut tally = Tally::default();
    let mut rng = Rng(0x6d65_7461_6461_7461);
    for (name, bytes) in fixtures() {
        let parts = Parts::of(&bytes);
        let info = postcard::to_allocvec(&parts.info).unwrap();
        for i in 0..250 {
            let mut damaged = info.clone();
            let what = mutate(&mut damaged, &mut rng);
            let case = format!("{name} metadata mutation {i} ({what})");
            let loaded = load(&parts.build(&damaged), &case);
            tally.record(&loaded);
            if let Loaded::Loaded(module) = &loaded
                && let Err(panic) = instantiate(module)
            {
                panic!("{case}: instantiating panicked: {panic}");
            }
        }
    }
    tally.print("metadata bytes");
}

#[test]
fn damaged_code_is_refused_by_the_checksum() {
    // A damaged code byte is not something parsing can see: only the checksum catches it.
    let bytes = aot_tests::compile(SMALL).unwrap();
    let file = object::File::parse(&*bytes).unwrap();
    let (text_at, text_len) = file
        .section_by_name(SECTION_TEXT)
        .unwrap()
        .file_range()
        .unwrap();
    for i in 0..text_len as usize {
        let mut damaged = bytes.clone();
        damaged[text_at as usize + i] ^= 0x10;
        match load(&damaged, "code") {
            Loaded::Refused(LoadError::ChecksumMismatch { stored, computed }) => {
                assert_ne!(stored, computed)
            }
            other => panic!("code byte {i}: {other:?}"),
        }
    }
    let mut damaged = bytes.clone();
    damaged[text_at as usize] ^= 1;
    let Loaded::Refused(err) = load(&damaged, "message") else {
        unreachable!()
    };
    let msg = err.to_string();
    assert!(msg.starts_with("artifact checksum mismatch"), "{msg}");
}

#[test]
fn checksum_speed() {
    // Reported, not asserted (the machine may be busy): MB/s of the artifact checksum in the
    // build profile the tests use.
    let data: Vec<u8> = (0..32u32 << 20).map(|i| (i * 31 % 251) as u8).collect();
    let start = std::time::Instant::now();
    let mut rounds = 0;
    while start.elapsed().as_millis() < 300 || rounds < 2 {
        std::hint::black_box(aot_runtime::artifact::checksum::checksum(
            std::hint::black_box(&data),
        ));
        rounds += 1;
    }
    let mb_s = (data.len() * rounds) as f64 / start.elapsed().as_secs_f64() / 1e6;
    writeln!(
        std::io::stdout().lock(),
        "hostile checksum speed: {mb_s:.0} MB/s"
    )
    .unwrap();
}
