//! aot-build (in progress).
#![forbid(unsafe_code)]
#![allow(dead_code, reason = "skeleton while the crate is being assembled")]
mod translate;
