use proptest::prelude::*;
use serde_json::{Value, json};

use super::*;
use crate::envelope::{Message, parse_one};

const SERVED: &[&str] = &["2026-07-28", "2025-11-25", "2025-06-18"];

fn fixture(name: &str) -> String {
    let path = format!("{}/src/modern/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(path).expect("fixture")
}

fn raw(text: &str) -> Box<RawValue> {
    RawValue::from_string(text.to_string()).expect("raw")
}

fn run(headers: &[(String, String)], body: &str) -> Result<Envelope, Rejection> {
    let Ok(Message::Request { method, params, .. }) = parse_one(body.as_bytes()) else {
        panic!("fixture bodies are requests")
    };
    let lines = headers.iter().map(|(n, v)| (n.as_str(), v.as_bytes()));
    let h = RoutingHeaders::collect(lines)?;
    classify(method, params, &h, SERVED)
}

/// Every ladder case of `fixtures/ladder.json`, with its outcome and the HTTP status it is sent with.
#[test]
fn ladder_cases() {
    let cases: Vec<Value> = serde_json::from_str(&fixture("ladder.json")).expect("cases");
    let mut out = serde_json::Map::new();
    for c in cases {
        let name = c["case"].as_str().expect("case").to_string();
        let headers: Vec<(String, String)> = c["headers"]
            .as_array()
            .expect("headers")
            .iter()
            .map(|h| (h[0].as_str().expect("n").into(), h[1].as_str().expect("v").into()))
            .collect();
        let outcome = match run(&headers, &c["body"].to_string()) {
            Ok(e) => json!({
                "protocol": e.protocol,
                "capabilities": serde_json::from_str::<Value>(e.capabilities.get()).expect("caps"),
                "client_info": e.client_info.map(|i| serde_json::from_str::<Value>(i.get()).expect("info")),
            }),
            Err(r) => json!({
                "code": r.code,
                "status": http_status(r.code),
                "message": r.message,
                "data": r.data.map(|d| serde_json::from_str::<Value>(&d).expect("data")),
            }),
        };
        out.insert(name, outcome);
    }
    insta::assert_json_snapshot!(out);
}

#[test]
fn modern_detection() {
    let env = raw(r#"{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}"#);
    assert!(is_modern(Some("2026-07-28"), None));
    assert!(
        !is_modern(Some("2025-11-25"), Some(&env)),
        "the header decides when present"
    );
    assert!(
        is_modern(None, Some(&env)),
        "an envelope without the header is modern (and refused as a mismatch)"
    );
    assert!(!is_modern(None, Some(&raw(r#"{"_meta":{"progressToken":1}}"#))));
    assert!(!is_modern(None, Some(&raw("[1]"))));
    assert!(!is_modern(None, None));
}

#[test]
fn header_values_decode_like_the_spec_encodes_them() {
    assert_eq!(
        decode_header_value("everything_echo").as_deref(),
        Some("everything_echo")
    );
    assert_eq!(decode_header_value("=?base64?w6k=?=").as_deref(), Some("é"));
    assert_eq!(decode_header_value("=?base64?w6k?="), None, "unpadded is not canonical");
    assert_eq!(
        decode_header_value("=?base64?w6l=?="),
        None,
        "stray trailing bits are not canonical"
    );
    assert_eq!(decode_header_value("=?base64?/w==?="), None, "not UTF-8");
    assert_eq!(decode_header_value("=?base64??=").as_deref(), Some(""));
}

#[test]
fn status_table() {
    assert_eq!(http_status(errors::HEADER_MISMATCH), Some(400));
    assert_eq!(http_status(errors::UNSUPPORTED_PROTOCOL_VERSION), Some(400));
    assert_eq!(http_status(codes::INVALID_PARAMS), Some(400));
    assert_eq!(http_status(codes::METHOD_NOT_FOUND), Some(404));
    assert_eq!(http_status(codes::SERVER_ERROR), None);
    assert_eq!(http_status(codes::INTERNAL_ERROR), None);
}

#[test]
fn envelope_keys_are_stripped_for_upstreams() {
    let params = raw(fixture("tools_call_params.json").trim());
    let stripped = strip_envelope(&params).expect("strip");
    insta::assert_snapshot!(stripped.get());
    // Only the envelope: `_meta` disappears entirely.
    let only = raw(
        r#"{"cursor":"c","_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}"#,
    );
    assert_eq!(strip_envelope(&only).expect("strip").get(), r#"{"cursor":"c"}"#);
    let none = raw(r#"{"name":"x","arguments":{"a":1.0}}"#);
    assert_eq!(strip_envelope(&none).expect("strip").get(), none.get());
    assert!(strip_envelope(&raw("[1]")).is_err());
}

#[test]
fn upstream_init_keeps_sampling_and_elicitation_and_drops_roots_and_tasks() {
    let e = Envelope {
        protocol: "2026-07-28".into(),
        capabilities: raw(
            r#"{"sampling":{},"roots":{"listChanged":true},"elicitation":{"form":{}},"tasks":{},"experimental":{"x":{}}}"#,
        ),
        client_info: Some(raw(r#"{"name":"mcp","version":"2.3.0"}"#)),
    };
    let init = upstream_init(&e, "2025-11-25").expect("init");
    assert_eq!(
        init.get(),
        r#"{"capabilities":{"elicitation":{"form":{}},"experimental":{"x":{}},"sampling":{}},"clientInfo":{"name":"mcp","version":"2.3.0"},"protocolVersion":"2025-11-25"}"#
    );
    let anonymous = Envelope { client_info: None, ..e };
    let init: Value = serde_json::from_str(upstream_init(&anonymous, "2025-11-25").expect("init").get()).expect("json");
    assert_eq!(init["clientInfo"]["name"], "gatehouse-stateless-client");
}

#[test]
fn results_are_stamped_for_the_modern_wire() {
    let list = raw(fixture("tools_list_result.json").trim());
    let stamped = stamp_result(&list, true).expect("stamp");
    insta::assert_snapshot!(stamped.get());
    // What an upstream already set is kept.
    let own = raw(r#"{"content":[],"resultType":"input_required","ttlMs":5}"#);
    assert_eq!(
        stamp_result(&own, true).expect("stamp").get(),
        r#"{"cacheScope":"private","content":[],"resultType":"input_required","ttlMs":5}"#
    );
    assert_eq!(
        stamp_result(&raw(r#"{"content":[{"type":"text","text":"Echo: hi"}]}"#), false)
            .expect("stamp")
            .get(),
        r#"{"content":[{"type":"text","text":"Echo: hi"}],"resultType":"complete"}"#
    );
    assert_eq!(stamp_result(&raw("[]"), false).expect("stamp").get(), "[]");
}

#[test]
fn discover_result_shape() {
    let mut caps = serde_json::Map::new();
    caps.insert("tools".into(), json!({}));
    caps.insert("completions".into(), json!({}));
    let r = discover_result(
        SERVED,
        &caps,
        Some("[everything]\nhello"),
        &json!({"name": "gatehouse", "version": "0.1.0"}),
    )
    .expect("discover");
    insta::assert_json_snapshot!(serde_json::from_str::<Value>(r.get()).expect("json"));
}

proptest! {
    /// Whatever the headers and body, the ladder answers (no panic), and an accepted request's headers really do
    /// mirror its body.
    #[test]
    fn ladder_never_accepts_a_mismatch(
        method in prop::sample::select(vec!["tools/call", "prompts/get", "resources/read", "tools/list", "server/discover"]),
        name in "[a-z_+:/é]{0,12}",
        header_name in "[a-z_+:/]{0,12}",
        header_method in prop::sample::select(vec!["tools/call", "prompts/get", "resources/read", "tools/list", "server/discover"]),
        version in prop::sample::select(vec!["2026-07-28", "2025-11-25", "x"]),
        header_version in prop::sample::select(vec!["2026-07-28", "2025-11-25", "x"]),
    ) {
        let field = name_field(method).unwrap_or("name");
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": {
            field: name, "_meta": {PROTOCOL_VERSION_KEY: version, CLIENT_CAPABILITIES_KEY: {}}}});
        let headers = vec![
            ("mcp-protocol-version".to_string(), header_version.to_string()),
            ("mcp-method".to_string(), header_method.to_string()),
            ("mcp-name".to_string(), header_name.clone()),
        ];
        if run(&headers, &body.to_string()).is_ok() {
            prop_assert_eq!(version, header_version);
            prop_assert_eq!(version, "2026-07-28");
            prop_assert_eq!(method, header_method);
            if name_field(method).is_some() {
                prop_assert_eq!(&name, &header_name);
            }
        }
    }

    /// The spec's header encoding (base64 of UTF-8 in a sentinel) always decodes back to the value.
    #[test]
    fn base64_header_round_trip(s in ".{0,40}") {
        use base64::Engine as _;
        let encoded = format!("=?base64?{}?=", base64::engine::general_purpose::STANDARD.encode(s.as_bytes()));
        prop_assert_eq!(decode_header_value(&encoded), Some(s));
    }
}
