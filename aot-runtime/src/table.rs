//! [`Table`]: a table of references of a store.
//!
//! Elements are raw reference words (`*const VMFuncRef` or externref handle, 0 for null) in a
//! store-owned `Vec<usize>`; compiled code reaches them through the table's
//! `VMTableDefinition { base, current_elements }`, updated whenever the vector grows.

use crate::artifact;
use crate::error::{Error, Result};
use crate::prelude::*;
use crate::store::{AsContext, AsContextMut, StoreId, StoreOpaque};
use crate::types::{TableType, ValType};
use crate::values::Ref;
use crate::vm::{OwnedDef, VMTableDefinition, VmPtr};

/// Largest number of elements a table may grow to in this runtime (80 MiB of references); the
/// spec lets `table.grow` fail for any reason, and this keeps a runaway guest from exhausting
/// host memory.
pub(crate) const MAX_TABLE_ELEMENTS: u64 = 10_000_000;

/// A table of references.
///
/// A small handle into the store that created it; using it with another store panics.
#[derive(Copy, Clone, Debug)]
pub struct Table {
    pub(crate) store: StoreId,
    pub(crate) index: u32,
}

/// What the store knows about one table.
pub(crate) struct TableData {
    pub(crate) ty: artifact::TableType,
    pub(crate) elements: Vec<usize>,
    /// The definition compiled code reads.
    pub(crate) def: VmPtr<VMTableDefinition>,
    /// Storage of `def` for a table the host created (`None`: it is in a VM context).
    _owned: Option<OwnedDef<VMTableDefinition>>,
}

impl TableData {
    /// A table of type `ty` filled with `init`, whose definition lives at `def` (a VM context
    /// slot) or in a store-owned box when `def` is `None`.
    pub(crate) fn new(
        ty: artifact::TableType,
        init: usize,
        def: Option<VmPtr<VMTableDefinition>>,
    ) -> Result<Self> {
        if !ty.element.is_ref() {
            return Err(Error::msg(format!(
                "table element type must be a reference type, not {}",
                ty.element
            )));
        }
        if ty.limits.max.is_some_and(|m| m < ty.limits.min) {
            return Err(Error::msg("table minimum size is larger than its maximum"));
        }
        if ty.limits.min > MAX_TABLE_ELEMENTS {
            return Err(Error::msg(format!(
                "table of {} elements is larger than this runtime's limit of {MAX_TABLE_ELEMENTS}",
                ty.limits.min
            )));
        }
        let (def, owned) = match def {
            Some(d) => (d, None),
            None => {
                let owned = OwnedDef::new(VMTableDefinition::default());
                (owned.ptr(), Some(owned))
            }
        };
        let mut table = Self {
            ty,
            elements: vec![init; ty.limits.min as usize],
            def,
            _owned: owned,
        };
        table.publish();
        Ok(table)
    }

    /// Writes the current base and length into the definition compiled code reads.
    fn publish(&mut self) {
        self.def.set(VMTableDefinition {
            base: self.elements.as_mut_ptr() as usize,
            current_elements: self.elements.len(),
        });
    }

    /// Grows by `delta` elements set to `init` (spec `table.grow`): the old size, or `None` past
    /// the maximum.
    pub(crate) fn grow(&mut self, delta: u64, init: usize) -> Option<u64> {
        let old = self.elements.len() as u64;
        let new = old.checked_add(delta)?;
        let max = self.ty.limits.max.unwrap_or(u64::from(u32::MAX));
        if new > max || new > MAX_TABLE_ELEMENTS {
            return None;
        }
        self.elements.resize(new as usize, init);
        self.publish();
        Some(old)
    }

    /// The type with the current size as minimum (what import matching compares).
    pub(crate) fn current_type(&self) -> artifact::TableType {
        let mut ty = self.ty;
        ty.limits.min = self.elements.len() as u64;
        ty
    }
}

impl StoreOpaque {
    /// The raw word of `r`, checking its type against `ty` and its store.
    pub(crate) fn ref_to_raw(&mut self, r: Ref, ty: ValType) -> Result<usize> {
        if r.ty() != ty {
            return Err(Error::msg(format!(
                "type mismatch: expected {ty} reference, found {}",
                r.ty()
            )));
        }
        match r {
            Ref::Func(f) => self.func_to_raw(f),
            Ref::Extern(e) => self.externref_to_raw(e),
        }
    }

    /// The reference of type `ty` in raw word `raw`.
    pub(crate) fn raw_to_ref(&mut self, raw: usize, ty: ValType) -> Ref {
        match ty {
            ValType::ExternRef => Ref::Extern(self.raw_to_externref(raw)),
            _ => Ref::Func(self.raw_to_func(raw)),
        }
    }

    pub(crate) fn push_table(&mut self, data: TableData) -> Table {
        let index = self.tables.len() as u32;
        self.tables.push(data);
        Table {
            store: self.id,
            index,
        }
    }
}

impl Table {
    /// A new table of type `ty` with every element set to `init`.
    ///
    /// # Errors
    /// If `init` does not match the element type or belongs to another store, the limits are
    /// invalid, or the store's [`crate::ResourceLimiter`] refuses the table.
    pub fn new(mut store: impl AsContextMut, ty: TableType, init: Ref) -> Result<Table> {
        crate::limits::check_host_table(store.as_context_mut().0, &ty.inner)?;
        let store = &mut store.as_context_mut().0.opaque;
        let raw = store.ref_to_raw(init, ty.element())?;
        let data = TableData::new(ty.inner, raw, None)?;
        Ok(store.push_table(data))
    }

    fn data_of<'s>(&self, store: &'s StoreOpaque) -> &'s TableData {
        store.check(self.store);
        &store.tables[self.index as usize]
    }

    /// The table's type, with its current size as minimum.
    ///
    /// # Panics
    /// If `store` is not the store that created the table.
    pub fn ty(&self, store: impl AsContext) -> TableType {
        TableType::from_artifact(self.data_of(&store.as_context().0.opaque).current_type())
    }

    /// Current number of elements.
    ///
    /// # Panics
    /// If `store` is not the store that created the table.
    pub fn size(&self, store: impl AsContext) -> u64 {
        self.data_of(&store.as_context().0.opaque).elements.len() as u64
    }

    /// Element `index`, or `None` if out of bounds.
    ///
    /// # Panics
    /// If `store` is not the store that created the table.
    pub fn get(&self, mut store: impl AsContextMut, index: u64) -> Option<Ref> {
        let store = &mut store.as_context_mut().0.opaque;
        let table = self.data_of(store);
        let ty = table.ty.element;
        let raw = *table.elements.get(usize::try_from(index).ok()?)?;
        Some(store.raw_to_ref(raw, ty))
    }

    /// Sets element `index` to `value`.
    ///
    /// # Errors
    /// If `index` is out of bounds, or `value` has the wrong type or belongs to another store.
    ///
    /// # Panics
    /// If `store` is not the store that created the table.
    pub fn set(&self, mut store: impl AsContextMut, index: u64, value: Ref) -> Result<()> {
        let store = &mut store.as_context_mut().0.opaque;
        let ty = self.data_of(store).ty.element;
        let raw = store.ref_to_raw(value, ty)?;
        let slot = usize::try_from(index)
            .ok()
            .and_then(|i| store.tables[self.index as usize].elements.get_mut(i))
            .ok_or_else(|| Error::msg(format!("table index {index} out of bounds")))?;
        *slot = raw;
        Ok(())
    }

    /// Grows the table by `delta` elements set to `init` and returns the old size.
    ///
    /// # Errors
    /// If the new size would exceed the table's maximum (or this runtime's limit), the store's
    /// [`crate::ResourceLimiter`] refuses it (its error, if it returned one), or `init` has the
    /// wrong type or belongs to another store.
    ///
    /// # Panics
    /// If `store` is not the store that created the table.
    pub fn grow(&self, mut store: impl AsContextMut, delta: u64, init: Ref) -> Result<u64> {
        store.as_context_mut().0.with_limiter(|store, limiter| {
            let ty = self.data_of(store).ty.element;
            let raw = store.ref_to_raw(init, ty)?;
            store.tables[self.index as usize]
                .grow_limited(delta, raw, limiter)?
                .ok_or_else(|| Error::msg(format!("failed to grow table by {delta} elements")))
        })
    }
}
