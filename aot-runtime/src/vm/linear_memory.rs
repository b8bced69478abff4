//! [`LinearMemory`]: the address space of one wasm linear memory.
//!
//! Each memory reserves `GUARD_RESERVATION` bytes (8 GiB + 64 KiB) of address space up front
//! (`PROT_NONE`, `MAP_NORESERVE`: no memory is committed). Only the accessible pages are
//! read+write; growing is an `mprotect` of more pages, so the base never moves and compiled code
//! may elide bounds checks: any 32-bit index plus any 32-bit offset lands in the reservation, and
//! an access beyond the accessible pages faults in the guard region (a `MemoryOutOfBounds` trap).
//!
//! [`MemoryImage`]: the initial contents of a memory (its data segments laid out at their
//! offsets) in an in-memory file, built once per module. Instantiation maps it copy-on-write over
//! the start of the accessible pages instead of copying the segments: pages are shared with the
//! image until written, so instantiating costs one `mmap` whatever the size of the data.
//!
//! Reuse: a dropped memory's reservation goes back to a small process-wide pool (at most
//! [`POOL_CAPACITY`] slots) instead of being unmapped. Its accessible pages are reset with
//! `madvise(MADV_DONTNEED)` first, which discards every page written by the guest: anonymous pages
//! read as zero again and the pages of a mapped image read as the image again, so nothing of one
//! instance is ever visible to the next. The slot remembers which image is mapped at its start;
//! a new memory asking for the same image (another instance of the same module) takes that slot
//! and needs no system call at all when its size matches, otherwise one `mprotect`. Dropping a
//! [`MemoryImage`] unmaps the slots still holding it, so the pool never keeps an image alive.

use crate::artifact::format::{GUARD_RESERVATION, WASM_PAGE_SIZE};
use crate::error::{Error, Result};
use crate::prelude::*;
use core::ptr::NonNull;
use core::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

#[cfg(not(target_pointer_width = "64"))]
compile_error!("linear memories need a 64-bit address space");

/// How many released reservations the process keeps for reuse (8 GiB of address space each, no
/// committed memory).
pub(crate) const POOL_CAPACITY: usize = 32;

/// Which image is mapped at the start of a memory.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
struct ImageTag {
    /// [`MemoryImage::id`].
    id: u64,
    /// Bytes mapped from the image.
    len: usize,
}

/// A released reservation: `accessible` bytes read+write and reset (zero, or `image`).
struct Slot {
    base: NonNull<u8>,
    accessible: usize,
    image: Option<ImageTag>,
}

// SAFETY: a slot is the sole owner of its reservation (nothing else refers to it while it is in
// the pool), so it may move between threads.
unsafe impl Send for Slot {}

/// Released reservations, newest last.
static POOL: Mutex<Vec<Slot>> = Mutex::new(Vec::new());

/// A reserved region whose first `accessible` bytes are read+write: zero-initialized, except the
/// first `image.len` bytes when an image is mapped there.
pub(crate) struct LinearMemory {
    base: NonNull<u8>,
    accessible: usize,
    image: Option<ImageTag>,
}

// SAFETY: the mapping is owned by this value; moving it to another thread moves the ownership.
unsafe impl Send for LinearMemory {}

fn last_os_error() -> std::io::Error {
    std::io::Error::last_os_error()
}

impl LinearMemory {
    /// Reserves the address space and makes `min_pages` wasm pages accessible and zero.
    ///
    /// # Errors
    /// If the address space cannot be reserved or the pages cannot be made accessible.
    #[cfg(test)]
    pub(crate) fn new(min_pages: u64) -> Result<Self> {
        Self::with_image_hint(min_pages, None)
    }

    /// Like [`LinearMemory::new`], but a released memory holding `image` is preferred: the
    /// result then already holds the image ([`LinearMemory::holds_image`]), and
    /// [`LinearMemory::map_image`] has nothing left to do.
    ///
    /// # Errors
    /// As for [`LinearMemory::new`].
    pub(crate) fn with_image_hint(min_pages: u64, image: Option<&MemoryImage>) -> Result<Self> {
        let bytes = pages_to_bytes(min_pages)?;
        let want = image.map(MemoryImage::tag);
        let mut mem = match take_slot(want) {
            Some(slot) => Self {
                base: slot.base,
                accessible: slot.accessible,
                image: slot.image,
            },
            None => Self::reserve()?,
        };
        // Another module's image, or one that would not fit: back to zero pages.
        if mem
            .image
            .is_some_and(|tag| Some(tag) != want || tag.len > bytes)
        {
            mem.clear_image()?;
        }
        mem.set_accessible(bytes)?;
        Ok(mem)
    }

    /// A fresh reservation with nothing accessible.
    fn reserve() -> Result<Self> {
        let reserved = GUARD_RESERVATION as usize;
        // SAFETY: an anonymous private mapping at an address of the kernel's choice affects no
        // existing memory.
        let ptr = unsafe {
            libc::mmap(
                core::ptr::null_mut(),
                reserved,
                libc::PROT_NONE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(Error::msg(format!(
                "failed to reserve {reserved} bytes of address space for a linear memory: {}",
                last_os_error()
            )));
        }
        let base =
            NonNull::new(ptr.cast::<u8>()).ok_or_else(|| Error::bug("mmap returned null"))?;
        Ok(Self {
            base,
            accessible: 0,
            image: None,
        })
    }

    /// Address of byte 0.
    pub(crate) fn base(&self) -> usize {
        self.base.as_ptr() as usize
    }

    /// Accessible size in bytes.
    pub(crate) fn byte_size(&self) -> usize {
        self.accessible
    }

    /// Makes the first `pages` wasm pages accessible (never shrinks). New pages read as zero.
    ///
    /// # Errors
    /// If `pages` does not fit in the reservation or `mprotect` fails.
    pub(crate) fn grow_to(&mut self, pages: u64) -> Result<()> {
        let bytes = pages_to_bytes(pages)?;
        if bytes <= self.accessible {
            return Ok(());
        }
        self.set_accessible(bytes)
    }

    /// Makes exactly the first `bytes` bytes accessible (a multiple of the wasm page size inside
    /// the reservation). Pages made accessible read as zero: they were never written, or were
    /// reset when their slot was released.
    fn set_accessible(&mut self, bytes: usize) -> Result<()> {
        let (from, len, prot) = match bytes.cmp(&self.accessible) {
            core::cmp::Ordering::Equal => return Ok(()),
            core::cmp::Ordering::Greater => (
                self.accessible,
                bytes - self.accessible,
                libc::PROT_READ | libc::PROT_WRITE,
            ),
            core::cmp::Ordering::Less => (bytes, self.accessible - bytes, libc::PROT_NONE),
        };
        // SAFETY: `from..from + len` lies inside our reservation (`bytes` was checked against
        // its size by the callers; `accessible` always is); both ends are multiples of the wasm
        // page size, hence of the host page size. No reference into these pages exists (`&mut
        // self`).
        let rc = unsafe { libc::mprotect(self.base.as_ptr().add(from).cast(), len, prot) };
        if rc != 0 {
            return Err(Error::msg(format!(
                "failed to resize linear memory to {} pages: {}",
                bytes as u64 / WASM_PAGE_SIZE,
                last_os_error()
            )));
        }
        self.accessible = bytes;
        Ok(())
    }

    /// Whether the memory holds `image` at its start (taken from the pool that way).
    pub(crate) fn holds_image(&self, image: &MemoryImage) -> bool {
        self.image == Some(image.tag())
    }

    /// Replaces the first `image.len()` bytes of this memory with a private copy-on-write
    /// mapping of `image` (nothing to do when it already holds it).
    ///
    /// # Errors
    /// If the image is larger than the accessible bytes or the mapping fails (the memory is then
    /// unchanged or zero-filled, and the caller falls back to copying).
    pub(crate) fn map_image(&mut self, image: &MemoryImage) -> Result<()> {
        if self.holds_image(image) {
            return Ok(());
        }
        if image.len > self.accessible {
            return Err(Error::bug("memory image larger than the memory"));
        }
        self.clear_image()?;
        // SAFETY: `base..base + image.len` lies in the accessible part of our own reservation
        // (checked above), which no reference currently borrows (`&mut self`); `MAP_FIXED`
        // replaces exactly those pages with a private mapping of the image file, readable and
        // writable like the pages it replaces. The file is at least `image.len` bytes long.
        let ptr = unsafe {
            libc::mmap(
                self.base.as_ptr().cast(),
                image.len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_FIXED,
                image.fd,
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(Error::msg(format!(
                "failed to map a memory image: {}",
                last_os_error()
            )));
        }
        debug_assert_eq!(ptr.cast::<u8>(), self.base.as_ptr());
        self.image = Some(image.tag());
        Ok(())
    }

    /// Replaces a mapped image with zero pages, so that the memory is all zero. Nothing to do when no image is mapped.
    ///
    /// # Errors
    /// If the mapping fails.
    pub(crate) fn clear_image(&mut self) -> Result<()> {
        let Some(tag) = self.image else {
            return Ok(());
        };
        // Invariant: an image is mapped only into accessible pages, and a memory's accessible
        // size only shrinks (in `with_image_hint`) after its image is cleared.
        debug_assert!(tag.len <= self.accessible);
        // SAFETY: `base..base + tag.len` is the image mapping at the start of our own
        // reservation, inside its accessible part (invariant above), which no reference borrows
        // (`&mut self`); `MAP_FIXED` replaces exactly those pages with fresh anonymous
        // read+write ones, like the accessible pages around them.
        let ptr = unsafe {
            libc::mmap(
                self.base.as_ptr().cast(),
                tag.len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(Error::msg(format!(
                "failed to reset a memory image: {}",
                last_os_error()
            )));
        }
        self.image = None;
        Ok(())
    }

    /// The accessible bytes.
    pub(crate) fn as_slice(&self) -> &[u8] {
        // SAFETY: the first `accessible` bytes are mapped read+write and initialized (zero pages
        // or written since); the shared borrow of `self` (hence of the store) excludes writes by
        // wasm or the host for its duration.
        unsafe { core::slice::from_raw_parts(self.base.as_ptr(), self.accessible) }
    }

    /// The accessible bytes, mutably.
    pub(crate) fn as_mut_slice(&mut self) -> &mut [u8] {
        // SAFETY: as in `as_slice`, with the exclusive borrow excluding every other access.
        unsafe { core::slice::from_raw_parts_mut(self.base.as_ptr(), self.accessible) }
    }

    /// Resets the accessible pages and hands the reservation to the pool; false (and nothing
    /// changed) when the pool is full or the reset fails.
    fn recycle(&mut self) -> bool {
        if POOL.lock().map_or(true, |pool| pool.len() >= POOL_CAPACITY) {
            return false;
        }
        // SAFETY: the first `accessible` bytes are our own read+write mapping, which nothing
        // uses any more (the memory is being dropped). `MADV_DONTNEED` on private mappings
        // discards their pages: anonymous ones read as zero and image pages as the image file.
        let rc = unsafe {
            libc::madvise(
                self.base.as_ptr().cast(),
                self.accessible,
                libc::MADV_DONTNEED,
            )
        };
        if rc != 0 {
            return false;
        }
        let Ok(mut pool) = POOL.lock() else {
            return false;
        };
        if pool.len() >= POOL_CAPACITY {
            return false;
        }
        pool.push(Slot {
            base: self.base,
            accessible: self.accessible,
            image: self.image,
        });
        true
    }
}

/// `pages` wasm pages in bytes, if they fit in a reservation.
fn pages_to_bytes(pages: u64) -> Result<usize> {
    pages
        .checked_mul(WASM_PAGE_SIZE)
        .filter(|b| *b <= GUARD_RESERVATION - WASM_PAGE_SIZE)
        .map(|b| b as usize)
        .ok_or_else(|| Error::msg(format!("memory of {pages} pages is too large")))
}

/// A released slot: one holding `want` if any, else one without an image, else any.
fn take_slot(want: Option<ImageTag>) -> Option<Slot> {
    let mut pool = POOL.lock().ok()?;
    let pos = want
        .and_then(|w| pool.iter().rposition(|s| s.image == Some(w)))
        .or_else(|| pool.iter().rposition(|s| s.image.is_none()))
        .or_else(|| pool.len().checked_sub(1))?;
    Some(pool.swap_remove(pos))
}

/// Unmaps a reservation of `GUARD_RESERVATION` bytes at `base`.
fn unmap(base: NonNull<u8>) {
    // SAFETY: `base` is the start of a reservation made by `reserve`, which nothing uses any
    // more (its owner is being dropped or evicted from the pool).
    let rc = unsafe { libc::munmap(base.as_ptr().cast(), GUARD_RESERVATION as usize) };
    debug_assert_eq!(rc, 0, "munmap of a linear memory failed");
}

impl Drop for LinearMemory {
    fn drop(&mut self) {
        if !self.recycle() {
            unmap(self.base);
        }
    }
}

/// The initial contents of a linear memory, in an anonymous in-memory file (`memfd`).
pub(crate) struct MemoryImage {
    /// Unique in the process: tells a pool slot holding this image from one holding another.
    id: u64,
    fd: libc::c_int,
    /// Length of the file: a multiple of the host page size.
    len: usize,
}

impl MemoryImage {
    /// An image of `len` bytes (rounded up to the host page size) holding `segments`, each
    /// `(offset, bytes)`, written in order (a later segment overwrites an earlier one).
    ///
    /// # Errors
    /// If the file cannot be created or written.
    pub(crate) fn new<'a>(
        len: usize,
        segments: impl IntoIterator<Item = (usize, &'a [u8])>,
    ) -> Result<Self> {
        // SAFETY: `sysconf` has no preconditions.
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as usize;
        let len = len.div_ceil(page) * page;
        // SAFETY: the name is a NUL-terminated string; the flags are valid.
        let fd = unsafe { libc::memfd_create(c"aot-memory-image".as_ptr(), libc::MFD_CLOEXEC) };
        if fd < 0 {
            return Err(Error::msg(format!(
                "failed to create a memory image: {}",
                last_os_error()
            )));
        }
        static NEXT_ID: AtomicU64 = AtomicU64::new(0);
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        let image = Self { id, fd, len };
        // SAFETY: `fd` is the file just created and owned by `image`.
        if unsafe { libc::ftruncate(fd, len as libc::off_t) } != 0 {
            return Err(Error::msg(format!(
                "failed to size a memory image: {}",
                last_os_error()
            )));
        }
        for (offset, bytes) in segments {
            let mut done = 0;
            while done < bytes.len() {
                let rest = &bytes[done..];
                // SAFETY: writes from `rest`, a live slice, to our file.
                let n = unsafe {
                    libc::pwrite(
                        fd,
                        rest.as_ptr().cast(),
                        rest.len(),
                        (offset + done) as libc::off_t,
                    )
                };
                if n <= 0 {
                    return Err(Error::msg(format!(
                        "failed to write a memory image: {}",
                        last_os_error()
                    )));
                }
                done += n as usize;
            }
        }
        Ok(image)
    }
}

impl MemoryImage {
    fn tag(&self) -> ImageTag {
        ImageTag {
            id: self.id,
            len: self.len,
        }
    }
}

impl Drop for MemoryImage {
    fn drop(&mut self) {
        // Released memories still mapping this image would keep its pages alive: unmap them.
        let stale: Vec<Slot> = POOL.lock().map_or_else(
            |_| Vec::new(),
            |mut pool| {
                let (stale, keep) = core::mem::take(&mut *pool)
                    .into_iter()
                    .partition(|s| s.image.is_some_and(|t| t.id == self.id));
                *pool = keep;
                stale
            },
        );
        for slot in stale {
            unmap(slot.base);
        }
        // SAFETY: closes the file this value owns; mappings of it stay valid after the close.
        unsafe { libc::close(self.fd) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: usize = WASM_PAGE_SIZE as usize;

    #[test]
    fn image_is_mapped_copy_on_write() {
        let image =
            MemoryImage::new(PAGE + 10, [(5, &b"hello"[..]), (PAGE + 2, &b"xy"[..])]).unwrap();
        assert_eq!(image.len % 4096, 0);
        let mut a = LinearMemory::new(2).unwrap();
        let mut b = LinearMemory::new(2).unwrap();
        a.map_image(&image).unwrap();
        b.map_image(&image).unwrap();
        assert_eq!(&a.as_slice()[5..10], b"hello");
        assert_eq!(&a.as_slice()[PAGE + 2..PAGE + 4], b"xy");
        assert_eq!(a.as_slice()[0], 0);
        assert!(a.as_slice()[2 * PAGE - 1] == 0);
        // Writes stay private to each memory.
        a.as_mut_slice()[5] = b'J';
        assert_eq!(&a.as_slice()[5..10], b"Jello");
        assert_eq!(&b.as_slice()[5..10], b"hello");
        // Growth after an image keeps the contents.
        a.grow_to(4).unwrap();
        assert_eq!(&a.as_slice()[5..10], b"Jello");
        assert_eq!(a.as_slice()[4 * PAGE - 1], 0);
        // An image larger than the memory is refused.
        let mut small = LinearMemory::new(0).unwrap();
        assert!(small.map_image(&image).is_err());
    }

    /// Whether a released slot holds `image`.
    fn pooled_with(image: &MemoryImage) -> bool {
        POOL.lock()
            .unwrap()
            .iter()
            .any(|s| s.image == Some(image.tag()))
    }

    #[test]
    fn reused_memories_start_zero_with_the_requested_size() {
        // Other tests run in parallel and share the pool: repeat, and look at every outcome.
        for round in 0..20u8 {
            let mut m = LinearMemory::new(3).unwrap();
            assert!(m.as_slice().iter().all(|b| *b == 0), "round {round}");
            m.as_mut_slice().fill(0xA5);
            m.grow_to(5).unwrap();
            m.as_mut_slice()[5 * PAGE - 1] = 0x5A;
            drop(m);
            let m = LinearMemory::new(1).unwrap();
            assert_eq!(m.byte_size(), PAGE, "round {round}");
            assert!(m.as_slice().iter().all(|b| *b == 0), "round {round}");
            drop(m);
            let mut m = LinearMemory::new(0).unwrap();
            m.grow_to(5).unwrap();
            assert!(m.as_slice().iter().all(|b| *b == 0), "round {round}");
        }
    }

    #[test]
    fn reuse_prefers_the_same_image_and_restores_it() {
        let image = MemoryImage::new(PAGE, [(7, &b"image"[..])]).unwrap();
        let other = MemoryImage::new(PAGE, [(7, &b"other"[..])]).unwrap();
        let mut held = 0;
        for _ in 0..20 {
            let mut m = LinearMemory::with_image_hint(2, Some(&image)).unwrap();
            if !m.holds_image(&image) {
                assert!(m.as_slice().iter().all(|b| *b == 0));
                m.map_image(&image).unwrap();
            }
            // Guest writes, inside and beyond the image, are discarded on release.
            m.as_mut_slice()[7..12].copy_from_slice(b"dirty");
            m.as_mut_slice()[PAGE + 3] = 1;
            drop(m);
            let m = LinearMemory::with_image_hint(2, Some(&image)).unwrap();
            if m.holds_image(&image) {
                held += 1;
                assert_eq!(&m.as_slice()[7..12], b"image");
                assert!(m.as_slice()[12..].iter().all(|b| *b == 0));
            } else {
                assert!(m.as_slice().iter().all(|b| *b == 0));
            }
            drop(m);
            // Another image, or none, never sees this one.
            let m = LinearMemory::with_image_hint(2, Some(&other)).unwrap();
            assert!(!m.holds_image(&image));
            if !m.holds_image(&other) {
                assert!(m.as_slice().iter().all(|b| *b == 0));
            }
            drop(m);
            let m = LinearMemory::new(2).unwrap();
            assert!(m.as_slice().iter().all(|b| *b == 0));
        }
        assert!(
            held > 0,
            "a released memory holding the image was never reused"
        );
        // A dropped image leaves no slot behind that maps it.
        let m = LinearMemory::with_image_hint(2, Some(&image)).unwrap();
        drop(m);
        drop(image);
        let tag_id = other.id;
        drop(other);
        assert!(
            !POOL
                .lock()
                .unwrap()
                .iter()
                .any(|s| s.image.is_some_and(|t| t.id == tag_id))
        );
    }

    #[test]
    fn image_purge_unmaps_pooled_slots() {
        let image = MemoryImage::new(PAGE, [(0, &b"x"[..])]).unwrap();
        let mut m = LinearMemory::with_image_hint(1, Some(&image)).unwrap();
        m.map_image(&image).unwrap();
        drop(m);
        assert!(pooled_with(&image) || POOL.lock().unwrap().len() >= POOL_CAPACITY);
        let probe = image.tag();
        drop(image);
        assert!(!POOL.lock().unwrap().iter().any(|s| s.image == Some(probe)));
    }

    #[test]
    fn grow_keeps_base_and_contents() {
        let mut m = LinearMemory::new(1).unwrap();
        let base = m.base();
        assert_eq!(m.byte_size(), PAGE);
        assert!(m.as_slice().iter().all(|b| *b == 0));
        m.as_mut_slice()[PAGE - 1] = 7;
        m.grow_to(3).unwrap();
        assert_eq!(m.base(), base);
        assert_eq!(m.byte_size(), 3 * PAGE);
        assert_eq!(m.as_slice()[PAGE - 1], 7);
        assert_eq!(m.as_slice()[3 * PAGE - 1], 0);
        m.as_mut_slice()[3 * PAGE - 1] = 9;
        m.grow_to(2).unwrap();
        assert_eq!(m.byte_size(), 3 * PAGE, "never shrinks");
    }

    #[test]
    fn empty_and_maximal_memories() {
        let m = LinearMemory::new(0).unwrap();
        assert_eq!(m.byte_size(), 0);
        assert!(m.as_slice().is_empty());
        let mut m = LinearMemory::new(0).unwrap();
        m.grow_to(65536).unwrap();
        assert_eq!(m.byte_size(), 1 << 32);
        assert!(m.grow_to(1 << 20).is_err());
    }
}
