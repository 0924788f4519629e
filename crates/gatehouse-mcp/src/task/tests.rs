use serde_json::{Value, json};

use super::*;

fn ns() -> Namespace {
    Namespace::new(vec!["everything".into(), "local".into()], Mode::Prefix)
}

#[test]
fn ids_round_trip_and_foreign_ids_are_refused() {
    let n = ns();
    let e = expose(&n, 1, "abc+def").expect("expose");
    assert_eq!(e, "local+abc+def");
    assert_eq!(resolve(&n, &e), Some((1, "abc+def")));
    assert_eq!(resolve(&n, "nope+abc"), None, "unknown upstream");
    assert_eq!(resolve(&n, "abc"), None, "no prefix");
    assert_eq!(resolve(&n, "everything+"), None, "empty id");
    let one = Namespace::new(vec!["only".into()], Mode::Passthrough);
    assert_eq!(expose(&one, 0, "abc").as_deref(), Some("abc"));
    assert_eq!(resolve(&one, "abc"), Some((0, "abc")));
}

/// The task shapes server-everything 2026.8.31 really sends (captured on loopback), with their ids exposed.
#[test]
fn every_task_shape_is_exposed() {
    let path = format!(
        "{}/src/task/fixtures/everything_task_shapes.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let shapes: serde_json::Map<String, Value> =
        serde_json::from_str(&std::fs::read_to_string(path).expect("fixture")).expect("json");
    let mut out = serde_json::Map::new();
    for (name, v) in shapes {
        let raw = serde_json::value::to_raw_value(&v).expect("raw");
        let exposed = expose_in(&ns(), 0, &raw).expect("expose");
        out.insert(
            name,
            exposed.map_or(json!("unchanged"), |r| serde_json::from_str(r.get()).expect("json")),
        );
    }
    insta::assert_json_snapshot!(out);
}

proptest::proptest! {
    #[test]
    fn any_id_round_trips(id in "[^\\x00]{1,40}", target in 0usize..2) {
        let n = ns();
        let e = expose(&n, target, &id).expect("expose");
        proptest::prop_assert_eq!(resolve(&n, &e), Some((target, id.as_str())));
    }
}

#[test]
fn server_to_client_requests_keep_the_clients_task_ids() {
    let n = ns();
    let raw = |s: &str| RawValue::from_string(s.to_string()).expect("raw");
    // `tasks/get` from an upstream names the client's own task: unchanged.
    for own in [
        r#"{"taskId":"c-1"}"#,
        r#"{"task":{"ttl":300000},"messages":[]}"#,
        r#"{"cursor":"x"}"#,
    ] {
        assert!(expose_related_in(&n, 0, &raw(own)).expect("ok").is_none(), "{own}");
    }
    // A related-task reference names the upstream's task: exposed; the client's id beside it is not.
    let related = raw(r#"{"taskId":"c-1","_meta":{"io.modelcontextprotocol/related-task":{"taskId":"u-9"}}}"#);
    let out = expose_related_in(&n, 1, &related).expect("ok").expect("rewritten");
    let v: serde_json::Value = serde_json::from_str(out.get()).expect("json");
    assert_eq!(v["taskId"], "c-1");
    assert_eq!(v["_meta"][RELATED_TASK_KEY]["taskId"], "local+u-9");
}
