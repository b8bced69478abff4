//! The contexts lifting and lowering run in: the guest memory, its `realloc`, the string encoding
//! and the component's types. This file is the contract between the call paths (`func.rs`,
//! `instantiate.rs`) and the canonical ABI code (`lift.rs`, `lower.rs`, `string.rs`, `typed.rs`,
//! `values.rs`, `params.rs`).
//!
//! The contexts are built only through [`LiftContext::new`] and [`LowerContext::new`]; the call
//! paths add the handle tables (`resources.rs`) with [`LiftContext::with_handles`] and
//! [`GuestMemory::handles`]. Without them (the ABI unit tests) handles cannot be lifted or
//! lowered. The checked memory
//! accesses live next to their users: reads in `lift.rs`, writes and `realloc` in `lower.rs`.

use super::resources::HandleCx;
use crate::artifact::component::{ComponentTypes, StringEncoding};
use crate::{Error, Result};

/// Guest memory and `realloc`, as the canonical options of one lift or lower name them.
///
/// Implemented by the call paths over a store (memory through `Memory::data_mut`, realloc through
/// `Func::call_raw`), and by a plain byte vector in the ABI unit tests.
pub(crate) trait GuestMemory {
    /// The memory's bytes now (re-fetched after every `realloc`, which may grow it), or `None`
    /// when the canonical options name no memory.
    fn memory(&self) -> Option<&[u8]>;
    /// The memory's bytes, mutable.
    fn memory_mut(&mut self) -> Option<&mut [u8]>;
    /// Calls the guest's `realloc(old_ptr, old_size, align, new_size)`. The caller checks the
    /// returned pointer (alignment and bounds). Errors when the options name no `realloc`.
    fn realloc(&mut self, old_ptr: u32, old_size: u32, align: u32, new_size: u32) -> Result<u32>;
    /// The handle tables of the guest written to, when lowering over a store.
    fn handles(&mut self) -> Option<HandleCx<'_>> {
        None
    }
}

/// Reading values out of a guest: flat core values and guest memory.
#[doc(hidden)]
pub struct LiftContext<'a> {
    /// The memory named by the options (`None`: no `memory` option).
    pub(crate) memory: Option<&'a [u8]>,
    /// The string encoding of the options.
    pub(crate) encoding: StringEncoding,
    /// The component's types.
    pub(crate) types: &'a ComponentTypes,
    /// The handle tables of the guest read from (`None`: handles cannot be lifted).
    pub(crate) handles: Option<HandleCx<'a>>,
}

/// Writing values into a guest: flat core values, guest memory and `realloc`.
#[doc(hidden)]
pub struct LowerContext<'a> {
    /// Memory and realloc of the options.
    pub(crate) mem: &'a mut dyn GuestMemory,
    /// The string encoding of the options.
    pub(crate) encoding: StringEncoding,
    /// The component's types.
    pub(crate) types: &'a ComponentTypes,
}

impl<'a> LiftContext<'a> {
    /// A context reading from `memory` (the bytes of the options' memory, if any) with the
    /// options' string encoding, over the component's `types`.
    pub(crate) fn new(
        memory: Option<&'a [u8]>,
        encoding: StringEncoding,
        types: &'a ComponentTypes,
    ) -> Self {
        Self {
            memory,
            encoding,
            types,
            handles: None,
        }
    }

    /// The same context, lifting handles out of `handles`.
    pub(crate) fn with_handles(mut self, handles: HandleCx<'a>) -> Self {
        self.handles = Some(handles);
        self
    }

    /// The handle tables, or the error lifting a handle without them.
    pub(crate) fn handles(&mut self) -> Result<&mut HandleCx<'a>> {
        self.handles.as_mut().ok_or_else(no_handles)
    }
}

impl<'a> LowerContext<'a> {
    /// A context writing through `mem` (the options' memory and `realloc`) with the options'
    /// string encoding, over the component's `types`.
    pub(crate) fn new(
        mem: &'a mut dyn GuestMemory,
        encoding: StringEncoding,
        types: &'a ComponentTypes,
    ) -> Self {
        Self {
            mem,
            encoding,
            types,
        }
    }
}

/// The error lifting or lowering a handle outside a call over a store.
#[cold]
pub(crate) fn no_handles() -> Error {
    Error::msg("resource handles can only cross the boundary in a call over a store")
}

/// A byte vector standing for a guest memory, with a bump allocator as `realloc`, for the unit
/// tests of the canonical ABI.
#[cfg(test)]
pub(crate) mod test_memory {
    use super::GuestMemory;
    use crate::prelude::*;
    use crate::{Error, Result};

    /// What `realloc` does.
    pub(crate) enum Realloc {
        /// Bump allocation from `next`, growing the memory by whole 64 KiB pages when needed.
        Bump,
        /// Always returns this pointer (to test the checks of the result).
        Fixed(u32),
        /// No `realloc` option.
        Missing,
    }

    /// A `Vec<u8>`-backed memory.
    pub(crate) struct TestMemory {
        pub(crate) bytes: Vec<u8>,
        pub(crate) next: u32,
        pub(crate) realloc: Realloc,
        /// Every call: `(old_ptr, old_size, align, new_size)`.
        pub(crate) calls: Vec<(u32, u32, u32, u32)>,
    }

    impl TestMemory {
        /// One page, allocations from 8.
        pub(crate) fn new() -> Self {
            Self::with_size(0x10000)
        }

        pub(crate) fn with_size(size: usize) -> Self {
            Self {
                bytes: vec![0; size],
                next: 8,
                realloc: Realloc::Bump,
                calls: Vec::new(),
            }
        }
    }

    impl GuestMemory for TestMemory {
        fn memory(&self) -> Option<&[u8]> {
            Some(&self.bytes)
        }

        fn memory_mut(&mut self) -> Option<&mut [u8]> {
            Some(&mut self.bytes)
        }

        fn realloc(
            &mut self,
            old_ptr: u32,
            old_size: u32,
            align: u32,
            new_size: u32,
        ) -> Result<u32> {
            self.calls.push((old_ptr, old_size, align, new_size));
            match self.realloc {
                Realloc::Fixed(ptr) => Ok(ptr),
                Realloc::Missing => Err(Error::msg("no realloc")),
                Realloc::Bump => {
                    let ptr = self.next.next_multiple_of(align);
                    self.next = ptr + new_size;
                    let end = self.next as usize;
                    if end > self.bytes.len() {
                        self.bytes.resize(end.next_multiple_of(0x10000), 0);
                    }
                    Ok(ptr)
                }
            }
        }
    }
}

/// Round trips through both contexts over a [`test_memory::TestMemory`], for the unit tests of
/// typed values and [`Val`](super::Val).
#[cfg(test)]
pub(crate) mod test_round_trip {
    use super::test_memory::TestMemory;
    use super::{LiftContext, LowerContext};
    use crate::Result;
    use crate::artifact::component::{ComponentTypes, InterfaceType, StringEncoding};
    use crate::component::lift::FlatSource;
    use crate::component::lower::FlatSink;
    use crate::prelude::*;
    use crate::values::ValRaw;

    /// Lowers flat with `lower` into exactly the flat count of `ty`, then lifts with `lift`;
    /// returns the core values too.
    pub(crate) fn flat<V>(
        types: &ComponentTypes,
        ty: InterfaceType,
        encoding: StringEncoding,
        lower: impl FnOnce(&mut LowerContext<'_>, &mut FlatSink<'_>) -> Result<()>,
        lift: impl FnOnce(&mut LiftContext<'_>, &mut FlatSource<'_>) -> Result<V>,
    ) -> Result<(Vec<ValRaw>, V)> {
        let n = types.canonical_abi(&ty).flat_count.unwrap() as usize;
        let mut mem = TestMemory::new();
        let mut slots = vec![ValRaw::from_u64(0xdead_beef_dead_beef); n];
        let mut cx = LowerContext::new(&mut mem, encoding, types);
        let mut sink = FlatSink::new(&mut slots);
        lower(&mut cx, &mut sink)?;
        sink.finish()?;
        let mut cx = LiftContext::new(Some(&mem.bytes), encoding, types);
        let mut src = FlatSource::new(&slots);
        let v = lift(&mut cx, &mut src)?;
        src.finish()?;
        Ok((slots, v))
    }

    /// Lowers into memory allocated for `ty` with `lower`, then lifts from the same bytes with
    /// `lift`; returns the value's bytes too.
    pub(crate) fn memory<V>(
        types: &ComponentTypes,
        ty: InterfaceType,
        encoding: StringEncoding,
        lower: impl FnOnce(&mut LowerContext<'_>, usize) -> Result<()>,
        lift: impl FnOnce(&mut LiftContext<'_>, &[u8]) -> Result<V>,
    ) -> Result<(Vec<u8>, V)> {
        let abi = types.canonical_abi(&ty);
        let mut mem = TestMemory::new();
        let mut cx = LowerContext::new(&mut mem, encoding, types);
        let ptr = cx.alloc(1, abi, || "value".into())?;
        lower(&mut cx, ptr as usize)?;
        let range = ptr as usize..(ptr + abi.size32) as usize;
        let bytes = mem.bytes[range].to_vec();
        let mut cx = LiftContext::new(Some(&mem.bytes), encoding, types);
        let v = lift(&mut cx, &bytes)?;
        Ok((bytes, v))
    }
}
