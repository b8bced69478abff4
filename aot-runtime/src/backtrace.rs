//! [`WasmBacktrace`] and [`FrameInfo`]: the wasm frames active when a trap happened.
//!
//! The signal handler records raw program counters only (it may not allocate); this module turns
//! them into frames afterwards, through the module's function table and address map. In a
//! component's shared `.text`, the frame's module is the one whose function table holds the PC,
//! so frames read `greeter/module0::greet`.

use crate::module::Module;
use crate::prelude::*;
use core::fmt;

/// The wasm frames of a trap, innermost first.
#[derive(Clone, Debug, Default)]
pub struct WasmBacktrace {
    frames: Vec<FrameInfo>,
}

impl WasmBacktrace {
    pub(crate) fn new(frames: Vec<FrameInfo>) -> Self {
        Self { frames }
    }

    /// The frames, innermost (the trapping function) first.
    pub fn frames(&self) -> &[FrameInfo] {
        &self.frames
    }
}

impl fmt::Display for WasmBacktrace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, frame) in self.frames.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{i:>5}: ")?;
            if let Some(offset) = frame.module_offset {
                write!(f, "{offset:#x} - ")?;
            }
            write!(f, "{}::", frame.module.name())?;
            match frame.func_name() {
                Some(name) => f.write_str(name)?,
                None => write!(f, "<wasm function {}>", frame.func_index)?,
            }
        }
        Ok(())
    }
}

/// One wasm frame of a backtrace.
#[derive(Clone)]
pub struct FrameInfo {
    module: Module,
    func_index: u32,
    module_offset: Option<usize>,
    func_offset: Option<usize>,
}

impl FrameInfo {
    pub(crate) fn new(
        module: Module,
        func_index: u32,
        module_offset: Option<usize>,
        func_offset: Option<usize>,
    ) -> Self {
        Self {
            module,
            func_index,
            module_offset,
            func_offset,
        }
    }

    /// The name of the module the function belongs to.
    pub fn module_name(&self) -> &str {
        self.module.name()
    }

    /// The function's index in its module's function index space.
    pub fn func_index(&self) -> u32 {
        self.func_index
    }

    /// The function's name from the name section, if it has one.
    pub fn func_name(&self) -> Option<&str> {
        self.module
            .info()
            .func_name(crate::artifact::FuncIndex(self.func_index))
    }

    /// Byte offset of the executing instruction in the original Wasm binary.
    pub fn module_offset(&self) -> Option<usize> {
        self.module_offset
    }

    /// Byte offset of the executing instruction from the start of the function body.
    pub fn func_offset(&self) -> Option<usize> {
        self.func_offset
    }
}

impl fmt::Debug for FrameInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FrameInfo")
            .field("module", &self.module_name())
            .field("func_index", &self.func_index)
            .field("func_name", &self.func_name())
            .field("module_offset", &self.module_offset)
            .field("func_offset", &self.func_offset)
            .finish()
    }
}

/// Turns the program counters recorded by the signal handler into frames: `pcs[0]` is the
/// faulting instruction, the others are return addresses (looked up one byte earlier, inside the
/// call instruction). Trampolines have no wasm function and are skipped.
pub(crate) fn from_frames(code: &crate::vm::CodeRegistry, pcs: &[usize]) -> WasmBacktrace {
    let mut frames = Vec::with_capacity(pcs.len());
    for (i, &pc) in pcs.iter().enumerate() {
        let pc = if i == 0 { pc } else { pc.wrapping_sub(1) };
        let Some(range) = code.lookup(pc) else {
            continue;
        };
        let Ok(text_offset) = u32::try_from(pc - range.start) else {
            continue;
        };
        let Some((module, defined)) = range.function_at(text_offset) else {
            continue;
        };
        let funcs = module.funcs();
        let info = module.info();
        let func_index = info.func_index(crate::artifact::DefinedFuncIndex::new(defined));
        let module_offset = module.addrmap().lookup(text_offset);
        let func_offset = module_offset.and_then(|o| o.checked_sub(funcs.get(defined).wasm_offset));
        frames.push(FrameInfo::new(
            module.clone(),
            func_index.0,
            module_offset.map(|o| o as usize),
            func_offset.map(|o| o as usize),
        ));
    }
    WasmBacktrace::new(frames)
}
