//! Golden streams: the Anthropic event streams of `tests/fixtures/anthropic/stream/*.sse` (as Anthropic documents
//! them) translated into Responses events, snapshotted whole; every output checked against the published event
//! rules (one `event:` + one `data:` line, `type` = event name, `sequence_number` from 0 in steps of 1, indices
//! and item ids of items that were added and not yet done, one terminal event at the end); the final response
//! compared with the non-streaming translation; the failure cases one by one.

use serde_json::{Value, json};

use super::super::{ResponseContext, ResponseEcho, translate_response};
use super::*;
use crate::{SseDecoder, SseLimits};

mod prop;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/anthropic/stream");

pub(super) fn ctx() -> StreamContext {
    StreamContext {
        id: "resp_s1".into(),
        created_at: 1_700_000_000,
        model: "claude-client".into(),
        echo: ResponseEcho::default(),
    }
}

/// Decodes `chunks` as the server would and translates every event; returns the client bytes.
pub(super) fn run<'a>(chunks: impl IntoIterator<Item = &'a [u8]>, t: &mut ResponseStreamTranslator) -> Vec<u8> {
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

fn translate_bytes(bytes: &[u8]) -> (String, ResponseStreamTranslator) {
    let mut t = ResponseStreamTranslator::new(ctx());
    let out = run([bytes], &mut t);
    (String::from_utf8(out).expect("UTF-8"), t)
}

/// Checks the published event rules and returns the events' data.
pub(super) fn events(out: &str) -> Vec<Value> {
    assert!(out.ends_with("\n\n"), "{out}");
    let mut events = Vec::new();
    // Items added and not yet done, by output_index → item id.
    let mut open: Vec<(u64, String)> = Vec::new();
    let mut done: Vec<u64> = Vec::new();
    for (i, frame) in out.split_terminator("\n\n").enumerate() {
        let (name_line, data_line) = frame.split_once('\n').unwrap_or_else(|| panic!("two lines: {frame}"));
        let name = name_line.strip_prefix("event: ").expect("event line");
        let data = data_line.strip_prefix("data: ").expect("data line");
        assert!(!data.contains('\n'));
        let v: Value = serde_json::from_str(data).unwrap_or_else(|e| panic!("{e}: {data}"));
        assert_eq!(v["type"], name, "{data}");
        assert_eq!(
            v["sequence_number"], i as u64,
            "sequence numbers run from 0 in steps of 1: {data}"
        );
        if let Some(index) = v["output_index"].as_u64() {
            match name {
                "response.output_item.added" => {
                    assert!(open.iter().all(|(o, _)| *o != index) && !done.contains(&index));
                    assert_eq!(index, (open.len() + done.len()) as u64, "output indices are dense");
                    let id = v["item"]["id"].as_str().expect("item id").to_owned();
                    open.push((index, id));
                }
                "response.output_item.done" => {
                    let pos = open.iter().position(|(o, _)| *o == index).expect("done after added");
                    assert_eq!(v["item"]["id"], open[pos].1.as_str());
                    open.remove(pos);
                    done.push(index);
                }
                _ => {
                    let (_, id) = open.iter().find(|(o, _)| *o == index).expect("an open item");
                    assert_eq!(v["item_id"], id.as_str(), "{data}");
                }
            }
        }
        events.push(v);
    }
    let terminal = ["response.completed", "response.incomplete", "response.failed"];
    for (i, e) in events.iter().enumerate() {
        let is_terminal = terminal.contains(&e["type"].as_str().unwrap_or_default());
        assert_eq!(
            is_terminal,
            i + 1 == events.len(),
            "exactly one terminal event, last: {e}"
        );
    }
    events
}

#[test]
fn golden_fixtures() {
    let mut names: Vec<String> = std::fs::read_dir(FIXTURES)
        .expect("fixture dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".sse"))
        .collect();
    names.sort();
    assert!(names.len() >= 10);
    for name in names {
        let bytes = std::fs::read(format!("{FIXTURES}/{name}")).expect("fixture");
        let (out, t) = translate_bytes(&bytes);
        let evs = events(&out);
        let last = evs.last().expect("events");
        if last["type"] != "response.failed" {
            assert_eq!(Value::Array(t.output_items()), last["response"]["output"], "{name}");
        }
        let snapshot = format!(
            "# status={:?} usage={:?} errored={:?} unknown_stop={:?}\n{out}",
            t.status(),
            t.usage(),
            t.errored(),
            t.unknown_stop_reason()
        );
        insta::assert_snapshot!(name.trim_end_matches(".sse").to_owned(), snapshot);
    }
}

/// The final streamed response equals the non-streaming translation of the same message.
#[test]
fn final_response_matches_the_non_streaming_translation() {
    let cases = [
        (
            "thinking.sse",
            json!({"content": [
                {"type": "thinking", "thinking": "I need to find the GCD of 1071 and 462 using the Euclidean algorithm.\n\n1071 = 2 × 462 + 147\n462 = 3 × 147 + 21\n147 = 7 × 21 + 0", "signature": "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds..."},
                {"type": "text", "text": "The greatest common divisor of 1071 and 462 is **21**."}
            ], "stop_reason": "end_turn", "usage": {"input_tokens": 40, "output_tokens": 120}}),
        ),
        ("text_then_tool.sse", Value::Null),
    ];
    for (name, message) in cases {
        let bytes = std::fs::read(format!("{FIXTURES}/{name}")).expect("fixture");
        let (out, _) = translate_bytes(&bytes);
        let evs = events(&out);
        let streamed = &evs.last().expect("last")["response"];
        let message = if message.is_null() { assembled(&evs) } else { message };
        let echo = ResponseEcho::default();
        let rctx = ResponseContext {
            id: "resp_s1",
            created_at: 1_700_000_000,
            model: "claude-client",
            echo: &echo,
        };
        let whole = translate_response(&serde_json::to_vec(&message).expect("json"), &rctx).expect("translates");
        let whole: Value = serde_json::from_slice(&whole.body).expect("json");
        assert_eq!(parsed_arguments(streamed.clone()), parsed_arguments(whole), "{name}");
    }
}

/// `arguments` as parsed JSON: the stream's are the concatenated deltas as Anthropic spaced them, the
/// non-streaming translation's are compact; the value is the same.
fn parsed_arguments(mut response: Value) -> Value {
    for item in response["output"].as_array_mut().expect("output") {
        if let Some(args) = item.get("arguments").and_then(Value::as_str) {
            item["arguments"] = serde_json::from_str(args).expect("arguments are JSON");
        }
    }
    response
}

/// The Anthropic message a completed Responses stream describes (text and tool calls only), rebuilt from the
/// events the client saw: a second, independent path to the same object.
fn assembled(evs: &[Value]) -> Value {
    let mut content = Vec::new();
    let mut stop = "end_turn";
    for e in evs {
        if e["type"] == "response.output_item.done" {
            let item = &e["item"];
            match item["type"].as_str() {
                Some("message") => {
                    for part in item["content"].as_array().expect("parts") {
                        content.push(json!({"type": "text", "text": part["text"]}));
                    }
                }
                Some("function_call") => {
                    stop = "tool_use";
                    let input: Value =
                        serde_json::from_str(item["arguments"].as_str().expect("arguments")).expect("args JSON");
                    content
                        .push(json!({"type": "tool_use", "id": item["call_id"], "name": item["name"], "input": input}));
                }
                _ => {}
            }
        }
    }
    let usage = &evs.last().expect("last")["response"]["usage"];
    json!({"content": content, "stop_reason": stop, "usage": {
        "input_tokens": usage["input_tokens"].as_u64().expect("n") - usage["input_tokens_details"]["cached_tokens"].as_u64().expect("n"),
        "cache_read_input_tokens": usage["input_tokens_details"]["cached_tokens"],
        "output_tokens": usage["output_tokens"]}})
}

fn sse(events: &[Value]) -> Vec<u8> {
    let mut s = String::new();
    for e in events {
        s.push_str(&format!("event: {}\ndata: {e}\n\n", e["type"].as_str().expect("type")));
    }
    s.into_bytes()
}

fn start() -> Value {
    json!({"type": "message_start", "message": {"id": "msg_1", "usage": {"input_tokens": 5, "output_tokens": 1}}})
}

#[test]
fn upstream_error_event_fails_the_response() {
    let bytes = sse(&[
        start(),
        json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
        json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hel"}}),
        json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}),
        json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "lo"}}),
    ]);
    let (out, t) = translate_bytes(&bytes);
    let evs = events(&out);
    let n = evs.len();
    assert_eq!(
        evs[n - 2],
        json!({"type": "error", "sequence_number": n - 2, "code": "upstream_overloaded", "message": "Overloaded", "param": null})
    );
    let failed = &evs[n - 1];
    assert_eq!(failed["type"], "response.failed");
    assert_eq!(failed["response"]["status"], "failed");
    assert_eq!(
        failed["response"]["error"],
        json!({"code": "server_error", "message": "Overloaded"})
    );
    assert_eq!(t.errored(), Some("upstream_overloaded"));
    assert_eq!(t.status(), Some("failed"));
    assert!(t.ended());

    let rate = sse(&[
        start(),
        json!({"type": "error", "error": {"type": "rate_limit_error", "message": "slow"}}),
    ]);
    let (out, _) = translate_bytes(&rate);
    let evs = events(&out);
    assert_eq!(
        evs.last().expect("last")["response"]["error"]["code"],
        "rate_limit_exceeded"
    );
}

#[test]
fn truncated_and_server_failures() {
    // Cut after a delta: truncation.
    let bytes = sse(&[
        start(),
        json!({"type": "content_block_start", "index": 0, "content_block": {"type": "tool_use", "id": "toolu_1", "name": "f", "input": {}}}),
        json!({"type": "content_block_delta", "index": 0, "delta": {"type": "input_json_delta", "partial_json": "{\"a\""}}),
    ]);
    let (out, t) = translate_bytes(&bytes);
    let evs = events(&out);
    assert_eq!(evs[evs.len() - 2]["code"], "upstream_stream_truncated");
    assert_eq!(t.errored(), Some("upstream_stream_truncated"));
    assert!(t.output_items().is_empty(), "an unfinished call is not stored");

    // A server-side failure after the response started, then nothing more.
    let mut t = ResponseStreamTranslator::new(ctx());
    let mut out = Vec::new();
    let ev = |data: Value| crate::SseEvent {
        event: data["type"].as_str().map(str::to_owned),
        data: data.to_string(),
        id: None,
    };
    t.on_event(&ev(start()), &mut out);
    t.fail("upstream_idle_timeout", "no data for 60s", &mut out);
    let len = out.len();
    t.fail("again", "x", &mut out);
    t.finish(&mut out);
    t.on_event(&ev(json!({"type": "message_stop"})), &mut out);
    assert_eq!(out.len(), len, "nothing after the end");
    let evs = events(&String::from_utf8(out).expect("UTF-8"));
    assert_eq!(evs[2]["code"], "upstream_idle_timeout");
    assert_eq!(
        evs[3]["response"]["usage"]["input_tokens"], 5,
        "usage so far is reported"
    );

    // Content before message_start, and an empty stream.
    // Both still open with `response.created`, which the SDK's accumulator requires first.
    let (out, t) = translate_bytes(&sse(&[json!({"type": "content_block_stop", "index": 0})]));
    let evs = events(&out);
    assert_eq!(evs[0]["type"], "response.created");
    assert_eq!(evs[1]["code"], "upstream_invalid_stream");
    assert_eq!(t.errored(), Some("upstream_invalid_stream"));
    let (out, t) = translate_bytes(b"");
    let kinds: Vec<Value> = events(&out).into_iter().map(|e| e["type"].clone()).collect();
    assert_eq!(kinds, ["response.created", "error", "response.failed"]);
    assert_eq!(t.errored(), Some("upstream_stream_truncated"));
}

#[test]
fn incomplete_closes_the_message_as_incomplete() {
    let bytes = sse(&[
        start(),
        json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": "Once"}}),
        json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": " upon"}}),
        json!({"type": "content_block_stop", "index": 0}),
        json!({"type": "message_delta", "delta": {"stop_reason": "max_tokens"}, "usage": {"output_tokens": 2}}),
        json!({"type": "message_stop"}),
    ]);
    let (out, t) = translate_bytes(&bytes);
    let evs = events(&out);
    let kinds: Vec<&str> = evs.iter().map(|e| e["type"].as_str().expect("type")).collect();
    assert_eq!(
        kinds,
        [
            "response.created",
            "response.in_progress",
            "response.output_item.added",
            "response.content_part.added",
            "response.output_text.delta",
            "response.output_text.delta",
            "response.output_text.done",
            "response.content_part.done",
            "response.output_item.done",
            "response.incomplete",
        ]
    );
    assert_eq!(evs[6]["text"], "Once upon");
    assert_eq!(evs[8]["item"]["status"], "incomplete");
    let last = &evs[9]["response"];
    assert_eq!(last["status"], "incomplete");
    assert_eq!(last["incomplete_details"], json!({"reason": "max_output_tokens"}));
    assert_eq!(last["usage"]["output_tokens"], 2);
    assert_eq!(t.status(), Some("incomplete"));
    assert_eq!(evs[0]["response"]["usage"], Value::Null, "no usage while in progress");
    assert_eq!(evs[0]["response"]["output"], json!([]));
}

/// The official `openai` Python SDK's own models accept every event of every stream snapshot, every expected
/// response object and every request fixture (`tests/interop/responses_shapes.py`). Needs the venv from
/// `scripts/test.sh` (GATEHOUSE_TEST_PYTHON); without it the test says so and passes only when interop is not
/// required (GATEHOUSE_REQUIRE_INTEROP).
#[test]
fn official_sdk_models_accept_every_event_and_object() {
    let python = match std::env::var("GATEHOUSE_TEST_PYTHON") {
        Ok(p) if !p.is_empty() => p,
        _ => {
            assert!(
                std::env::var("GATEHOUSE_REQUIRE_INTEROP").is_err(),
                "GATEHOUSE_REQUIRE_INTEROP is set but GATEHOUSE_TEST_PYTHON is not"
            );
            eprintln!("SKIPPED: needs the venv from scripts/test.sh (GATEHOUSE_TEST_PYTHON)");
            return;
        }
    };
    let crate_dir = env!("CARGO_MANIFEST_DIR");
    let script = format!("{crate_dir}/../../tests/interop/responses_shapes.py");
    let out = std::process::Command::new(python)
        .arg(script)
        .arg(crate_dir)
        .output()
        .expect("run python");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the SDK rejected a shape:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(stdout.trim(), "ok");
}
