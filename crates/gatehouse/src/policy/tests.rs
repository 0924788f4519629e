use super::keys::{self, KeyStore, Lookup, hash_key};
use crate::config::spec::governance::ApiKeySpec;

fn spec(name: &str, key: &str) -> ApiKeySpec {
    ApiKeySpec {
        name: name.into(),
        sha256: hash_key(key),
        team: Some("ml".into()),
        user: None,
        tags: Vec::new(),
        models: Vec::new(),
        revoked: false,
    }
}

#[test]
fn hash_is_lowercase_sha256_hex() {
    // printf 'abc' | sha256sum
    assert_eq!(
        hash_key("abc"),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
}

#[test]
fn lookup_by_hash_distinguishes_valid_revoked_unknown() {
    let mut revoked = spec("old", "sk-old");
    revoked.revoked = true;
    let mut upper = spec("upper", "sk-upper");
    upper.sha256 = upper.sha256.to_ascii_uppercase();
    let store = KeyStore::new(&[spec("a", "sk-a"), revoked, upper], None);
    assert!(matches!(store.lookup("sk-a"), Lookup::Valid(id) if id.name == "a" && id.team.as_deref() == Some("ml")));
    assert!(matches!(store.lookup("sk-old"), Lookup::Revoked(n) if n == "old"));
    assert!(matches!(store.lookup("sk-upper"), Lookup::Valid(_)));
    assert!(matches!(store.lookup("sk-nope"), Lookup::Unknown));
    assert!(
        matches!(store.lookup(&hash_key("sk-a")), Lookup::Unknown),
        "the hash is not a key"
    );
}

#[test]
fn check_reports_bad_and_duplicate_entries() {
    let mut bad = spec("", "x");
    bad.sha256 = "zz".into();
    let problems = keys::check(&[spec("a", "k1"), spec("a", "k1"), bad]);
    let fields: Vec<(usize, &str)> = problems.iter().map(|p| (p.index, p.field)).collect();
    assert_eq!(fields, vec![(1, "name"), (1, "sha256"), (2, "name"), (2, "sha256")]);
}
