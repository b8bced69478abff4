//! The `wasi_snapshot_preview1` vocabulary: errno values, rights, flags, file types, and the byte
//! layouts of the records host functions write into guest memory, from the WASI repository's
//! `legacy/preview1/witx/typenames.witx` (all little-endian, natural alignment).

use crate::wasi::fs::{DescriptorType, FsError};

/// A preview-1 error number (`$errno`, `u16`). `Errno::SUCCESS` is 0; every host function
/// returns one.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) struct Errno(pub(crate) u16);

#[allow(dead_code, reason = "the complete witx enumeration, for reference")]
impl Errno {
    pub(crate) const SUCCESS: Errno = Errno(0);
    pub(crate) const TOOBIG: Errno = Errno(1);
    pub(crate) const ACCES: Errno = Errno(2);
    pub(crate) const AGAIN: Errno = Errno(6);
    pub(crate) const ALREADY: Errno = Errno(7);
    pub(crate) const BADF: Errno = Errno(8);
    pub(crate) const BUSY: Errno = Errno(10);
    pub(crate) const DEADLK: Errno = Errno(16);
    pub(crate) const DQUOT: Errno = Errno(19);
    pub(crate) const EXIST: Errno = Errno(20);
    pub(crate) const FAULT: Errno = Errno(21);
    pub(crate) const FBIG: Errno = Errno(22);
    pub(crate) const ILSEQ: Errno = Errno(25);
    pub(crate) const INPROGRESS: Errno = Errno(26);
    pub(crate) const INTR: Errno = Errno(27);
    pub(crate) const INVAL: Errno = Errno(28);
    pub(crate) const IO: Errno = Errno(29);
    pub(crate) const ISDIR: Errno = Errno(31);
    pub(crate) const LOOP: Errno = Errno(32);
    pub(crate) const MFILE: Errno = Errno(33);
    pub(crate) const MLINK: Errno = Errno(34);
    pub(crate) const MSGSIZE: Errno = Errno(35);
    pub(crate) const NAMETOOLONG: Errno = Errno(37);
    pub(crate) const NODEV: Errno = Errno(43);
    pub(crate) const NOENT: Errno = Errno(44);
    pub(crate) const NOLCK: Errno = Errno(46);
    pub(crate) const NOMEM: Errno = Errno(48);
    pub(crate) const NOSPC: Errno = Errno(51);
    pub(crate) const NOSYS: Errno = Errno(52);
    pub(crate) const NOTDIR: Errno = Errno(54);
    pub(crate) const NOTEMPTY: Errno = Errno(55);
    pub(crate) const NOTRECOVERABLE: Errno = Errno(56);
    pub(crate) const NOTSUP: Errno = Errno(58);
    pub(crate) const NOTTY: Errno = Errno(59);
    pub(crate) const NXIO: Errno = Errno(60);
    pub(crate) const OVERFLOW: Errno = Errno(61);
    pub(crate) const PERM: Errno = Errno(63);
    pub(crate) const PIPE: Errno = Errno(64);
    pub(crate) const ROFS: Errno = Errno(69);
    pub(crate) const SPIPE: Errno = Errno(70);
    pub(crate) const TXTBSY: Errno = Errno(74);
    pub(crate) const XDEV: Errno = Errno(75);
    pub(crate) const NOTCAPABLE: Errno = Errno(76);
}

impl From<FsError> for Errno {
    fn from(e: FsError) -> Errno {
        use FsError::*;
        match e {
            Access => Errno::ACCES,
            WouldBlock => Errno::AGAIN,
            Already => Errno::ALREADY,
            BadDescriptor => Errno::BADF,
            Busy => Errno::BUSY,
            Deadlock => Errno::DEADLK,
            Quota => Errno::DQUOT,
            Exist => Errno::EXIST,
            FileTooLarge => Errno::FBIG,
            IllegalByteSequence => Errno::ILSEQ,
            InProgress => Errno::INPROGRESS,
            Interrupted => Errno::INTR,
            Invalid => Errno::INVAL,
            Io => Errno::IO,
            IsDirectory => Errno::ISDIR,
            Loop => Errno::LOOP,
            TooManyLinks => Errno::MLINK,
            MessageSize => Errno::MSGSIZE,
            NameTooLong => Errno::NAMETOOLONG,
            NoDevice => Errno::NODEV,
            NoEntry => Errno::NOENT,
            NoLock => Errno::NOLCK,
            InsufficientMemory => Errno::NOMEM,
            InsufficientSpace => Errno::NOSPC,
            NotDirectory => Errno::NOTDIR,
            NotEmpty => Errno::NOTEMPTY,
            NotRecoverable => Errno::NOTRECOVERABLE,
            Unsupported => Errno::NOTSUP,
            NoTty => Errno::NOTTY,
            NoSuchDevice => Errno::NXIO,
            Overflow => Errno::OVERFLOW,
            NotPermitted => Errno::PERM,
            Pipe => Errno::PIPE,
            ReadOnly => Errno::ROFS,
            InvalidSeek => Errno::SPIPE,
            TextFileBusy => Errno::TXTBSY,
            CrossDevice => Errno::XDEV,
        }
    }
}

impl From<std::io::Error> for Errno {
    fn from(e: std::io::Error) -> Errno {
        FsError::from(e).into()
    }
}

/// `$rights` bits (`u64`).
pub(crate) mod rights {
    pub(crate) const FD_READ: u64 = 1 << 1;
    pub(crate) const FD_SEEK: u64 = 1 << 2;
    pub(crate) const FD_TELL: u64 = 1 << 5;
    pub(crate) const FD_WRITE: u64 = 1 << 6;
    pub(crate) const FD_ADVISE: u64 = 1 << 7;
    pub(crate) const FD_ALLOCATE: u64 = 1 << 8;
    pub(crate) const FD_READDIR: u64 = 1 << 14;
    pub(crate) const FD_FILESTAT_SET_SIZE: u64 = 1 << 22;
    pub(crate) const POLL_FD_READWRITE: u64 = 1 << 27;
    /// Every right defined by preview 1 (bits 0 to 29).
    pub(crate) const ALL: u64 = (1 << 30) - 1;
    /// The rights that only make sense on a regular file.
    pub(crate) const FILE_ONLY: u64 =
        FD_SEEK | FD_TELL | FD_READ | FD_WRITE | FD_ALLOCATE | FD_FILESTAT_SET_SIZE | FD_ADVISE;
}

/// `$filetype` (`u8`).
pub(crate) mod filetype {
    pub(crate) const UNKNOWN: u8 = 0;
    pub(crate) const BLOCK_DEVICE: u8 = 1;
    pub(crate) const CHARACTER_DEVICE: u8 = 2;
    pub(crate) const DIRECTORY: u8 = 3;
    pub(crate) const REGULAR_FILE: u8 = 4;
    pub(crate) const SOCKET_STREAM: u8 = 6;
    pub(crate) const SYMBOLIC_LINK: u8 = 7;
}

/// The preview-1 file type of a descriptor type (a FIFO is `unknown`: preview 1 has no such
/// type).
pub(crate) fn filetype_of(ty: DescriptorType) -> u8 {
    match ty {
        DescriptorType::Unknown | DescriptorType::Fifo => filetype::UNKNOWN,
        DescriptorType::BlockDevice => filetype::BLOCK_DEVICE,
        DescriptorType::CharacterDevice => filetype::CHARACTER_DEVICE,
        DescriptorType::Directory => filetype::DIRECTORY,
        DescriptorType::RegularFile => filetype::REGULAR_FILE,
        DescriptorType::SymbolicLink => filetype::SYMBOLIC_LINK,
        DescriptorType::Socket => filetype::SOCKET_STREAM,
    }
}

/// `$fdflags` bits (`u16`).
pub(crate) mod fdflags {
    pub(crate) const APPEND: u16 = 1 << 0;
    pub(crate) const DSYNC: u16 = 1 << 1;
    pub(crate) const NONBLOCK: u16 = 1 << 2;
    pub(crate) const RSYNC: u16 = 1 << 3;
    pub(crate) const SYNC: u16 = 1 << 4;
}

/// `$oflags` bits (`u16`).
pub(crate) mod oflags {
    pub(crate) const CREAT: u16 = 1 << 0;
    pub(crate) const DIRECTORY: u16 = 1 << 1;
    pub(crate) const EXCL: u16 = 1 << 2;
    pub(crate) const TRUNC: u16 = 1 << 3;
}

/// `$fstflags` bits (`u16`).
pub(crate) mod fstflags {
    pub(crate) const ATIM: u16 = 1 << 0;
    pub(crate) const ATIM_NOW: u16 = 1 << 1;
    pub(crate) const MTIM: u16 = 1 << 2;
    pub(crate) const MTIM_NOW: u16 = 1 << 3;
}

/// `$lookupflags::symlink_follow`.
pub(crate) const LOOKUP_SYMLINK_FOLLOW: u32 = 1;

/// `$clockid` values.
pub(crate) mod clockid {
    pub(crate) const REALTIME: u32 = 0;
    pub(crate) const MONOTONIC: u32 = 1;
}

/// `$eventtype` values.
pub(crate) mod eventtype {
    pub(crate) const CLOCK: u8 = 0;
    pub(crate) const FD_READ: u8 = 1;
    pub(crate) const FD_WRITE: u8 = 2;
}

/// `$subclockflags::subscription_clock_abstime`.
pub(crate) const SUBSCRIPTION_CLOCK_ABSTIME: u16 = 1;

/// `$whence` values.
pub(crate) mod whence {
    pub(crate) const SET: u8 = 0;
    pub(crate) const CUR: u8 = 1;
    pub(crate) const END: u8 = 2;
}

/// Record sizes (bytes) and field offsets, as laid out in guest memory.
pub(crate) mod layout {
    /// `$iovec` / `$ciovec`: `buf: u32` at 0, `buf_len: u32` at 4.
    pub(crate) const IOVEC_SIZE: u32 = 8;
    /// `$fdstat`: `fs_filetype: u8` at 0, `fs_flags: u16` at 2, `fs_rights_base: u64` at 8,
    /// `fs_rights_inheriting: u64` at 16.
    pub(crate) const FDSTAT_SIZE: u32 = 24;
    /// `$filestat`: `dev` at 0, `ino` at 8, `filetype: u8` at 16, `nlink` at 24, `size` at 32,
    /// `atim` at 40, `mtim` at 48, `ctim` at 56 (all `u64` but the file type).
    pub(crate) const FILESTAT_SIZE: u32 = 64;
    /// `$dirent`: `d_next: u64` at 0, `d_ino: u64` at 8, `d_namlen: u32` at 16, `d_type: u8`
    /// at 20; the name follows the 24 bytes.
    pub(crate) const DIRENT_SIZE: u32 = 24;
    /// `$prestat`: tag `u8` at 0 (0 = dir), `pr_name_len: u32` at 4.
    pub(crate) const PRESTAT_SIZE: u32 = 8;
    /// `$subscription`: `userdata: u64` at 0, tag `u8` at 8, then at 16 either
    /// `subscription_clock { id: u32 at 16, timeout: u64 at 24, precision: u64 at 32, flags: u16
    /// at 40 }` or `subscription_fd_readwrite { file_descriptor: u32 at 16 }`.
    pub(crate) const SUBSCRIPTION_SIZE: u32 = 48;
    /// `$event`: `userdata: u64` at 0, `error: u16` at 8, `type: u8` at 10,
    /// `fd_readwrite { nbytes: u64 at 16, flags: u16 at 24 }`.
    pub(crate) const EVENT_SIZE: u32 = 32;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errno_values_match_wasi_libc() {
        // Values from wasi-libc's `__errno_values.h`.
        assert_eq!(Errno::from(FsError::NoEntry), Errno(44));
        assert_eq!(Errno::from(FsError::NotPermitted), Errno(63));
        assert_eq!(Errno::from(FsError::BadDescriptor), Errno(8));
        assert_eq!(Errno::from(FsError::Invalid), Errno(28));
        assert_eq!(Errno::from(FsError::NotDirectory), Errno(54));
        assert_eq!(Errno::from(FsError::Unsupported), Errno(58));
        assert_eq!(Errno::from(FsError::InvalidSeek), Errno(70));
        assert_eq!(Errno::from(FsError::CrossDevice), Errno(75));
        assert_eq!(Errno::from(FsError::Exist), Errno(20));
        assert_eq!(Errno::from(FsError::NotEmpty), Errno(55));
        assert_eq!(rights::ALL, 0x3fff_ffff);
    }
}
