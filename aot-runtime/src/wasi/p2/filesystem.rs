//! `wasi:filesystem/types@0.2.6` and `wasi:filesystem/preopens@0.2.6` for WASI 0.2: the
//! `descriptor` resource (a [`Descriptor`] of the shared layer), the
//! `directory-entry-stream` resource ([`DirectoryEntryStream`]), `filesystem-error-code` and
//! `get-directories`. The WIT types are in [`types`].
//!
//! Every operation is the shared layer's ([`crate::wasi::fs`]), so sandboxing and the preopen's
//! [`DirPerms`](crate::wasi::DirPerms) and [`FilePerms`] are enforced
//! there (`not-permitted`). On top of them, as in Wasmtime:
//!
//! - a file operation on a directory fails with `bad-descriptor`, a directory operation on a
//!   file with `not-directory`;
//! - reading (`read`, `read-via-stream`) needs the descriptor's `read` flag, writing (`write`,
//!   `write-via-stream`, `append-via-stream`, `set-size`) its `write` flag, else
//!   `bad-descriptor`;
//! - `mutate-directory` is checked when a directory is opened (it needs a preopen with
//!   `DirPerms::MUTATE`) and reported by `get-flags`; changes below a directory are governed by
//!   the preopen's `DirPerms`, not by that flag, like Wasmtime (the preview-1 adapter and
//!   wasi-libc open directories without it and still create entries in them).
//!
//! A failure of the operation is the WIT result's `error-code`; an `Err` from a host function
//! is a trap, reserved for handles that name nothing (or the wrong type) and for dropping a
//! descriptor whose streams are still open (`HasChildren`).
//!
//! | function | status |
//! |---|---|
//! | `[method]descriptor.read-via-stream` | done: an `input-stream` child of the descriptor |
//! | `[method]descriptor.write-via-stream` | done: an `output-stream` child, writes at the offset |
//! | `[method]descriptor.append-via-stream` | done: an `output-stream` child, appends |
//! | `[method]descriptor.advise` | done: accepted without effect |
//! | `[method]descriptor.sync-data`, `.sync` | done (`fdatasync`, `fsync`) |
//! | `[method]descriptor.get-flags`, `.get-type` | done |
//! | `[method]descriptor.set-size`, `.set-times` | done |
//! | `[method]descriptor.read`, `.write` | done (`pread`, `pwrite`; reads at most 1 MiB at once) |
//! | `[method]descriptor.read-directory` | done: entries without `.` and `..` |
//! | `[method]descriptor.create-directory-at`, `.remove-directory-at`, `.unlink-file-at` | done |
//! | `[method]descriptor.stat`, `.stat-at`, `.set-times-at` | done |
//! | `[method]descriptor.link-at` | done; following a symbolic link in the old path is `invalid` |
//! | `[method]descriptor.open-at` | done: a new descriptor (own handle) |
//! | `[method]descriptor.readlink-at`, `.symlink-at` | done; an absolute target is `not-permitted` |
//! | `[method]descriptor.rename-at` | done |
//! | `[method]descriptor.is-same-object` | done (`false` if either cannot be stat'ed) |
//! | `[method]descriptor.metadata-hash`, `.metadata-hash-at` | done: device and inode, hashed |
//! | `[method]directory-entry-stream.read-directory-entry` | done |
//! | `filesystem-error-code` | done: the code of an `error` from a file stream |
//! | `preopens.get-directories` | done: new own handles on every call |

mod types;

use self::types::{
    Advice, DescriptorFlags, DescriptorStat, DescriptorType, DirectoryEntry, ErrorCode, Filesize,
    MetadataHashValue, NewTimestamp, OpenFlags, PathFlags,
};
use super::streams::{InputStream, IoError, OutputStream};
use crate::component::{Linker, Resource, ResourceTable, ResourceType};
use crate::error::Result;
use crate::prelude::*;
use crate::store::StoreContextMut;
use crate::wasi::WasiView;
use crate::wasi::fs::{Descriptor, FilePerms, FsError, OpenDir, OpenFile, ReadDirectory};

/// The interface names, at the version this runtime defines.
const TYPES: &str = "wasi:filesystem/types@0.2.6";
const PREOPENS: &str = "wasi:filesystem/preopens@0.2.6";

/// The value behind a `directory-entry-stream` handle: the rest of a directory's entries.
pub(crate) struct DirectoryEntryStream(ReadDirectory);

/// What a descriptor method returns to the guest: the operation's result, with its error as an
/// `error-code`.
type FsResult<R> = Result<(core::result::Result<R, ErrorCode>,)>;

/// What `get-directories` returns: a new descriptor for each preopen, and its guest path.
type Preopens = Vec<(Resource<Descriptor>, String)>;

/// The WASI resource table in the store's data.
fn table<'a, T: WasiView>(store: &'a mut StoreContextMut<'_, T>) -> &'a mut ResourceTable {
    &mut store.data_mut().ctx().table
}

/// The open file of a descriptor; a directory is `bad-descriptor`.
fn file(d: &Descriptor) -> core::result::Result<&OpenFile, FsError> {
    match d {
        Descriptor::File(f) => Ok(f),
        Descriptor::Dir(_) => Err(FsError::BadDescriptor),
    }
}

/// The open directory of a descriptor; a file is `not-directory`.
fn dir(d: &Descriptor) -> core::result::Result<&OpenDir, FsError> {
    match d {
        Descriptor::Dir(d) => Ok(d),
        Descriptor::File(_) => Err(FsError::NotDirectory),
    }
}

/// `f`, if it was opened for reading.
fn readable(d: &Descriptor) -> core::result::Result<&OpenFile, FsError> {
    let f = file(d)?;
    if f.flags.read {
        Ok(f)
    } else {
        Err(FsError::BadDescriptor)
    }
}

/// `f`, if it was opened for writing under a preopen whose files may be written.
fn writable(d: &Descriptor) -> core::result::Result<&OpenFile, FsError> {
    let f = file(d)?;
    if !f.flags.write {
        Err(FsError::BadDescriptor)
    } else if !f.perms.contains(FilePerms::WRITE) {
        Err(FsError::NotPermitted)
    } else {
        Ok(f)
    }
}

/// Runs `op` on the descriptor behind `this`: a handle that names no descriptor traps, a
/// filesystem error becomes the result's `error-code`.
fn with_descriptor<T: WasiView, R>(
    store: &mut StoreContextMut<'_, T>,
    this: &Resource<Descriptor>,
    op: impl FnOnce(&Descriptor) -> core::result::Result<R, FsError>,
) -> FsResult<R> {
    let d = table(store).get(this)?;
    Ok((op(d),))
}

/// Runs `op` on the directories behind `this` and `other` (`rename-at`, `link-at`).
fn with_two_dirs<T: WasiView>(
    store: &mut StoreContextMut<'_, T>,
    this: &Resource<Descriptor>,
    other: &Resource<Descriptor>,
    op: impl FnOnce(&OpenDir, &OpenDir) -> core::result::Result<(), FsError>,
) -> FsResult<()> {
    let table = table(store);
    let (a, b) = (table.get(this)?, table.get(other)?);
    Ok(((|| op(dir(a)?, dir(b)?))(),))
}

/// Pushes `stream`, a child of the descriptor `this` (which then cannot be dropped before it).
fn push_stream<T: WasiView, S: Send + 'static>(
    store: &mut StoreContextMut<'_, T>,
    this: &Resource<Descriptor>,
    make: impl FnOnce(&Descriptor) -> core::result::Result<S, FsError>,
) -> FsResult<Resource<S>> {
    let table = table(store);
    let stream = match make(table.get(this)?) {
        Ok(stream) => stream,
        Err(e) => return Ok((Err(e),)),
    };
    Ok((Ok(table.push_child(stream, this)?),))
}

/// Defines `wasi:filesystem/types@0.2.6` and `wasi:filesystem/preopens@0.2.6` in `linker`.
///
/// # Errors
/// If a name is already defined and shadowing is not allowed.
pub(crate) fn add_to_linker<T: WasiView + 'static>(linker: &mut Linker<T>) -> Result<()> {
    add_types(linker)?;
    linker.instance(PREOPENS)?.func_wrap(
        "get-directories",
        |mut store, (): ()| -> Result<(Preopens,)> {
            let ctx = store.data_mut().ctx();
            let mut dirs = Vec::with_capacity(ctx.preopens.len());
            for preopen in &ctx.preopens {
                let handle = ctx.table.push(Descriptor::Dir(preopen.dir.clone()))?;
                dirs.push((handle, preopen.guest_path.clone()));
            }
            Ok((dirs,))
        },
    )?;
    Ok(())
}

/// Defines `wasi:filesystem/types@0.2.6`: the two resources and their methods, and
/// `filesystem-error-code`.
fn add_types<T: WasiView + 'static>(linker: &mut Linker<T>) -> Result<()> {
    let mut i = linker.instance(TYPES)?;
    i.resource(
        "descriptor",
        ResourceType::host::<Descriptor>(),
        |mut store, rep| {
            table(&mut store).delete(Resource::<Descriptor>::new_own(rep))?;
            Ok(())
        },
    )?;
    i.resource(
        "directory-entry-stream",
        ResourceType::host::<DirectoryEntryStream>(),
        |mut store, rep| {
            table(&mut store).delete(Resource::<DirectoryEntryStream>::new_own(rep))?;
            Ok(())
        },
    )?;

    i.func_wrap(
        "[method]descriptor.read-via-stream",
        |mut store, (this, offset): (Resource<Descriptor>, Filesize)| {
            push_stream(&mut store, &this, |d| {
                Ok(InputStream::File {
                    file: readable(d)?.clone(),
                    offset,
                })
            })
        },
    )?;
    i.func_wrap(
        "[method]descriptor.write-via-stream",
        |mut store, (this, offset): (Resource<Descriptor>, Filesize)| {
            push_stream(&mut store, &this, |d| {
                Ok(OutputStream::File {
                    file: writable(d)?.clone(),
                    offset,
                })
            })
        },
    )?;
    i.func_wrap(
        "[method]descriptor.append-via-stream",
        |mut store, (this,): (Resource<Descriptor>,)| {
            push_stream(&mut store, &this, |d| {
                Ok(OutputStream::Append {
                    file: writable(d)?.clone(),
                })
            })
        },
    )?;
    i.func_wrap(
        "[method]descriptor.advise",
        |mut store,
         (this, offset, len, advice): (Resource<Descriptor>, Filesize, Filesize, Advice)| {
            with_descriptor(&mut store, &this, |d| {
                file(d)?.advise(offset, len, advice.into())
            })
        },
    )?;
    i.func_wrap(
        "[method]descriptor.sync-data",
        |mut store, (this,): (Resource<Descriptor>,)| {
            with_descriptor(&mut store, &this, Descriptor::sync_data)
        },
    )?;
    i.func_wrap(
        "[method]descriptor.get-flags",
        |mut store, (this,): (Resource<Descriptor>,)| -> FsResult<DescriptorFlags> {
            with_descriptor(&mut store, &this, |d| Ok(d.get_flags().into()))
        },
    )?;
    i.func_wrap(
        "[method]descriptor.get-type",
        |mut store, (this,): (Resource<Descriptor>,)| -> FsResult<DescriptorType> {
            with_descriptor(&mut store, &this, |d| Ok(d.get_type()?.into()))
        },
    )?;
    i.func_wrap(
        "[method]descriptor.set-size",
        |mut store, (this, size): (Resource<Descriptor>, Filesize)| {
            with_descriptor(&mut store, &this, |d| file(d)?.set_size(size))
        },
    )?;
    i.func_wrap(
        "[method]descriptor.set-times",
        |mut store, (this, atime, mtime): (Resource<Descriptor>, NewTimestamp, NewTimestamp)| {
            with_descriptor(&mut store, &this, |d| {
                d.set_times(atime.into(), mtime.into())
            })
        },
    )?;
    i.func_wrap(
        "[method]descriptor.read",
        |mut store,
         (this, len, offset): (Resource<Descriptor>, Filesize, Filesize)|
         -> FsResult<(Vec<u8>, bool)> {
            with_descriptor(&mut store, &this, |d| readable(d)?.read(len, offset))
        },
    )?;
    i.func_wrap(
        "[method]descriptor.write",
        |mut store,
         (this, buf, offset): (Resource<Descriptor>, Vec<u8>, Filesize)|
         -> FsResult<Filesize> {
            with_descriptor(&mut store, &this, |d| {
                Ok(writable(d)?.write_at(&buf, offset)? as u64)
            })
        },
    )?;
    i.func_wrap(
        "[method]descriptor.read-directory",
        |mut store, (this,): (Resource<Descriptor>,)| {
            let table = table(&mut store);
            match dir(table.get(&this)?).and_then(OpenDir::read_directory) {
                Ok(entries) => Ok((Ok(table.push(DirectoryEntryStream(entries))?),)),
                Err(e) => Ok((Err(e),)),
            }
        },
    )?;
    i.func_wrap(
        "[method]descriptor.sync",
        |mut store, (this,): (Resource<Descriptor>,)| {
            with_descriptor(&mut store, &this, Descriptor::sync)
        },
    )?;
    i.func_wrap(
        "[method]descriptor.create-directory-at",
        |mut store, (this, path): (Resource<Descriptor>, String)| {
            with_descriptor(&mut store, &this, |d| dir(d)?.create_directory_at(&path))
        },
    )?;
    i.func_wrap(
        "[method]descriptor.stat",
        |mut store, (this,): (Resource<Descriptor>,)| -> FsResult<DescriptorStat> {
            with_descriptor(&mut store, &this, |d| Ok(d.stat()?.into()))
        },
    )?;
    i.func_wrap(
        "[method]descriptor.stat-at",
        |mut store,
         (this, path_flags, path): (Resource<Descriptor>, PathFlags, String)|
         -> FsResult<DescriptorStat> {
            with_descriptor(&mut store, &this, |d| {
                Ok(dir(d)?.stat_at(path_flags.into(), &path)?.into())
            })
        },
    )?;
    i.func_wrap(
        "[method]descriptor.set-times-at",
        |mut store,
         (this, path_flags, path, atime, mtime): (
            Resource<Descriptor>,
            PathFlags,
            String,
            NewTimestamp,
            NewTimestamp,
        )| {
            with_descriptor(&mut store, &this, |d| {
                dir(d)?.set_times_at(path_flags.into(), &path, atime.into(), mtime.into())
            })
        },
    )?;
    i.func_wrap(
        "[method]descriptor.link-at",
        |mut store,
         (this, old_flags, old_path, new_dir, new_path): (
            Resource<Descriptor>,
            PathFlags,
            String,
            Resource<Descriptor>,
            String,
        )| {
            with_two_dirs(&mut store, &this, &new_dir, |old, new| {
                old.link_at(old_flags.into(), &old_path, new, &new_path)
            })
        },
    )?;
    i.func_wrap(
        "[method]descriptor.open-at",
        |mut store,
         (this, path_flags, path, open_flags, flags): (
            Resource<Descriptor>,
            PathFlags,
            String,
            OpenFlags,
            DescriptorFlags,
        )| {
            let table = table(&mut store);
            let opened = dir(table.get(&this)?)
                .and_then(|d| d.open_at(path_flags.into(), &path, open_flags.into(), flags.into()));
            match opened {
                Ok(d) => Ok((Ok(table.push(d)?),)),
                Err(e) => Ok((Err(e),)),
            }
        },
    )?;
    i.func_wrap(
        "[method]descriptor.readlink-at",
        |mut store, (this, path): (Resource<Descriptor>, String)| -> FsResult<String> {
            with_descriptor(&mut store, &this, |d| dir(d)?.readlink_at(&path))
        },
    )?;
    i.func_wrap(
        "[method]descriptor.remove-directory-at",
        |mut store, (this, path): (Resource<Descriptor>, String)| {
            with_descriptor(&mut store, &this, |d| dir(d)?.remove_directory_at(&path))
        },
    )?;
    i.func_wrap(
        "[method]descriptor.rename-at",
        |mut store,
         (this, old_path, new_dir, new_path): (
            Resource<Descriptor>,
            String,
            Resource<Descriptor>,
            String,
        )| {
            with_two_dirs(&mut store, &this, &new_dir, |old, new| {
                old.rename_at(&old_path, new, &new_path)
            })
        },
    )?;
    i.func_wrap(
        "[method]descriptor.symlink-at",
        |mut store, (this, old_path, new_path): (Resource<Descriptor>, String, String)| {
            with_descriptor(&mut store, &this, |d| {
                dir(d)?.symlink_at(&old_path, &new_path)
            })
        },
    )?;
    i.func_wrap(
        "[method]descriptor.unlink-file-at",
        |mut store, (this, path): (Resource<Descriptor>, String)| {
            with_descriptor(&mut store, &this, |d| dir(d)?.unlink_file_at(&path))
        },
    )?;
    i.func_wrap(
        "[method]descriptor.is-same-object",
        |mut store, (this, other): (Resource<Descriptor>, Resource<Descriptor>)| {
            let table = table(&mut store);
            let (a, b) = (table.get(&this)?, table.get(&other)?);
            // The WIT result is a plain `bool`: a descriptor that cannot be stat'ed is not
            // the same object as anything.
            Ok((a.is_same_object(b).unwrap_or(false),))
        },
    )?;
    i.func_wrap(
        "[method]descriptor.metadata-hash",
        |mut store, (this,): (Resource<Descriptor>,)| -> FsResult<MetadataHashValue> {
            with_descriptor(&mut store, &this, |d| Ok(d.metadata_hash()?.into()))
        },
    )?;
    i.func_wrap(
        "[method]descriptor.metadata-hash-at",
        |mut store,
         (this, path_flags, path): (Resource<Descriptor>, PathFlags, String)|
         -> FsResult<MetadataHashValue> {
            with_descriptor(&mut store, &this, |d| {
                Ok(dir(d)?.metadata_hash_at(path_flags.into(), &path)?.into())
            })
        },
    )?;
    i.func_wrap(
        "[method]directory-entry-stream.read-directory-entry",
        |mut store,
         (this,): (Resource<DirectoryEntryStream>,)|
         -> FsResult<Option<DirectoryEntry>> {
            let entries = &mut table(&mut store).get_mut(&this)?.0;
            let next = entries.next().transpose();
            Ok((next.map(|e| e.map(DirectoryEntry::from)),))
        },
    )?;
    i.func_wrap(
        "filesystem-error-code",
        |mut store, (err,): (Resource<IoError>,)| -> Result<(Option<ErrorCode>,)> {
            let err = table(&mut store).get(&err)?;
            Ok((err.code,))
        },
    )?;
    Ok(())
}
