//! The types of `wasi:filesystem/types@0.2.6` as Rust types with the component derives (names,
//! cases and field order exactly as in the WIT; timestamps are `wasi:clocks/wall-clock.datetime`,
//! defined in `p2/clocks.rs`), and the conversions to and from the shared layer's types in
//! [`crate::wasi::fs`].

use crate::component::{ComponentType, Lift, Lower, flags};
use crate::prelude::*;
use crate::wasi::fs::{self, FsError};
use crate::wasi::p2::clocks::Datetime;

/// `wasi:filesystem/types.filesize`: a file size or offset in bytes.
pub(crate) type Filesize = u64;

/// `wasi:filesystem/types.link-count`: the number of hard links to a file.
pub(crate) type LinkCount = u64;

/// `descriptor-type`: the type of a filesystem object.
#[derive(ComponentType, Lift, Lower, Copy, Clone, Debug, PartialEq, Eq)]
#[component(enum)]
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

impl From<fs::DescriptorType> for DescriptorType {
    fn from(t: fs::DescriptorType) -> Self {
        match t {
            fs::DescriptorType::Unknown => DescriptorType::Unknown,
            fs::DescriptorType::BlockDevice => DescriptorType::BlockDevice,
            fs::DescriptorType::CharacterDevice => DescriptorType::CharacterDevice,
            fs::DescriptorType::Directory => DescriptorType::Directory,
            fs::DescriptorType::Fifo => DescriptorType::Fifo,
            fs::DescriptorType::SymbolicLink => DescriptorType::SymbolicLink,
            fs::DescriptorType::RegularFile => DescriptorType::RegularFile,
            fs::DescriptorType::Socket => DescriptorType::Socket,
        }
    }
}

flags! {
    /// `descriptor-flags`: how a descriptor was opened.
    pub(crate) DescriptorFlags {
        const READ;
        const WRITE;
        const FILE_INTEGRITY_SYNC;
        const DATA_INTEGRITY_SYNC;
        const REQUESTED_WRITE_SYNC;
        const MUTATE_DIRECTORY;
    }

    /// `path-flags`: how a path is resolved.
    pub(crate) PathFlags {
        const SYMLINK_FOLLOW;
    }

    /// `open-flags`: how `open-at` opens.
    pub(crate) OpenFlags {
        const CREATE;
        const DIRECTORY;
        const EXCLUSIVE;
        const TRUNCATE;
    }
}

impl From<DescriptorFlags> for fs::DescriptorFlags {
    fn from(f: DescriptorFlags) -> Self {
        fs::DescriptorFlags {
            read: f.contains(DescriptorFlags::READ),
            write: f.contains(DescriptorFlags::WRITE),
            file_integrity_sync: f.contains(DescriptorFlags::FILE_INTEGRITY_SYNC),
            data_integrity_sync: f.contains(DescriptorFlags::DATA_INTEGRITY_SYNC),
            requested_write_sync: f.contains(DescriptorFlags::REQUESTED_WRITE_SYNC),
            mutate_directory: f.contains(DescriptorFlags::MUTATE_DIRECTORY),
        }
    }
}

impl From<fs::DescriptorFlags> for DescriptorFlags {
    fn from(f: fs::DescriptorFlags) -> Self {
        let mut out = DescriptorFlags::empty();
        for (set, flag) in [
            (f.read, DescriptorFlags::READ),
            (f.write, DescriptorFlags::WRITE),
            (f.file_integrity_sync, DescriptorFlags::FILE_INTEGRITY_SYNC),
            (f.data_integrity_sync, DescriptorFlags::DATA_INTEGRITY_SYNC),
            (
                f.requested_write_sync,
                DescriptorFlags::REQUESTED_WRITE_SYNC,
            ),
            (f.mutate_directory, DescriptorFlags::MUTATE_DIRECTORY),
        ] {
            if set {
                out |= flag;
            }
        }
        out
    }
}

impl From<PathFlags> for fs::PathFlags {
    fn from(f: PathFlags) -> Self {
        fs::PathFlags {
            symlink_follow: f.contains(PathFlags::SYMLINK_FOLLOW),
        }
    }
}

impl From<OpenFlags> for fs::OpenFlags {
    fn from(f: OpenFlags) -> Self {
        fs::OpenFlags {
            create: f.contains(OpenFlags::CREATE),
            directory: f.contains(OpenFlags::DIRECTORY),
            exclusive: f.contains(OpenFlags::EXCLUSIVE),
            truncate: f.contains(OpenFlags::TRUNCATE),
        }
    }
}

/// `descriptor-stat`: a file's attributes.
#[derive(ComponentType, Lift, Lower, Copy, Clone, Debug, PartialEq, Eq)]
#[component(record)]
pub(crate) struct DescriptorStat {
    #[component(name = "type")]
    pub(crate) type_: DescriptorType,
    pub(crate) link_count: LinkCount,
    pub(crate) size: Filesize,
    pub(crate) data_access_timestamp: Option<Datetime>,
    pub(crate) data_modification_timestamp: Option<Datetime>,
    pub(crate) status_change_timestamp: Option<Datetime>,
}

impl From<fs::DescriptorStat> for DescriptorStat {
    fn from(s: fs::DescriptorStat) -> Self {
        DescriptorStat {
            type_: s.type_.into(),
            link_count: s.link_count,
            size: s.size,
            data_access_timestamp: s.data_access_timestamp.map(Into::into),
            data_modification_timestamp: s.data_modification_timestamp.map(Into::into),
            status_change_timestamp: s.status_change_timestamp.map(Into::into),
        }
    }
}

/// `new-timestamp`: the value `set-times` and `set-times-at` give a timestamp.
#[derive(ComponentType, Lift, Lower, Copy, Clone, Debug, PartialEq, Eq)]
#[component(variant)]
pub(crate) enum NewTimestamp {
    NoChange,
    Now,
    Timestamp(Datetime),
}

impl From<NewTimestamp> for fs::NewTimestamp {
    fn from(t: NewTimestamp) -> Self {
        match t {
            NewTimestamp::NoChange => fs::NewTimestamp::NoChange,
            NewTimestamp::Now => fs::NewTimestamp::Now,
            NewTimestamp::Timestamp(t) => fs::NewTimestamp::Timestamp(t.into()),
        }
    }
}

/// `directory-entry`: one entry of a directory.
#[derive(ComponentType, Lift, Lower, Clone, Debug, PartialEq, Eq)]
#[component(record)]
pub(crate) struct DirectoryEntry {
    #[component(name = "type")]
    pub(crate) type_: DescriptorType,
    pub(crate) name: String,
}

impl From<fs::DirectoryEntry> for DirectoryEntry {
    fn from(e: fs::DirectoryEntry) -> Self {
        DirectoryEntry {
            type_: e.type_.into(),
            name: e.name,
        }
    }
}

/// `advice`: access-pattern advice for `advise`.
#[derive(ComponentType, Lift, Lower, Copy, Clone, Debug, PartialEq, Eq)]
#[component(enum)]
pub(crate) enum Advice {
    Normal,
    Sequential,
    Random,
    WillNeed,
    DontNeed,
    NoReuse,
}

impl From<Advice> for fs::Advice {
    fn from(a: Advice) -> Self {
        match a {
            Advice::Normal => fs::Advice::Normal,
            Advice::Sequential => fs::Advice::Sequential,
            Advice::Random => fs::Advice::Random,
            Advice::WillNeed => fs::Advice::WillNeed,
            Advice::DontNeed => fs::Advice::DontNeed,
            Advice::NoReuse => fs::Advice::NoReuse,
        }
    }
}

/// `metadata-hash-value`: a 128-bit hash of a file's identity, in two halves.
#[derive(ComponentType, Lift, Lower, Copy, Clone, Debug, PartialEq, Eq)]
#[component(record)]
pub(crate) struct MetadataHashValue {
    pub(crate) lower: u64,
    pub(crate) upper: u64,
}

impl From<fs::MetadataHash> for MetadataHashValue {
    fn from(h: fs::MetadataHash) -> Self {
        MetadataHashValue {
            lower: h.lower,
            upper: h.upper,
        }
    }
}

/// `error-code`: why a filesystem operation failed. The shared layer's error is already exactly
/// this enum (the 37 cases of the WIT, in order), lifted and lowered as it is.
pub(crate) type ErrorCode = FsError;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_codes_keep_their_names_and_order() {
        // Every shared-layer error maps to the case of the same WIT name, in WIT order.
        let all = [
            FsError::Access,
            FsError::WouldBlock,
            FsError::Already,
            FsError::BadDescriptor,
            FsError::Busy,
            FsError::Deadlock,
            FsError::Quota,
            FsError::Exist,
            FsError::FileTooLarge,
            FsError::IllegalByteSequence,
            FsError::InProgress,
            FsError::Interrupted,
            FsError::Invalid,
            FsError::Io,
            FsError::IsDirectory,
            FsError::Loop,
            FsError::TooManyLinks,
            FsError::MessageSize,
            FsError::NameTooLong,
            FsError::NoDevice,
            FsError::NoEntry,
            FsError::NoLock,
            FsError::InsufficientMemory,
            FsError::InsufficientSpace,
            FsError::NotDirectory,
            FsError::NotEmpty,
            FsError::NotRecoverable,
            FsError::Unsupported,
            FsError::NoTty,
            FsError::NoSuchDevice,
            FsError::Overflow,
            FsError::NotPermitted,
            FsError::Pipe,
            FsError::ReadOnly,
            FsError::InvalidSeek,
            FsError::TextFileBusy,
            FsError::CrossDevice,
        ];
        assert_eq!(all.len(), 37);
        for (i, e) in all.into_iter().enumerate() {
            let code = ErrorCode::from(e);
            assert_eq!(code as usize, i, "{e}");
            let debug = format!("{code:?}");
            let kebab: String = debug
                .chars()
                .enumerate()
                .flat_map(|(j, c)| {
                    let dash = (j > 0 && c.is_uppercase()).then_some('-');
                    dash.into_iter().chain(c.to_lowercase())
                })
                .collect();
            assert_eq!(kebab, e.name());
        }
    }

    #[test]
    fn flags_convert_both_ways() {
        let flags = DescriptorFlags::READ | DescriptorFlags::MUTATE_DIRECTORY;
        let shared = fs::DescriptorFlags::from(flags);
        assert!(shared.read && shared.mutate_directory && !shared.write);
        assert_eq!(DescriptorFlags::from(shared), flags);
        assert!(fs::PathFlags::from(PathFlags::SYMLINK_FOLLOW).symlink_follow);
        let open = fs::OpenFlags::from(OpenFlags::CREATE | OpenFlags::EXCLUSIVE);
        assert!(open.create && open.exclusive && !open.truncate && !open.directory);
    }
}
