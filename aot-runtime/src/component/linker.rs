//! [`Linker`]: host definitions of a component's imports, by name, and the import checks that
//! run before any of the component's code (docs/components.md §5).
//!
//! Definitions form a tree: the root namespace holds functions and instances (interfaces such as
//! `test:demo/host@0.1.0`), an instance holds functions and nested instances. Names are looked up
//! exactly, then by their semver-compatible key (`@1.2.3` -> `@1`, `@0.2.3` -> `@0.2`; `0.0.x`
//! and pre-releases only exactly), so a component importing `wasi:cli/environment@0.2.3` finds an
//! instance defined as `@0.2.0`. The linker records the compatible key of each definition,
//! keeping the highest version.
//!
//! `Linker::instantiate` walks every root import (all of them, used or not) before creating
//! anything: a missing definition, a wrong kind of item or a `func_wrap` closure whose Rust types
//! do not match the import's type is a [`LinkError`](crate::LinkError) naming the import, the
//! expected type and what was provided. `func_new` definitions accept any type; their results are
//! checked on every call instead.

use super::func::HostFuncDef;
use super::host::HostResourceDef;
use super::instantiate::{self, Instance};
use super::resources::ResourceType;
use super::typed::{ComponentNamedList, Lift, Lower};
use super::values::Val;
use super::{Component, runtime_import_name};
use crate::artifact::component::{
    ComponentInfo, ComponentTypes, ItemType, ResourceDef, ResourceIndex,
};
use crate::error::{Error, LinkError, Result};
use crate::prelude::*;
use crate::store::{AsContextMut, StoreContextMut};
use core::any::Any;
use std::collections::HashMap;

/// Host definitions of component imports: functions and instances (interfaces), by name.
pub struct Linker<T> {
    root: Namespace<T>,
    allow_shadowing: bool,
}

/// A place in a [`Linker`] to define items: the root, or an instance.
pub struct LinkerInstance<'a, T> {
    ns: &'a mut Namespace<T>,
    allow_shadowing: bool,
}

/// The items of the root or of an instance.
struct Namespace<T> {
    items: HashMap<String, Definition<T>>,
    /// Semver-compatible key -> the highest version defined under it and its full name.
    alternates: HashMap<String, (Version, String)>,
}

enum Definition<T> {
    Func(Arc<HostFuncDef<T>>),
    Resource(Arc<HostResourceDef<T>>),
    Instance(Namespace<T>),
    /// A name this runtime knows but does not provide: importing it is a link error saying why
    /// (WASI interfaces that are not implemented).
    Unsupported(Arc<str>),
}

impl<T> Definition<T> {
    /// What this is, for link errors.
    fn kind(&self) -> &'static str {
        match self {
            Definition::Func(_) => "a function",
            Definition::Resource(_) => "a resource type",
            Definition::Instance(_) => "an instance",
            Definition::Unsupported(_) => "an unsupported item",
        }
    }
}

impl<T> Clone for Definition<T> {
    fn clone(&self) -> Self {
        match self {
            Definition::Func(f) => Definition::Func(f.clone()),
            Definition::Resource(r) => Definition::Resource(r.clone()),
            Definition::Unsupported(why) => Definition::Unsupported(why.clone()),
            Definition::Instance(ns) => Definition::Instance(ns.clone()),
        }
    }
}

impl<T> Clone for Namespace<T> {
    fn clone(&self) -> Self {
        Self {
            items: self.items.clone(),
            alternates: self.alternates.clone(),
        }
    }
}

impl<T> Default for Namespace<T> {
    fn default() -> Self {
        Self {
            items: HashMap::new(),
            alternates: HashMap::new(),
        }
    }
}

impl<T> Clone for Linker<T> {
    fn clone(&self) -> Self {
        Self {
            root: self.root.clone(),
            allow_shadowing: self.allow_shadowing,
        }
    }
}

impl<T: 'static> Default for Linker<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: 'static> Linker<T> {
    /// An empty linker.
    pub fn new() -> Self {
        Self {
            root: Namespace::default(),
            allow_shadowing: false,
        }
    }

    /// Whether a later definition of the same name replaces the earlier one (default `false`:
    /// it is an error).
    pub fn allow_shadowing(&mut self, allow: bool) -> &mut Self {
        self.allow_shadowing = allow;
        self
    }

    /// The root namespace: where root-level function imports (and instances) are defined.
    pub fn root(&mut self) -> LinkerInstance<'_, T> {
        LinkerInstance {
            ns: &mut self.root,
            allow_shadowing: self.allow_shadowing,
        }
    }

    /// The instance `name` of the root (`"test:demo/host@0.1.0"`), created if needed; the same
    /// as `root().instance(name)`.
    ///
    /// # Errors
    /// If `name` is already defined as a function.
    pub fn instance(&mut self, name: &str) -> Result<LinkerInstance<'_, T>> {
        self.root().into_instance(name)
    }

    /// Instantiates `component` in `store`, checking every import against these definitions
    /// first, then running the component's instantiation plan.
    ///
    /// # Errors
    /// A [`LinkError`] naming the first import that is not defined, is the wrong kind of item,
    /// or has the wrong type; a trap if a core module's start function traps.
    ///
    /// # Panics
    /// If a definition panics while the component's start functions run.
    pub fn instantiate(
        &self,
        mut store: impl AsContextMut<Data = T>,
        component: &Component,
    ) -> Result<Instance> {
        let imports = self.resolve_imports(component)?;
        instantiate::instantiate(store.as_context_mut().0, component, imports)
    }

    /// Checks every root import and returns the definition of each runtime import leaf.
    fn resolve_imports(&self, component: &Component) -> Result<Box<[Arc<dyn Any + Send + Sync>]>> {
        let info = component.info();
        let leaves: Vec<Option<&Definition<T>>> = info
            .runtime_imports
            .iter()
            .map(|leaf| {
                let mut def = self.root.get(&info.imports[leaf.import.index()].name);
                for name in leaf.path.iter() {
                    def = match def {
                        Some(Definition::Instance(ns)) => ns.get(name),
                        _ => None,
                    };
                }
                def
            })
            .collect();
        // What each resource is bound to, for the checks of `Resource<T>` parameters.
        let known = info
            .resources
            .iter()
            .map(|r| match r {
                ResourceDef::Imported(leaf) => match leaves.get(leaf.index()) {
                    Some(Some(Definition::Resource(def))) => Some(def.ty),
                    _ => None,
                },
                ResourceDef::Defined { .. } => None,
            })
            .collect();
        let checker = ImportChecker {
            types: component.types(),
            info,
        };
        super::host::with_known_resources(known, || {
            let mut path = Vec::new();
            for import in &info.imports {
                path.push(import.name.clone());
                checker.check(self.root.get(&import.name), import.ty, &mut path)?;
                path.pop();
            }
            Ok::<_, Error>(())
        })?;
        leaves
            .iter()
            .enumerate()
            .map(|(i, def)| match def {
                Some(Definition::Func(f)) => Ok(f.clone() as Arc<dyn Any + Send + Sync>),
                Some(Definition::Resource(r)) => Ok(r.clone() as Arc<dyn Any + Send + Sync>),
                _ => Err(Error::bug(format!(
                    "checked import `{}` has no function or resource definition",
                    runtime_import_name(
                        info,
                        crate::artifact::component::RuntimeImportIndex::new(i)
                    )
                ))),
            })
            .collect()
    }
}

impl<'a, T: 'static> LinkerInstance<'a, T> {
    /// Defines function `name` as a Rust closure over typed parameters and results:
    /// `|store, (a, b): (u32, String)| -> Result<(String,)>`. At instantiation its types are
    /// checked against the import's type.
    ///
    /// # Errors
    /// If `name` is already defined and shadowing is not allowed.
    pub fn func_wrap<P, R>(
        &mut self,
        name: &str,
        f: impl Fn(StoreContextMut<'_, T>, P) -> Result<R> + Send + Sync + 'static,
    ) -> Result<()>
    where
        P: ComponentNamedList + Lift + 'static,
        R: ComponentNamedList + Lower + 'static,
    {
        let def = HostFuncDef::typed(f);
        self.ns
            .insert(name, Definition::Func(Arc::new(def)), self.allow_shadowing)
    }

    /// Defines function `name` as a Rust closure over [`Val`]s: the arguments in, one slot per
    /// result out. Any function type is accepted at instantiation; the values the closure
    /// writes are checked against the result type after each call.
    ///
    /// # Errors
    /// If `name` is already defined and shadowing is not allowed.
    pub fn func_new(
        &mut self,
        name: &str,
        f: impl Fn(StoreContextMut<'_, T>, &[Val], &mut [Val]) -> Result<()> + Send + Sync + 'static,
    ) -> Result<()> {
        let def = HostFuncDef::dynamic(f);
        self.ns
            .insert(name, Definition::Func(Arc::new(def)), self.allow_shadowing)
    }

    /// Defines the resource type `name` as the host type `ty` (a
    /// [`ResourceType::host::<R>()`](ResourceType::host)): the guest's handles of it are
    /// [`Resource<R>`](super::Resource)s to host functions, and `dtor` runs with the
    /// representation when the guest drops an own handle.
    ///
    /// ```
    /// use aot_runtime::component::{Linker, Resource, ResourceTable, ResourceType};
    ///
    /// struct Logger { lines: Vec<String> }
    /// let mut linker = Linker::<ResourceTable>::new();
    /// let mut host = linker.instance("test:demo/logging")?;
    /// host.resource("logger", ResourceType::host::<Logger>(), |mut store, rep| {
    ///     store.data_mut().delete(Resource::<Logger>::new_own(rep))?;
    ///     Ok(())
    /// })?;
    /// host.func_wrap("[constructor]logger", |mut store, (): ()| {
    ///     Ok((store.data_mut().push(Logger { lines: Vec::new() })?,))
    /// })?;
    /// host.func_wrap(
    ///     "[method]logger.log",
    ///     |mut store, (this, line): (Resource<Logger>, String)| {
    ///         store.data_mut().get_mut(&this)?.lines.push(line);
    ///         Ok(())
    ///     },
    /// )?;
    /// # Ok::<(), aot_runtime::Error>(())
    /// ```
    ///
    /// # Errors
    /// If `ty` is not a host type, or `name` is already defined and shadowing is not allowed.
    pub fn resource(
        &mut self,
        name: &str,
        ty: ResourceType,
        dtor: impl Fn(StoreContextMut<'_, T>, u32) -> Result<()> + Send + Sync + 'static,
    ) -> Result<()> {
        let def = HostResourceDef::new(ty, dtor)?;
        self.ns.insert(
            name,
            Definition::Resource(Arc::new(def)),
            self.allow_shadowing,
        )
    }

    /// Marks `name` as known but not provided: a component importing it fails to link with an
    /// error naming it and saying `why` (for interfaces such as `wasi:sockets/tcp` that a
    /// linker deliberately leaves out).
    ///
    /// # Errors
    /// If `name` is already defined and shadowing is not allowed.
    #[allow(dead_code, reason = "used by the `wasi` feature")]
    pub(crate) fn unsupported(&mut self, name: &str, why: &str) -> Result<()> {
        self.ns.insert(
            name,
            Definition::Unsupported(why.into()),
            self.allow_shadowing,
        )
    }

    /// The nested instance `name`, created if needed (an existing one is reopened, so its
    /// definitions can be added to).
    ///
    /// # Errors
    /// If `name` is already defined as a function.
    pub fn instance(&mut self, name: &str) -> Result<LinkerInstance<'_, T>> {
        LinkerInstance {
            ns: &mut *self.ns,
            allow_shadowing: self.allow_shadowing,
        }
        .into_instance(name)
    }

    fn into_instance(self, name: &str) -> Result<LinkerInstance<'a, T>> {
        let ns = self.ns;
        if !matches!(ns.items.get(name), Some(Definition::Instance(_))) {
            ns.insert(
                name,
                Definition::Instance(Namespace::default()),
                self.allow_shadowing,
            )?;
        }
        match ns.items.get_mut(name) {
            Some(Definition::Instance(inner)) => Ok(LinkerInstance {
                ns: inner,
                allow_shadowing: self.allow_shadowing,
            }),
            _ => Err(Error::bug("linker instance vanished after its definition")),
        }
    }
}

impl<T> Namespace<T> {
    fn insert(&mut self, name: &str, def: Definition<T>, shadow: bool) -> Result<()> {
        if !shadow && self.items.contains_key(name) {
            return Err(LinkError::component_redefined(name).into());
        }
        if let Some((key, version)) = alternate(name) {
            let higher = self
                .alternates
                .get(&key)
                .is_none_or(|(existing, _)| version >= *existing);
            if higher {
                self.alternates.insert(key, (version, name.to_string()));
            }
        }
        self.items.insert(name.to_string(), def);
        Ok(())
    }

    /// The definition of `name`: exact, else the highest semver-compatible one.
    fn get(&self, name: &str) -> Option<&Definition<T>> {
        self.items.get(name).or_else(|| {
            let (key, _) = alternate(name)?;
            let (_, full) = self.alternates.get(&key)?;
            self.items.get(full)
        })
    }
}

/// The import checks of [`Linker::instantiate`].
struct ImportChecker<'a> {
    types: &'a ComponentTypes,
    info: &'a ComponentInfo,
}

impl ImportChecker<'_> {
    /// Whether the import at `path` is where resource `r` is introduced (its runtime import
    /// leaf), as opposed to a re-export of it.
    fn introduces(&self, r: ResourceIndex, path: &[String]) -> bool {
        let ResourceDef::Imported(leaf) = &self.info.resources[r.index()] else {
            return true;
        };
        let leaf = &self.info.runtime_imports[leaf.index()];
        let root = &self.info.imports[leaf.import.index()].name;
        path.split_first()
            .is_some_and(|(first, rest)| first == root && *rest == *leaf.path)
    }

    /// The host type the linker bound resource `r` to, if known.
    fn bound(&self, r: ResourceIndex) -> Option<ResourceType> {
        super::host::known_resource(r)
    }

    /// Checks `def` (the definition found for `path`) against the import type `ty`.
    fn check<T>(
        &self,
        def: Option<&Definition<T>>,
        ty: ItemType,
        path: &mut Vec<String>,
    ) -> Result<()> {
        if let Some(Definition::Unsupported(why)) = def {
            return Err(LinkError::component_unsupported(path, why).into());
        }
        match ty {
            // A type import carries nothing at run time.
            ItemType::Type => Ok(()),
            // A resource type another import introduced, re-exported here with `(eq ..)` (as
            // `wasi:io/streams` re-exports `wasi:io/error`'s `error`), need not be defined
            // again; if it is, it must be the same type.
            ItemType::Resource(r) if !self.introduces(r, path) => match def {
                None => Ok(()),
                Some(Definition::Resource(def)) if Some(def.ty) == self.bound(r) => Ok(()),
                Some(other) => Err(LinkError::component_wrong_kind(
                    path,
                    "the resource type bound by an earlier import",
                    other.kind(),
                )
                .into()),
            },
            ItemType::Resource(_) => match def {
                None => Err(LinkError::component_unknown(path).into()),
                Some(Definition::Resource(_)) => Ok(()),
                Some(other) => {
                    Err(
                        LinkError::component_wrong_kind(path, "a resource type", other.kind())
                            .into(),
                    )
                }
            },
            ItemType::Func(f) => match def {
                None => Err(LinkError::component_unknown(path).into()),
                Some(Definition::Func(host)) => {
                    let Some(typecheck) = host.typecheck else {
                        return Ok(());
                    };
                    typecheck(&self.types.funcs[f.index()], self.types).map_err(|reason| {
                        LinkError::component_incompatible(
                            path,
                            self.types.display_func(f),
                            format!("host function `{}`", host.rust_type),
                            reason,
                        )
                        .into()
                    })
                }
                Some(other) => {
                    Err(LinkError::component_wrong_kind(path, "a function", other.kind()).into())
                }
            },
            ItemType::Instance(i) => match def {
                None => Err(LinkError::component_unknown(path).into()),
                Some(Definition::Instance(ns)) => {
                    for (name, ty) in &self.types.instances[i.index()].exports {
                        path.push(name.clone());
                        self.check(ns.get(name), *ty, path)?;
                        path.pop();
                    }
                    Ok(())
                }
                Some(other) => {
                    Err(LinkError::component_wrong_kind(path, "an instance", other.kind()).into())
                }
            },
        }
    }
}

/// A semantic version `major.minor.patch[-pre][+build]`; only the parts the compatibility rule
/// needs are kept (ordering ignores build metadata, as semver says).
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Version {
    major: u64,
    minor: u64,
    patch: u64,
}

/// The semver-compatible key of `name` (`ns:pkg/iface@1.2.3` -> `ns:pkg/iface@1`,
/// `@0.2.3` -> `@0.2`) and its version; `None` for names without a version, `0.0.x` versions
/// and pre-releases, which only match exactly.
fn alternate(name: &str) -> Option<(String, Version)> {
    let (base, version) = name.rsplit_once('@')?;
    let version = match version.split_once('+') {
        Some((version, build)) if !build.is_empty() => version,
        Some(_) => return None,
        None => version,
    };
    if version.contains('-') {
        return None;
    }
    let mut parts = version.split('.').map(|part| {
        let digits = !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
        let leading_zero = part.len() > 1 && part.starts_with('0');
        if digits && !leading_zero {
            part.parse::<u64>().ok()
        } else {
            None
        }
    });
    let (Some(Some(major)), Some(Some(minor)), Some(Some(patch)), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    let key = if major != 0 {
        format!("{base}@{major}")
    } else if minor != 0 {
        format!("{base}@0.{minor}")
    } else {
        return None;
    };
    Some((
        key,
        Version {
            major,
            minor,
            patch,
        },
    ))
}

/// The semver-compatible key of `name` (see [`alternate`]).
pub(crate) fn alternate_key(name: &str) -> Option<String> {
    alternate(name).map(|(key, _)| key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn semver_keys() {
        assert_eq!(alternate_key("a:b/c@1.2.3").as_deref(), Some("a:b/c@1"));
        assert_eq!(alternate_key("a:b/c@0.2.3").as_deref(), Some("a:b/c@0.2"));
        assert_eq!(
            alternate_key("a:b/c@0.2.3+build.5").as_deref(),
            Some("a:b/c@0.2")
        );
        assert_eq!(alternate_key("a:b/c@0.0.3"), None);
        assert_eq!(alternate_key("a:b/c@1.0.0-rc1"), None);
        assert_eq!(alternate_key("a:b/c@1.02.0"), None);
        assert_eq!(alternate_key("a:b/c@1.2"), None);
        assert_eq!(alternate_key("a:b/c"), None);
        assert_eq!(alternate_key("greet"), None);
    }

    #[test]
    fn compatible_lookup_keeps_the_highest_version() {
        let mut ns = Namespace::<()>::default();
        for name in ["w:c/env@0.2.1", "w:c/env@0.2.5", "w:c/env@0.2.3"] {
            ns.insert(name, Definition::Instance(Namespace::default()), false)
                .unwrap();
        }
        assert_eq!(ns.alternates["w:c/env@0.2"].1, "w:c/env@0.2.5");
        assert!(ns.get("w:c/env@0.2.0").is_some());
        assert!(ns.get("w:c/env@0.2.9").is_some());
        assert!(ns.get("w:c/env@0.3.0").is_none());
        assert!(ns.get("w:c/env@1.2.0").is_none());
        let err = ns
            .insert(
                "w:c/env@0.2.1",
                Definition::Instance(Namespace::default()),
                false,
            )
            .unwrap_err();
        assert!(err.to_string().contains("defined twice"), "{err}");
    }
}
