//! [`Error`]: why a compilation failed, with enough context to find the culprit from a build
//! script's output.
//!
//! An error always carries a [`Phase`] and a message. Depending on where it happened it also
//! carries the input path (files compiled with [`crate::Config::compile`]), the core module of a
//! component, the function index and its name-section name, and the byte offset in the Wasm
//! binary (for a component, in the component binary). Errors from wasmparser and
//! Cranelift are wrapped with that context, never unwrapped. `Debug` prints the same text as
//! `Display`, so `aot_build::compile(..).unwrap()` in a build script reads well.

use std::fmt;
use std::path::{Path, PathBuf};

/// The step of compilation that failed.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Phase {
    /// The [`crate::Config`] or the build-script environment is unusable (unknown target, unknown
    /// CPU feature, no `OUT_DIR`).
    Config,
    /// The input file could not be read.
    Read,
    /// The input is not well-formed Wasm text or binary.
    Parse,
    /// The module is invalid or uses an unsupported proposal.
    Validate,
    /// A function body could not be translated to Cranelift IR (this also validates the body).
    Translate,
    /// Cranelift could not compile a function or a trampoline.
    Codegen,
    /// The compiled code could not be assembled into an artifact.
    Emit,
    /// The artifact could not be written to `OUT_DIR`.
    Write,
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Phase::Config => "configuration",
            Phase::Read => "reading",
            Phase::Parse => "parsing",
            Phase::Validate => "validation",
            Phase::Translate => "translation",
            Phase::Codegen => "code generation",
            Phase::Emit => "emission",
            Phase::Write => "writing",
        })
    }
}

/// A failed compilation.
///
/// Displayed as one line (several for Wasm text syntax errors, which keep the `wat` crate's
/// line/column report), for example:
///
/// ```text
/// failed to compile `wasm/app.wat`: function 12 (`fib`) at offset 0x4a: type mismatch: expected i32, found i64
/// ```
pub struct Error {
    inner: Box<Inner>,
}

struct Inner {
    phase: Phase,
    message: String,
    path: Option<PathBuf>,
    module: Option<String>,
    func: Option<(u32, Option<String>)>,
    offset: Option<u64>,
}

impl Error {
    #[cold]
    pub(crate) fn new(phase: Phase, message: impl Into<String>) -> Self {
        Self {
            inner: Box::new(Inner {
                phase,
                message: message.into(),
                path: None,
                module: None,
                func: None,
                offset: None,
            }),
        }
    }

    /// Sets the byte offset in the Wasm binary.
    pub(crate) fn with_offset(mut self, offset: u64) -> Self {
        self.inner.offset = Some(offset);
        self
    }

    /// Sets the function the error is about (index in the function index space).
    pub(crate) fn with_func(mut self, index: u32, name: Option<&str>) -> Self {
        self.inner.func = Some((index, name.map(String::from)));
        self
    }

    /// Sets the core module of a component the error is about, unless one is already set.
    pub(crate) fn with_module(mut self, name: &str) -> Self {
        if self.inner.module.is_none() {
            self.inner.module = Some(name.to_string());
        }
        self
    }

    /// Names the input file in the message (tools that read the file themselves use it; kept
    /// when a path is already set).
    pub fn with_path(mut self, path: &Path) -> Self {
        if self.inner.path.is_none() {
            self.inner.path = Some(path.to_path_buf());
        }
        self
    }

    /// The step that failed.
    pub fn phase(&self) -> Phase {
        self.inner.phase
    }

    /// The reason, without the context (path, function, offset) that `Display` adds.
    pub fn message(&self) -> &str {
        &self.inner.message
    }

    /// The input file, when compiling a file.
    pub fn path(&self) -> Option<&Path> {
        self.inner.path.as_deref()
    }

    /// For a component, the core module (`<component>/<module>`) the error is in.
    pub fn module(&self) -> Option<&str> {
        self.inner.module.as_deref()
    }

    /// The index (in the function index space, imports first) of the function being compiled
    /// when the error happened.
    pub fn func_index(&self) -> Option<u32> {
        self.inner.func.as_ref().map(|(i, _)| *i)
    }

    /// The name-section name of that function, if it has one.
    pub fn func_name(&self) -> Option<&str> {
        self.inner.func.as_ref().and_then(|(_, n)| n.as_deref())
    }

    /// The byte offset in the Wasm binary (for text input: in the binary the text encodes to).
    pub fn offset(&self) -> Option<u64> {
        self.inner.offset
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &*self.inner;
        match &inner.path {
            Some(path) => write!(f, "failed to compile `{}`: ", path.display())?,
            None => f.write_str("failed to compile wasm module: ")?,
        }
        if let Some(module) = &inner.module {
            write!(f, "core module `{module}`")?;
            if inner.func.is_some() {
                f.write_str(", ")?;
            }
        }
        match &inner.func {
            Some((index, Some(name))) => write!(f, "function {index} (`{name}`)")?,
            Some((index, None)) => write!(f, "function {index}")?,
            None => {}
        }
        let context = inner.module.is_some() || inner.func.is_some();
        match (context, inner.offset) {
            (true, Some(offset)) => write!(f, " at offset {offset:#x}: ")?,
            (false, Some(offset)) => write!(f, "at offset {offset:#x}: ")?,
            (true, None) => f.write_str(": ")?,
            (false, None) => {}
        }
        f.write_str(&inner.message)
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_has_every_part() {
        let err = Error::new(Phase::Translate, "type mismatch: expected i32, found i64")
            .with_offset(0x4a)
            .with_func(12, Some("fib"))
            .with_path(Path::new("wasm/app.wat"));
        assert_eq!(
            err.to_string(),
            "failed to compile `wasm/app.wat`: function 12 (`fib`) at offset 0x4a: \
             type mismatch: expected i32, found i64"
        );
        assert_eq!(format!("{err:?}"), err.to_string());
    }

    #[test]
    fn display_without_context() {
        let err = Error::new(Phase::Parse, "bad magic");
        assert_eq!(err.to_string(), "failed to compile wasm module: bad magic");
        let err = Error::new(Phase::Codegen, "boom").with_func(3, None);
        assert_eq!(
            err.to_string(),
            "failed to compile wasm module: function 3: boom"
        );
    }

    #[test]
    fn display_names_the_module_of_a_component() {
        let err = Error::new(Phase::Translate, "type mismatch")
            .with_offset(0x80)
            .with_func(1, Some("bad"))
            .with_module("app/broken")
            .with_path(Path::new("app.wat"));
        assert_eq!(
            err.to_string(),
            "failed to compile `app.wat`: core module `app/broken`, function 1 (`bad`) at offset \
             0x80: type mismatch"
        );
        let err = Error::new(Phase::Validate, "bad section").with_module("app/m");
        assert_eq!(
            err.to_string(),
            "failed to compile wasm module: core module `app/m`: bad section"
        );
    }

    #[test]
    fn error_is_one_word() {
        assert_eq!(size_of::<Error>(), size_of::<usize>());
    }
}
