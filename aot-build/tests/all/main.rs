//! Integration tests of aot-build: every test compiles real Wasm through the whole pipeline
//! (parse, validate, translate, Cranelift, trampolines, emission) and reads the artifact back
//! with the runtime's own reader, `aot_runtime::artifact::read`.
//!
//! One test binary (one `mod` per topic) keeps link times down.

mod artifact;
mod build_script;
mod component;
mod errors;
mod parallel;

use aot_runtime::artifact::read::HostInfo;

/// The artifact bytes copied to a 16-byte aligned buffer, as the loader requires.
pub struct Aligned {
    buf: Vec<u8>,
    start: usize,
    len: usize,
}

impl Aligned {
    pub fn new(bytes: &[u8]) -> Self {
        let mut buf = vec![0; bytes.len() + 16];
        let start = buf.as_ptr().align_offset(16);
        buf[start..start + bytes.len()].copy_from_slice(bytes);
        Self {
            buf,
            start,
            len: bytes.len(),
        }
    }

    pub fn bytes(&self) -> &[u8] {
        &self.buf[self.start..self.start + self.len]
    }
}

/// What a runtime on this machine would say about itself.
pub fn host() -> HostInfo<'static> {
    HostInfo {
        version: env!("CARGO_PKG_VERSION"),
        arch: std::env::consts::ARCH,
        os: std::env::consts::OS,
        pointer_width: 8,
    }
}

/// Compiles Wasm text with the default configuration.
pub fn compile(wat: &str) -> Vec<u8> {
    aot_build::Config::new()
        .compile_bytes(wat.as_bytes())
        .unwrap_or_else(|e| panic!("{e}"))
}
