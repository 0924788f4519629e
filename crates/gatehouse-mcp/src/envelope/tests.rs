use super::*;

fn one(s: &str) -> Message<'_> {
    parse_one(s.as_bytes()).expect("parse")
}

#[test]
fn classifies_the_three_kinds() {
    let m = one(
        r#"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"everything_echo","arguments":{"message":"hi"}}}"#,
    );
    assert!(matches!(
        m,
        Message::Request {
            method: "tools/call",
            ..
        }
    ));
    assert_eq!(m.id().map(RawValue::get), Some("7"));
    let m = one(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#);
    assert!(matches!(m, Message::Notification { params: None, .. }));
    let m = one(r#"{"jsonrpc":"2.0","id":"a","result":{"x":1}}"#);
    assert!(matches!(m, Message::Response { outcome: Ok(_), .. }));
    let m = one(r#"{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"parse"}}"#);
    assert!(matches!(
        m,
        Message::Response {
            id: None,
            outcome: Err(_)
        }
    ));
}

#[test]
fn params_stay_raw_byte_for_byte() {
    let text = r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x","arguments":{"n":1.50,"u":"\u00e9"},"x-new":[1, 2]}}"#;
    let m = one(text);
    assert_eq!(
        m.params().map(RawValue::get),
        Some(r#"{"name":"x","arguments":{"n":1.50,"u":"\u00e9"},"x-new":[1, 2]}"#)
    );
}

#[test]
fn rejects_what_json_rpc_forbids() {
    for bad in [
        "",
        "nope",
        r#"{"id":1,"method":"x"}"#,
        r#"{"jsonrpc":"1.0","id":1,"method":"x"}"#,
        r#"{"jsonrpc":"2.0","id":1.5,"method":"x"}"#,
        r#"{"jsonrpc":"2.0","id":{},"method":"x"}"#,
        r#"{"jsonrpc":"2.0","id":1}"#,
        r#"{"jsonrpc":"2.0","id":1,"result":1,"error":{}}"#,
        r#"{"jsonrpc":"2.0","method":"x","result":1}"#,
        r#"{"jsonrpc":"2.0","result":1}"#,
        "[]",
    ] {
        assert!(parse(bad.as_bytes()).is_err(), "{bad}");
    }
}

#[test]
fn batches_parse_but_parse_one_refuses_them() {
    let text = r#"[{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","method":"notifications/initialized"}]"#;
    assert!(matches!(parse(text.as_bytes()), Ok(Parsed::Batch(v)) if v.len() == 2));
    assert_eq!(
        parse_one(text.as_bytes()).expect_err("batch"),
        McpError::BatchNotAllowed
    );
}

#[test]
fn reads_routing_params_and_progress_token() {
    let m = one(
        r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a_b","_meta":{"progressToken":"t1"},"arguments":{}}}"#,
    );
    let p = Params::read(m.params()).expect("params");
    assert_eq!(p.name.as_deref(), Some("a_b"));
    assert_eq!(
        p.progress_token().map(|t| t.get().to_string()).as_deref(),
        Some("\"t1\"")
    );
    let p = Params::read(None).expect("empty");
    assert!(p.name.is_none() && p.progress_token().is_none());
    let bad = RawValue::from_string("[1]".into()).expect("raw");
    assert!(Params::read(Some(&bad)).is_err());
}

#[test]
fn replace_param_touches_one_field() {
    let p = RawValue::from_string(
        r#"{"name":"everything_echo","arguments":{"message":"hi","n":1.50},"_meta":{"progressToken":3}}"#.into(),
    )
    .expect("raw");
    let out = replace_param(&p, "name", "echo").expect("replace");
    insta::assert_snapshot!(out.get());
}

#[test]
fn builders_produce_valid_messages() {
    let id = RawValue::from_string("\"q\"".into()).expect("raw");
    let params = RawValue::from_string(r#"{"a":1}"#.into()).expect("raw");
    insta::assert_snapshot!("request", request(&id, "tools/list", Some(&params)));
    insta::assert_snapshot!("notification", notification("notifications/initialized", None));
    insta::assert_snapshot!("result", result(&id, &params));
    insta::assert_snapshot!("error_null_id", error(None, codes::PARSE_ERROR, "Parse error", None));
    for s in [
        request(&id, "m", None),
        notification("n", Some(&params)),
        result(&id, &params),
    ] {
        assert!(parse_one(s.as_bytes()).is_ok(), "{s}");
    }
}

#[test]
fn replace_param_raw_keeps_the_rest() {
    let p = RawValue::from_string(
        r#"{"ref":{"type":"ref/prompt","name":"a_b"},"argument":{"name":"x","value":"E"}}"#.into(),
    )
    .expect("raw");
    let r = RawValue::from_string(r#"{"type":"ref/prompt","name":"b"}"#.into()).expect("raw");
    let out = replace_param_raw(&p, "ref", &r).expect("replace");
    assert_eq!(
        out.get(),
        r#"{"argument":{"name":"x","value":"E"},"ref":{"type":"ref/prompt","name":"b"}}"#
    );
    assert!(replace_param_raw(&RawValue::from_string("[1]".into()).expect("raw"), "ref", &r).is_err());
}
