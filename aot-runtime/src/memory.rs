//! [`Memory`]: a linear memory of a store, as the host sees it.
//!
//! The bytes live in a `vm::LinearMemory` (a fixed reservation whose base never moves); what
//! compiled code reads is the memory's `VMMemoryDefinition { base, current_length }`, which lives
//! in the defining instance's VM context (or in the store for a host-created memory) and is
//! updated on every grow, whoever grows it.

use crate::artifact::{self, format::WASM_PAGE_SIZE, format::WASM32_MAX_PAGES};
use crate::error::{Error, Result};
use crate::prelude::*;
use crate::store::{AsContext, AsContextMut, StoreContext, StoreContextMut, StoreId, StoreOpaque};
use crate::types::MemoryType;
use crate::vm::{LinearMemory, MemoryImage, OwnedDef, VMMemoryDefinition, VmPtr};
use core::fmt;

/// A linear memory.
///
/// A small handle into the store that created it; using it with another store panics.
#[derive(Copy, Clone, Debug)]
pub struct Memory {
    pub(crate) store: StoreId,
    pub(crate) index: u32,
}

/// What the store knows about one memory.
pub(crate) struct MemoryData {
    pub(crate) ty: artifact::MemoryType,
    pub(crate) mem: LinearMemory,
    /// The definition compiled code reads.
    pub(crate) def: VmPtr<VMMemoryDefinition>,
    /// Storage of `def` for a memory the host created (`None`: it is in a VM context).
    _owned: Option<OwnedDef<VMMemoryDefinition>>,
}

/// An access outside the bounds of a memory, from [`Memory::read`] or [`Memory::write`].
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct MemoryAccessError {
    _private: (),
}

impl fmt::Display for MemoryAccessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("out of bounds memory access")
    }
}

impl core::error::Error for MemoryAccessError {}

/// Checks the limits of a memory type this runtime can create.
pub(crate) fn check_memory_type(ty: &artifact::MemoryType) -> Result<()> {
    let l = ty.limits;
    if l.min > WASM32_MAX_PAGES || l.max.is_some_and(|m| m > WASM32_MAX_PAGES) {
        return Err(Error::msg(format!(
            "memory size must be at most {WASM32_MAX_PAGES} pages (4 GiB)"
        )));
    }
    if l.max.is_some_and(|m| m < l.min) {
        return Err(Error::msg("memory minimum size is larger than its maximum"));
    }
    Ok(())
}

impl MemoryData {
    /// A new memory of type `ty` whose definition lives at `def` (a VM context slot), or in a
    /// store-owned box when `def` is `None`. With an `image` (the memory image its instance
    /// will map), a released memory already holding that image is preferred (see
    /// `LinearMemory::with_image_hint`).
    pub(crate) fn new(
        ty: artifact::MemoryType,
        def: Option<VmPtr<VMMemoryDefinition>>,
        image: Option<&MemoryImage>,
    ) -> Result<Self> {
        check_memory_type(&ty)?;
        let mem = LinearMemory::with_image_hint(ty.limits.min, image)?;
        let (def, owned) = match def {
            Some(d) => (d, None),
            None => {
                let owned = OwnedDef::new(VMMemoryDefinition::default());
                (owned.ptr(), Some(owned))
            }
        };
        def.set(VMMemoryDefinition {
            base: mem.base(),
            current_length: mem.byte_size(),
        });
        Ok(Self {
            ty,
            mem,
            def,
            _owned: owned,
        })
    }

    /// Current size in pages.
    pub(crate) fn pages(&self) -> u64 {
        self.mem.byte_size() as u64 / WASM_PAGE_SIZE
    }

    /// Grows by `delta` pages (spec `memory.grow`): the old size, or `None` past the maximum.
    pub(crate) fn grow(&mut self, delta: u64) -> Option<u64> {
        let old = self.pages();
        let max = self
            .ty
            .limits
            .max
            .unwrap_or(WASM32_MAX_PAGES)
            .min(WASM32_MAX_PAGES);
        let new = old.checked_add(delta)?;
        if new > max {
            return None;
        }
        self.mem.grow_to(new).ok()?;
        self.def.set(VMMemoryDefinition {
            base: self.mem.base(),
            current_length: self.mem.byte_size(),
        });
        Some(old)
    }

    /// The type with the current size as minimum (what import matching compares).
    pub(crate) fn current_type(&self) -> artifact::MemoryType {
        let mut ty = self.ty;
        ty.limits.min = self.pages();
        ty
    }
}

impl Memory {
    /// A new memory of type `ty`, zero-filled.
    ///
    /// # Errors
    /// If the limits are invalid (more than 65536 pages, minimum above maximum), the store's
    /// [`crate::ResourceLimiter`] refuses the memory, or the address space cannot be reserved.
    pub fn new(mut store: impl AsContextMut, ty: MemoryType) -> Result<Memory> {
        crate::limits::check_host_memory(store.as_context_mut().0, &ty.inner)?;
        let store = &mut store.as_context_mut().0.opaque;
        let data = MemoryData::new(ty.inner, None, None)?;
        Ok(store.push_memory(data))
    }

    fn data_of<'s>(&self, store: &'s StoreOpaque) -> &'s MemoryData {
        store.check(self.store);
        &store.memories[self.index as usize]
    }

    /// The memory's type, with its current size as minimum.
    ///
    /// # Panics
    /// If `store` is not the store that created the memory.
    pub fn ty(&self, store: impl AsContext) -> MemoryType {
        MemoryType::from_artifact(self.data_of(&store.as_context().0.opaque).current_type())
    }

    /// Current size in pages.
    ///
    /// # Panics
    /// If `store` is not the store that created the memory.
    pub fn size(&self, store: impl AsContext) -> u64 {
        self.data_of(&store.as_context().0.opaque).pages()
    }

    /// Current size in bytes.
    ///
    /// # Panics
    /// If `store` is not the store that created the memory.
    pub fn data_size(&self, store: impl AsContext) -> usize {
        self.data_of(&store.as_context().0.opaque).mem.byte_size()
    }

    /// The memory's bytes.
    ///
    /// # Panics
    /// If `store` is not the store that created the memory.
    pub fn data<'a, T: 'a>(&self, store: impl Into<StoreContext<'a, T>>) -> &'a [u8] {
        let store = &store.into().0.opaque;
        self.data_of(store).mem.as_slice()
    }

    /// The memory's bytes, mutably.
    ///
    /// # Panics
    /// If `store` is not the store that created the memory.
    pub fn data_mut<'a, T: 'a>(&self, store: impl Into<StoreContextMut<'a, T>>) -> &'a mut [u8] {
        let store = &mut store.into().0.opaque;
        store.check(self.store);
        store.memories[self.index as usize].mem.as_mut_slice()
    }

    /// Copies `buf.len()` bytes at `offset` into `buf`.
    ///
    /// # Errors
    /// If the range is out of bounds; nothing is copied then.
    ///
    /// # Panics
    /// If `store` is not the store that created the memory.
    pub fn read(
        &self,
        store: impl AsContext,
        offset: usize,
        buf: &mut [u8],
    ) -> Result<(), MemoryAccessError> {
        let data = self.data_of(&store.as_context().0.opaque).mem.as_slice();
        let src = offset
            .checked_add(buf.len())
            .and_then(|end| data.get(offset..end))
            .ok_or(MemoryAccessError { _private: () })?;
        buf.copy_from_slice(src);
        Ok(())
    }

    /// Copies `buf` into the memory at `offset`.
    ///
    /// # Errors
    /// If the range is out of bounds; nothing is written then.
    ///
    /// # Panics
    /// If `store` is not the store that created the memory.
    pub fn write(
        &self,
        mut store: impl AsContextMut,
        offset: usize,
        buf: &[u8],
    ) -> Result<(), MemoryAccessError> {
        let store = &mut store.as_context_mut().0.opaque;
        store.check(self.store);
        let data = store.memories[self.index as usize].mem.as_mut_slice();
        let dst = offset
            .checked_add(buf.len())
            .and_then(|end| data.get_mut(offset..end))
            .ok_or(MemoryAccessError { _private: () })?;
        dst.copy_from_slice(buf);
        Ok(())
    }

    /// Grows the memory by `delta_pages` zero-filled pages and returns the old size in pages.
    ///
    /// # Errors
    /// If the new size would exceed the memory's maximum (or 65536 pages), or the store's
    /// [`crate::ResourceLimiter`] refuses it (its error, if it returned one).
    ///
    /// # Panics
    /// If `store` is not the store that created the memory.
    pub fn grow(&self, mut store: impl AsContextMut, delta_pages: u64) -> Result<u64> {
        store.as_context_mut().0.with_limiter(|store, limiter| {
            store.check(self.store);
            store.memories[self.index as usize]
                .grow_limited(delta_pages, limiter)?
                .ok_or_else(|| Error::msg(format!("failed to grow memory by {delta_pages} pages")))
        })
    }
}

impl StoreOpaque {
    pub(crate) fn push_memory(&mut self, data: MemoryData) -> Memory {
        let index = self.memories.len() as u32;
        self.memories.push(data);
        Memory {
            store: self.id,
            index,
        }
    }
}
