//! Golden streams (`tests/fixtures/anthropic_ingress/stream/*.sse`: OpenAI chunk streams in the published shapes,
//! decoded with [`SseDecoder`](crate::SseDecoder)) checked byte for byte against hand-written `.expected` Anthropic
//! event streams; the edge cases one by one.

use serde_json::Value;

use super::*;
use crate::{SseDecoder, SseLimits};

mod prop;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/anthropic_ingress/stream");

fn ctx() -> MessageStreamContext {
    MessageStreamContext {
        model: "claude-sonnet-4-5".into(),
        input_tokens_estimate: 21,
        message_id: "msg_01Gatehouse".into(),
    }
}

/// Decodes `chunks` as the server would and translates every event; returns the client bytes.
pub(super) fn run<'a>(chunks: impl IntoIterator<Item = &'a [u8]>, t: &mut MessageStreamTranslator) -> Vec<u8> {
    let mut decoder = SseDecoder::new(SseLimits::default());
    let mut out = Vec::new();
    for chunk in chunks {
        decoder.push(chunk).expect("within limits");
        while let Some(event) = decoder.next_event() {
            t.on_event(&event, &mut out);
        }
    }
    while let Some(event) = decoder.finish().or_else(|| decoder.next_event()) {
        t.on_event(&event, &mut out);
    }
    t.finish(&mut out);
    out
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{FIXTURES}/{name}")).expect("fixture")
}

fn translate(name: &str) -> (String, MessageStreamTranslator) {
    let mut t = MessageStreamTranslator::new(ctx());
    let out = run([&fixture(name)[..]], &mut t);
    (String::from_utf8(out).expect("UTF-8"), t)
}

/// Every event is `event: <type>\ndata: <JSON object whose type is <type>>`, separated by blank lines, and
/// nothing follows `message_stop` or `error`. Returns the parsed data.
pub(super) fn events(out: &str) -> Vec<Value> {
    assert!(out.is_empty() || out.ends_with("\n\n"), "{out}");
    let parsed: Vec<Value> = out
        .split_terminator("\n\n")
        .map(|event| {
            let (name, data) = event
                .strip_prefix("event: ")
                .and_then(|e| e.split_once("\ndata: "))
                .unwrap_or_else(|| panic!("not a named event: {event}"));
            assert!(!data.contains('\n'), "{data}");
            let v: Value = serde_json::from_str(data).unwrap_or_else(|e| panic!("{e}: {data}"));
            assert_eq!(v["type"], name, "{event}");
            v
        })
        .collect();
    for (i, v) in parsed.iter().enumerate() {
        if v["type"] == "message_stop" || v["type"] == "error" {
            assert_eq!(i + 1, parsed.len(), "nothing after the end");
        }
    }
    parsed
}

#[test]
fn golden_fixtures_byte_for_byte() {
    let mut names: Vec<String> = std::fs::read_dir(FIXTURES)
        .expect("fixture dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".sse"))
        .collect();
    names.sort();
    assert!(names.len() >= 9, "{names:?}");
    for name in names {
        let (out, t) = translate(&name);
        let expected = String::from_utf8(fixture(&name.replace(".sse", ".expected"))).expect("UTF-8");
        assert_eq!(out, expected, "{name}");
        let events = events(&out);
        let last = events.last().expect("events");
        assert_eq!(
            last["type"] == "message_stop",
            t.errored().is_none(),
            "{name}: message_stop iff no error"
        );
        assert!(t.ended(), "{name}");
    }
}

#[test]
fn usage_and_codes_of_the_fixtures() {
    let (_, t) = translate("text.sse");
    let u = t.usage().expect("usage");
    assert_eq!((u.input_tokens, u.output_tokens, u.total_tokens), (25, 15, 40));
    assert_eq!(t.stop_reason(), Some("end_turn"));

    let (_, t) = translate("cache_usage.sse");
    let u = t.usage().expect("usage");
    assert_eq!(
        (u.input_tokens, u.cached_input_tokens, u.output_tokens),
        (2006, 1920, 7),
        "metered: cached included"
    );
    assert_eq!(t.stop_reason(), Some("max_tokens"));

    let (_, t) = translate("done_without_usage.sse");
    assert_eq!(
        t.usage(),
        None,
        "no usage chunk: nothing to meter, and the server knows it"
    );
    assert_eq!(t.errored(), None);

    let (_, t) = translate("error_object.sse");
    assert_eq!(t.errored(), Some("upstream_overloaded"));

    let (_, t) = translate("truncated.sse");
    assert_eq!(t.errored(), Some("upstream_stream_truncated"));

    let (_, t) = translate("stop_sequence.sse");
    assert_eq!(t.stop_reason(), Some("stop_sequence"));
}

fn ev(data: &str) -> SseEvent {
    SseEvent {
        event: None,
        data: data.into(),
        id: None,
    }
}

fn feed(events: &[&str]) -> (String, MessageStreamTranslator) {
    let mut t = MessageStreamTranslator::new(ctx());
    let mut out = Vec::new();
    for e in events {
        t.on_event(&ev(e), &mut out);
    }
    (String::from_utf8(out).expect("UTF-8"), t)
}

#[test]
fn finish_is_held_until_usage_or_done() {
    let (out, t) = feed(&[
        r#"{"choices":[{"index":0,"delta":{"content":"a"},"finish_reason":"length"}]}"#,
        r#"{"choices":[{"index":0,"delta":{"content":"b"}}]}"#,
    ]);
    assert!(!out.contains("message_delta"), "held: {out}");
    assert!(out.contains(r#""text":"b""#), "deltas after the finish still flow");
    assert!(!t.ended());
    let mut t = t;
    let mut more = Vec::new();
    t.on_event(
        &ev(r#"{"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":2}}"#),
        &mut more,
    );
    let more = String::from_utf8(more).expect("UTF-8");
    assert!(more.starts_with("event: content_block_stop"), "{more}");
    assert!(more.contains(r#""stop_reason":"max_tokens""#));
    assert!(t.ended());
    assert_eq!(
        t.usage().map(|u| u.total_tokens),
        Some(5),
        "total computed when missing"
    );
}

#[test]
fn usage_before_the_finish_waits_for_done() {
    let (out, t) = feed(&[
        r#"{"choices":[{"index":0,"delta":{"content":"a"}}],"usage":{"prompt_tokens":3,"completion_tokens":1}}"#,
        r#"{"choices":[{"index":0,"delta":{"content":"b"}}],"usage":{"prompt_tokens":3,"completion_tokens":2}}"#,
        "[DONE]",
    ]);
    let events = events(&out);
    assert_eq!(events.len(), 7, "{out}");
    assert_eq!(
        events[5]["usage"]["output_tokens"], 2,
        "the last usage wins, never summed"
    );
    assert_eq!(t.stop_reason(), Some("end_turn"), "no finish_reason: end_turn");
}

#[test]
fn empty_stream_and_other_choices() {
    let (out, _) = feed(&["[DONE]"]);
    let events = events(&out);
    let kinds: Vec<&str> = events.iter().map(|e| e["type"].as_str().expect("type")).collect();
    assert_eq!(kinds, ["message_start", "message_delta", "message_stop"]);

    let (out, _) = feed(&[
        r#"{"choices":[{"index":1,"delta":{"content":"other choice"}}]}"#,
        r#"{"choices":[{"index":0,"delta":{"role":"assistant","content":null,"tool_calls":[]}}]}"#,
        r#"{}"#,
        "  ",
        "[DONE]",
    ]);
    assert!(!out.contains("other choice"));
    assert!(!out.contains("content_block_start"), "{out}");
}

#[test]
fn tool_calls_without_index_or_id() {
    let (out, _) = feed(&[
        r#"{"choices":[{"delta":{"tool_calls":[{"function":{"name":"a","arguments":"{\"x\""}}]}}]}"#,
        r#"{"choices":[{"delta":{"tool_calls":[{"function":{"arguments":":1}"}}]}}]}"#,
        r#"{"choices":[{"delta":{"tool_calls":[{"id":"call_2","function":{"name":"b","arguments":"{}"}}]}}]}"#,
        r#"{"choices":[{"delta":{"tool_calls":[{"id":"call_2","function":{"arguments":""}}]}}]}"#,
        "[DONE]",
    ]);
    let events = events(&out);
    assert_eq!(
        events[1]["content_block"]["id"], "toolu_msg_01Gatehouse_0",
        "a synthesised id"
    );
    assert_eq!(events[2]["delta"]["partial_json"], "{\"x\"");
    assert_eq!(events[3]["delta"]["partial_json"], ":1}");
    assert_eq!(
        events[5]["content_block"]["id"], "call_2",
        "a new id starts a new block"
    );
    assert_eq!(events[5]["index"], 1);
    assert_eq!(events[6]["delta"]["partial_json"], "{}");
    assert_eq!(events[7]["type"], "content_block_stop");
    assert_eq!(events[8]["type"], "message_delta");
}

#[test]
fn protocol_violations_are_errors() {
    for (events, code) in [
        (vec!["{not json"], "upstream_invalid_stream"),
        (vec!["[1,2]"], "upstream_invalid_stream"),
        (vec![r#"{"choices":"x"}"#], "upstream_invalid_stream"),
        (
            vec![r#"{"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{}"}}]}}]}"#],
            "upstream_invalid_stream",
        ),
        (
            vec![r#"{"choices":[{"delta":{"content":"a"#],
            "upstream_stream_truncated",
        ),
        (
            vec![r#"{"object":"error","message":"bad","type":"BadRequestError","code":400}"#],
            "upstream_invalid_request",
        ),
        (vec![r#"{"error":"plain string"}"#], "upstream_server_error"),
        (
            vec![r#"{"error":{"message":"key sk-123 revoked","code":401}}"#],
            "upstream_auth_failed",
        ),
    ] {
        let (out, t) = feed(&events);
        assert_eq!(t.errored(), Some(code), "{events:?}");
        assert!(!out.contains("sk-123"), "{out}");
        let parsed = self::events(&out);
        assert_eq!(parsed.last().map(|e| e["type"].clone()), Some("error".into()));
    }
}

#[test]
fn context_overflow_mid_stream_speaks_anthropic() {
    let (out, t) = feed(&[
        r#"{"error":{"message":"This model's maximum context length is 8 tokens.","type":"BadRequestError","code":400}}"#,
    ]);
    assert_eq!(t.errored(), Some("context_length_exceeded"));
    assert!(
        out.contains(r#""type":"invalid_request_error","message":"prompt is too long: This model's"#),
        "{out}"
    );
}

#[test]
fn server_side_failure_and_the_end() {
    let mut t = MessageStreamTranslator::new(ctx());
    let mut out = Vec::new();
    t.fail("upstream_idle_timeout", "the upstream stopped sending", &mut out);
    assert_eq!(t.errored(), Some("upstream_idle_timeout"));
    assert_eq!(
        String::from_utf8(out).expect("UTF-8"),
        "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"api_error\",\"message\":\"the upstream stopped sending\"}}\n\n"
    );
    let mut more = Vec::new();
    t.on_event(&ev("[DONE]"), &mut more);
    t.finish(&mut more);
    t.fail("x", "y", &mut more);
    assert!(more.is_empty(), "nothing after the end");

    let (_, mut t) = feed(&["[DONE]"]);
    let mut more = Vec::new();
    t.fail("x", "y", &mut more);
    t.finish(&mut more);
    assert!(more.is_empty());
    assert_eq!(t.errored(), None);
}
