//! Golden tests: each fixture's rewrite is checked byte for byte against the input with only the expected span
//! changed, and snapshotted with insta for review.

use super::*;

mod prop;

const CHAT_COMPACT: &str = include_str!("../../tests/fixtures/splice/chat_compact.json");
const CHAT_PRETTY: &str = include_str!("../../tests/fixtures/splice/chat_pretty.json");
const STREAM_OPTIONS_PRESENT: &str = include_str!("../../tests/fixtures/splice/stream_options_present.json");
const ESCAPED_MODEL: &str = include_str!("../../tests/fixtures/splice/escaped_model.json");
const WHITESPACE_AROUND: &str = include_str!("../../tests/fixtures/splice/whitespace_around.json");

fn body(input: &str) -> RequestBody<'_> {
    RequestBody::parse(input.as_bytes()).expect("fixture parses")
}

fn rewrite(input: &str, model: Option<&str>, force_include_usage: bool) -> String {
    let out = body(input).rewrite(&Rewrite {
        model,
        force_include_usage,
    });
    String::from_utf8(out).expect("rewrite keeps UTF-8")
}

// --- parse and accessors ---

#[test]
fn accessors_on_fixtures() {
    let b = body(CHAT_COMPACT);
    assert_eq!(b.model().expect("model").as_deref(), Some("gpt-4o"));
    assert!(matches!(b.model().expect("model"), Some(Cow::Borrowed(_))));
    assert!(!b.stream().expect("stream"));
    assert!(!b.include_usage().expect("include_usage"));
    assert_eq!(b.get("seed").map(RawValue::get), Some("42"));
    assert_eq!(b.get("temperature").map(RawValue::get), Some("0.70"));
    assert_eq!(b.as_bytes(), CHAT_COMPACT.as_bytes());

    let b = body(CHAT_PRETTY);
    assert_eq!(b.model().expect("model").as_deref(), Some("llama-3.1-8b"));
    assert!(b.stream().expect("stream"));
    assert!(!b.include_usage().expect("include_usage"));

    let b = body(STREAM_OPTIONS_PRESENT);
    assert!(b.stream().expect("stream"));
    assert!(!b.include_usage().expect("include_usage"));

    let b = body(ESCAPED_MODEL);
    let model = b.model().expect("model");
    assert_eq!(model.as_deref(), Some("gpt-4o ü🚀"));
    assert!(matches!(model, Some(Cow::Owned(_))), "escapes force a copy");
}

#[test]
fn parse_errors_are_classified() {
    let cases: &[(&[u8], &str)] = &[
        (b"", "invalid_json"),
        (b"{", "invalid_json"),
        (b"{\"a\":1,}", "invalid_json"),
        (b"{\"a\":1} x", "invalid_json"),
        (b"{\"a\":\"\xff\"}", "invalid_json"),
        (b"[]", "invalid_request"),
        (b"\"model\"", "invalid_request"),
        (b"null", "invalid_request"),
        (b"42", "invalid_request"),
        (b"{\"a\":1,\"a\":2}", "invalid_request"),
        (b"{\"model\":1,\"mod\\u0065l\":2}", "invalid_request"),
    ];
    for (input, code) in cases {
        let err = RequestBody::parse(input).expect_err("must fail");
        assert_eq!(err.code(), *code, "{:?}: {err}", String::from_utf8_lossy(input));
    }
}

#[test]
fn duplicate_key_error_is_bounded() {
    let key = "k".repeat(10_000);
    let input = format!("{{\"{key}\":1,\"{key}\":2}}");
    let err = RequestBody::parse(input.as_bytes()).expect_err("duplicate");
    assert!(err.to_string().len() < 200, "{err}");
}

#[test]
fn field_type_errors() {
    let b = body(r#"{"model":42,"stream":"yes","stream_options":[]}"#);
    assert_eq!(b.model().expect_err("model").code(), "invalid_request");
    assert_eq!(b.stream().expect_err("stream").code(), "invalid_request");
    assert_eq!(b.include_usage().expect_err("options").code(), "invalid_request");

    let b = body(r#"{"model":null,"stream":null,"stream_options":null}"#);
    assert!(b.model().is_err(), "model is required to be a string");
    assert!(!b.stream().expect("null stream"));
    assert!(!b.include_usage().expect("null options"));

    let b = body(r#"{"stream_options":{"include_usage":1}}"#);
    assert!(b.include_usage().is_err());
    let b = body(r#"{"stream_options":{"include_usage":true,"include_usage":true}}"#);
    assert!(b.include_usage().is_err());
    let b = body(r#"{"stream_options":{"include_usage":true}}"#);
    assert!(b.include_usage().expect("bool"));
}

// --- golden rewrites ---

#[test]
fn model_only_changes_model_bytes() {
    let out = rewrite(CHAT_COMPACT, Some("gpt-4o-2024-08-06"), false);
    assert_eq!(out, CHAT_COMPACT.replacen("\"gpt-4o\"", "\"gpt-4o-2024-08-06\"", 1));
    insta::assert_snapshot!("chat_compact_model", out);
}

#[test]
fn pretty_input_keeps_formatting() {
    let out = rewrite(CHAT_PRETTY, Some("meta-llama/Llama-3.1-8B-Instruct"), true);
    let expected = CHAT_PRETTY
        .replacen("\"llama-3.1-8b\"", "\"meta-llama/Llama-3.1-8B-Instruct\"", 1)
        .replacen(
            "[ 1 , 2 ]}",
            "[ 1 , 2 ]},\"stream_options\":{\"include_usage\":true}",
            1,
        );
    assert_eq!(out, expected);
    insta::assert_snapshot!("chat_pretty_model_and_usage", out);
}

#[test]
fn unicode_and_escaped_model_names() {
    let name = "модель/ü🚀 \"quoted\" back\\slash\ttab\u{1}";
    let out = rewrite(CHAT_COMPACT, Some(name), false);
    let reparsed = body(&out);
    assert_eq!(reparsed.model().expect("model").as_deref(), Some(name));
    assert!(out.starts_with("{\"model\":\"модель/ü🚀 \\\"quoted\\\" back\\\\slash\\ttab\\u0001\",\"messages\""));

    // Same model spelled with escapes: semantically unchanged, so the client's bytes stay.
    let out = rewrite(ESCAPED_MODEL, Some("gpt-4o ü🚀"), true);
    assert_eq!(out, ESCAPED_MODEL);
    let out = rewrite(ESCAPED_MODEL, Some("x"), false);
    assert_eq!(out, "{\"stream\":false,\"model\":\"x\",\"messages\":[]}\n");
}

#[test]
fn nothing_to_change_borrows_input() {
    let b = body(CHAT_COMPACT);
    assert!(matches!(b.rewrite_cow(&Rewrite::default()), Cow::Borrowed(_)));
    assert!(
        matches!(
            b.rewrite_cow(&Rewrite {
                model: Some("gpt-4o"),
                force_include_usage: true,
            }),
            Cow::Borrowed(_)
        ),
        "same model and not a stream"
    );
    assert_eq!(b.rewrite(&Rewrite::default()), CHAT_COMPACT.as_bytes());
}

#[test]
fn model_inserted_when_absent() {
    assert_eq!(rewrite("{}", Some("m"), false), r#"{"model":"m"}"#);
    assert_eq!(rewrite(" { \n } ", Some("m"), false), " {\"model\":\"m\" \n } ");
    assert_eq!(
        rewrite(r#"{"messages":[]}"#, Some("m"), false),
        r#"{"messages":[],"model":"m"}"#
    );
}

#[test]
fn stream_options_variants() {
    let cases = [
        // absent
        (
            r#"{"stream":true}"#,
            r#"{"stream":true,"stream_options":{"include_usage":true}}"#,
        ),
        // present, false, other members kept
        (
            r#"{"stream":true,"stream_options":{"x":1,"include_usage":false}}"#,
            r#"{"stream":true,"stream_options":{"x":1,"include_usage":true}}"#,
        ),
        // present without include_usage
        (
            r#"{"stream":true,"stream_options":{"x":[1]}}"#,
            r#"{"stream":true,"stream_options":{"x":[1],"include_usage":true}}"#,
        ),
        // empty object, with inner whitespace
        (
            r#"{"stream":true,"stream_options":{  }}"#,
            r#"{"stream":true,"stream_options":{"include_usage":true  }}"#,
        ),
        // null or a wrong type is replaced
        (
            r#"{"stream_options":null,"stream":true}"#,
            r#"{"stream_options":{"include_usage":true},"stream":true}"#,
        ),
        (
            r#"{"stream":true,"stream_options":"x"}"#,
            r#"{"stream":true,"stream_options":{"include_usage":true}}"#,
        ),
        // include_usage null
        (
            r#"{"stream":true,"stream_options":{"include_usage" : null }}"#,
            r#"{"stream":true,"stream_options":{"include_usage" : true }}"#,
        ),
        // already true: untouched
        (
            r#"{"stream":true,"stream_options":{ "include_usage":true }}"#,
            r#"{"stream":true,"stream_options":{ "include_usage":true }}"#,
        ),
        // not a stream: untouched
        (r#"{"stream":false}"#, r#"{"stream":false}"#),
        (r#"{"stream":"true"}"#, r#"{"stream":"true"}"#),
        (r#"{}"#, r#"{}"#),
    ];
    for (input, expected) in cases {
        assert_eq!(rewrite(input, None, true), expected, "input: {input}");
    }
}

#[test]
fn stream_options_fixture() {
    let out = rewrite(STREAM_OPTIONS_PRESENT, Some("gpt-4o-mini-2024-07-18"), true);
    let expected = STREAM_OPTIONS_PRESENT
        .replacen("\"gpt-4o-mini\"", "\"gpt-4o-mini-2024-07-18\"", 1)
        .replacen("\"include_usage\": false", "\"include_usage\": true", 1);
    assert_eq!(out, expected);
    insta::assert_snapshot!("stream_options_present", out);
}

#[test]
fn trailing_whitespace_and_both_insertions() {
    let out = rewrite(WHITESPACE_AROUND, Some("m"), true);
    assert_eq!(
        out,
        "\t {\"stream\":true , \"messages\":[],\"model\":\"m\",\"stream_options\":{\"include_usage\":true}}  \r\n\n"
    );
    assert!(body(&out).include_usage().expect("include_usage"));
}
