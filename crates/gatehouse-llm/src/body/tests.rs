use super::*;

fn check(s: &str) -> Result<(), LlmError> {
    check_surrogate_escapes(s)
}

#[test]
fn paired_surrogates_and_other_escapes_pass() {
    assert!(check(r#"{"a":"\ud83d\ude00 \u00e9 \\ud800 \n \" \\"}"#).is_ok());
    assert!(check(r#"{"a":"plain"}"#).is_ok());
    assert!(check(r#"{"a":"\\"}"#).is_ok(), "an escaped backslash at the end");
}

#[test]
fn lone_surrogates_are_invalid_json() {
    for s in [
        r#"{"a":"\uda55eed"}"#,
        r#"{"a":"\ud83d"}"#,
        r#"{"a":"\ud83d\n"}"#,
        r#"{"a":"\ud83d\ud83d\ude00"}"#,
        r#"{"a":"\ude00"}"#,
        r#"{"a":"x\ud83d x\ude00"}"#,
    ] {
        assert!(matches!(check(s), Err(LlmError::InvalidJson { .. })), "{s}");
    }
}

/// Found by the `anthropic_ingress_request` fuzz target: a lone surrogate in a key of a tool's `input_schema`
/// (copied through unparsed) made the translated body unreadable; the body is refused instead.
#[test]
fn a_lone_surrogate_inside_a_copied_schema_is_refused_before_translation() {
    let body = br#"{"model":"m","max_tokens":5,"tools":[{"name":"t","input_schema":{"type":"object","\uda55eed":1}}],"messages":[{"role":"user","content":"hi"}]}"#;
    let e = crate::anthropic_ingress::translate_request(body, "up").expect_err("refused");
    assert!(matches!(e, LlmError::InvalidJson { .. }), "{e:?}");
    let ok = br#"{"model":"m","max_tokens":5,"tools":[{"name":"t","input_schema":{"type":"object","\ud83d\ude00":1}}],"messages":[{"role":"user","content":"hi"}]}"#;
    assert!(crate::anthropic_ingress::translate_request(ok, "up").is_ok());
}
