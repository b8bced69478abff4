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
//!
//! The crate also holds `#[derive(ComponentType, Lift, Lower)]` and `flags!` (in `component.rs`),
//! re-exported as `aot_runtime::component::{ComponentType, Lift, Lower, flags}`.
#![forbid(unsafe_code)]

use proc_macro::TokenStream;

mod component;
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

/// Derives `aot_runtime::component::ComponentType` (the canonical ABI layout and the type check)
/// for a struct with `#[component(record)]` or an enum with `#[component(variant)]` or
/// `#[component(enum)]`. Names are the Rust identifiers in kebab-case unless renamed with
/// `#[component(name = "...")]` on a field or case; the type check compares names and order
/// exactly. Type parameters get a `ComponentType` bound.
///
/// ```
/// use aot_runtime::component::{ComponentType, Lift, Lower};
///
/// #[derive(ComponentType, Lift, Lower)]
/// #[component(record)]
/// struct Person {
///     first_name: String, // `first-name`
///     #[component(name = "years")]
///     age: u32,
/// }
///
/// #[derive(ComponentType, Lift, Lower)]
/// #[component(variant)]
/// enum Shape {
///     Circle(f32),
///     Named(String),
///     Empty,
/// }
///
/// #[derive(ComponentType, Lift, Lower)]
/// #[component(enum)]
/// enum Status {
///     Ok,
///     NotFound, // `not-found`
/// }
/// ```
///
/// Misuse is a compile error: a missing kind,
///
/// ```compile_fail
/// use aot_runtime::component::ComponentType;
/// #[derive(ComponentType)]
/// enum Status { Ok, NotFound }
/// ```
///
/// a payload on an `enum` case,
///
/// ```compile_fail
/// use aot_runtime::component::ComponentType;
/// #[derive(ComponentType)]
/// #[component(enum)]
/// enum Status { Ok, NotFound(String) }
/// ```
///
/// a variant case with more than one field,
///
/// ```compile_fail
/// use aot_runtime::component::ComponentType;
/// #[derive(ComponentType)]
/// #[component(variant)]
/// enum Shape { Rect(u32, u32) }
/// ```
///
/// a record that is not a struct with named fields,
///
/// ```compile_fail
/// use aot_runtime::component::ComponentType;
/// #[derive(ComponentType)]
/// #[component(record)]
/// struct Point(u32, u32);
/// ```
///
/// and a name used twice.
///
/// ```compile_fail
/// use aot_runtime::component::ComponentType;
/// #[derive(ComponentType)]
/// #[component(record)]
/// struct Person { first_name: String, #[component(name = "first-name")] other: String }
/// ```
#[proc_macro_derive(ComponentType, attributes(component))]
pub fn derive_component_type(input: TokenStream) -> TokenStream {
    derive(input, component::Trait::ComponentType)
}

/// Derives `aot_runtime::component::Lift` (reading the value from a guest) for a type that also
/// derives `ComponentType`. Type parameters get a `Lift` bound.
#[proc_macro_derive(Lift, attributes(component))]
pub fn derive_lift(input: TokenStream) -> TokenStream {
    derive(input, component::Trait::Lift)
}

/// Derives `aot_runtime::component::Lower` (writing the value into a guest) for a type that also
/// derives `ComponentType`. Type parameters get a `Lower` bound.
#[proc_macro_derive(Lower, attributes(component))]
pub fn derive_lower(input: TokenStream) -> TokenStream {
    derive(input, component::Trait::Lower)
}

fn derive(input: TokenStream, tr: component::Trait) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    component::expand_derive(&input, tr)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Defines component flags types: a `Copy + Eq + Hash + Default` struct over `[u32; ceil(n/32)]`
/// with one associated constant per flag, `|`, `&`, `^`, `!` (and their assign forms),
/// `empty()`, `all()`, `contains`, `is_empty`, a `Debug` listing the set flags, and
/// `ComponentType`, `Lift` and `Lower`. Flag names are the constants in kebab-case unless renamed.
///
/// ```
/// aot_runtime::component::flags! {
///     /// Access rights.
///     pub Perms {
///         const READ;
///         #[component(name = "write-all")]
///         const WRITE;
///     }
/// }
///
/// let rw = Perms::READ | Perms::WRITE;
/// assert!(rw.contains(Perms::READ));
/// assert_eq!(rw, Perms::all());
/// assert_eq!(!Perms::READ, Perms::WRITE);
/// assert_eq!(format!("{rw:?}"), "Perms(READ | WRITE)");
/// ```
///
/// A name used twice does not compile:
///
/// ```compile_fail
/// aot_runtime::component::flags! {
///     Perms { const READ; #[component(name = "read")] const ALSO_READ; }
/// }
/// ```
#[proc_macro]
pub fn flags(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as component::FlagsInput);
    component::expand_flags(&input).into()
}
