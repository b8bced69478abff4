//! `include_module!` and `include_component!`: embed an artifact that `aot-build` compiled in this
//! crate's build script.
//!
//! This crate is a thin procedural macro. It contains no compiler and never reads Wasm: the
//! artifact was already written by `aot_build::compile` into `OUT_DIR`, and the macro only finds
//! it, checks that it holds the right kind of code, and embeds its bytes 16-byte aligned. Users
//! normally reach the macros through their re-export in `aot-runtime`.
//!
//! ```ignore
//! // build.rs (with `aot-build` in [build-dependencies])
//! fn main() {
//!     aot_build::compile("wasm/app.wat").unwrap();
//! }
//!
//! // src/main.rs
//! use aot_runtime::{EmbeddedModule, include_module};
//! static APP: EmbeddedModule = include_module!("wasm/app.wat");
//! ```
//!
//! The argument is the path string given to `aot_build::compile`, character for character: the
//! artifact's file name is derived from it (see `aot_build::artifact_path`). The expansion is a
//! constant expression, so it can initialize a `static`. It contains the crate's single `unsafe`
//! call (`EmbeddedModule::new_unchecked`), justified by the artifact having been written for this
//! crate's `OUT_DIR` by the aot-build version that matches the runtime; the runtime re-checks the
//! compatibility record when the module is loaded anyway. rustc does not report `unsafe_code`
//! in an external macro's expansion, so crates with `#![forbid(unsafe_code)]` can use the macros.
//!
//! Every failure (no build script, missing artifact, wrong kind) is a compile error spanned on the
//! path literal and says how to fix it.
#![forbid(unsafe_code)]

use proc_macro::TokenStream;

mod expand;

/// Embeds the artifact of a core Wasm module compiled by `aot_build::compile(path)` in this
/// crate's build script, as an `aot_runtime::EmbeddedModule`.
///
/// ```ignore
/// static APP: aot_runtime::EmbeddedModule = aot_runtime::include_module!("wasm/app.wat");
/// let module = aot_runtime::Module::from_embedded(&APP)?;
/// ```
///
/// Fails to compile if the crate has no build script, the build script did not compile `path`,
/// or the artifact holds a component (use `include_component!` for those).
#[proc_macro]
pub fn include_module(input: TokenStream) -> TokenStream {
    let lit = syn::parse_macro_input!(input as syn::LitStr);
    expand::include(&lit, expand::Kind::Module)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Embeds the artifact of a Wasm component compiled by `aot_build::compile(path)` in this crate's
/// build script, as an `aot_runtime::EmbeddedComponent`.
///
/// ```ignore
/// static APP: aot_runtime::EmbeddedComponent = aot_runtime::include_component!("wasm/app.wasm");
/// ```
///
/// Fails to compile if the crate has no build script, the build script did not compile `path`,
/// or the artifact holds a core module (use `include_module!` for those).
#[proc_macro]
pub fn include_component(input: TokenStream) -> TokenStream {
    let lit = syn::parse_macro_input!(input as syn::LitStr);
    expand::include(&lit, expand::Kind::Component)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}
