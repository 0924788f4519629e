use serde_json::value::RawValue;
use serde_json::{Value, json};

use super::*;

fn raw(v: &Value) -> Box<RawValue> {
    RawValue::from_string(v.to_string()).expect("raw")
}

#[test]
fn retry_fields_are_split_off_and_the_rest_keeps_its_bytes() {
    let p = raw(&json!({
        "name": "everything_trigger-sampling-request",
        "arguments": {"prompt": "hi", "maxTokens": 5},
        "_meta": {"progressToken": 3},
        "inputResponses": {"gh-0": {"role": "assistant", "content": {"type": "text", "text": "ok"}, "model": "m"}},
        "requestState": "sealed"
    }));
    let (rest, f) = split_retry(&p).expect("split");
    let rest: Value = serde_json::from_str(rest.get()).expect("json");
    assert_eq!(
        rest,
        json!({"name": "everything_trigger-sampling-request", "arguments": {"prompt": "hi", "maxTokens": 5}, "_meta": {"progressToken": 3}})
    );
    assert_eq!(f.request_state.as_deref(), Some("sealed"));
    assert_eq!(f.input_responses.keys().collect::<Vec<_>>(), vec!["gh-0"]);
    insta::assert_snapshot!(f.input_responses["gh-0"].get());

    // A first request has neither field and comes back unchanged.
    let plain = raw(&json!({"name": "x", "arguments": {}}));
    let (same, f) = split_retry(&plain).expect("split");
    assert_eq!(same.get(), plain.get());
    assert!(f.request_state.is_none() && f.input_responses.is_empty());
    // `null` counts as absent.
    let (_, f) = split_retry(&raw(
        &json!({"name": "x", "inputResponses": null, "requestState": null}),
    ))
    .expect("split");
    assert!(f.request_state.is_none() && f.input_responses.is_empty());
}

#[test]
fn malformed_retry_fields_are_invalid_params() {
    for bad in [
        json!({"name": "x", "requestState": 7}),
        json!({"name": "x", "inputResponses": []}),
        json!({"name": "x", "inputResponses": {"k": "text"}}),
        json!({"name": "x", "inputResponses": {"k": [1]}, "requestState": "s"}),
    ] {
        let e = split_retry(&raw(&bad)).expect_err("refused");
        assert!(matches!(e, McpError::InvalidParams(_)), "{bad}: {e:?}");
    }
    assert!(split_retry(&raw(&json!([1]))).is_err());
}

#[test]
fn binding_ignores_key_order_and_meta_but_not_the_request() {
    let a = binding(
        "tools/call",
        Some(&raw(
            &json!({"name": "t", "arguments": {"a": 1, "b": {"y": 2, "x": 1}}, "_meta": {"progressToken": 1}}),
        )),
    )
    .expect("binding");
    let b = binding(
        "tools/call",
        Some(&RawValue::from_string(r#"{"arguments":{"b":{"x":1,"y":2},"a":1},"name":"t"}"#.into()).expect("raw")),
    )
    .expect("binding");
    assert_eq!(a, b);
    insta::assert_snapshot!(String::from_utf8(a.clone()).expect("utf8"));
    let other_args = binding("tools/call", Some(&raw(&json!({"name": "t", "arguments": {"a": 2}})))).expect("b");
    let other_name = binding("tools/call", Some(&raw(&json!({"name": "u", "arguments": {"a": 1}})))).expect("b");
    let other_method = binding("prompts/get", Some(&raw(&json!({"name": "t", "arguments": {"a": 1}})))).expect("b");
    let uri = binding("resources/read", Some(&raw(&json!({"uri": "a+demo://x"})))).expect("b");
    for o in [&other_args, &other_name, &other_method, &uri] {
        assert_ne!(&a, o);
    }
}

fn claims() -> StateClaims {
    StateClaims {
        v: STATE_VERSION,
        park: "p1".into(),
        principal: "alice".into(),
        method: "tools/call".into(),
        binding: "abc".into(),
        exp_ms: 1_000,
    }
}

#[test]
fn state_claims_round_trip_and_check_in_order() {
    let c = claims();
    let b = c.to_bytes().expect("bytes");
    assert_eq!(StateClaims::from_bytes(&b).expect("read"), c);
    assert_eq!(c.check("alice", "tools/call", "abc", 999), Ok(()));
    assert_eq!(c.check("bob", "prompts/get", "zzz", 5_000), Err(StateError::Foreign));
    assert_eq!(c.check("alice", "prompts/get", "abc", 0), Err(StateError::Mismatch));
    assert_eq!(c.check("alice", "tools/call", "abd", 0), Err(StateError::Mismatch));
    assert_eq!(c.check("alice", "tools/call", "abc", 1_000), Err(StateError::Expired));
}

#[test]
fn state_claims_reject_other_versions_garbage_and_oversize() {
    let mut c = claims();
    c.v = 9;
    let b = serde_json::to_vec(&c).expect("json");
    assert_eq!(StateClaims::from_bytes(&b), Err(StateError::Invalid));
    assert_eq!(StateClaims::from_bytes(b"{}"), Err(StateError::Invalid));
    assert_eq!(
        StateClaims::from_bytes(br#"{"v":1,"park":"p","principal":"a","method":"m","binding":"b","exp_ms":1,"x":0}"#),
        Err(StateError::Invalid)
    );
    assert_eq!(
        StateClaims::from_bytes(&vec![b' '; MAX_STATE_BYTES + 1]),
        Err(StateError::Invalid)
    );
    let mut big = claims();
    big.principal = "a".repeat(MAX_STATE_BYTES);
    assert_eq!(big.to_bytes(), Err(StateError::Invalid));
}

#[test]
fn input_required_result_shape() {
    let sampling = input_request(
        "sampling/createMessage",
        Some(&raw(
            &json!({"messages": [{"role": "user", "content": {"type": "text", "text": "hi"}}], "maxTokens": 5}),
        )),
    )
    .expect("request");
    let roots = input_request("roots/list", None).expect("request");
    let r = input_required_result(&[("gh-1".into(), sampling), ("gh-0".into(), roots)], "STATE").expect("result");
    let v: Value = serde_json::from_str(r.get()).expect("json");
    insta::assert_json_snapshot!(v);
    assert!(is_input_method("elicitation/create") && !is_input_method("ping"));
}
