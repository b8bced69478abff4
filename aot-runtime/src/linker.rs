//! [`Linker`]: resolves a module's imports by `(module, name)` and instantiates it.
//!
//! Definitions are either items of a store (`define`, `instance`) or host functions
//! (`func_wrap`, `func_new`), which belong to no store until an instantiation puts them into one.

use crate::error::{Error, LinkError, Result};
use crate::externals::Extern;
use crate::func::{Caller, Func, HostFunc, IntoFunc};
use crate::instance::Instance;
use crate::module::Module;
use crate::prelude::*;
use crate::store::{AsContext, AsContextMut, StoreOpaque};
use crate::types::FuncType;
use crate::values::Val;

/// Names items for import resolution and instantiates modules with them.
pub struct Linker<T> {
    /// The definitions, sorted by `(module, name)` (a sorted `Vec` rather than a hash map:
    /// lookups are a binary search, and there is no hashing code to carry per `T`).
    defs: Vec<(String, String, Definition<T>)>,
    allow_shadowing: bool,
}

enum Definition<T> {
    Extern(Extern),
    Host(Arc<HostFunc<T>>),
}

impl<T> Clone for Definition<T> {
    fn clone(&self) -> Self {
        match self {
            Definition::Extern(e) => Definition::Extern(*e),
            Definition::Host(h) => Definition::Host(h.clone()),
        }
    }
}

impl<T> Clone for Linker<T> {
    fn clone(&self) -> Self {
        Self {
            defs: self.defs.clone(),
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
            defs: Vec::new(),
            allow_shadowing: false,
        }
    }

    /// Whether a later definition of the same `(module, name)` replaces the earlier one (default
    /// `false`: it is an error).
    pub fn allow_shadowing(&mut self, allow: bool) -> &mut Self {
        self.allow_shadowing = allow;
        self
    }

    /// Where `(module, name)` is in `defs`, or where it would go.
    fn find(&self, module: &str, name: &str) -> Result<usize, usize> {
        self.defs
            .binary_search_by(|(m, n, _)| (m.as_str(), n.as_str()).cmp(&(module, name)))
    }

    fn insert(&mut self, module: &str, name: &str, def: Definition<T>) -> Result<&mut Self> {
        match self.find(module, name) {
            Ok(_) if !self.allow_shadowing => Err(LinkError::redefined(module, name).into()),
            Ok(i) => {
                self.defs[i].2 = def;
                Ok(self)
            }
            Err(i) => {
                self.defs.insert(i, (module.into(), name.into(), def));
                Ok(self)
            }
        }
    }

    /// Defines `module::name` as a host function from a Rust closure (see [`IntoFunc`]).
    ///
    /// # Errors
    /// If the name is already defined and shadowing is not allowed.
    pub fn func_wrap<Params, Args>(
        &mut self,
        module: &str,
        name: &str,
        func: impl IntoFunc<T, Params, Args>,
    ) -> Result<&mut Self> {
        self.insert(
            module,
            name,
            Definition::Host(Arc::new(func.into_host_func())),
        )
    }

    /// Defines `module::name` as a host function of type `ty` over [`Val`]s.
    ///
    /// # Errors
    /// If the name is already defined and shadowing is not allowed.
    pub fn func_new(
        &mut self,
        module: &str,
        name: &str,
        ty: FuncType,
        func: impl Fn(Caller<'_, T>, &[Val], &mut [Val]) -> Result<()> + Send + Sync + 'static,
    ) -> Result<&mut Self> {
        let host = HostFunc::new_dynamic(ty, func);
        self.insert(module, name, Definition::Host(Arc::new(host)))
    }

    /// Defines `module::name` as `item`, an item of `store`.
    ///
    /// # Errors
    /// If the name is already defined and shadowing is not allowed, or `item` belongs to another
    /// store.
    pub fn define(
        &mut self,
        store: impl AsContext<Data = T>,
        module: &str,
        name: &str,
        item: impl Into<Extern>,
    ) -> Result<&mut Self> {
        let item = item.into();
        if item.store_id() != store.as_context().0.opaque.id {
            return Err(LinkError::wrong_store("the item to define").into());
        }
        self.insert(module, name, Definition::Extern(item))
    }

    /// Defines every export of `instance` under the module name `module_name`.
    ///
    /// # Errors
    /// If a name is already defined and shadowing is not allowed.
    ///
    /// # Panics
    /// If `instance` belongs to another store.
    pub fn instance(
        &mut self,
        mut store: impl AsContextMut<Data = T>,
        module_name: &str,
        instance: Instance,
    ) -> Result<&mut Self> {
        let exports: Vec<(String, Extern)> = instance
            .exports(store.as_context_mut())
            .map(|e| (e.name().to_string(), e.into_extern()))
            .collect();
        for (name, ext) in exports {
            self.insert(module_name, &name, Definition::Extern(ext))?;
        }
        Ok(self)
    }

    fn resolve(&self, store: &mut StoreOpaque, module: &str, name: &str) -> Option<Extern> {
        match &self.defs[self.find(module, name).ok()?].2 {
            Definition::Extern(e) => Some(*e),
            Definition::Host(h) => Some(Extern::Func(Func::from_host(store, h.clone()))),
        }
    }

    /// The item defined as `module::name`, if any (a host function becomes a [`Func`] of
    /// `store`).
    pub fn get(
        &self,
        mut store: impl AsContextMut<Data = T>,
        module: &str,
        name: &str,
    ) -> Option<Extern> {
        self.resolve(&mut store.as_context_mut().0.opaque, module, name)
    }

    /// Instantiates `module`, resolving each import by its `(module, name)`.
    ///
    /// # Errors
    /// A [`LinkError`] naming the first import that is not defined or has the wrong type; any
    /// error of [`Instance::new`].
    pub fn instantiate(
        &self,
        mut store: impl AsContextMut<Data = T>,
        module: &Module,
    ) -> Result<Instance> {
        let cx = store.as_context_mut();
        let opaque = &mut cx.0.opaque;
        let mut imports = Vec::with_capacity(module.imports().len());
        for import in module.imports() {
            let ext = self
                .resolve(opaque, import.module(), import.name())
                .ok_or_else(|| Error::from(LinkError::unknown(import.module(), import.name())))?;
            imports.push(ext);
        }
        Instance::new(cx, module, &imports)
    }
}
