//! The preview-1 descriptor table: small integers naming stdio (0 to 2 at start), the preopened
//! directories (3 and up, in the order given to the builder), then files and directories the
//! guest opens (the lowest free number, as POSIX does). A descriptor's file position and its
//! append and non-blocking flags live here: the shared filesystem layer is positionless, like
//! `wasi:filesystem`.

use super::types::Errno;
use crate::wasi::fs::{Descriptor, OpenDir, OpenFile, Preopen};
use std::collections::BTreeMap;
use std::string::String;

/// Every open preview-1 descriptor of one context.
pub(crate) struct FdTable {
    fds: BTreeMap<u32, Fd>,
}

/// What a descriptor number refers to.
pub(crate) enum Fd {
    /// The context's standard input.
    Stdin,
    /// The context's standard output.
    Stdout,
    /// The context's standard error.
    Stderr,
    File(FileFd),
    Dir(DirFd),
}

/// An open file and its preview-1 state.
pub(crate) struct FileFd {
    pub(crate) file: OpenFile,
    /// The offset `fd_read`, `fd_write` and `fd_seek` use.
    pub(crate) position: u64,
    /// Every write goes to the end of the file (`fdflags::append`).
    pub(crate) append: bool,
    /// `fdflags::nonblock` as last set; recorded and reported, without effect on files.
    pub(crate) nonblock: bool,
}

/// An open directory.
pub(crate) struct DirFd {
    pub(crate) dir: OpenDir,
    /// The guest path of a preopened directory (`fd_prestat_get`); `None` when opened with
    /// `path_open`.
    pub(crate) preopen: Option<String>,
}

impl FdTable {
    /// Stdio at 0 to 2, then `preopens` from 3.
    pub(crate) fn new(preopens: &[Preopen]) -> Self {
        let mut fds = BTreeMap::new();
        fds.insert(0, Fd::Stdin);
        fds.insert(1, Fd::Stdout);
        fds.insert(2, Fd::Stderr);
        for (fd, p) in (3..).zip(preopens) {
            fds.insert(
                fd,
                Fd::Dir(DirFd {
                    dir: p.dir.clone(),
                    preopen: Some(p.guest_path.clone()),
                }),
            );
        }
        FdTable { fds }
    }

    /// The descriptor `fd` (`badf` if it is not open).
    pub(crate) fn get(&self, fd: u32) -> Result<&Fd, Errno> {
        self.fds.get(&fd).ok_or(Errno::BADF)
    }

    /// The descriptor `fd`, mutably.
    pub(crate) fn get_mut(&mut self, fd: u32) -> Result<&mut Fd, Errno> {
        self.fds.get_mut(&fd).ok_or(Errno::BADF)
    }

    /// The open file `fd`: `badf` for anything else, `spipe` for stdio (what seeking it gives).
    pub(crate) fn file(&mut self, fd: u32) -> Result<&mut FileFd, Errno> {
        match self.get_mut(fd)? {
            Fd::File(f) => Ok(f),
            Fd::Stdin | Fd::Stdout | Fd::Stderr => Err(Errno::SPIPE),
            Fd::Dir(_) => Err(Errno::BADF),
        }
    }

    /// The open directory `fd` (a cheap clone of its handle): `notdir` for a file, `badf` for
    /// stdio or a closed number.
    pub(crate) fn dir(&self, fd: u32) -> Result<OpenDir, Errno> {
        match self.get(fd)? {
            Fd::Dir(d) => Ok(d.dir.clone()),
            Fd::File(_) => Err(Errno::NOTDIR),
            Fd::Stdin | Fd::Stdout | Fd::Stderr => Err(Errno::BADF),
        }
    }

    /// The filesystem descriptor behind `fd` (a cheap clone): `badf` for stdio.
    pub(crate) fn descriptor(&self, fd: u32) -> Result<Descriptor, Errno> {
        match self.get(fd)? {
            Fd::File(f) => Ok(Descriptor::File(f.file.clone())),
            Fd::Dir(d) => Ok(Descriptor::Dir(d.dir.clone())),
            Fd::Stdin | Fd::Stdout | Fd::Stderr => Err(Errno::BADF),
        }
    }

    /// Adds `entry` under the lowest free number.
    pub(crate) fn insert(&mut self, entry: Fd) -> Result<u32, Errno> {
        let mut fd: u32 = 0;
        for &used in self.fds.keys() {
            if used != fd {
                break;
            }
            fd = fd.checked_add(1).ok_or(Errno::MFILE)?;
        }
        self.fds.insert(fd, entry);
        Ok(fd)
    }

    /// Closes `fd`.
    pub(crate) fn remove(&mut self, fd: u32) -> Result<Fd, Errno> {
        self.fds.remove(&fd).ok_or(Errno::BADF)
    }

    /// Moves `from` to `to`, closing what `to` was (both must be open).
    pub(crate) fn renumber(&mut self, from: u32, to: u32) -> Result<(), Errno> {
        if !self.fds.contains_key(&to) {
            return Err(Errno::BADF);
        }
        let entry = self.remove(from)?;
        self.fds.insert(to, entry);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbering() {
        let mut t = FdTable::new(&[]);
        assert!(matches!(t.get(1), Ok(Fd::Stdout)));
        assert_eq!(t.get(3).err(), Some(Errno::BADF));
        assert_eq!(t.dir(0).err(), Some(Errno::BADF));
        assert_eq!(t.file(2).err(), Some(Errno::SPIPE));
        assert_eq!(t.insert(Fd::Stdin), Ok(3));
        t.remove(1).unwrap();
        assert_eq!(
            t.insert(Fd::Stderr),
            Ok(1),
            "the lowest free number is reused"
        );
        assert!(matches!(t.get(1), Ok(Fd::Stderr)));
        t.renumber(3, 0).unwrap();
        assert_eq!(t.get(3).err(), Some(Errno::BADF));
        assert_eq!(t.renumber(0, 9), Err(Errno::BADF));
        assert_eq!(t.renumber(9, 0), Err(Errno::BADF));
        t.renumber(2, 2).unwrap();
        assert!(matches!(t.get(2), Ok(Fd::Stderr)));
    }
}
