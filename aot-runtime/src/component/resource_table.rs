//! [`ResourceTable`]: where a host keeps the values behind its [`Resource<T>`] handles.
//!
//! A slab of boxed values indexed by the handle's representation, with a free list, and a
//! parent/child relation: a child (say, a stream opened from a file) must be deleted before its
//! parent, which [`ResourceTable::delete`] enforces (`HasChildren`). A handle of the wrong Rust
//! type, or of a deleted entry, is an error, never another value.

use super::host::Resource;
use crate::prelude::*;
use core::any::Any;
use core::fmt;
use std::collections::BTreeSet;

/// The values behind a host's [`Resource<T>`] handles, of any types.
#[derive(Default)]
pub struct ResourceTable {
    entries: Vec<Entry>,
    /// The first free entry, if any; free entries chain through [`Entry::Free`].
    free: Option<u32>,
    /// How many entries are occupied.
    len: usize,
}

enum Entry {
    Free {
        next: Option<u32>,
    },
    Occupied {
        value: Box<dyn Any + Send>,
        parent: Option<u32>,
        children: BTreeSet<u32>,
    },
}

/// Why a [`ResourceTable`] operation failed.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ResourceTableError {
    /// The table holds `u32::MAX` entries.
    Full,
    /// The handle names no entry (never created, or deleted).
    NotPresent,
    /// The entry holds a value of another type than the handle's.
    WrongType,
    /// The entry still has children, which must be deleted first.
    HasChildren,
}

impl fmt::Display for ResourceTableError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Full => "resource table is full",
            Self::NotPresent => "resource not present in the table",
            Self::WrongType => "resource in the table has another type than its handle",
            Self::HasChildren => "resource has children that must be dropped first",
        })
    }
}

impl core::error::Error for ResourceTableError {}

impl From<ResourceTableError> for crate::Error {
    fn from(err: ResourceTableError) -> Self {
        crate::Error::new(err)
    }
}

impl fmt::Debug for ResourceTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResourceTable")
            .field("len", &self.len)
            .finish_non_exhaustive()
    }
}

impl ResourceTable {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many values the table holds.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the table holds no value.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Adds `value`, returning an own handle to it.
    ///
    /// # Errors
    /// `Full` when no index is left.
    pub fn push<T: Send + 'static>(&mut self, value: T) -> Result<Resource<T>, ResourceTableError> {
        self.insert(Box::new(value), None).map(Resource::new_own)
    }

    /// Adds `value` as a child of `parent`, which cannot be deleted while the child exists.
    ///
    /// # Errors
    /// `NotPresent` if `parent` names no entry, `Full` when no index is left.
    pub fn push_child<T: Send + 'static, U: 'static>(
        &mut self,
        value: T,
        parent: &Resource<U>,
    ) -> Result<Resource<T>, ResourceTableError> {
        self.occupied(parent.rep())?;
        let rep = self.insert(Box::new(value), Some(parent.rep()))?;
        if let Some(Entry::Occupied { children, .. }) = self.entries.get_mut(parent.rep() as usize)
        {
            children.insert(rep);
        }
        Ok(Resource::new_own(rep))
    }

    /// The value behind `handle`.
    ///
    /// # Errors
    /// `NotPresent` or `WrongType`.
    pub fn get<T: 'static>(&self, handle: &Resource<T>) -> Result<&T, ResourceTableError> {
        match self.entries.get(handle.rep() as usize) {
            Some(Entry::Occupied { value, .. }) => value
                .downcast_ref::<T>()
                .ok_or(ResourceTableError::WrongType),
            _ => Err(ResourceTableError::NotPresent),
        }
    }

    /// The value behind `handle`, mutably.
    ///
    /// # Errors
    /// `NotPresent` or `WrongType`.
    pub fn get_mut<T: 'static>(
        &mut self,
        handle: &Resource<T>,
    ) -> Result<&mut T, ResourceTableError> {
        match self.entries.get_mut(handle.rep() as usize) {
            Some(Entry::Occupied { value, .. }) => value
                .downcast_mut::<T>()
                .ok_or(ResourceTableError::WrongType),
            _ => Err(ResourceTableError::NotPresent),
        }
    }

    /// Removes the value behind `handle` and returns it.
    ///
    /// # Errors
    /// `NotPresent`, `WrongType`, or `HasChildren` while children of it remain.
    pub fn delete<T: 'static>(&mut self, handle: Resource<T>) -> Result<T, ResourceTableError> {
        let rep = handle.rep();
        match self.occupied(rep)? {
            Entry::Occupied {
                value, children, ..
            } => {
                if !value.is::<T>() {
                    return Err(ResourceTableError::WrongType);
                }
                if !children.is_empty() {
                    return Err(ResourceTableError::HasChildren);
                }
            }
            Entry::Free { .. } => return Err(ResourceTableError::NotPresent),
        }
        let entry = core::mem::replace(
            &mut self.entries[rep as usize],
            Entry::Free { next: self.free },
        );
        self.free = Some(rep);
        self.len -= 1;
        let Entry::Occupied { value, parent, .. } = entry else {
            return Err(ResourceTableError::NotPresent);
        };
        if let Some(Entry::Occupied { children, .. }) =
            parent.and_then(|p| self.entries.get_mut(p as usize))
        {
            children.remove(&rep);
        }
        value
            .downcast::<T>()
            .map(|value| *value)
            .map_err(|_| ResourceTableError::WrongType)
    }

    /// The children of `parent`, as values of any type.
    ///
    /// # Errors
    /// `NotPresent` if `parent` names no entry.
    pub fn iter_children<T: 'static>(
        &self,
        parent: &Resource<T>,
    ) -> Result<impl Iterator<Item = &(dyn Any + Send)>, ResourceTableError> {
        let Entry::Occupied { children, .. } = self.occupied(parent.rep())? else {
            return Err(ResourceTableError::NotPresent);
        };
        Ok(children
            .iter()
            .filter_map(|child| match self.entries.get(*child as usize) {
                Some(Entry::Occupied { value, .. }) => Some(&**value),
                _ => None,
            }))
    }

    fn occupied(&self, rep: u32) -> Result<&Entry, ResourceTableError> {
        match self.entries.get(rep as usize) {
            Some(entry @ Entry::Occupied { .. }) => Ok(entry),
            _ => Err(ResourceTableError::NotPresent),
        }
    }

    fn insert(
        &mut self,
        value: Box<dyn Any + Send>,
        parent: Option<u32>,
    ) -> Result<u32, ResourceTableError> {
        let entry = Entry::Occupied {
            value,
            parent,
            children: BTreeSet::new(),
        };
        let rep = match self.free {
            Some(rep) => {
                let Entry::Free { next } = self.entries[rep as usize] else {
                    return Err(ResourceTableError::NotPresent);
                };
                self.free = next;
                self.entries[rep as usize] = entry;
                rep
            }
            None => {
                let rep = u32::try_from(self.entries.len())
                    .ok()
                    .filter(|rep| *rep != u32::MAX)
                    .ok_or(ResourceTableError::Full)?;
                self.entries.push(entry);
                rep
            }
        };
        self.len += 1;
        Ok(rep)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_come_back_by_handle_and_type() {
        let mut table = ResourceTable::new();
        let a = table.push(String::from("a")).unwrap();
        let b = table.push(7u64).unwrap();
        assert_eq!(table.get(&a).unwrap(), "a");
        *table.get_mut(&b).unwrap() += 1;
        assert_eq!(*table.get(&b).unwrap(), 8);
        let wrong: Resource<u64> = Resource::new_borrow(a.rep());
        assert_eq!(table.get(&wrong), Err(ResourceTableError::WrongType));
        assert_eq!(table.delete(wrong), Err(ResourceTableError::WrongType));
        assert_eq!(table.len(), 2);
        let a_rep = a.rep();
        assert_eq!(table.delete(a).unwrap(), "a");
        let stale: Resource<String> = Resource::new_borrow(a_rep);
        assert_eq!(table.get(&stale), Err(ResourceTableError::NotPresent));
        // The freed index is reused.
        let c = table.push(1u8).unwrap();
        assert_eq!(c.rep(), a_rep);
        assert_eq!(table.len(), 2);
    }

    #[test]
    fn parents_outlive_their_children() {
        let mut table = ResourceTable::new();
        let parent = table.push("file").unwrap();
        let child = table.push_child(1u32, &parent).unwrap();
        let parent_again = Resource::<&str>::new_borrow(parent.rep());
        assert_eq!(table.iter_children(&parent).unwrap().count(), 1);
        assert_eq!(
            table.delete(Resource::<&str>::new_own(parent.rep())),
            Err(ResourceTableError::HasChildren)
        );
        assert_eq!(table.delete(child).unwrap(), 1);
        assert_eq!(table.iter_children(&parent_again).unwrap().count(), 0);
        assert_eq!(table.delete(parent).unwrap(), "file");
        assert!(table.is_empty());
        let orphan = table.push_child(2u32, &parent_again);
        assert_eq!(orphan.unwrap_err(), ResourceTableError::NotPresent);
    }
}
