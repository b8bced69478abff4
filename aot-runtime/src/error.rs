//! [`Error`], the one error type of the public API, and [`LinkError`].
//!
//! `Error` is one word (a `Box`), so `Result<T>` stays small on the hot call path. Callers match
//! on [`ErrorKind`]; they never need to parse messages. Traps carry the [`WasmBacktrace`] recorded
//! by the signal handler; host errors raised while wasm was running carry it too.

use crate::artifact::{LoadError, Trap};
use crate::backtrace::WasmBacktrace;
use crate::prelude::*;
use core::fmt;
use core::mem::ManuallyDrop;

/// The result type of the API.
pub type Result<T, E = Error> = core::result::Result<T, E>;

/// An error: a load failure, a link failure, a wasm trap, an error raised by a host function, or
/// an internal bug.
pub struct Error {
    /// Always `Some` until the error is dropped. [`Drop`] takes it out, so the drop glue of
    /// `Error` (a copy of which lands in every codegen unit that drops one) is one call and a
    /// deallocation, and the code dropping the payload exists once.
    inner: Box<ManuallyDrop<Option<ErrorInner>>>,
}

impl Drop for Error {
    #[inline(never)]
    fn drop(&mut self) {
        drop(self.inner.take());
    }
}

struct ErrorInner {
    kind: ErrorKind,
    backtrace: Option<WasmBacktrace>,
    /// What exactly went wrong, printed after the kind (for example the pointer and memory size
    /// of a canonical ABI trap).
    detail: Option<Box<str>>,
}

/// What went wrong.
#[non_exhaustive]
pub enum ErrorKind {
    /// Artifact bytes could not be loaded.
    Load(LoadError),
    /// Imports could not be resolved or did not match.
    Link(LinkError),
    /// Wasm code trapped.
    Trap(Trap),
    /// A host function (or other host code) failed.
    Host(Box<dyn core::error::Error + Send + Sync>),
    /// An internal invariant of the runtime was broken; please report it.
    Bug(String),
}

/// A plain message used as a host error (see [`Error::msg`]).
struct Message<M>(M);

impl<M: fmt::Display> fmt::Debug for Message<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl<M: fmt::Display> fmt::Display for Message<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl<M: fmt::Display> core::error::Error for Message<M> {}

impl Error {
    #[cold]
    pub(crate) fn from_kind(kind: ErrorKind) -> Error {
        Error {
            inner: Box::new(ManuallyDrop::new(Some(ErrorInner {
                kind,
                backtrace: None,
                detail: None,
            }))),
        }
    }

    fn inner(&self) -> &ErrorInner {
        let inner: &Option<ErrorInner> = &self.inner;
        inner
            .as_ref()
            .expect("an error is only emptied when dropped")
    }

    fn inner_mut(&mut self) -> &mut ErrorInner {
        let inner: &mut Option<ErrorInner> = &mut self.inner;
        inner
            .as_mut()
            .expect("an error is only emptied when dropped")
    }

    /// A host error carrying only a message.
    #[cold]
    pub fn msg(msg: impl fmt::Display + Send + Sync + 'static) -> Error {
        Error::from_kind(ErrorKind::Host(Box::new(Message(msg))))
    }

    /// A host error wrapping `err`; [`Error::downcast_ref`] gets it back.
    #[cold]
    pub fn new(err: impl core::error::Error + Send + Sync + 'static) -> Error {
        Error::from_kind(ErrorKind::Host(Box::new(err)))
    }

    #[cold]
    pub(crate) fn from_trap(trap: Trap) -> Error {
        Error::from_kind(ErrorKind::Trap(trap))
    }

    /// A trap with a detail saying what exactly failed (printed after the trap's message).
    #[cold]
    #[cfg_attr(
        not(feature = "component-model"),
        allow(dead_code, reason = "used by the component model")
    )]
    pub(crate) fn trap_with_detail(trap: Trap, detail: impl fmt::Display) -> Error {
        Error::from_trap(trap).with_detail(detail)
    }

    /// This error with a detail (printed after its message): what exactly failed, or how to fix
    /// it.
    #[cold]
    pub(crate) fn with_detail(mut self, detail: impl fmt::Display) -> Error {
        self.inner_mut().detail = Some(detail.to_string().into_boxed_str());
        self
    }

    /// The detail attached to this error, if any (see [`Error::trap`]).
    pub fn detail(&self) -> Option<&str> {
        self.inner().detail.as_deref()
    }

    #[cold]
    pub(crate) fn bug(msg: impl fmt::Display) -> Error {
        Error::from_kind(ErrorKind::Bug(msg.to_string()))
    }

    /// What went wrong.
    pub fn kind(&self) -> &ErrorKind {
        &self.inner().kind
    }

    /// The trap, if this error is a wasm trap.
    pub fn trap(&self) -> Option<Trap> {
        match self.inner().kind {
            ErrorKind::Trap(t) => Some(t),
            _ => None,
        }
    }

    /// The wasm frames active when the trap happened or the host error was raised in wasm.
    pub fn backtrace(&self) -> Option<&WasmBacktrace> {
        self.inner().backtrace.as_ref()
    }

    pub(crate) fn set_backtrace_if_none(&mut self, bt: WasmBacktrace) {
        if self.inner().backtrace.is_none() {
            self.inner_mut().backtrace = Some(bt);
        }
    }

    pub(crate) fn with_backtrace(mut self, bt: WasmBacktrace) -> Error {
        self.inner_mut().backtrace = Some(bt);
        self
    }

    /// The host error of type `E`, if this error wraps one (see [`Error::new`]).
    pub fn downcast_ref<E: core::error::Error + 'static>(&self) -> Option<&E> {
        match &self.inner().kind {
            ErrorKind::Host(e) => e.downcast_ref::<E>(),
            ErrorKind::Load(e) => (e as &dyn core::error::Error).downcast_ref::<E>(),
            ErrorKind::Link(e) => (e as &dyn core::error::Error).downcast_ref::<E>(),
            ErrorKind::Trap(e) => (e as &dyn core::error::Error).downcast_ref::<E>(),
            ErrorKind::Bug(_) => None,
        }
    }
}

impl From<LoadError> for Error {
    #[cold]
    fn from(e: LoadError) -> Error {
        Error::from_kind(ErrorKind::Load(e))
    }
}

impl From<LinkError> for Error {
    #[cold]
    fn from(e: LinkError) -> Error {
        Error::from_kind(ErrorKind::Link(e))
    }
}

impl From<Trap> for Error {
    #[cold]
    fn from(t: Trap) -> Error {
        Error::from_trap(t)
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorKind::Load(e) => write!(f, "failed to load artifact: {e}"),
            ErrorKind::Link(e) => fmt::Display::fmt(e, f),
            ErrorKind::Trap(t) => write!(f, "wasm trap: {t}"),
            ErrorKind::Host(e) => fmt::Display::fmt(e, f),
            ErrorKind::Bug(m) => write!(f, "internal error in aot-runtime (please report): {m}"),
        }
    }
}

impl fmt::Debug for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorKind::Load(e) => f.debug_tuple("Load").field(e).finish(),
            ErrorKind::Link(e) => f.debug_tuple("Link").field(e).finish(),
            ErrorKind::Trap(t) => f.debug_tuple("Trap").field(t).finish(),
            ErrorKind::Host(e) => f.debug_tuple("Host").field(e).finish(),
            ErrorKind::Bug(m) => f.debug_tuple("Bug").field(m).finish(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.inner().kind, f)?;
        if let Some(detail) = &self.inner().detail {
            write!(f, ": {detail}")?;
        }
        if let Some(bt) = &self.inner().backtrace
            && !bt.frames().is_empty()
        {
            write!(f, "\nwasm backtrace:\n{bt}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if f.alternate() {
            f.debug_struct("Error")
                .field("kind", &self.inner().kind)
                .field("backtrace", &self.inner().backtrace)
                .finish()
        } else {
            fmt::Display::fmt(self, f)
        }
    }
}

impl core::error::Error for Error {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match &self.inner().kind {
            ErrorKind::Host(e) => e.source(),
            _ => None,
        }
    }
}

/// Why imports could not be resolved or did not match what a module expects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkError {
    kind: LinkErrorKind,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum LinkErrorKind {
    Unknown {
        module: String,
        name: String,
    },
    Incompatible {
        module: String,
        name: String,
        expected: String,
        found: String,
    },
    Redefined {
        module: String,
        name: String,
    },
    ImportCount {
        expected: usize,
        found: usize,
    },
    WrongStore {
        what: &'static str,
    },
    /// A component import (`path` = the import name, then the export names down to the item)
    /// the linker does not define.
    #[cfg_attr(
        not(feature = "component-model"),
        allow(dead_code, reason = "used by the component model")
    )]
    ComponentUnknown {
        path: Vec<String>,
    },
    /// A component import defined with the wrong function type.
    #[cfg_attr(
        not(feature = "component-model"),
        allow(dead_code, reason = "used by the component model")
    )]
    ComponentIncompatible {
        path: Vec<String>,
        expected: String,
        found: String,
        reason: String,
    },
    /// A component import defined as the wrong kind of item.
    #[cfg_attr(
        not(feature = "component-model"),
        allow(dead_code, reason = "used by the component model")
    )]
    ComponentWrongKind {
        path: Vec<String>,
        expected: &'static str,
        found: &'static str,
    },
    /// A component import of something this runtime cannot provide yet.
    #[cfg_attr(
        not(feature = "component-model"),
        allow(dead_code, reason = "used by the component model")
    )]
    ComponentUnsupported {
        path: Vec<String>,
        what: String,
    },
    /// A name defined twice in a component linker.
    #[cfg_attr(
        not(feature = "component-model"),
        allow(dead_code, reason = "used by the component model")
    )]
    ComponentRedefined {
        name: String,
    },
}

impl LinkError {
    #[cold]
    pub(crate) fn unknown(module: &str, name: &str) -> LinkError {
        LinkError {
            kind: LinkErrorKind::Unknown {
                module: module.into(),
                name: name.into(),
            },
        }
    }

    #[cold]
    pub(crate) fn incompatible(
        module: &str,
        name: &str,
        expected: impl fmt::Display,
        found: impl fmt::Display,
    ) -> LinkError {
        LinkError {
            kind: LinkErrorKind::Incompatible {
                module: module.into(),
                name: name.into(),
                expected: expected.to_string(),
                found: found.to_string(),
            },
        }
    }

    #[cold]
    pub(crate) fn redefined(module: &str, name: &str) -> LinkError {
        LinkError {
            kind: LinkErrorKind::Redefined {
                module: module.into(),
                name: name.into(),
            },
        }
    }

    #[cold]
    pub(crate) fn import_count(expected: usize, found: usize) -> LinkError {
        LinkError {
            kind: LinkErrorKind::ImportCount { expected, found },
        }
    }

    #[cold]
    pub(crate) fn wrong_store(what: &'static str) -> LinkError {
        LinkError {
            kind: LinkErrorKind::WrongStore { what },
        }
    }

    #[cold]
    #[cfg_attr(
        not(feature = "component-model"),
        allow(dead_code, reason = "used by the component model")
    )]
    pub(crate) fn component_unknown(path: &[String]) -> LinkError {
        LinkError {
            kind: LinkErrorKind::ComponentUnknown {
                path: path.to_vec(),
            },
        }
    }

    #[cold]
    #[cfg_attr(
        not(feature = "component-model"),
        allow(dead_code, reason = "used by the component model")
    )]
    pub(crate) fn component_incompatible(
        path: &[String],
        expected: impl fmt::Display,
        found: impl fmt::Display,
        reason: impl fmt::Display,
    ) -> LinkError {
        LinkError {
            kind: LinkErrorKind::ComponentIncompatible {
                path: path.to_vec(),
                expected: expected.to_string(),
                found: found.to_string(),
                reason: reason.to_string(),
            },
        }
    }

    #[cold]
    #[cfg_attr(
        not(feature = "component-model"),
        allow(dead_code, reason = "used by the component model")
    )]
    pub(crate) fn component_wrong_kind(
        path: &[String],
        expected: &'static str,
        found: &'static str,
    ) -> LinkError {
        LinkError {
            kind: LinkErrorKind::ComponentWrongKind {
                path: path.to_vec(),
                expected,
                found,
            },
        }
    }

    #[cold]
    #[cfg_attr(
        not(feature = "component-model"),
        allow(dead_code, reason = "used by the component model")
    )]
    pub(crate) fn component_unsupported(path: &[String], what: impl fmt::Display) -> LinkError {
        LinkError {
            kind: LinkErrorKind::ComponentUnsupported {
                path: path.to_vec(),
                what: what.to_string(),
            },
        }
    }

    #[cold]
    #[cfg_attr(
        not(feature = "component-model"),
        allow(dead_code, reason = "used by the component model")
    )]
    pub(crate) fn component_redefined(name: &str) -> LinkError {
        LinkError {
            kind: LinkErrorKind::ComponentRedefined { name: name.into() },
        }
    }

    /// The import this error is about, if it is about one: `(module, name)` for a core module;
    /// for a component, `(interface, item)`, the root import's name and the path below it
    /// (`("test:demo/host@0.1.0", "log")`; the item is empty when the error is about the root
    /// import itself).
    pub fn import(&self) -> Option<(&str, &str)> {
        match &self.kind {
            LinkErrorKind::Unknown { module, name }
            | LinkErrorKind::Incompatible { module, name, .. }
            | LinkErrorKind::Redefined { module, name } => Some((module, name)),
            LinkErrorKind::ComponentUnknown { path }
            | LinkErrorKind::ComponentIncompatible { path, .. }
            | LinkErrorKind::ComponentWrongKind { path, .. }
            | LinkErrorKind::ComponentUnsupported { path, .. } => {
                let interface = path.first().map_or("", String::as_str);
                let item = path.get(1).map_or("", String::as_str);
                Some((interface, item))
            }
            _ => None,
        }
    }

    /// Whether the import was not defined at all (as opposed to defined with the wrong type).
    pub fn is_unknown_import(&self) -> bool {
        matches!(
            self.kind,
            LinkErrorKind::Unknown { .. } | LinkErrorKind::ComponentUnknown { .. }
        )
    }

    /// Whether the import was defined with a type (or kind of item) that does not match.
    pub fn is_incompatible_import(&self) -> bool {
        matches!(
            self.kind,
            LinkErrorKind::Incompatible { .. }
                | LinkErrorKind::ComponentIncompatible { .. }
                | LinkErrorKind::ComponentWrongKind { .. }
        )
    }
}

/// A component import path as the API spells it: `iface#item`.
struct ImportPath<'a>(&'a [String]);

impl fmt::Display for ImportPath<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, part) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("#")?;
            }
            f.write_str(part)?;
        }
        Ok(())
    }
}

impl fmt::Display for LinkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            LinkErrorKind::Unknown { module, name } => {
                write!(f, "unknown import: `{module}::{name}` has not been defined")
            }
            LinkErrorKind::Incompatible {
                module,
                name,
                expected,
                found,
            } => write!(
                f,
                "incompatible import type for `{module}::{name}`: expected {expected}, found {found}"
            ),
            LinkErrorKind::Redefined { module, name } => {
                write!(f, "import of `{module}::{name}` defined twice")
            }
            LinkErrorKind::ImportCount { expected, found } => write!(
                f,
                "module expects {expected} imports but {found} were given"
            ),
            LinkErrorKind::WrongStore { what } => {
                write!(f, "{what} belongs to another store")
            }
            LinkErrorKind::ComponentUnknown { path } => write!(
                f,
                "component import `{}` has not been defined",
                ImportPath(path)
            ),
            LinkErrorKind::ComponentIncompatible {
                path,
                expected,
                found,
                reason,
            } => write!(
                f,
                "component import `{}` has the wrong type: expected `{expected}`, found {found}: {reason}",
                ImportPath(path)
            ),
            LinkErrorKind::ComponentWrongKind {
                path,
                expected,
                found,
            } => write!(
                f,
                "component import `{}` is the wrong kind: expected {expected}, found {found}",
                ImportPath(path)
            ),
            LinkErrorKind::ComponentUnsupported { path, what } => write!(
                f,
                "component import `{}` cannot be provided: {what}",
                ImportPath(path)
            ),
            LinkErrorKind::ComponentRedefined { name } => {
                write!(f, "`{name}` is defined twice in the component linker")
            }
        }
    }
}

impl core::error::Error for LinkError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_size() {
        assert_eq!(core::mem::size_of::<Error>(), core::mem::size_of::<usize>());
        assert_eq!(
            core::mem::size_of::<Result<()>>(),
            core::mem::size_of::<usize>()
        );
    }

    #[test]
    fn messages() {
        let e = Error::from_trap(Trap::IntegerDivisionByZero);
        assert_eq!(e.to_string(), "wasm trap: integer divide by zero");
        assert_eq!(e.trap(), Some(Trap::IntegerDivisionByZero));
        let e: Error = LinkError::unknown("spectest", "foo").into();
        assert_eq!(
            e.to_string(),
            "unknown import: `spectest::foo` has not been defined"
        );
        let e = LinkError::incompatible("m", "f", "(func (param i32))", "(func)");
        assert_eq!(
            e.to_string(),
            "incompatible import type for `m::f`: expected (func (param i32)), found (func)"
        );
    }

    #[derive(Debug)]
    struct Mine(u32);
    impl fmt::Display for Mine {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "mine {}", self.0)
        }
    }
    impl core::error::Error for Mine {}

    #[test]
    fn downcast() {
        let e = Error::new(Mine(7));
        assert_eq!(e.downcast_ref::<Mine>().unwrap().0, 7);
        assert_eq!(e.to_string(), "mine 7");
        assert!(e.trap().is_none());
        let e = Error::msg("boom");
        assert_eq!(e.to_string(), "boom");
        assert!(e.downcast_ref::<Mine>().is_none());
    }
}
