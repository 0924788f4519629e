use proptest::prelude::*;

use super::*;

fn ns() -> Namespace {
    Namespace::new(vec!["everything".into(), "local-2".into()], Mode::Prefix)
}

#[test]
fn prefixes_and_resolves() {
    let n = ns();
    assert_eq!(n.expose(0, "get-sum").as_deref(), Some("everything_get-sum"));
    assert_eq!(n.resolve("everything_get-sum"), Some((0, "get-sum")));
    // Upstream names may themselves contain `_`: only the first one separates.
    assert_eq!(n.expose(1, "a_b").as_deref(), Some("local-2_a_b"));
    assert_eq!(n.resolve("local-2_a_b"), Some((1, "a_b")));
}

#[test]
fn unknown_or_malformed_names_do_not_resolve() {
    let n = ns();
    assert_eq!(n.resolve("nope_echo"), None);
    assert_eq!(n.resolve("echo"), None);
    assert_eq!(n.resolve("everything_"), None);
    assert_eq!(n.resolve(""), None);
}

#[test]
fn invalid_results_are_refused() {
    let n = ns();
    assert_eq!(n.expose(0, "has space"), None);
    assert_eq!(n.expose(0, "dotted.name"), None);
    assert_eq!(
        n.expose(0, &"x".repeat(64 - "everything_".len())).map(|s| s.len()),
        Some(64)
    );
    assert_eq!(n.expose(0, &"x".repeat(65 - "everything_".len())), None);
    assert_eq!(n.expose(7, "echo"), None);
}

#[test]
fn target_names() {
    assert!(valid_target("everything"));
    assert!(valid_target("local-2"));
    assert!(!valid_target("has_underscore"));
    assert!(!valid_target("plus+sign"));
    assert!(!valid_target(""));
    assert!(!valid_target(&"a".repeat(33)));
}

#[test]
fn passthrough_only_with_one_target() {
    let one = Namespace::new(vec!["only".into()], Mode::Passthrough);
    assert_eq!(one.expose(0, "echo").as_deref(), Some("echo"));
    assert_eq!(one.resolve("echo"), Some((0, "echo")));
    let two = Namespace::new(vec!["a".into(), "b".into()], Mode::Passthrough);
    assert_eq!(two.mode(), Mode::Prefix);
}

proptest! {
    #[test]
    fn round_trip(t in 0usize..2, name in "[a-zA-Z0-9_-]{1,40}") {
        let n = ns();
        if let Some(exposed) = n.expose(t, &name) {
            prop_assert!(valid_name(&exposed));
            prop_assert_eq!(n.resolve(&exposed), Some((t, name.as_str())));
        }
    }

    #[test]
    fn distinct_inputs_never_collide(a in (0usize..2, "[a-z_-]{1,20}"), b in (0usize..2, "[a-z_-]{1,20}")) {
        let n = ns();
        if a != b {
            prop_assert_ne!(n.expose(a.0, &a.1), n.expose(b.0, &b.1));
        }
    }
}
