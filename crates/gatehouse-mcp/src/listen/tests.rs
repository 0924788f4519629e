use serde_json::value::RawValue;
use serde_json::{Value, json};

use super::*;

fn raw(v: &Value) -> Box<RawValue> {
    RawValue::from_string(v.to_string()).expect("raw")
}

#[test]
fn filter_is_read_and_written_back_with_only_what_is_on() {
    let f = Filter::read(Some(&raw(&json!({
        "notifications": {"toolsListChanged": true, "promptsListChanged": false, "resourcesListChanged": null,
            "resourceSubscriptions": ["a+demo://x", "a+demo://x", "b+file:///y"], "taskIds": ["t"]},
        "_meta": {"io.modelcontextprotocol/protocolVersion": "2026-07-28"}
    }))))
    .expect("filter");
    assert_eq!(
        f,
        Filter {
            tools: true,
            prompts: false,
            resources: false,
            uris: vec!["a+demo://x".into(), "b+file:///y".into()],
        }
    );
    insta::assert_json_snapshot!(f.to_value());
    assert_eq!(Filter::default().to_value(), json!({}));
}

#[test]
fn bad_filters_are_invalid_params() {
    let many: Vec<String> = (0..=MAX_RESOURCE_SUBSCRIPTIONS).map(|i| format!("u{i}")).collect();
    for bad in [
        None,
        Some(json!({})),
        Some(json!({"notifications": true})),
        Some(json!({"notifications": {"toolsListChanged": "yes"}})),
        Some(json!({"notifications": {"resourceSubscriptions": [1]}})),
        Some(json!({"notifications": {"resourceSubscriptions": many}})),
        Some(json!([1])),
    ] {
        let e = Filter::read(bad.as_ref().map(raw).as_deref()).expect_err("refused");
        assert!(matches!(e, McpError::InvalidParams(_)), "{bad:?}");
    }
}

#[test]
fn wants_only_what_was_asked() {
    let f = Filter {
        tools: true,
        prompts: false,
        resources: true,
        uris: vec!["a+demo://x".into()],
    };
    assert!(f.wants("notifications/tools/list_changed", None));
    assert!(!f.wants("notifications/prompts/list_changed", None));
    assert!(f.wants("notifications/resources/list_changed", None));
    assert!(f.wants("notifications/resources/updated", Some("a+demo://x")));
    assert!(!f.wants("notifications/resources/updated", Some("a+demo://x/sub")));
    assert!(!f.wants("notifications/resources/updated", None));
    assert!(!f.wants("notifications/message", None));
    assert!(!f.wants("notifications/progress", None));
}

#[test]
fn acknowledgement_and_tagged_notifications() {
    let id = raw(&json!("listen-1"));
    let f = Filter {
        tools: true,
        uris: vec!["a+demo://x".into()],
        ..Filter::default()
    };
    let ack: Value = serde_json::from_str(&acknowledged(&f, &id).expect("ack")).expect("json");
    insta::assert_json_snapshot!("ack", ack);
    let plain: Value =
        serde_json::from_str(&tag("notifications/tools/list_changed", None, &id).expect("tag")).expect("json");
    assert_eq!(
        plain,
        json!({"jsonrpc": "2.0", "method": "notifications/tools/list_changed", "params": {"_meta": {SUBSCRIPTION_ID_KEY: "listen-1"}}})
    );
    let n = RawValue::from_string(format!(
        r#"{{"uri":"a+demo://x","_meta":{{"k":1.50,"{SUBSCRIPTION_ID_KEY}":9}}}}"#
    ))
    .expect("raw");
    let tagged = tag("notifications/resources/updated", Some(&n), &raw(&json!(7))).expect("tag");
    assert!(tagged.contains(r#""k":1.50"#), "other bytes kept: {tagged}");
    let v: Value = serde_json::from_str(&tagged).expect("json");
    assert_eq!(v["params"]["_meta"][SUBSCRIPTION_ID_KEY], 7);
    assert_eq!(v["params"]["uri"], "a+demo://x");
    assert!(tag("m", Some(&raw(&json!([1]))), &id).is_err());
    assert!(tag("m", Some(&raw(&json!({"_meta": 3}))), &id).is_err());
}
