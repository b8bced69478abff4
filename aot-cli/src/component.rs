//! `aot run` for components: WASI commands (`wasi:cli/run`) and dynamic calls with
//! [`component::Val`] and WAVE text.

use crate::Failure;
use crate::run::Invoke;
use aot_runtime::Store;
use aot_runtime::component::{self, Component, Val};
use aot_runtime::wasi::{WasiCtx, p2};

/// The export name `aot run` looks up: `<interface>#<function>` or a root export. WAVE's own
/// spelling of an interface function, `ns:pkg/iface.func@1.0.0`, is rewritten to
/// `ns:pkg/iface@1.0.0#func`.
pub(crate) fn export_name(name: &str) -> String {
    if name.contains('#') || !name.contains('/') {
        return name.to_string();
    }
    let (path, version) = match name.split_once('@') {
        Some((path, version)) => (path, Some(version)),
        None => (name, None),
    };
    let slash = path.rfind('/').unwrap_or(0);
    match path[slash..].rfind('.') {
        Some(dot) => {
            let (iface, func) = path.split_at(slash + dot);
            match version {
                Some(version) => format!("{iface}@{version}#{}", &func[1..]),
                None => format!("{iface}#{}", &func[1..]),
            }
        }
        None => name.to_string(),
    }
}

/// Loads a component artifact.
fn load(bytes: &[u8]) -> Result<Component, Failure> {
    // SAFETY: as for core modules in `run.rs`: an artifact file given to `aot run` is trusted
    // like an executable; its structure, checksum and target are still checked.
    unsafe { Component::deserialize(bytes) }.map_err(Failure::new)
}

/// A linker with WASI 0.2.
fn linker() -> Result<component::Linker<WasiCtx>, Failure> {
    let mut linker = component::Linker::new();
    p2::add_to_linker(&mut linker).map_err(Failure::new)?;
    Ok(linker)
}

/// Runs a `wasi:cli/command` component, returning its exit status.
pub(crate) fn run_command(bytes: &[u8], ctx: WasiCtx) -> Result<i32, Failure> {
    let component = load(bytes)?;
    if !component
        .exports()
        .any(|(name, _)| name.starts_with("wasi:cli/run@0.2."))
    {
        return Err(crate::run::nothing_to_run(
            "the component exports no `wasi:cli/run@0.2.x`",
        ));
    }
    let mut store = Store::new(ctx);
    p2::run_command(&mut store, &linker()?, &component).map_err(Failure::new)
}

/// Instantiates a component (with WASI 0.2 available) and calls `invoke` on it.
pub(crate) fn run_component(
    bytes: &[u8],
    ctx: WasiCtx,
    invoke: &Invoke<'_>,
) -> Result<Option<String>, Failure> {
    let component = load(bytes)?;
    let mut store = Store::new(ctx);
    let instance = linker()?
        .instantiate(&mut store, &component)
        .map_err(Failure::new)?;
    let name = export_name(invoke.name);
    let func = instance
        .get_func(&mut store, &name)
        .ok_or_else(|| Failure::new(format!("the component has no exported function `{name}`")))?;
    let param_types: Vec<_> = func
        .params(&store)
        .iter()
        .map(|(_, ty)| ty.clone())
        .collect();
    let params: Vec<Val> = invoke.params(&param_types)?;
    let mut results = vec![Val::Bool(false); func.results(&store).len()];
    func.call(&mut store, &params, &mut results)
        .map_err(Failure::new)?;
    match results.first() {
        None => Ok(None),
        Some(result) => wasm_wave::to_string(result)
            .map(Some)
            .map_err(|e| Failure::new(format!("cannot print the result: {e}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::export_name;

    #[test]
    fn export_names() {
        assert_eq!(export_name("add"), "add");
        assert_eq!(export_name("a:b/c@1.0.0#f"), "a:b/c@1.0.0#f");
        assert_eq!(export_name("a:b/c.f@1.0.0"), "a:b/c@1.0.0#f");
        assert_eq!(export_name("a:b/c.f"), "a:b/c#f");
        assert_eq!(export_name("a:b/c@1.0.0"), "a:b/c@1.0.0");
    }
}
