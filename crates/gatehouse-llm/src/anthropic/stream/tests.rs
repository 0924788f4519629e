//! Golden streams (`tests/fixtures/anthropic/stream/*.sse`, Anthropic events as documented, decoded with
//! [`SseDecoder`](crate::SseDecoder)); the two examples quoted in the reference checked byte for byte against
//! hand-written expectations; the edge cases one by one.

use serde_json::Value;

use super::*;
use crate::{SseDecoder, SseLimits};

pub(crate) mod prop;

pub(crate) const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/anthropic/stream");

fn ctx(include_usage: bool) -> StreamContext {
    StreamContext {
        created: 1_700_000_000,
        model: "claude-sonnet".into(),
        include_usage,
    }
}

/// Decodes `chunks` as the server would and translates every event; returns the client bytes.
pub(super) fn run<'a>(chunks: impl IntoIterator<Item = &'a [u8]>, t: &mut StreamTranslator) -> Vec<u8> {
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

fn translate(name: &str, include_usage: bool) -> (String, StreamTranslator) {
    let mut t = StreamTranslator::new(ctx(include_usage));
    let out = run([&fixture(name)[..]], &mut t);
    (String::from_utf8(out).expect("UTF-8"), t)
}

/// Every frame is `data: <JSON object>` or `data: [DONE]`, and frames are separated by blank lines.
fn frames(out: &str) -> Vec<&str> {
    assert!(out.is_empty() || out.ends_with("\n\n"), "{out}");
    out.split_terminator("\n\n")
        .map(|frame| {
            let data = frame
                .strip_prefix("data: ")
                .unwrap_or_else(|| panic!("not a data frame: {frame}"));
            assert!(!data.contains('\n'));
            if data != "[DONE]" {
                let v: Value = serde_json::from_str(data).unwrap_or_else(|e| panic!("{e}: {data}"));
                assert!(v.is_object());
            }
            data
        })
        .collect()
}

#[test]
fn reference_examples_byte_for_byte() {
    for name in ["text", "tool_json"] {
        let (out, _) = translate(&format!("{name}.sse"), true);
        let expected = String::from_utf8(fixture(&format!("{name}.expected"))).expect("UTF-8");
        assert_eq!(out, expected, "{name}");
    }
}

#[test]
fn golden_fixtures() {
    let mut names: Vec<String> = std::fs::read_dir(FIXTURES)
        .expect("fixture dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".sse"))
        .collect();
    names.sort();
    assert!(names.len() >= 10, "{names:?}");
    for name in names {
        let mut snapshot = String::new();
        for include_usage in [true, false] {
            let (out, t) = translate(&name, include_usage);
            let frames = frames(&out);
            if !include_usage {
                assert!(!out.contains("\"usage\""), "{name}: usage without include_usage");
            }
            let done = frames.last() == Some(&"[DONE]");
            assert_eq!(done, t.errored().is_none(), "{name}: [DONE] iff no error");
            snapshot.push_str(&format!(
                "# include_usage={include_usage} usage={:?} finish_reason={:?} errored={:?}\n{out}",
                t.usage(),
                t.finish_reason(),
                t.errored()
            ));
        }
        insta::assert_snapshot!(name.trim_end_matches(".sse"), snapshot);
    }
}

fn delta(frame: &str) -> Value {
    let v: Value = serde_json::from_str(frame).expect("JSON");
    v["choices"][0]["delta"].clone()
}

#[test]
fn tool_index_counts_tool_blocks_only() {
    let (out, t) = translate("text_then_tool.sse", false);
    let frames = frames(&out);
    let tool = delta(frames[2]);
    assert_eq!(
        tool["tool_calls"][0]["index"], 0,
        "Anthropic index 1 is OpenAI tool index 0"
    );
    assert_eq!(tool["tool_calls"][0]["id"], "toolu_01T1x1fJ34qAmk2tNTrN7Up6");
    assert_eq!(tool["tool_calls"][0]["function"]["arguments"], "");
    let args: String = frames[3..5]
        .iter()
        .map(|f| {
            delta(f)["tool_calls"][0]["function"]["arguments"]
                .as_str()
                .expect("str")
                .to_owned()
        })
        .collect();
    assert_eq!(
        serde_json::from_str::<Value>(&args).expect("arguments JSON"),
        serde_json::json!({"location": "San Francisco, CA", "unit": "fahrenheit"})
    );
    assert_eq!(t.finish_reason(), Some("tool_calls"));
}

#[test]
fn tool_without_arguments_gets_empty_object() {
    let (out, _) = translate("parallel_tools.sse", false);
    let frames = frames(&out);
    let last_args = delta(frames[frames.len() - 3]);
    assert_eq!(last_args["tool_calls"][0]["index"], 1);
    assert_eq!(last_args["tool_calls"][0]["function"]["arguments"], "{}");
}

#[test]
fn usage_is_merged_never_summed() {
    let (_, t) = translate("text.sse", false);
    let u = t.usage().expect("usage");
    assert_eq!((u.input_tokens, u.output_tokens, u.total_tokens), (25, 15, 40));

    let (out, t) = translate("cache_usage.sse", true);
    let u = t.usage().expect("usage");
    assert_eq!(
        u.input_tokens,
        12 + 1500 + 30000,
        "message_delta omitted input: message_start's survives"
    );
    assert_eq!(
        (u.cached_input_tokens, u.cache_write_input_tokens, u.output_tokens),
        (30000, 1500, 7)
    );
    assert!(out.contains(r#""prompt_tokens_details":{"cached_tokens":30000,"cache_write_tokens":1500}"#));
    assert_eq!(t.finish_reason(), Some("length"));
}

#[test]
fn error_event_ends_the_stream() {
    let (out, t) = translate("error_mid_stream.sse", true);
    let frames = frames(&out);
    assert_eq!(
        *frames.last().expect("frames"),
        r#"{"error":{"message":"Overloaded","type":"server_error","param":null,"code":"upstream_overloaded"}}"#
    );
    assert!(!out.contains(" time"), "events after the error are ignored");
    assert_eq!(t.errored(), Some("upstream_overloaded"));
    assert!(t.ended());
    let mut more = Vec::new();
    let mut t = t;
    t.finish(&mut more);
    t.fail("x", "y", &mut more);
    assert!(more.is_empty());
}

#[test]
fn truncation_is_an_error_not_done() {
    let (out, t) = translate("truncated.sse", true);
    assert!(!out.contains("[DONE]"));
    assert!(out.ends_with(
        "data: {\"error\":{\"message\":\"the upstream stream ended before the response was complete\",\"type\":\"server_error\",\"param\":null,\"code\":\"upstream_stream_truncated\"}}\n\n"
    ));
    assert_eq!(t.errored(), Some("upstream_stream_truncated"));
    assert_eq!(t.usage().map(|u| u.input_tokens), Some(25));
}

#[test]
fn unknown_events_and_stop_reasons() {
    let (out, t) = translate("unknown_events.sse", false);
    assert_eq!(
        t.finish_reason(),
        Some("stop"),
        "the first stop reason (pause_turn) is the one reported"
    );
    assert_eq!(t.unknown_stop_reason(), None);
    assert_eq!(t.usage().map(|u| u.output_tokens), Some(11));
    assert_eq!(
        frames(&out).iter().filter(|f| f.contains("finish_reason\":\"")).count(),
        1
    );

    let mut t = StreamTranslator::new(ctx(false));
    let mut out = Vec::new();
    let ev = |data: &str| SseEvent {
        event: None,
        data: data.into(),
        id: None,
    };
    t.on_event(
        &ev(r#"{"type":"message_start","message":{"id":"m","usage":{"input_tokens":1,"output_tokens":1}}}"#),
        &mut out,
    );
    t.on_event(
        &ev(r#"{"type":"message_delta","delta":{"stop_reason":"sleepy"},"usage":{"output_tokens":2}}"#),
        &mut out,
    );
    t.on_event(&ev(r#"{"type":"message_stop"}"#), &mut out);
    assert_eq!(t.finish_reason(), Some("stop"));
    assert_eq!(t.unknown_stop_reason(), Some("sleepy"));
    assert!(String::from_utf8(out).expect("UTF-8").ends_with("data: [DONE]\n\n"));
}

#[test]
fn protocol_violations_are_errors() {
    let ev = |event: Option<&str>, data: &str| SseEvent {
        event: event.map(str::to_owned),
        data: data.into(),
        id: None,
    };
    for (events, code) in [
        (
            vec![ev(
                Some("content_block_delta"),
                r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"x"}}"#,
            )],
            "upstream_invalid_stream",
        ),
        (vec![ev(Some("message_start"), "{not json")], "upstream_invalid_stream"),
        (
            vec![ev(Some("message_start"), r#"{"type":"message_start"}"#)],
            "upstream_invalid_stream",
        ),
        (
            vec![
                ev(None, r#"{"type":"message_start","message":{"id":"m"}}"#),
                ev(
                    None,
                    r#"{"type":"content_block_start","index":0,"content_block":{"type":"tool_use"}}"#,
                ),
            ],
            "upstream_invalid_stream",
        ),
        (
            vec![ev(
                Some("error"),
                r#"{"type":"error","error":{"type":"authentication_error","message":"bad key sk-ant"}}"#,
            )],
            "upstream_auth_failed",
        ),
        (vec![ev(Some("error"), r#"{"type":"error"}"#)], "upstream_server_error"),
    ] {
        let mut t = StreamTranslator::new(ctx(false));
        let mut out = Vec::new();
        for e in &events {
            t.on_event(e, &mut out);
        }
        assert_eq!(t.errored(), Some(code), "{events:?}");
        let text = String::from_utf8(out).expect("UTF-8");
        assert!(!text.contains("sk-ant"), "{text}");
        frames(&text);
    }
}

#[test]
fn too_many_open_blocks() {
    let mut t = StreamTranslator::new(ctx(false));
    let mut out = Vec::new();
    let ev = |data: String| SseEvent {
        event: None,
        data,
        id: None,
    };
    t.on_event(&ev(r#"{"type":"message_start","message":{"id":"m"}}"#.into()), &mut out);
    for i in 0..=MAX_OPEN_BLOCKS {
        t.on_event(
            &ev(format!(
                r#"{{"type":"content_block_start","index":{i},"content_block":{{"type":"text","text":""}}}}"#
            )),
            &mut out,
        );
    }
    assert_eq!(t.errored(), Some("upstream_invalid_stream"));
}

#[test]
fn server_side_failure() {
    let mut t = StreamTranslator::new(ctx(true));
    let mut out = Vec::new();
    t.fail("upstream_idle_timeout", "the upstream stopped sending", &mut out);
    assert_eq!(t.errored(), Some("upstream_idle_timeout"));
    assert_eq!(
        String::from_utf8(out).expect("UTF-8"),
        "data: {\"error\":{\"message\":\"the upstream stopped sending\",\"type\":\"server_error\",\"param\":null,\"code\":\"upstream_idle_timeout\"}}\n\n"
    );
}
