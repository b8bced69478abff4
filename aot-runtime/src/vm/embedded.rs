//! The `unsafe` entry points of the public API: constructing an [`EmbeddedModule`] (or
//! component) from bytes, [`Module::deserialize`] and `component::Component::deserialize`. They
//! only promise that the bytes come from `aot-build`; everything that can be checked (format
//! version, target, producer version, kind, section layout, metadata) is still checked when the
//! module or component is loaded.

use crate::error::Result;
use crate::module::{EmbeddedComponent, EmbeddedModule, Module};

impl EmbeddedModule {
    /// Wraps artifact bytes produced by `aot-build` for a core module. `include_module!` calls
    /// this; user code should not need to.
    ///
    /// # Safety
    /// `bytes` must be an artifact written by `aot-build` (the loader checks its compatibility
    /// record, but cannot check that the machine code is what the compiler produced) and must be
    /// aligned to 16 bytes (checked at load too).
    #[doc(hidden)]
    pub const unsafe fn new_unchecked(bytes: &'static [u8]) -> Self {
        Self { bytes }
    }
}

impl EmbeddedComponent {
    /// Wraps artifact bytes produced by `aot-build` for a component. `include_component!` calls
    /// this; user code should not need to.
    ///
    /// # Safety
    /// As for [`EmbeddedModule::new_unchecked`].
    #[doc(hidden)]
    pub const unsafe fn new_unchecked(bytes: &'static [u8]) -> Self {
        Self { bytes }
    }
}

impl Module {
    /// Loads artifact bytes that are not embedded in the program (read from a file, say). The
    /// bytes are copied into an owned, aligned buffer; `.text` is copied again into executable
    /// pages.
    ///
    /// # Safety
    /// `bytes` must have been produced by `aot-build`: the machine code in it is executed as is.
    /// An artifact of another format version, target, `aot-build` version or kind (a component)
    /// is still detected and refused, deterministically, as is malformed metadata.
    ///
    /// # Errors
    /// A [`crate::LoadError`] describing the first incompatibility or malformation found.
    pub unsafe fn deserialize(bytes: &[u8]) -> Result<Module> {
        Module::load_copy(bytes)
    }
}

#[cfg(feature = "component-model")]
impl crate::component::Component {
    /// Loads component artifact bytes that are not embedded in the program (read from a file,
    /// say). The bytes are copied into an owned, aligned buffer; `.text` is copied again into
    /// executable pages, once for all the component's core modules.
    ///
    /// # Safety
    /// As for [`Module::deserialize`]: `bytes` must have been produced by `aot-build`. An
    /// artifact of another format version, target, `aot-build` version or kind (a core module)
    /// is still detected and refused, as is a malformed plan.
    ///
    /// # Errors
    /// A [`crate::LoadError`] describing the first incompatibility or malformation found.
    pub unsafe fn deserialize(bytes: &[u8]) -> Result<crate::component::Component> {
        crate::component::Component::load_copy(bytes)
    }
}
