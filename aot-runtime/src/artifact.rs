//! The contract between `aot-build` and `aot-runtime`: every byte of the artifact and every offset
//! compiled code depends on is defined here, once.
//!
//! This module is always compiled (also with `default-features = false`) and uses only `core`,
//! `alloc` and `serde`/`postcard`; [`read`] parses the few ELF fields it needs itself, every
//! offset checked, and `object` (its writer) is only a dependency with the `write` feature. It
//! never depends on a compiler. `aot-build` enables the `write` feature to get the builders in
//! `write`; the runtime only uses the readers in [`read`]. The layout of the whole file is drawn
//! on `write::ArtifactBuilder`.

pub mod builtins;
pub mod checksum;
pub mod component;
pub mod format;
pub mod header;
pub mod index;
pub mod module;
pub mod read;
pub mod trap;
pub mod types;
pub mod vmoffsets;
#[cfg(feature = "write")]
pub mod write;

pub use format::FORMAT_VERSION;
pub use header::{CompatRecord, Kind};
pub use index::*;
pub use module::ModuleInfo;
pub use read::{ArtifactRef, LoadError, verify_checksum};
pub use trap::Trap;
pub use types::*;
pub use vmoffsets::VMOffsets;
