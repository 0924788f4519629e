use super::*;

fn read(path: &Path) -> String {
    fs::read_to_string(path).expect("read")
}

fn version_dirs(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .expect("list")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("..") && n != DATA)
        .collect();
    names.sort();
    names
}

#[test]
fn first_call_builds_the_kubelet_layout() {
    let dir = tempfile::tempdir().expect("tempdir");
    swap_k8s_secret_dir(dir.path(), "api-key", b"key-one\n");
    assert_eq!(read(&dir.path().join("api-key")), "key-one\n");
    let visible = fs::read_link(dir.path().join("api-key")).expect("visible is a symlink");
    assert_eq!(visible, Path::new("..data/api-key"));
    let data = fs::read_link(dir.path().join(DATA)).expect("..data is a symlink");
    assert!(data.is_relative(), "{data:?}");
    assert_eq!(version_dirs(dir.path()), [data.to_string_lossy().into_owned()]);
}

#[test]
fn rotation_swaps_data_keeps_other_keys_and_removes_the_old_version() {
    let dir = tempfile::tempdir().expect("tempdir");
    swap_k8s_secret_dir(dir.path(), "api-key", "one");
    swap_k8s_secret_dir(dir.path(), "other", "kept");
    let before = fs::read_link(dir.path().join(DATA)).expect("link");
    swap_k8s_secret_dir(dir.path(), "api-key", "two");
    let after = fs::read_link(dir.path().join(DATA)).expect("link");
    assert_ne!(before, after);
    assert_eq!(read(&dir.path().join("api-key")), "two");
    assert_eq!(read(&dir.path().join("other")), "kept");
    assert_eq!(version_dirs(dir.path()), [after.to_string_lossy().into_owned()]);
    assert!(!dir.path().join(DATA_TMP).exists());
}

#[test]
fn many_quick_rotations_get_distinct_versions() {
    let dir = tempfile::tempdir().expect("tempdir");
    for i in 0..20 {
        swap_k8s_secret_dir(dir.path(), "k", i.to_string());
        assert_eq!(read(&dir.path().join("k")), i.to_string());
    }
}

#[test]
fn version_names_use_the_kubelet_format() {
    // 2024-02-29T23:59:58.000000042Z, a leap day.
    let name = version_dir_name(Duration::new(1_709_251_198, 42));
    assert_eq!(name, "..2024_02_29_23_59_58.000000042");
    assert_eq!(version_dir_name(Duration::ZERO), "..1970_01_01_00_00_00.000000000");
}

#[test]
#[should_panic(expected = "is not a symlink")]
fn refuses_a_directory_that_is_not_a_secret_volume() {
    let dir = tempfile::tempdir().expect("tempdir");
    fs::write(dir.path().join("api-key"), "plain").expect("write");
    swap_k8s_secret_dir(dir.path(), "api-key", "x");
}
