//! [`ExternRef`]: an opaque host value that wasm can hold and pass around as `externref`.
//!
//! The value is owned by the store and lives as long as the store (this runtime has no garbage
//! collector). Compiled code sees a non-zero pointer-sized handle: the value's index plus one.

use crate::error::{Error, Result};
use crate::prelude::*;
use crate::store::{AsContextMut, StoreContext, StoreId, StoreOpaque};
use core::any::Any;

/// A reference to a host value, usable as a wasm `externref`.
///
/// A small handle into the store that created it; using it with another store panics.
#[derive(Copy, Clone, Debug)]
pub struct ExternRef {
    store: StoreId,
    index: u32,
}

impl ExternRef {
    /// Moves `data` into the store and returns a reference to it.
    pub fn new<T: Any + Send + Sync>(mut store: impl AsContextMut, data: T) -> ExternRef {
        let store = &mut store.as_context_mut().0.opaque;
        let index = store.externrefs.len() as u32;
        store.externrefs.push(Box::new(data));
        ExternRef {
            store: store.id,
            index,
        }
    }

    /// The host value.
    ///
    /// # Panics
    /// If `store` is not the store that created the reference.
    pub fn data<'a, U: 'a>(
        &self,
        store: impl Into<StoreContext<'a, U>>,
    ) -> &'a (dyn Any + Send + Sync) {
        let store = &store.into().0.opaque;
        store.check(self.store);
        &*store.externrefs[self.index as usize]
    }
}

impl StoreOpaque {
    /// The externref value of `r` (0 for null).
    ///
    /// # Errors
    /// If `r` belongs to another store.
    pub(crate) fn externref_to_raw(&self, r: Option<ExternRef>) -> Result<usize> {
        match r {
            None => Ok(0),
            Some(r) if r.store != self.id => {
                Err(Error::msg("externref argument belongs to another store"))
            }
            Some(r) => Ok(r.index as usize + 1),
        }
    }

    /// The externref whose handle is `raw` (0 for null). Wasm can only hold handles the store
    /// gave out, so an unknown handle cannot occur; it reads as null rather than panicking.
    pub(crate) fn raw_to_externref(&self, raw: usize) -> Option<ExternRef> {
        let index = raw.checked_sub(1)?;
        (index < self.externrefs.len()).then_some(ExternRef {
            store: self.id,
            index: index as u32,
        })
    }
}
