//! Unit tests of the sandboxed filesystem, on a fresh directory under the system's temporary
//! directory (removed at the end of each test).

use super::*;
use std::format;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

/// A fresh host directory, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let path = std::env::temp_dir().join(format!(
            "aot-wasi-fs-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn preopen(tmp: &TempDir, perms: DirPerms, file_perms: FilePerms) -> OpenDir {
    Preopen::open(&tmp.0, "/data", perms, file_perms)
        .unwrap()
        .dir
}

const FOLLOW: PathFlags = PathFlags {
    symlink_follow: true,
};
const NOFOLLOW: PathFlags = PathFlags {
    symlink_follow: false,
};
const READ: DescriptorFlags = DescriptorFlags {
    read: true,
    write: false,
    file_integrity_sync: false,
    data_integrity_sync: false,
    requested_write_sync: false,
    mutate_directory: false,
};
const READ_WRITE: DescriptorFlags = DescriptorFlags {
    write: true,
    ..READ
};
const CREATE: OpenFlags = OpenFlags {
    create: true,
    directory: false,
    exclusive: false,
    truncate: false,
};

fn file(d: Descriptor) -> OpenFile {
    match d {
        Descriptor::File(f) => f,
        Descriptor::Dir(_) => panic!("expected a file"),
    }
}

#[test]
fn create_write_read_append_stat() {
    let tmp = TempDir::new();
    let dir = preopen(&tmp, DirPerms::all(), FilePerms::all());
    let f = file(dir.open_at(FOLLOW, "a.txt", CREATE, READ_WRITE).unwrap());
    assert_eq!(f.write_at(b"hello file\n", 0).unwrap(), 11);
    assert_eq!(f.append(b"second\n").unwrap(), 18);
    let mut buf = [0; 5];
    assert_eq!(f.read_at(&mut buf, 6).unwrap(), 5);
    assert_eq!(&buf, b"file\n");
    assert_eq!(f.read(100, 11).unwrap(), (b"second\n".to_vec(), false));
    assert_eq!(f.read(100, 18).unwrap(), (Vec::new(), true));
    assert_eq!(
        std::fs::read(tmp.0.join("a.txt")).unwrap(),
        b"hello file\nsecond\n"
    );

    let stat = Descriptor::File(f.clone()).stat().unwrap();
    assert_eq!(stat.type_, DescriptorType::RegularFile);
    assert_eq!(stat.size, 18);
    assert_eq!(stat.link_count, 1);
    assert!(stat.data_modification_timestamp.unwrap().seconds > 1_577_836_800);
    assert_eq!(dir.stat_at(FOLLOW, "a.txt").unwrap().hash, stat.hash);

    f.set_size(5).unwrap();
    f.allocate(0, 8).unwrap();
    assert_eq!(std::fs::read(tmp.0.join("a.txt")).unwrap(), b"hello\0\0\0");

    // Exclusive creation of an existing file.
    let excl = OpenFlags {
        exclusive: true,
        ..CREATE
    };
    assert_eq!(
        dir.open_at(FOLLOW, "a.txt", excl, READ_WRITE).err(),
        Some(FsError::Exist)
    );
    // Truncation.
    let trunc = OpenFlags {
        truncate: true,
        ..OpenFlags::default()
    };
    let f = file(dir.open_at(FOLLOW, "a.txt", trunc, READ_WRITE).unwrap());
    assert_eq!(Descriptor::File(f).stat().unwrap().size, 0);

    // A read-only descriptor refuses writes, a write-only one reads.
    let ro = file(
        dir.open_at(FOLLOW, "a.txt", OpenFlags::default(), READ)
            .unwrap(),
    );
    assert_eq!(ro.write_at(b"x", 0), Err(FsError::BadDescriptor));
    assert_eq!(ro.set_size(0), Err(FsError::BadDescriptor));
    assert_eq!(
        dir.open_at(FOLLOW, "missing", OpenFlags::default(), READ)
            .err(),
        Some(FsError::NoEntry)
    );
}

#[test]
fn directories() {
    let tmp = TempDir::new();
    let dir = preopen(&tmp, DirPerms::all(), FilePerms::all());
    dir.create_directory_at("sub").unwrap();
    assert_eq!(dir.create_directory_at("sub"), Err(FsError::Exist));
    let opened = dir
        .open_at(
            FOLLOW,
            "sub",
            OpenFlags {
                directory: true,
                ..OpenFlags::default()
            },
            READ,
        )
        .unwrap();
    let Descriptor::Dir(sub) = &opened else {
        panic!("expected a directory")
    };
    assert_eq!(opened.get_type().unwrap(), DescriptorType::Directory);
    assert!(opened.get_flags().read);
    // Opening a directory without asking for one still gives a directory.
    let again = dir
        .open_at(FOLLOW, "sub", OpenFlags::default(), READ)
        .unwrap();
    assert!(again.is_same_object(&opened).unwrap());
    assert!(matches!(again, Descriptor::Dir(_)));
    // Asking for a directory on a file.
    file(sub.open_at(FOLLOW, "b", CREATE, READ_WRITE).unwrap());
    assert_eq!(
        sub.open_at(
            FOLLOW,
            "b",
            OpenFlags {
                directory: true,
                ..OpenFlags::default()
            },
            READ
        )
        .err(),
        Some(FsError::NotDirectory)
    );
    sub.create_directory_at("c").unwrap();
    let mut names: Vec<(String, DescriptorType)> = sub
        .read_directory()
        .unwrap()
        .map(|e| e.map(|e| (e.name, e.type_)))
        .collect::<Result<_, _>>()
        .unwrap();
    names.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        names,
        [
            ("b".to_string(), DescriptorType::RegularFile),
            ("c".to_string(), DescriptorType::Directory)
        ]
    );
    assert_eq!(dir.remove_directory_at("sub"), Err(FsError::NotEmpty));
    assert_eq!(sub.unlink_file_at("c"), Err(FsError::IsDirectory));
    sub.rename_at("b", &dir, "moved").unwrap();
    dir.link_at(PathFlags::default(), "moved", sub, "hard")
        .unwrap();
    assert_eq!(dir.stat_at(NOFOLLOW, "moved").unwrap().link_count, 2);
    assert_eq!(
        dir.metadata_hash_at(FOLLOW, "moved").unwrap(),
        sub.metadata_hash_at(FOLLOW, "hard").unwrap()
    );
    sub.unlink_file_at("hard").unwrap();
    sub.remove_directory_at("c").unwrap();
    dir.remove_directory_at("sub").unwrap();
    assert_eq!(dir.stat_at(FOLLOW, "sub").err(), Some(FsError::NoEntry));
    Descriptor::Dir(dir.clone()).sync().unwrap();
    Descriptor::Dir(dir).sync_data().unwrap();
}

#[test]
fn symlinks_and_times() {
    let tmp = TempDir::new();
    let dir = preopen(&tmp, DirPerms::all(), FilePerms::all());
    std::fs::write(tmp.0.join("target"), b"x").unwrap();
    dir.symlink_at("target", "link").unwrap();
    assert_eq!(dir.readlink_at("link").unwrap(), "target");
    assert_eq!(
        dir.stat_at(NOFOLLOW, "link").unwrap().type_,
        DescriptorType::SymbolicLink
    );
    assert_eq!(
        dir.stat_at(FOLLOW, "link").unwrap().type_,
        DescriptorType::RegularFile
    );
    // Not following a symbolic link in the last component fails to open it.
    assert_eq!(
        dir.open_at(NOFOLLOW, "link", OpenFlags::default(), READ)
            .err(),
        Some(FsError::Loop)
    );
    assert_eq!(
        dir.symlink_at("/etc/passwd", "abs"),
        Err(FsError::NotPermitted)
    );
    let t = Datetime {
        seconds: 1_000_000_000,
        nanoseconds: 500,
    };
    dir.set_times_at(
        FOLLOW,
        "link",
        NewTimestamp::Timestamp(t),
        NewTimestamp::Timestamp(t),
    )
    .unwrap();
    let stat = dir.stat_at(FOLLOW, "target").unwrap();
    assert_eq!(stat.data_modification_timestamp, Some(t));
    assert_eq!(stat.data_access_timestamp, Some(t));
    let f = Descriptor::File(file(
        dir.open_at(FOLLOW, "target", OpenFlags::default(), READ)
            .unwrap(),
    ));
    f.set_times(NewTimestamp::NoChange, NewTimestamp::Now)
        .unwrap();
    let stat = f.stat().unwrap();
    assert_eq!(stat.data_access_timestamp, Some(t));
    assert!(stat.data_modification_timestamp.unwrap() > t);
    dir.unlink_file_at("link").unwrap();
    assert!(tmp.0.join("target").exists());
}

#[test]
fn escapes_are_refused() {
    let tmp = TempDir::new();
    std::fs::create_dir(tmp.0.join("inside")).unwrap();
    std::fs::write(tmp.0.join("outside.txt"), b"secret").unwrap();
    let inside = tmp.0.join("inside");
    std::os::unix::fs::symlink("../outside.txt", inside.join("link-out")).unwrap();
    std::os::unix::fs::symlink(tmp.0.join("outside.txt"), inside.join("abs-link")).unwrap();
    std::fs::create_dir(inside.join("sub")).unwrap();
    let tmp_inside = TempDir(inside);
    let dir = preopen(&tmp_inside, DirPerms::all(), FilePerms::all());
    let open = |path: &str| dir.open_at(FOLLOW, path, OpenFlags::default(), READ).err();
    assert_eq!(open("../outside.txt"), Some(FsError::NotPermitted));
    assert_eq!(open("/etc/passwd"), Some(FsError::NotPermitted));
    assert_eq!(open("link-out"), Some(FsError::NotPermitted));
    assert_eq!(open("abs-link"), Some(FsError::NotPermitted));
    assert_eq!(open("sub/../../outside.txt"), Some(FsError::NotPermitted));
    assert_eq!(
        dir.create_directory_at("../newdir"),
        Err(FsError::NotPermitted)
    );
    assert_eq!(
        dir.stat_at(FOLLOW, "link-out").err(),
        Some(FsError::NotPermitted)
    );
    assert_eq!(dir.readlink_at("abs-link"), Err(FsError::NotPermitted));
    std::fs::write(tmp_inside.0.join("f"), b"").unwrap();
    assert_eq!(dir.rename_at("f", &dir, "../g"), Err(FsError::NotPermitted));
    assert_eq!(
        dir.open_at(FOLLOW, "../created", CREATE, READ_WRITE).err(),
        Some(FsError::NotPermitted)
    );
    assert!(!tmp.0.join("newdir").exists());
    assert!(!tmp.0.join("g").exists());
    assert!(!tmp.0.join("created").exists());
    drop(tmp_inside);
}

#[test]
fn read_only_preopen_refuses_writes() {
    let tmp = TempDir::new();
    std::fs::write(tmp.0.join("input.txt"), b"read me").unwrap();
    std::fs::create_dir(tmp.0.join("sub")).unwrap();
    let dir = preopen(&tmp, DirPerms::READ, FilePerms::READ);
    let f = file(
        dir.open_at(FOLLOW, "input.txt", OpenFlags::default(), READ)
            .unwrap(),
    );
    assert_eq!(f.read(100, 0).unwrap().0, b"read me");
    let denied = Some(FsError::NotPermitted);
    assert_eq!(dir.open_at(FOLLOW, "new", CREATE, READ_WRITE).err(), denied);
    assert_eq!(
        dir.open_at(FOLLOW, "input.txt", OpenFlags::default(), READ_WRITE)
            .err(),
        denied
    );
    let trunc = OpenFlags {
        truncate: true,
        ..OpenFlags::default()
    };
    assert_eq!(dir.open_at(FOLLOW, "input.txt", trunc, READ).err(), denied);
    assert_eq!(dir.unlink_file_at("input.txt").err(), denied);
    assert_eq!(dir.create_directory_at("d").err(), denied);
    assert_eq!(dir.remove_directory_at("sub").err(), denied);
    assert_eq!(dir.rename_at("input.txt", &dir, "x").err(), denied);
    assert_eq!(dir.symlink_at("input.txt", "l").err(), denied);
    assert_eq!(
        dir.link_at(PathFlags::default(), "input.txt", &dir, "h")
            .err(),
        denied
    );
    assert_eq!(
        dir.set_times_at(FOLLOW, "input.txt", NewTimestamp::Now, NewTimestamp::Now)
            .err(),
        denied
    );
    assert_eq!(
        Descriptor::File(f.clone())
            .set_times(NewTimestamp::Now, NewTimestamp::Now)
            .err(),
        denied
    );
    assert_eq!(
        Descriptor::Dir(dir.clone())
            .set_times(NewTimestamp::Now, NewTimestamp::Now)
            .err(),
        denied
    );
    // A sub-directory inherits the preopen's permissions.
    let Descriptor::Dir(sub) = dir
        .open_at(FOLLOW, "sub", OpenFlags::default(), READ)
        .unwrap()
    else {
        panic!("expected a directory")
    };
    assert_eq!(sub.create_directory_at("d").err(), denied);
    assert_eq!(std::fs::read(tmp.0.join("input.txt")).unwrap(), b"read me");
    assert_eq!(
        std::fs::read_dir(&tmp.0).unwrap().count(),
        2,
        "nothing was created"
    );
}

#[test]
fn error_codes() {
    let e = |errno| FsError::from(io::Error::from_raw_os_error(errno));
    assert_eq!(e(libc::ENOENT), FsError::NoEntry);
    assert_eq!(e(libc::EPERM), FsError::NotPermitted);
    assert_eq!(e(libc::EACCES), FsError::Access);
    assert_eq!(e(libc::ENOTEMPTY), FsError::NotEmpty);
    assert_eq!(e(libc::EXDEV), FsError::CrossDevice);
    assert_eq!(e(libc::E2BIG), FsError::Io);
    assert_eq!(
        FsError::from(io::Error::new(io::ErrorKind::PermissionDenied, "escape")),
        FsError::NotPermitted
    );
    assert_eq!(FsError::from(io::Error::other("boom")), FsError::Io);
    assert_eq!(FsError::NotPermitted.to_string(), "not-permitted");
    assert_eq!(FsError::TextFileBusy.name(), "text-file-busy");
}

#[test]
fn perms() {
    assert!(DirPerms::all().contains(DirPerms::READ | DirPerms::MUTATE));
    assert!(!DirPerms::READ.contains(DirPerms::MUTATE));
    assert!(DirPerms::READ.contains(DirPerms::empty()));
    assert!(FilePerms::all().contains(FilePerms::WRITE));
    assert!(!(FilePerms::READ | FilePerms::empty()).contains(FilePerms::WRITE));
}
