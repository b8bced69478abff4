//! The sandboxed filesystem shared by preview 1 and WASI 0.2: preopened directories
//! ([`Preopen`]), open descriptors ([`Descriptor`]: an [`OpenDir`] or an [`OpenFile`]), and
//! their operations, named and shaped after `wasi:filesystem/types` and returning [`FsError`]
//! (its `error-code`), which converts to a preview-1 errno in `preview1`.
//!
//! Sandboxing is `cap-std`'s: every path is resolved relative to a directory handle one component
//! at a time (`openat` and friends), so `..`, absolute paths and symbolic links that would leave
//! the preopened directory fail (`not-permitted`) by construction. No path is ever joined or
//! normalized as a string here. Permissions are checked before any system call: a directory
//! without [`DirPerms::MUTATE`] refuses every change to its entries, and files under a preopen
//! without [`FilePerms::WRITE`] cannot be opened for writing, truncated or have their times set.
//!
//! Descriptors hold their handle in an `Arc`, so a WASI 0.2 stream can keep the file it reads
//! while the descriptor resource is still open. Appends write at the file's current size
//! (read with `fstat`), which is not atomic against other writers of the same file.

use super::clocks::Datetime;
use cap_fs_ext::{
    DirExt, FollowSymlinks, OpenOptionsFollowExt, OpenOptionsMaybeDirExt, OpenOptionsSyncExt,
    SystemTimeSpec,
};
use cap_std::fs::{Dir, File, FileExt, FileType, FileTypeExt, Metadata, MetadataExt, OpenOptions};
use core::fmt;
use core::hash::{Hash, Hasher};
use core::ops::BitOr;
use fs_set_times::SetTimes;
use std::io;
use std::os::unix::fs::DirEntryExt;
use std::path::Path;
use std::string::{String, ToString};
use std::sync::Arc;
use std::vec;
use std::vec::Vec;

/// What a guest may do with a preopened directory and the directories below it.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct DirPerms(u8);

impl DirPerms {
    /// List entries, open them, read their metadata and symbolic links.
    pub const READ: DirPerms = DirPerms(1);
    /// Create, remove, rename and link entries, and set times of the directory itself.
    pub const MUTATE: DirPerms = DirPerms(2);

    /// No permission at all.
    pub const fn empty() -> Self {
        DirPerms(0)
    }

    /// Every permission ([`DirPerms::READ`] | [`DirPerms::MUTATE`]).
    pub const fn all() -> Self {
        DirPerms(3)
    }

    /// Whether every permission of `other` is in `self`.
    pub const fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }
}

impl BitOr for DirPerms {
    type Output = DirPerms;
    fn bitor(self, rhs: Self) -> Self {
        DirPerms(self.0 | rhs.0)
    }
}

/// What a guest may do with the files under a preopened directory.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct FilePerms(u8);

impl FilePerms {
    /// Open files for reading.
    pub const READ: FilePerms = FilePerms(1);
    /// Open files for writing, create and truncate them, change their size and times.
    pub const WRITE: FilePerms = FilePerms(2);

    /// No permission at all.
    pub const fn empty() -> Self {
        FilePerms(0)
    }

    /// Every permission ([`FilePerms::READ`] | [`FilePerms::WRITE`]).
    pub const fn all() -> Self {
        FilePerms(3)
    }

    /// Whether every permission of `other` is in `self`.
    pub const fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }
}

impl BitOr for FilePerms {
    type Output = FilePerms;
    fn bitor(self, rhs: Self) -> Self {
        FilePerms(self.0 | rhs.0)
    }
}

/// How a path is resolved (`wasi:filesystem/types.path-flags`).
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct PathFlags {
    /// Follow a symbolic link in the last component.
    pub(crate) symlink_follow: bool,
}

/// How `open_at` opens (`wasi:filesystem/types.open-flags`).
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct OpenFlags {
    /// Create the file if it does not exist.
    pub(crate) create: bool,
    /// Fail unless the path is a directory.
    pub(crate) directory: bool,
    /// With `create`: fail if the file exists.
    pub(crate) exclusive: bool,
    /// Truncate the file to size 0.
    pub(crate) truncate: bool,
}

/// The access a descriptor was opened with (`wasi:filesystem/types.descriptor-flags`).
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct DescriptorFlags {
    /// Reads (files) or listing (directories) are allowed.
    pub(crate) read: bool,
    /// Writes are allowed (files only).
    pub(crate) write: bool,
    /// Writes wait for data and metadata to reach the device (`O_SYNC`).
    pub(crate) file_integrity_sync: bool,
    /// Writes wait for data to reach the device (`O_DSYNC`).
    pub(crate) data_integrity_sync: bool,
    /// Reads wait for pending writes (`O_RSYNC`).
    pub(crate) requested_write_sync: bool,
    /// The directory's entries may be changed (directories only).
    pub(crate) mutate_directory: bool,
}

/// The type of a file (`wasi:filesystem/types.descriptor-type`).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum DescriptorType {
    Unknown,
    BlockDevice,
    CharacterDevice,
    Directory,
    Fifo,
    SymbolicLink,
    RegularFile,
    Socket,
}

impl From<FileType> for DescriptorType {
    fn from(ft: FileType) -> Self {
        if ft.is_dir() {
            DescriptorType::Directory
        } else if ft.is_symlink() {
            DescriptorType::SymbolicLink
        } else if ft.is_file() {
            DescriptorType::RegularFile
        } else if ft.is_block_device() {
            DescriptorType::BlockDevice
        } else if ft.is_char_device() {
            DescriptorType::CharacterDevice
        } else if ft.is_fifo() {
            DescriptorType::Fifo
        } else if ft.is_socket() {
            DescriptorType::Socket
        } else {
            DescriptorType::Unknown
        }
    }
}

/// A file's identity, hashed so that host device and inode numbers are not exposed
/// (`wasi:filesystem/types.metadata-hash-value`). Equal for the same file, whatever the path.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) struct MetadataHash {
    pub(crate) upper: u64,
    pub(crate) lower: u64,
}

impl MetadataHash {
    /// The hash of the file with device `dev` and inode `ino`.
    pub(crate) fn of(dev: u64, ino: u64) -> Self {
        let half = |which: u8| {
            // SipHash with fixed keys: stable within a process, which is all the guest may rely on.
            let mut h = std::hash::DefaultHasher::new();
            (which, dev, ino).hash(&mut h);
            h.finish()
        };
        MetadataHash {
            upper: half(0),
            lower: half(1),
        }
    }
}

/// A file's metadata (`wasi:filesystem/types.descriptor-stat`, plus its [`MetadataHash`], which
/// preview 1 reports as device and inode).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) struct DescriptorStat {
    pub(crate) type_: DescriptorType,
    pub(crate) link_count: u64,
    pub(crate) size: u64,
    pub(crate) data_access_timestamp: Option<Datetime>,
    pub(crate) data_modification_timestamp: Option<Datetime>,
    pub(crate) status_change_timestamp: Option<Datetime>,
    pub(crate) hash: MetadataHash,
}

impl DescriptorStat {
    fn from_metadata(meta: &Metadata) -> Self {
        let time = |secs: i64, nsecs: i64| {
            Some(Datetime {
                seconds: u64::try_from(secs).ok()?,
                nanoseconds: u32::try_from(nsecs).ok()?,
            })
        };
        DescriptorStat {
            type_: meta.file_type().into(),
            link_count: meta.nlink(),
            size: meta.len(),
            data_access_timestamp: time(meta.atime(), meta.atime_nsec()),
            data_modification_timestamp: time(meta.mtime(), meta.mtime_nsec()),
            status_change_timestamp: time(meta.ctime(), meta.ctime_nsec()),
            hash: MetadataHash::of(meta.dev(), meta.ino()),
        }
    }
}

/// A new value for a file timestamp (`wasi:filesystem/types.new-timestamp`).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum NewTimestamp {
    NoChange,
    Now,
    Timestamp(Datetime),
}

impl NewTimestamp {
    fn to_spec(self) -> Option<SystemTimeSpec> {
        match self {
            NewTimestamp::NoChange => None,
            NewTimestamp::Now => Some(SystemTimeSpec::SymbolicNow),
            NewTimestamp::Timestamp(t) => Some(SystemTimeSpec::Absolute(
                cap_std::time::SystemTime::from_std(std::time::UNIX_EPOCH + t.to_duration()),
            )),
        }
    }
}

/// Access-pattern advice (`wasi:filesystem/types.advice`); accepted and ignored.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum Advice {
    Normal,
    Sequential,
    Random,
    WillNeed,
    DontNeed,
    NoReuse,
}

/// One directory entry (`wasi:filesystem/types.directory-entry`, plus its [`MetadataHash`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct DirectoryEntry {
    pub(crate) type_: DescriptorType,
    pub(crate) name: String,
    pub(crate) hash: MetadataHash,
}

/// The entries of a directory, in the order the host lists them, without `.` and `..`.
pub(crate) struct ReadDirectory {
    entries: cap_std::fs::ReadDir,
    dev: u64,
}

impl Iterator for ReadDirectory {
    type Item = Result<DirectoryEntry, FsError>;

    fn next(&mut self) -> Option<Self::Item> {
        let entry = match self.entries.next()? {
            Ok(entry) => entry,
            Err(e) => return Some(Err(e.into())),
        };
        Some((|| {
            let name = entry
                .file_name()
                .into_string()
                .map_err(|_| FsError::IllegalByteSequence)?;
            Ok(DirectoryEntry {
                type_: entry.file_type()?.into(),
                name,
                hash: MetadataHash::of(self.dev, entry.ino()),
            })
        })())
    }
}

/// A directory the embedder preopened, with the path the guest knows it by.
#[derive(Clone)]
pub(crate) struct Preopen {
    pub(crate) dir: OpenDir,
    pub(crate) guest_path: String,
}

impl Preopen {
    /// Opens the host directory `host_path` (the only use of ambient authority in WASI).
    pub(crate) fn open(
        host_path: &Path,
        guest_path: &str,
        perms: DirPerms,
        file_perms: FilePerms,
    ) -> io::Result<Self> {
        let dir = Dir::open_ambient_dir(host_path, cap_std::ambient_authority())?;
        Ok(Preopen {
            dir: OpenDir {
                dir: Arc::new(dir),
                perms,
                file_perms,
                flags: DescriptorFlags {
                    read: perms.contains(DirPerms::READ),
                    mutate_directory: perms.contains(DirPerms::MUTATE),
                    ..DescriptorFlags::default()
                },
            },
            guest_path: guest_path.to_string(),
        })
    }
}

/// An open file or directory.
#[derive(Clone)]
pub(crate) enum Descriptor {
    File(OpenFile),
    Dir(OpenDir),
}

/// An open directory: its handle, what may be done under it, and how it was opened.
#[derive(Clone)]
pub(crate) struct OpenDir {
    pub(crate) dir: Arc<Dir>,
    pub(crate) perms: DirPerms,
    pub(crate) file_perms: FilePerms,
    pub(crate) flags: DescriptorFlags,
}

/// An open regular file (or other non-directory): its handle, the permissions of its preopen,
/// and how it was opened.
#[derive(Clone)]
pub(crate) struct OpenFile {
    pub(crate) file: Arc<File>,
    pub(crate) perms: FilePerms,
    pub(crate) flags: DescriptorFlags,
}

impl Descriptor {
    /// The file's metadata (`stat`).
    pub(crate) fn stat(&self) -> Result<DescriptorStat, FsError> {
        let meta = match self {
            Descriptor::File(f) => f.file.metadata()?,
            Descriptor::Dir(d) => d.dir.dir_metadata()?,
        };
        Ok(DescriptorStat::from_metadata(&meta))
    }

    /// Sets the access and modification times (`set-times`). Needs [`FilePerms::WRITE`] for a
    /// file, [`DirPerms::MUTATE`] for a directory.
    pub(crate) fn set_times(
        &self,
        atime: NewTimestamp,
        mtime: NewTimestamp,
    ) -> Result<(), FsError> {
        let (atime, mtime) = (atime.to_spec(), mtime.to_spec());
        let std = |s: Option<SystemTimeSpec>| s.map(SystemTimeSpec::into_std);
        match self {
            Descriptor::File(f) => {
                if !f.perms.contains(FilePerms::WRITE) {
                    return Err(FsError::NotPermitted);
                }
                SetTimes::set_times(&*f.file, std(atime), std(mtime))?;
            }
            Descriptor::Dir(d) => {
                d.check(DirPerms::MUTATE)?;
                // The handle may be `O_PATH`, which `futimens` refuses; `.` relative to it works.
                DirExt::set_times(&*d.dir, ".", atime, mtime)?;
            }
        }
        Ok(())
    }

    /// Flushes data and metadata to the device (`sync`).
    pub(crate) fn sync(&self) -> Result<(), FsError> {
        match self {
            Descriptor::File(f) => f.file.sync_all()?,
            Descriptor::Dir(d) => d.reopen()?.sync_all()?,
        }
        Ok(())
    }

    /// Flushes data to the device (`sync-data`).
    pub(crate) fn sync_data(&self) -> Result<(), FsError> {
        match self {
            Descriptor::File(f) => f.file.sync_data()?,
            Descriptor::Dir(d) => d.reopen()?.sync_data()?,
        }
        Ok(())
    }

    /// How the descriptor was opened (`get-flags`).
    pub(crate) fn get_flags(&self) -> DescriptorFlags {
        match self {
            Descriptor::File(f) => f.flags,
            Descriptor::Dir(d) => d.flags,
        }
    }

    /// The type of the open file (`get-type`).
    pub(crate) fn get_type(&self) -> Result<DescriptorType, FsError> {
        match self {
            Descriptor::File(f) => Ok(f.file.metadata()?.file_type().into()),
            Descriptor::Dir(_) => Ok(DescriptorType::Directory),
        }
    }

    /// The file's identity hash (`metadata-hash`).
    pub(crate) fn metadata_hash(&self) -> Result<MetadataHash, FsError> {
        Ok(self.stat()?.hash)
    }

    /// Whether both descriptors refer to the same file (`is-same-object`).
    #[allow(dead_code, reason = "used by the WASI 0.2 host (wasi::p2)")]
    pub(crate) fn is_same_object(&self, other: &Descriptor) -> Result<bool, FsError> {
        Ok(self.metadata_hash()? == other.metadata_hash()?)
    }
}

impl OpenDir {
    /// Fails with `not-permitted` unless the directory has `perms`.
    fn check(&self, perms: DirPerms) -> Result<(), FsError> {
        if self.perms.contains(perms) {
            Ok(())
        } else {
            Err(FsError::NotPermitted)
        }
    }

    /// The directory itself opened as a readable file (its handle may be an `O_PATH` one, which
    /// `fsync` refuses).
    fn reopen(&self) -> io::Result<File> {
        self.dir
            .open_with(".", OpenOptions::new().read(true).maybe_dir(true))
    }

    /// A directory opened below this one: same permissions, flags as requested.
    fn child(&self, dir: Dir, flags: DescriptorFlags) -> OpenDir {
        OpenDir {
            dir: Arc::new(dir),
            perms: self.perms,
            file_perms: self.file_perms,
            flags: DescriptorFlags {
                read: flags.read && self.perms.contains(DirPerms::READ),
                write: false,
                mutate_directory: flags.mutate_directory,
                ..flags
            },
        }
    }

    /// Opens `path` (`open-at`). Creating needs [`DirPerms::MUTATE`]; writing, creating or
    /// truncating needs [`FilePerms::WRITE`]; reading needs [`FilePerms::READ`]. A directory is
    /// opened as a directory whether or not `open_flags.directory` asks for one.
    pub(crate) fn open_at(
        &self,
        path_flags: PathFlags,
        path: &str,
        open_flags: OpenFlags,
        flags: DescriptorFlags,
    ) -> Result<Descriptor, FsError> {
        self.check(DirPerms::READ)?;
        if (open_flags.create || flags.mutate_directory) && !self.perms.contains(DirPerms::MUTATE) {
            return Err(FsError::NotPermitted);
        }
        let writes = flags.write || open_flags.create || open_flags.truncate;
        if writes && !self.file_perms.contains(FilePerms::WRITE) {
            return Err(FsError::NotPermitted);
        }
        if flags.read && !self.file_perms.contains(FilePerms::READ) && !open_flags.directory {
            return Err(FsError::NotPermitted);
        }
        if open_flags.directory {
            if open_flags.create || open_flags.exclusive || open_flags.truncate {
                return Err(FsError::Invalid);
            }
            if flags.write {
                return Err(FsError::IsDirectory);
            }
            let dir = if path_flags.symlink_follow {
                self.dir.open_dir(path)?
            } else {
                self.dir.open_dir_nofollow(path)?
            };
            return Ok(Descriptor::Dir(self.child(dir, flags)));
        }
        let mut opts = OpenOptions::new();
        // The host needs some access mode: a descriptor opened for neither reads nor writes (to
        // stat it, say) is opened read-only underneath.
        opts.read(flags.read || !writes).write(writes);
        if open_flags.create {
            if open_flags.exclusive {
                opts.create_new(true);
            } else {
                opts.create(true);
            }
        }
        opts.truncate(open_flags.truncate)
            .follow(if path_flags.symlink_follow {
                FollowSymlinks::Yes
            } else {
                FollowSymlinks::No
            })
            .maybe_dir(true)
            .sync(flags.file_integrity_sync)
            .dsync(flags.data_integrity_sync)
            .rsync(flags.requested_write_sync);
        let file = self.dir.open_with(path, &opts)?;
        if file.metadata()?.is_dir() {
            let dir = Dir::from_std_file(file.into_std());
            return Ok(Descriptor::Dir(self.child(dir, flags)));
        }
        Ok(Descriptor::File(OpenFile {
            file: Arc::new(file),
            perms: self.file_perms,
            flags: DescriptorFlags {
                mutate_directory: false,
                ..flags
            },
        }))
    }

    /// The metadata of `path` (`stat-at`).
    pub(crate) fn stat_at(
        &self,
        path_flags: PathFlags,
        path: &str,
    ) -> Result<DescriptorStat, FsError> {
        self.check(DirPerms::READ)?;
        let meta = if path_flags.symlink_follow {
            self.dir.metadata(path)?
        } else {
            self.dir.symlink_metadata(path)?
        };
        Ok(DescriptorStat::from_metadata(&meta))
    }

    /// The identity hash of `path` (`metadata-hash-at`).
    #[allow(dead_code, reason = "used by the WASI 0.2 host (wasi::p2)")]
    pub(crate) fn metadata_hash_at(
        &self,
        path_flags: PathFlags,
        path: &str,
    ) -> Result<MetadataHash, FsError> {
        Ok(self.stat_at(path_flags, path)?.hash)
    }

    /// Sets the times of `path` (`set-times-at`); needs [`DirPerms::MUTATE`].
    pub(crate) fn set_times_at(
        &self,
        path_flags: PathFlags,
        path: &str,
        atime: NewTimestamp,
        mtime: NewTimestamp,
    ) -> Result<(), FsError> {
        self.check(DirPerms::MUTATE)?;
        let (atime, mtime) = (atime.to_spec(), mtime.to_spec());
        if path_flags.symlink_follow {
            DirExt::set_times(&*self.dir, path, atime, mtime)?;
        } else {
            DirExt::set_symlink_times(&*self.dir, path, atime, mtime)?;
        }
        Ok(())
    }

    /// The directory's entries (`read-directory`).
    pub(crate) fn read_directory(&self) -> Result<ReadDirectory, FsError> {
        self.check(DirPerms::READ)?;
        let dev = self.dir.dir_metadata()?.dev();
        Ok(ReadDirectory {
            entries: self.dir.entries()?,
            dev,
        })
    }

    /// Creates the directory `path` (`create-directory-at`).
    pub(crate) fn create_directory_at(&self, path: &str) -> Result<(), FsError> {
        self.check(DirPerms::MUTATE)?;
        Ok(self.dir.create_dir(path)?)
    }

    /// Removes the empty directory `path` (`remove-directory-at`).
    pub(crate) fn remove_directory_at(&self, path: &str) -> Result<(), FsError> {
        self.check(DirPerms::MUTATE)?;
        Ok(self.dir.remove_dir(path)?)
    }

    /// Removes the file or symbolic link `path` (`unlink-file-at`).
    pub(crate) fn unlink_file_at(&self, path: &str) -> Result<(), FsError> {
        self.check(DirPerms::MUTATE)?;
        Ok(self.dir.remove_file_or_symlink(path)?)
    }

    /// Renames `old_path` to `new_path` under `new_dir` (`rename-at`); both need
    /// [`DirPerms::MUTATE`].
    pub(crate) fn rename_at(
        &self,
        old_path: &str,
        new_dir: &OpenDir,
        new_path: &str,
    ) -> Result<(), FsError> {
        self.check(DirPerms::MUTATE)?;
        new_dir.check(DirPerms::MUTATE)?;
        Ok(self.dir.rename(old_path, &new_dir.dir, new_path)?)
    }

    /// Creates the symbolic link `new_path` pointing to `old_path` (`symlink-at`). An absolute
    /// target is refused: it could only ever point outside the sandbox.
    pub(crate) fn symlink_at(&self, old_path: &str, new_path: &str) -> Result<(), FsError> {
        self.check(DirPerms::MUTATE)?;
        if old_path.starts_with('/') {
            return Err(FsError::NotPermitted);
        }
        Ok(self.dir.symlink(old_path, new_path)?)
    }

    /// The target of the symbolic link `path` (`readlink-at`); an absolute target is refused.
    pub(crate) fn readlink_at(&self, path: &str) -> Result<String, FsError> {
        self.check(DirPerms::READ)?;
        let target = self.dir.read_link(path)?;
        target
            .into_os_string()
            .into_string()
            .map_err(|_| FsError::IllegalByteSequence)
    }

    /// Creates the hard link `new_path` under `new_dir` to `old_path` (`link-at`). Following a
    /// symbolic link in `old_path` is not supported (`invalid`).
    pub(crate) fn link_at(
        &self,
        old_path_flags: PathFlags,
        old_path: &str,
        new_dir: &OpenDir,
        new_path: &str,
    ) -> Result<(), FsError> {
        self.check(DirPerms::MUTATE)?;
        new_dir.check(DirPerms::MUTATE)?;
        if old_path_flags.symlink_follow {
            return Err(FsError::Invalid);
        }
        Ok(self.dir.hard_link(old_path, &new_dir.dir, new_path)?)
    }
}

impl OpenFile {
    fn check_read(&self) -> Result<(), FsError> {
        if self.flags.read {
            Ok(())
        } else {
            Err(FsError::BadDescriptor)
        }
    }

    fn check_write(&self) -> Result<(), FsError> {
        if !self.flags.write {
            Err(FsError::BadDescriptor)
        } else if !self.perms.contains(FilePerms::WRITE) {
            Err(FsError::NotPermitted)
        } else {
            Ok(())
        }
    }

    /// Reads into `buf` at `offset`; 0 at the end of the file.
    pub(crate) fn read_at(&self, buf: &mut [u8], offset: u64) -> Result<usize, FsError> {
        self.check_read()?;
        loop {
            match self.file.read_at(buf, offset) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                res => return Ok(res?),
            }
        }
    }

    /// Reads up to `len` bytes at `offset` (`read`); the flag is true at the end of the file.
    #[allow(dead_code, reason = "used by the WASI 0.2 host (wasi::p2)")]
    pub(crate) fn read(&self, len: u64, offset: u64) -> Result<(Vec<u8>, bool), FsError> {
        let len = usize::try_from(len).unwrap_or(usize::MAX).min(1 << 20);
        let mut buf = vec![0; len];
        let n = self.read_at(&mut buf, offset)?;
        buf.truncate(n);
        Ok((buf, n == 0 && len > 0))
    }

    /// Writes all of `buf` at `offset` (`write`).
    pub(crate) fn write_at(&self, buf: &[u8], offset: u64) -> Result<usize, FsError> {
        self.check_write()?;
        if offset.checked_add(buf.len() as u64).is_none() {
            return Err(FsError::FileTooLarge);
        }
        self.file.write_all_at(buf, offset)?;
        Ok(buf.len())
    }

    /// Writes all of `buf` at the end of the file; returns the new size.
    pub(crate) fn append(&self, buf: &[u8]) -> Result<u64, FsError> {
        self.check_write()?;
        let end = self.file.metadata()?.len();
        self.write_at(buf, end)?;
        Ok(end + buf.len() as u64)
    }

    /// Truncates or extends (with zeros) the file to `size` (`set-size`).
    pub(crate) fn set_size(&self, size: u64) -> Result<(), FsError> {
        self.check_write()?;
        Ok(self.file.set_len(size)?)
    }

    /// Makes sure `offset + len` bytes exist, extending with zeros (`posix_fallocate`).
    pub(crate) fn allocate(&self, offset: u64, len: u64) -> Result<(), FsError> {
        self.check_write()?;
        let end = offset.checked_add(len).ok_or(FsError::FileTooLarge)?;
        if end > self.file.metadata()?.len() {
            self.file.set_len(end)?;
        }
        Ok(())
    }

    /// Access-pattern advice (`advise`): accepted, without effect.
    pub(crate) fn advise(&self, _offset: u64, _len: u64, _advice: Advice) -> Result<(), FsError> {
        Ok(())
    }
}

/// A filesystem error: `wasi:filesystem/types.error-code`, its 37 cases in the WIT's order, so
/// that WASI 0.2 lifts and lowers it directly.
#[derive(
    crate::component::ComponentType,
    crate::component::Lift,
    crate::component::Lower,
    Copy,
    Clone,
    Debug,
    PartialEq,
    Eq,
)]
#[component(enum)]
pub(crate) enum FsError {
    Access,
    WouldBlock,
    Already,
    BadDescriptor,
    Busy,
    Deadlock,
    Quota,
    Exist,
    FileTooLarge,
    IllegalByteSequence,
    InProgress,
    Interrupted,
    Invalid,
    Io,
    IsDirectory,
    Loop,
    TooManyLinks,
    MessageSize,
    NameTooLong,
    NoDevice,
    NoEntry,
    NoLock,
    InsufficientMemory,
    InsufficientSpace,
    NotDirectory,
    NotEmpty,
    NotRecoverable,
    Unsupported,
    NoTty,
    NoSuchDevice,
    Overflow,
    NotPermitted,
    Pipe,
    ReadOnly,
    InvalidSeek,
    TextFileBusy,
    CrossDevice,
}

impl FsError {
    /// The WIT name of the error code (`not-permitted`).
    pub(crate) fn name(self) -> &'static str {
        use FsError::*;
        match self {
            Access => "access",
            WouldBlock => "would-block",
            Already => "already",
            BadDescriptor => "bad-descriptor",
            Busy => "busy",
            Deadlock => "deadlock",
            Quota => "quota",
            Exist => "exist",
            FileTooLarge => "file-too-large",
            IllegalByteSequence => "illegal-byte-sequence",
            InProgress => "in-progress",
            Interrupted => "interrupted",
            Invalid => "invalid",
            Io => "io",
            IsDirectory => "is-directory",
            Loop => "loop",
            TooManyLinks => "too-many-links",
            MessageSize => "message-size",
            NameTooLong => "name-too-long",
            NoDevice => "no-device",
            NoEntry => "no-entry",
            NoLock => "no-lock",
            InsufficientMemory => "insufficient-memory",
            InsufficientSpace => "insufficient-space",
            NotDirectory => "not-directory",
            NotEmpty => "not-empty",
            NotRecoverable => "not-recoverable",
            Unsupported => "unsupported",
            NoTty => "no-tty",
            NoSuchDevice => "no-such-device",
            Overflow => "overflow",
            NotPermitted => "not-permitted",
            Pipe => "pipe",
            ReadOnly => "read-only",
            InvalidSeek => "invalid-seek",
            TextFileBusy => "text-file-busy",
            CrossDevice => "cross-device",
        }
    }

    /// The error code of a host I/O error: by errno when there is one, else by kind (`cap-std`
    /// reports an attempt to leave the sandbox as `PermissionDenied` without errno, which becomes
    /// `not-permitted`).
    pub(crate) fn from_io(e: &io::Error) -> FsError {
        use FsError::*;
        if let Some(errno) = e.raw_os_error() {
            return match errno {
                libc::EACCES => Access,
                libc::EAGAIN => WouldBlock,
                libc::EALREADY => Already,
                libc::EBADF => BadDescriptor,
                libc::EBUSY => Busy,
                libc::EDEADLK => Deadlock,
                libc::EDQUOT => Quota,
                libc::EEXIST => Exist,
                libc::EFBIG => FileTooLarge,
                libc::EILSEQ => IllegalByteSequence,
                libc::EINPROGRESS => InProgress,
                libc::EINTR => Interrupted,
                libc::EINVAL => Invalid,
                libc::EIO => Io,
                libc::EISDIR => IsDirectory,
                libc::ELOOP => Loop,
                libc::EMLINK => TooManyLinks,
                libc::EMSGSIZE => MessageSize,
                libc::ENAMETOOLONG => NameTooLong,
                libc::ENODEV => NoDevice,
                libc::ENOENT => NoEntry,
                libc::ENOLCK => NoLock,
                libc::ENOMEM => InsufficientMemory,
                libc::ENOSPC => InsufficientSpace,
                libc::ENOTDIR => NotDirectory,
                libc::ENOTEMPTY => NotEmpty,
                libc::ENOTRECOVERABLE => NotRecoverable,
                libc::EOPNOTSUPP | libc::ENOSYS => Unsupported,
                libc::ENOTTY => NoTty,
                libc::ENXIO => NoSuchDevice,
                libc::EOVERFLOW => Overflow,
                libc::EPERM => NotPermitted,
                libc::EPIPE => Pipe,
                libc::EROFS => ReadOnly,
                libc::ESPIPE => InvalidSeek,
                libc::ETXTBSY => TextFileBusy,
                libc::EXDEV => CrossDevice,
                _ => Io,
            };
        }
        match e.kind() {
            io::ErrorKind::NotFound => NoEntry,
            io::ErrorKind::PermissionDenied => NotPermitted,
            io::ErrorKind::AlreadyExists => Exist,
            io::ErrorKind::InvalidInput | io::ErrorKind::InvalidData => Invalid,
            io::ErrorKind::StorageFull => InsufficientSpace,
            io::ErrorKind::OutOfMemory => InsufficientMemory,
            io::ErrorKind::Unsupported => Unsupported,
            io::ErrorKind::Interrupted => Interrupted,
            io::ErrorKind::WouldBlock => WouldBlock,
            io::ErrorKind::BrokenPipe => Pipe,
            _ => Io,
        }
    }
}

impl From<io::Error> for FsError {
    fn from(e: io::Error) -> Self {
        FsError::from_io(&e)
    }
}

impl fmt::Display for FsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl core::error::Error for FsError {}

#[cfg(test)]
mod tests;
