//! Builders for every section of the artifact and for the ELF file itself. Enabled by the `write`
//! feature, which only `aot-build` turns on.
//!
//! The whole artifact, as [`ArtifactBuilder::finish`] writes it:
//!
//! ```text
//! ELF64 header   e_machine = target arch, e_flags = EF_AOT_MODULE | EF_AOT_COMPONENT
//! .text          every function and trampoline, calls already resolved (PC-relative)
//!                  [func 0][func 1]...[array trampolines][wasm-to-host trampolines]
//! .aot.compat    CompatRecord (see header.rs), read first; its checksum field is filled in
//!                last, over the whole file (see checksum.rs)
//! .aot.info      ModuleInfo, postcard
//! .aot.funcs     [text_offset, text_len, array_trampoline, wasm_offset] u32 LE per function
//! .aot.traps     count u32 | text offsets u32 × count | trap codes u8 × count
//! .aot.addrmap   count u32 | text offsets u32 × count | wasm offsets u32 × count
//! .aot.data      data segment bytes, concatenated
//! .symtab        one FUNC symbol per function (`module::name`) and trampoline
//! ```
//!
//! No relocation section is ever written: the loader refuses them.

use super::format::*;
use super::header::CompatRecord;
use super::read::FuncLoc;
use super::trap::Trap;
use alloc::string::String;
use alloc::vec::Vec;
use object::write::{Object, StandardSection, Symbol, SymbolSection};
use object::{
    Architecture, BinaryFormat, Endianness, FileFlags, SectionKind, SymbolFlags, SymbolKind,
    SymbolScope,
};

/// Builds `.aot.traps`. Entries must be added in ascending text-offset order.
#[derive(Default, Debug)]
pub struct TrapTableBuilder {
    offsets: Vec<u32>,
    codes: Vec<u8>,
}

impl TrapTableBuilder {
    /// Records that the instruction at `text_offset` may raise `trap`.
    ///
    /// # Panics
    /// If offsets are not added in strictly ascending order.
    pub fn push(&mut self, text_offset: u32, trap: Trap) {
        assert!(self.offsets.last().is_none_or(|&l| l < text_offset));
        self.offsets.push(text_offset);
        self.codes.push(trap.to_u8());
    }

    /// The section bytes.
    pub fn finish(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(4 + self.offsets.len() * 5);
        out.extend_from_slice(&(self.offsets.len() as u32).to_le_bytes());
        for o in &self.offsets {
            out.extend_from_slice(&o.to_le_bytes());
        }
        out.extend_from_slice(&self.codes);
        out
    }
}

/// Builds `.aot.addrmap`. Entries must be added in ascending text-offset order.
#[derive(Default, Debug)]
pub struct AddressMapBuilder {
    text: Vec<u32>,
    wasm: Vec<u32>,
}

impl AddressMapBuilder {
    /// Records that code from `text_offset` on came from Wasm offset `wasm_offset`
    /// (`u32::MAX`: no Wasm instruction, e.g. a prologue). Consecutive equal Wasm offsets are
    /// merged.
    ///
    /// # Panics
    /// If offsets are not added in ascending order.
    pub fn push(&mut self, text_offset: u32, wasm_offset: u32) {
        assert!(self.text.last().is_none_or(|&l| l <= text_offset));
        if self.wasm.last() == Some(&wasm_offset) {
            return;
        }
        if self.text.last() == Some(&text_offset) {
            *self.wasm.last_mut().unwrap() = wasm_offset;
            return;
        }
        self.text.push(text_offset);
        self.wasm.push(wasm_offset);
    }

    /// The section bytes.
    pub fn finish(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(4 + self.text.len() * 8);
        out.extend_from_slice(&(self.text.len() as u32).to_le_bytes());
        for o in self.text.iter().chain(&self.wasm) {
            out.extend_from_slice(&o.to_le_bytes());
        }
        out
    }
}

/// Builds `.aot.funcs`.
#[derive(Default, Debug)]
pub struct FuncTableBuilder {
    out: Vec<u8>,
}

impl FuncTableBuilder {
    /// Appends the entry of the next defined function.
    pub fn push(&mut self, f: FuncLoc) {
        for w in [f.text_offset, f.text_len, f.array_trampoline, f.wasm_offset] {
            self.out.extend_from_slice(&w.to_le_bytes());
        }
    }

    /// The section bytes.
    pub fn finish(self) -> Vec<u8> {
        self.out
    }
}

/// A symbol for a range of `.text`.
#[derive(Clone, Debug)]
pub struct TextSymbol {
    /// The name, e.g. `app::fib`.
    pub name: String,
    /// Offset in `.text`.
    pub offset: u32,
    /// Length of the code.
    pub len: u32,
}

/// Everything that goes into one artifact.
#[derive(Debug)]
pub struct ArtifactBuilder {
    /// Target architecture (sets `e_machine`).
    pub arch: Architecture,
    /// The compatibility record (its kind sets `e_flags`).
    pub compat: CompatRecord,
    /// `.text`, fully resolved.
    pub text: Vec<u8>,
    /// Symbols into `.text`.
    pub symbols: Vec<TextSymbol>,
    /// `.aot.info`.
    pub info: Vec<u8>,
    /// `.aot.funcs`.
    pub funcs: Vec<u8>,
    /// `.aot.traps`.
    pub traps: Vec<u8>,
    /// `.aot.addrmap`.
    pub addrmap: Vec<u8>,
    /// `.aot.data`.
    pub data: Vec<u8>,
}

impl ArtifactBuilder {
    /// Writes the ELF file.
    ///
    /// # Panics
    /// If the object writer fails, which only happens on internal inconsistencies.
    pub fn finish(self) -> Vec<u8> {
        let mut obj = Object::new(BinaryFormat::Elf, self.arch, Endianness::Little);
        obj.flags = FileFlags::Elf {
            os_abi: object::elf::ELFOSABI_NONE,
            abi_version: 0,
            e_flags: self.compat.kind.e_flag(),
        };
        let text = obj.section_id(StandardSection::Text);
        obj.set_section_data(text, self.text, 16);
        for sym in self.symbols {
            // ELF symbol names end at a NUL byte, and Wasm names may contain one (the writer
            // would panic): spell it out.
            let name = if sym.name.contains('\0') {
                sym.name.replace('\0', "\\0")
            } else {
                sym.name
            };
            obj.add_symbol(Symbol {
                name: name.into_bytes(),
                value: u64::from(sym.offset),
                size: u64::from(sym.len),
                kind: SymbolKind::Text,
                scope: SymbolScope::Compilation,
                weak: false,
                section: SymbolSection::Section(text),
                flags: SymbolFlags::None,
            });
        }
        let sections: [(&str, Vec<u8>, u64); 6] = [
            (SECTION_COMPAT, self.compat.encode(), 8),
            (SECTION_INFO, self.info, 8),
            (SECTION_FUNCS, self.funcs, 8),
            (SECTION_TRAPS, self.traps, 8),
            (SECTION_ADDRMAP, self.addrmap, 8),
            (SECTION_DATA, self.data, 16),
        ];
        for (name, bytes, align) in sections {
            let id = obj.add_section(
                Vec::new(),
                name.as_bytes().to_vec(),
                SectionKind::ReadOnlyData,
            );
            obj.set_section_data(id, bytes, align);
        }
        let mut bytes = obj.write().expect("writing the artifact ELF file");
        super::read::seal_checksum(&mut bytes).expect("the artifact just written has a record");
        bytes
    }
}
