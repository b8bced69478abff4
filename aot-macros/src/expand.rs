//! The expansion of `include_module!` / `include_component!`: locate the artifact in `OUT_DIR`,
//! check its kind from the ELF header, and emit the aligned `include_bytes!` plus the runtime
//! constructor.
//!
//! The artifact path is computed exactly as `aot_build::artifact_path` computes it (the contract
//! both crates document): `$OUT_DIR/aot/<file name>-<16 lowercase hex digits>.aot`, where the hex
//! digits are the FNV-1a 64 hash of the path string as written, with `\` replaced by `/`. This
//! crate deliberately does not depend on `aot-build` (which pulls in Cranelift); a unit test pins
//! the hash so a drift between the two is caught.
//!
//! Only the 64-byte ELF header is read here. Everything else (format version, target, CPU
//! features) is checked by the runtime when the module is loaded.

use proc_macro2::TokenStream;
use quote::quote;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use syn::LitStr;

/// What the macro embeds.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A core module (`include_module!`, `EmbeddedModule`).
    Module,
    /// A component (`include_component!`, `EmbeddedComponent`).
    Component,
}

/// `e_flags` bit of a module artifact (`aot_runtime::artifact::format::EF_AOT_MODULE`).
const EF_AOT_MODULE: u32 = 0x1;
/// `e_flags` bit of a component artifact (`aot_runtime::artifact::format::EF_AOT_COMPONENT`).
const EF_AOT_COMPONENT: u32 = 0x2;
/// Size of an ELF64 file header.
const ELF64_HEADER_SIZE: usize = 64;
/// Offset of `e_flags` in an ELF64 file header.
const E_FLAGS_OFFSET: usize = 48;

impl Kind {
    fn macro_name(self) -> &'static str {
        match self {
            Kind::Module => "include_module!",
            Kind::Component => "include_component!",
        }
    }

    fn noun(self) -> &'static str {
        match self {
            Kind::Module => "core module",
            Kind::Component => "component",
        }
    }

    fn other(self) -> Kind {
        match self {
            Kind::Module => Kind::Component,
            Kind::Component => Kind::Module,
        }
    }

    fn e_flag(self) -> u32 {
        match self {
            Kind::Module => EF_AOT_MODULE,
            Kind::Component => EF_AOT_COMPONENT,
        }
    }
}

/// Expands the macro for the path literal `lit`, with the artifacts of this crate in `OUT_DIR`.
pub(crate) fn include(lit: &LitStr, kind: Kind) -> syn::Result<TokenStream> {
    expand(
        lit,
        kind,
        std::env::var_os("OUT_DIR").as_deref().map(Path::new),
    )
}

/// Expands the macro for `lit`, looking for the artifact in `out_dir` (`None`: the crate has no
/// build script).
fn expand(lit: &LitStr, kind: Kind, out_dir: Option<&Path>) -> syn::Result<TokenStream> {
    let input = lit.value();
    let Some(out_dir) = out_dir else {
        return Err(no_artifact(
            lit,
            &input,
            "this crate has no build script (`OUT_DIR` is not set)",
        ));
    };
    let path = artifact_path(out_dir, &input);
    let header = read_header(&path).map_err(|reason| no_artifact(lit, &input, &reason))?;
    check_kind(&header, kind).map_err(|msg| syn::Error::new(lit.span(), msg))?;
    let Some(path_str) = path.to_str() else {
        return Err(syn::Error::new(
            lit.span(),
            format!("artifact path `{}` is not valid UTF-8", path.display()),
        ));
    };
    let ty = match kind {
        Kind::Module => quote!(::aot_runtime::EmbeddedModule),
        Kind::Component => quote!(::aot_runtime::EmbeddedComponent),
    };
    // SAFETY (of the emitted `unsafe` block): the bytes were written by aot-build for this crate's
    // OUT_DIR (same version, lockstep with aot-runtime) and are 16-byte aligned by `__AotAligned`;
    // the runtime re-checks the compatibility record when the module is loaded.
    //
    // rustc does not report `unsafe_code` inside an external macro's expansion, so a user crate
    // with `#![forbid(unsafe_code)]` can use the macro. (An `#[allow(unsafe_code)]` here would
    // be worse: `forbid` rejects the `allow` itself.)
    Ok(quote! {
        {
            #[repr(C, align(16))]
            struct __AotAligned<T: ?Sized>(T);
            static __AOT: &__AotAligned<[u8]> = &__AotAligned(*::core::include_bytes!(#path_str));
            unsafe { #ty::new_unchecked(&__AOT.0) }
        }
    })
}

/// Where `aot_build::compile(input)` writes its artifact: `out_dir/aot/<file name>-<hash>.aot`.
pub(crate) fn artifact_path(out_dir: &Path, input: &str) -> PathBuf {
    let normalized = input.replace('\\', "/");
    let file_name = normalized.rsplit('/').next().unwrap_or(&normalized);
    let hash = fnv1a64(normalized.as_bytes());
    out_dir
        .join("aot")
        .join(format!("{file_name}-{hash:016x}.aot"))
}

/// FNV-1a, 64 bits.
fn fnv1a64(bytes: &[u8]) -> u64 {
    const OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    bytes.iter().fold(OFFSET_BASIS, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(PRIME)
    })
}

fn read_header(path: &Path) -> Result<[u8; ELF64_HEADER_SIZE], String> {
    let mut file = File::open(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => format!("`{}` does not exist", path.display()),
        _ => format!("cannot open `{}`: {e}", path.display()),
    })?;
    let mut header = [0; ELF64_HEADER_SIZE];
    file.read_exact(&mut header)
        .map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
    Ok(header)
}

/// Checks that `header` is an ELF64 little-endian artifact of `kind`.
fn check_kind(header: &[u8; ELF64_HEADER_SIZE], kind: Kind) -> Result<(), String> {
    if header[..4] != *b"\x7fELF" || header[4] != 2 || header[5] != 1 {
        return Err(format!(
            "artifact is not a 64-bit little-endian ELF file; rebuild it with aot-build \
             before using {}",
            kind.macro_name()
        ));
    }
    let flags = u32::from_le_bytes(
        header[E_FLAGS_OFFSET..E_FLAGS_OFFSET + 4]
            .try_into()
            .unwrap(),
    );
    if flags & kind.e_flag() != 0 {
        return Ok(());
    }
    let other = kind.other();
    if flags & other.e_flag() != 0 {
        return Err(format!(
            "this artifact holds a {}, not a {}: use `{}` instead of `{}`",
            other.noun(),
            kind.noun(),
            other.macro_name(),
            kind.macro_name()
        ));
    }
    Err(format!(
        "artifact e_flags {flags:#x} mark neither a core module nor a component; \
         it was not written by aot-build"
    ))
}

fn no_artifact(lit: &LitStr, input: &str, reason: &str) -> syn::Error {
    let escaped = input.escape_default();
    syn::Error::new(
        lit.span(),
        format!(
            "no artifact for `{input}`: add `aot_build::compile(\"{escaped}\").unwrap();` to this \
             crate's build.rs (and `aot-build` to [build-dependencies]); {reason}"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a64_matches_reference_vectors() {
        // Vectors from the FNV reference (http://www.isthe.com/chongo/tech/comp/fnv/).
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn artifact_path_follows_the_contract() {
        let out = Path::new("/out");
        let path = artifact_path(out, "wasm/app.wat");
        let hash = fnv1a64(b"wasm/app.wat");
        assert_eq!(
            path,
            Path::new(&format!("/out/aot/app.wat-{hash:016x}.aot"))
        );
        // Backslashes are normalized, so both spellings name the same artifact.
        assert_eq!(artifact_path(out, "wasm\\app.wat"), path);
        // Two files with the same name in different folders do not collide.
        assert_ne!(artifact_path(out, "other/app.wat"), path);
        assert_eq!(
            artifact_path(out, "app.wat"),
            Path::new(&format!(
                "/out/aot/app.wat-{:016x}.aot",
                fnv1a64(b"app.wat")
            ))
        );
    }

    fn header(flags: u32) -> [u8; ELF64_HEADER_SIZE] {
        let mut h = [0; ELF64_HEADER_SIZE];
        h[..6].copy_from_slice(b"\x7fELF\x02\x01");
        h[E_FLAGS_OFFSET..E_FLAGS_OFFSET + 4].copy_from_slice(&flags.to_le_bytes());
        h
    }

    #[test]
    fn kind_is_checked() {
        assert!(check_kind(&header(EF_AOT_MODULE), Kind::Module).is_ok());
        assert!(check_kind(&header(EF_AOT_COMPONENT), Kind::Component).is_ok());
        let err = check_kind(&header(EF_AOT_COMPONENT), Kind::Module).unwrap_err();
        assert!(err.contains("use `include_component!`"), "{err}");
        let err = check_kind(&header(EF_AOT_MODULE), Kind::Component).unwrap_err();
        assert!(err.contains("use `include_module!`"), "{err}");
        let err = check_kind(&header(0), Kind::Module).unwrap_err();
        assert!(err.contains("neither"), "{err}");
        let mut not_elf = header(EF_AOT_MODULE);
        not_elf[0] = 0;
        assert!(
            check_kind(&not_elf, Kind::Module)
                .unwrap_err()
                .contains("ELF")
        );
    }

    fn lit(path: &str) -> LitStr {
        LitStr::new(path, proc_macro2::Span::call_site())
    }

    #[test]
    fn missing_build_script_or_artifact_says_how_to_fix_it() {
        let err = expand(&lit("wasm/app.wat"), Kind::Module, None)
            .unwrap_err()
            .to_string();
        let fix =
            "no artifact for `wasm/app.wat`: add `aot_build::compile(\"wasm/app.wat\").unwrap();`";
        assert!(err.starts_with(fix), "{err}");
        assert!(err.contains("OUT_DIR"), "{err}");
        let dir = std::env::temp_dir().join(format!("aot-macros-missing-{}", std::process::id()));
        let err = expand(&lit("wasm/app.wat"), Kind::Module, Some(&dir))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("[build-dependencies]") && err.contains("does not exist"),
            "{err}"
        );
    }

    #[test]
    fn expansion_embeds_the_artifact_and_checks_its_kind() {
        let dir = std::env::temp_dir().join(format!("aot-macros-expand-{}", std::process::id()));
        let path = artifact_path(&dir, "wasm/app.wat");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, header(EF_AOT_MODULE)).unwrap();
        let tokens = expand(&lit("wasm/app.wat"), Kind::Module, Some(&dir))
            .unwrap()
            .to_string();
        assert!(
            tokens.contains(&format!("{:?}", path.to_str().unwrap())),
            "{tokens}"
        );
        assert!(
            tokens.contains("EmbeddedModule :: new_unchecked"),
            "{tokens}"
        );
        assert!(tokens.contains("align (16)"), "{tokens}");
        let err = expand(&lit("wasm/app.wat"), Kind::Component, Some(&dir))
            .unwrap_err()
            .to_string();
        assert!(err.contains("use `include_module!`"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
