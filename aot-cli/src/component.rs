//! `aot run` for components: dynamic calls with [`component::Val`] and WAVE text.

use crate::Failure;
use crate::run::Invoke;
use aot_runtime::Store;
use aot_runtime::component::{self, Component, Val};

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

/// Instantiates a component (the host provides no imports yet: WASI arrives with issue 4) and
/// calls `invoke` on it.
pub(crate) fn run_component(bytes: &[u8], invoke: &Invoke<'_>) -> Result<Option<String>, Failure> {
    // SAFETY: as for core modules in `run.rs`: an artifact file given to `aot run` is trusted
    // like an executable; its structure, checksum and target are still checked.
    let component = unsafe { Component::deserialize(bytes) }.map_err(Failure::new)?;
    let mut store = Store::new(());
    let linker = component::Linker::new();
    let instance = linker
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
