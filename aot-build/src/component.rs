//! Compilation of a component into ONE artifact: validation and translation of every nested
//! component and core module ([`translate`]), build-time instantiation of the root into a flat
//! plan ([`inline`], types through [`types`]), compilation of every static core module exactly
//! as a core module artifact's, and emission of all of them in one `.text` with the plan
//! (`ComponentInfo`) in `.aot.info` (see `docs/components.md` §1-§2).
//!
//! Core modules are compiled in the order their module sections appear in the binary, a module
//! instantiated twice once and a module never instantiated all the same, so the artifact is a
//! pure function of the input bytes and the `Config`.

mod inline;
mod translate;
mod types;

use crate::codegen::IsaSetup;
use crate::config::Config;
use crate::emit::{self, Metadata};
use crate::error::{Error, Phase};

/// Compiles the component binary `wasm`. Its name is `explicit_name`, else the name of its
/// `component-name` section, else `fallback_name`.
pub(crate) fn compile(
    config: &Config,
    setup: &IsaSetup,
    wasm: &[u8],
    explicit_name: Option<&str>,
    fallback_name: &str,
) -> Result<Vec<u8>, Error> {
    let translation = translate::translate(wasm, &config.features)?;
    let name = explicit_name
        .map(String::from)
        .or_else(|| translation.root().names.component.clone())
        .unwrap_or_else(|| fallback_name.to_string());
    let info = inline::run(&translation, &name)?;

    let isa = setup.build_isa()?;
    let mut modules = Vec::with_capacity(translation.modules.len());
    for (k, module) in translation.modules.into_iter().enumerate() {
        let env = module.env.ok_or_else(|| {
            Error::new(
                Phase::Parse,
                format!("internal error: core module {k} was not parsed"),
            )
        })?;
        let module_name = match &module.name {
            Some(module_name) => format!("{name}/{module_name}"),
            None => format!("{name}/module{k}"),
        };
        let module = crate::compile_core(config, setup, &*isa, env, module_name.clone())
            .map_err(|e| e.with_module(&module_name))?;
        modules.push(module);
    }
    let infos: Vec<_> = modules.iter().map(|m| &m.info).collect();
    let wasm_to_host = crate::compile_wasm_to_host(&infos, &*isa)?;
    emit::emit(
        modules,
        wasm_to_host,
        Metadata::Component(Box::new(info)),
        setup,
        crate::feature_bits(config),
    )
}

#[cfg(test)]
mod tests {
    use crate::Config;
    use std::path::Path;

    /// Component artifacts do not depend on how many threads compile each module's functions.
    #[test]
    fn thread_count_does_not_change_component_artifacts() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/components");
        let mut compiled = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|e| e != "wat") {
                continue;
            }
            let wat = std::fs::read(&path).unwrap();
            let compile = |threads| {
                let mut config = Config::new();
                config.threads = Some(threads);
                config
                    .compile_bytes(&wat)
                    .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
            };
            assert_eq!(compile(1), compile(4), "{}", path.display());
            compiled += 1;
        }
        assert!(compiled >= 4);
    }
}
