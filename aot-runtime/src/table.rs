//! [`Table`]: a table of references of a store.
//!
//! Elements are reference words in a store-owned `Vec<usize>`; compiled code reaches them through
//! the table's `VMTableDefinition { base, current_elements }`, updated whenever the vector grows.
//! An externref table holds externref handles (0 for null). A funcref table holds
//! `*const VMFuncRef | FUNCREF_INIT_BIT` (the bit alone for null), or 0 for a slot not yet
//! initialized: a new funcref table of null elements is all zeros (no fill), and a slot is
//! written on its first read, from the [`TableImage`] of the instance that defined the table when
//! it has one, or null. Everything outside this module and the table builtins sees untagged
//! words (`*const VMFuncRef`, 0 for null).
//!
//! [`TableImage`]: crate::artifact::module::TableImage

use crate::artifact;
use crate::artifact::ValType as RawValType;
use crate::artifact::builtins::FUNCREF_INIT_BIT;
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
    /// The stored words (tagged for a funcref table; see the module docs). Read them through
    /// [`StoreOpaque::table_get`], which fills uninitialized slots.
    pub(crate) elements: Vec<usize>,
    /// The instance whose module's image of its defined table `.1` fills this table's
    /// uninitialized slots (`None`: they are null).
    pub(crate) image: Option<(u32, u32)>,
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
            elements: Vec::new(),
            image: None,
            def,
            _owned: owned,
        };
        // A funcref table of nulls starts uninitialized: zeroed memory, which the allocator may
        // hand out without writing it.
        let word = if table.is_funcref() && init == 0 {
            0
        } else {
            table.encode(init)
        };
        table.elements = vec![word; ty.limits.min as usize];
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

    fn is_funcref(&self) -> bool {
        self.ty.element == RawValType::FuncRef
    }

    /// The stored word of the untagged reference `raw`.
    pub(crate) fn encode(&self, raw: usize) -> usize {
        if self.is_funcref() {
            raw | FUNCREF_INIT_BIT
        } else {
            raw
        }
    }

    /// The untagged reference of an initialized stored word.
    fn decode(&self, word: usize) -> usize {
        if self.is_funcref() {
            word & !FUNCREF_INIT_BIT
        } else {
            word
        }
    }

    /// Sets `range` to the untagged reference `raw` (spec `table.fill`); `false`, changing
    /// nothing, when the range is out of bounds.
    pub(crate) fn fill(&mut self, start: u32, len: u32, raw: usize) -> bool {
        let word = self.encode(raw);
        match in_bounds(start, len, self.elements.len()) {
            Some(r) => {
                self.elements[r].fill(word);
                true
            }
            None => false,
        }
    }

    /// Grows by `delta` elements set to the untagged reference `init` (spec `table.grow`): the
    /// old size, or `None` past the maximum.
    pub(crate) fn grow(&mut self, delta: u64, init: usize) -> Option<u64> {
        let init = self.encode(init);
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

/// `start..start + len` if it ends at most at `size`.
pub(crate) fn in_bounds(start: u32, len: u32, size: usize) -> Option<core::ops::Range<usize>> {
    let end = u64::from(start) + u64::from(len);
    (end <= size as u64).then_some(start as usize..end as usize)
}

impl StoreOpaque {
    /// Element `index` of table `table` (an index into `self.tables`) as an untagged reference,
    /// filling the slot first if it is uninitialized; `None` when out of bounds.
    pub(crate) fn table_get(&mut self, table: usize, index: usize) -> Option<usize> {
        let t = &self.tables[table];
        let word = *t.elements.get(index)?;
        if word != 0 || !t.is_funcref() {
            return Some(t.decode(word));
        }
        let raw = self.table_image_ref(table, index);
        self.tables[table].elements[index] = raw | FUNCREF_INIT_BIT;
        Some(raw)
    }

    /// What an uninitialized slot of a funcref table holds: the reference its image names
    /// (building the function's `VMFuncRef` if needed), or null.
    fn table_image_ref(&self, table: usize, index: usize) -> usize {
        let Some((instance, defined)) = self.tables[table].image else {
            return 0;
        };
        let inst = &self.instances[instance as usize];
        let image = &inst.module.info().table_images[defined as usize].0;
        match image.get(index).copied().flatten() {
            Some(f) => inst.func_ref_addr(f),
            None => 0,
        }
    }

    /// Initializes every uninitialized slot in `range` of table `table` (before its words are
    /// copied elsewhere, where the image would no longer apply).
    pub(crate) fn table_initialize(&mut self, table: usize, range: core::ops::Range<usize>) {
        if !self.tables[table].is_funcref() {
            return;
        }
        for i in range {
            if self.tables[table].elements.get(i) == Some(&0) {
                self.table_get(table, i);
            }
        }
    }

    /// Makes table `table` read its uninitialized slots from the image of defined table `defined`
    /// of `instance` (at instantiation, when the module has one).
    pub(crate) fn set_table_image(&mut self, table: usize, instance: u32, defined: u32) {
        self.tables[table].image = Some((instance, defined));
    }

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
        let ty = self.data_of(store).ty.element;
        let raw = store.table_get(self.index as usize, usize::try_from(index).ok()?)?;
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
        let table = &mut store.tables[self.index as usize];
        let word = table.encode(raw);
        let slot = usize::try_from(index)
            .ok()
            .and_then(|i| table.elements.get_mut(i))
            .ok_or_else(|| Error::msg(format!("table index {index} out of bounds")))?;
        *slot = word;
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
