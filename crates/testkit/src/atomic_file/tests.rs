use super::*;

#[test]
fn creates_then_replaces_without_leaving_temporaries() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("gatehouse.yaml");
    write_file_atomically(&path, "first");
    assert_eq!(fs::read_to_string(&path).expect("read"), "first");
    write_file_atomically(&path, b"second");
    assert_eq!(fs::read_to_string(&path).expect("read"), "second");
    let names: Vec<_> = fs::read_dir(dir.path())
        .expect("list")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(names, ["gatehouse.yaml"]);
}

#[cfg(unix)]
#[test]
fn replaces_the_inode_so_open_readers_keep_the_old_content() {
    use std::io::Read;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("key");
    write_file_atomically(&path, "old");
    let mut reader = File::open(&path).expect("open");
    write_file_atomically(&path, "new");
    let mut seen = String::new();
    reader.read_to_string(&mut seen).expect("read");
    assert_eq!(seen, "old", "the old file was renamed over, not truncated");
}

#[test]
#[should_panic(expected = "cannot write")]
fn panics_with_the_path_when_the_directory_is_missing() {
    let dir = tempfile::tempdir().expect("tempdir");
    write_file_atomically(dir.path().join("no/such/dir/file"), "x");
}
