//! [`Global`]: a global variable of a store.
//!
//! The value lives in a 16-byte `VMGlobal` slot (value little-endian at offset 0) that compiled
//! code reads and writes directly: in the defining instance's VM context, or in a store-owned box
//! for a global the host created.

use crate::artifact;
use crate::error::{Error, Result};
use crate::prelude::*;
use crate::store::{AsContext, AsContextMut, StoreId, StoreOpaque};
use crate::types::GlobalType;
use crate::values::{Val, ValRaw};
use crate::vm::{OwnedDef, VMGlobal, VmPtr};

/// A global variable.
///
/// A small handle into the store that created it; using it with another store panics.
#[derive(Copy, Clone, Debug)]
pub struct Global {
    pub(crate) store: StoreId,
    pub(crate) index: u32,
}

/// What the store knows about one global.
pub(crate) struct GlobalData {
    pub(crate) ty: artifact::GlobalType,
    /// The slot compiled code reads.
    pub(crate) def: VmPtr<VMGlobal>,
    /// Storage of `def` for a global the host created (`None`: it is in a VM context).
    _owned: Option<OwnedDef<VMGlobal>>,
}

impl GlobalData {
    /// A global whose slot is `def` (a VM context slot), or a store-owned box when `None`.
    pub(crate) fn new(ty: artifact::GlobalType, raw: ValRaw, def: Option<VmPtr<VMGlobal>>) -> Self {
        let (def, owned) = match def {
            Some(d) => (d, None),
            None => {
                let owned = OwnedDef::new(VMGlobal::default());
                (owned.ptr(), Some(owned))
            }
        };
        def.set(VMGlobal::from_raw(raw));
        Self {
            ty,
            def,
            _owned: owned,
        }
    }

    pub(crate) fn get_raw(&self) -> ValRaw {
        self.def.get().to_raw()
    }
}

impl StoreOpaque {
    pub(crate) fn push_global(&mut self, data: GlobalData) -> Global {
        let index = self.globals.len() as u32;
        self.globals.push(data);
        Global {
            store: self.id,
            index,
        }
    }
}

impl Global {
    /// A new global of type `ty` holding `val`.
    ///
    /// # Errors
    /// If `val` does not have the global's content type, or is a reference from another store.
    pub fn new(mut store: impl AsContextMut, ty: GlobalType, val: Val) -> Result<Global> {
        let store = &mut store.as_context_mut().0.opaque;
        if val.ty() != ty.content() {
            return Err(Error::msg(format!(
                "global of type {} cannot hold a value of type {}",
                ty.content(),
                val.ty()
            )));
        }
        let raw = store.val_to_raw(&val)?;
        Ok(store.push_global(GlobalData::new(ty.inner, raw, None)))
    }

    fn data_of<'s>(&self, store: &'s StoreOpaque) -> &'s GlobalData {
        store.check(self.store);
        &store.globals[self.index as usize]
    }

    /// The global's type.
    ///
    /// # Panics
    /// If `store` is not the store that created the global.
    pub fn ty(&self, store: impl AsContext) -> GlobalType {
        GlobalType::from_artifact(self.data_of(&store.as_context().0.opaque).ty)
    }

    /// The current value.
    ///
    /// # Panics
    /// If `store` is not the store that created the global.
    pub fn get(&self, mut store: impl AsContextMut) -> Val {
        let store = &mut store.as_context_mut().0.opaque;
        let g = self.data_of(store);
        let (raw, ty) = (g.get_raw(), g.ty.content);
        store.raw_to_val(raw, ty)
    }

    /// Sets the value.
    ///
    /// # Errors
    /// If the global is immutable, `val` has another type, or is a reference from another store.
    ///
    /// # Panics
    /// If `store` is not the store that created the global.
    pub fn set(&self, mut store: impl AsContextMut, val: Val) -> Result<()> {
        let store = &mut store.as_context_mut().0.opaque;
        let ty = self.data_of(store).ty;
        if !ty.mutable {
            return Err(Error::msg("immutable global cannot be set"));
        }
        if val.ty() != ty.content {
            return Err(Error::msg(format!(
                "global of type {} cannot hold a value of type {}",
                ty.content,
                val.ty()
            )));
        }
        let raw = store.val_to_raw(&val)?;
        self.data_of(store).def.set(VMGlobal::from_raw(raw));
        Ok(())
    }
}
