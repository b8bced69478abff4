//! [`CodeMemory`]: the only place memory becomes executable. `.text` is copied out of the
//! artifact into a fresh anonymous mapping, which then goes from read+write to read+execute
//! (never both writable and executable); the artifact bytes themselves are never executed.
//!
//! [`CodeRegistry`]: the text ranges of the modules a store instantiated, which the signal
//! handler searches (without allocating or locking) to decide whether a fault is a wasm trap.
//! One range may hold several modules: the static modules of a component share one `.text`
//! (and one trap table), each owning a sub-range of the function table.

use crate::artifact::trap::TrapTable;
use crate::error::{Error, Result};
use crate::module::Module;
use crate::prelude::*;
use memmap2::{Mmap, MmapMut};

/// An artifact's published machine code (shared by all the modules of a component).
pub(crate) struct CodeMemory {
    /// `None` for an empty `.text`.
    mmap: Option<Mmap>,
}

impl CodeMemory {
    /// Copies `text` into fresh pages and makes them read+execute.
    ///
    /// # Errors
    /// If the pages cannot be mapped or protected.
    pub(crate) fn new(text: &[u8]) -> Result<Self> {
        if text.is_empty() {
            return Ok(Self { mmap: None });
        }
        let mut map = MmapMut::map_anon(text.len())
            .map_err(|e| Error::msg(format!("failed to map {} bytes for code: {e}", text.len())))?;
        map[..text.len()].copy_from_slice(text);
        clear_icache(map.as_ptr() as usize, text.len());
        let map = map
            .make_exec()
            .map_err(|e| Error::msg(format!("failed to make code executable: {e}")))?;
        Ok(Self { mmap: Some(map) })
    }

    /// Address of the first byte of `.text` (0 when it is empty).
    pub(crate) fn text_base(&self) -> usize {
        self.mmap.as_ref().map_or(0, |m| m.as_ptr() as usize)
    }

    /// Length of `.text`.
    pub(crate) fn text_len(&self) -> usize {
        self.mmap.as_ref().map_or(0, |m| m.len())
    }
}

/// Makes freshly written code visible to instruction fetch. x86_64 keeps instruction and data
/// caches coherent; aarch64 needs the data cache cleaned and the instruction cache invalidated
/// by address (Arm ARM B2.4.4), which user space may do on Linux.
#[cfg(target_arch = "aarch64")]
fn clear_icache(start: usize, len: usize) {
    use core::arch::asm;
    let ctr: u64;
    // SAFETY: reading CTR_EL0 is allowed at EL0 on Linux and has no side effects.
    unsafe { asm!("mrs {}, ctr_el0", out(reg) ctr, options(nomem, nostack, preserves_flags)) };
    let dline = 4usize << ((ctr >> 16) & 0xf);
    let iline = 4usize << (ctr & 0xf);
    let end = start + len;
    let mut addr = start & !(dline - 1);
    while addr < end {
        // SAFETY: cleaning a cache line of memory this process mapped has no other effect.
        unsafe { asm!("dc cvau, {}", in(reg) addr, options(nostack, preserves_flags)) };
        addr += dline;
    }
    // SAFETY: a barrier only orders memory accesses.
    unsafe { asm!("dsb ish", options(nostack, preserves_flags)) };
    let mut addr = start & !(iline - 1);
    while addr < end {
        // SAFETY: invalidating instruction cache lines of our own mapping has no other effect.
        unsafe { asm!("ic ivau, {}", in(reg) addr, options(nostack, preserves_flags)) };
        addr += iline;
    }
    // SAFETY: barriers only order memory accesses and the instruction stream.
    unsafe { asm!("dsb ish", "isb", options(nostack, preserves_flags)) };
}

#[cfg(not(target_arch = "aarch64"))]
fn clear_icache(_start: usize, _len: usize) {}

/// One registered text range: its trap table and the modules whose code it holds.
pub(crate) struct CodeRange {
    pub(crate) start: usize,
    pub(crate) end: usize,
    traps_ptr: *const u8,
    traps_len: usize,
    /// Every instantiated module of the artifact (one for a module artifact, up to one per
    /// static module for a component); they share the code and the trap table.
    modules: Vec<Module>,
}

// SAFETY: the raw pointer designates bytes owned by `modules[0]` (immutable, kept alive by it).
unsafe impl Send for CodeRange {}

impl CodeRange {
    /// The trap table of the range's artifact.
    pub(crate) fn traps(&self) -> TrapTable<'_> {
        // SAFETY: `traps_ptr..+traps_len` is the trap section of the artifact bytes of
        // `self.modules[0]` (shared by every module of the range), which the module owns (or
        // borrows for 'static), never mutates and keeps alive at least as long as `self`.
        let bytes = unsafe { core::slice::from_raw_parts(self.traps_ptr, self.traps_len) };
        // The section was validated at load; an empty table is the safe fallback.
        TrapTable::parse(bytes).unwrap_or_else(|| TrapTable::parse(&[0; 4]).expect("empty table"))
    }

    /// The module whose function table holds `text_offset`, with the defined function there.
    /// `None` for trampolines, which belong to no function.
    pub(crate) fn function_at(&self, text_offset: u32) -> Option<(&Module, usize)> {
        self.modules
            .iter()
            .find_map(|m| Some((m, m.funcs().lookup(text_offset)?)))
    }
}

/// The text ranges of a store's modules, sorted by address.
#[derive(Default)]
pub(crate) struct CodeRegistry {
    ranges: Vec<CodeRange>,
}

impl CodeRegistry {
    /// Adds `module` unless it is already registered (or has no code). A module sharing the
    /// text of a registered one (another module of the same component) joins its range.
    pub(crate) fn register(&mut self, module: &Module) {
        let start = module.code().text_base();
        let len = module.code().text_len();
        if len == 0 {
            return;
        }
        let pos = match self.ranges.binary_search_by_key(&start, |r| r.start) {
            Ok(i) => {
                let modules = &mut self.ranges[i].modules;
                if !modules.iter().any(|m| m.ptr_eq(module)) {
                    modules.push(module.clone());
                }
                return;
            }
            Err(pos) => pos,
        };
        let traps = module.traps_bytes();
        self.ranges.insert(
            pos,
            CodeRange {
                start,
                end: start + len,
                traps_ptr: traps.as_ptr(),
                traps_len: traps.len(),
                modules: vec![module.clone()],
            },
        );
    }

    /// The text range that contains `pc`. Called from the signal handler: allocates nothing.
    pub(crate) fn lookup(&self, pc: usize) -> Option<&CodeRange> {
        let i = self
            .ranges
            .partition_point(|r| r.start <= pc)
            .checked_sub(1)?;
        let r = &self.ranges[i];
        (pc < r.end).then_some(r)
    }

    /// A wasm-to-host trampoline for type `type_id` from any registered module.
    pub(crate) fn wasm_to_host_trampoline(&self, type_id: u32) -> Option<usize> {
        self.ranges.iter().find_map(|r| {
            r.modules.iter().find_map(|module| {
                module
                    .type_ids()
                    .iter()
                    .zip(&module.info().wasm_to_host_trampolines)
                    .find(|(id, off)| **id == type_id && **off != u32::MAX)
                    .map(|(_, off)| r.start + *off as usize)
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_is_copied_out_of_the_artifact() {
        let text = [0xc3u8, 0x90, 0x90, 0x90];
        let code = CodeMemory::new(&text).unwrap();
        assert_ne!(code.text_base(), 0);
        assert_eq!(code.text_len(), 4);
        assert_ne!(code.text_base(), text.as_ptr() as usize);
        let copied = code.mmap.as_ref().unwrap();
        assert_eq!(&copied[..4], &text);
    }

    #[test]
    fn empty_text_maps_nothing() {
        let code = CodeMemory::new(&[]).unwrap();
        assert_eq!(code.text_base(), 0);
        assert_eq!(code.text_len(), 0);
    }
}
