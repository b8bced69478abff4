//! [`LinearMemory`]: the address space of one wasm linear memory.
//!
//! Each memory reserves `GUARD_RESERVATION` bytes (8 GiB + 64 KiB) of address space up front
//! (`PROT_NONE`, `MAP_NORESERVE`: no memory is committed). Only the accessible pages are
//! read+write; growing is an `mprotect` of more pages, so the base never moves and compiled code
//! may elide bounds checks: any 32-bit index plus any 32-bit offset lands in the reservation, and
//! an access beyond the accessible pages faults in the guard region (a `MemoryOutOfBounds` trap).
//! The reservation is unmapped on drop.
//!
//! [`MemoryImage`]: the initial contents of a memory (its data segments laid out at their
//! offsets) in an in-memory file, built once per module. Instantiation maps it copy-on-write over
//! the start of the accessible pages instead of copying the segments: pages are shared with the
//! image until written, so instantiating costs one `mmap` whatever the size of the data.

use crate::artifact::format::{GUARD_RESERVATION, WASM_PAGE_SIZE};
use crate::error::{Error, Result};
use crate::prelude::*;
use core::ptr::NonNull;

#[cfg(not(target_pointer_width = "64"))]
compile_error!("linear memories need a 64-bit address space");

/// A reserved region whose first `accessible` bytes are read+write and zero-initialized.
pub(crate) struct LinearMemory {
    base: NonNull<u8>,
    reserved: usize,
    accessible: usize,
}

// SAFETY: the mapping is owned by this value; moving it to another thread moves the ownership.
unsafe impl Send for LinearMemory {}

fn last_os_error() -> std::io::Error {
    std::io::Error::last_os_error()
}

impl LinearMemory {
    /// Reserves the address space and makes `min_pages` wasm pages accessible.
    ///
    /// # Errors
    /// If the address space cannot be reserved or the pages cannot be made accessible.
    pub(crate) fn new(min_pages: u64) -> Result<Self> {
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
        let mut mem = Self {
            base,
            reserved,
            accessible: 0,
        };
        mem.grow_to(min_pages)?;
        Ok(mem)
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
        let bytes = pages
            .checked_mul(WASM_PAGE_SIZE)
            .filter(|b| *b <= GUARD_RESERVATION - WASM_PAGE_SIZE)
            .ok_or_else(|| Error::msg(format!("memory of {pages} pages is too large")))?
            as usize;
        if bytes <= self.accessible {
            return Ok(());
        }
        // SAFETY: `accessible..bytes` lies inside our reservation (checked above against its
        // size); both ends are multiples of the wasm page size, hence of the host page size.
        let rc = unsafe {
            libc::mprotect(
                self.base.as_ptr().add(self.accessible).cast(),
                bytes - self.accessible,
                libc::PROT_READ | libc::PROT_WRITE,
            )
        };
        if rc != 0 {
            return Err(Error::msg(format!(
                "failed to grow linear memory to {pages} pages: {}",
                last_os_error()
            )));
        }
        self.accessible = bytes;
        Ok(())
    }

    /// Replaces the first `image.len()` bytes of this memory with a private copy-on-write
    /// mapping of `image`.
    ///
    /// # Errors
    /// If the image is larger than the accessible bytes or the mapping fails (the memory is then
    /// unchanged or zero-filled, and the caller falls back to copying).
    pub(crate) fn map_image(&mut self, image: &MemoryImage) -> Result<()> {
        if image.len > self.accessible {
            return Err(Error::bug("memory image larger than the memory"));
        }
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
}

impl Drop for LinearMemory {
    fn drop(&mut self) {
        // SAFETY: unmaps exactly the reservation made in `new`, which nothing uses any more.
        let rc = unsafe { libc::munmap(self.base.as_ptr().cast(), self.reserved) };
        debug_assert_eq!(rc, 0, "munmap of a linear memory failed");
    }
}

/// The initial contents of a linear memory, in an anonymous in-memory file (`memfd`).
pub(crate) struct MemoryImage {
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
        let image = Self { fd, len };
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

impl Drop for MemoryImage {
    fn drop(&mut self) {
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
