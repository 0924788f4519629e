//! Golden request/response translations (hand-written from the botocore Converse shapes), the event-stream codec
//! (round trip, split invariance, corruption, bounds) and stream translation.

use proptest::prelude::*;
use serde_json::{Value, json};

use super::eventstream::{FrameDecoder, FrameError, MAX_FRAME_BYTES, encode_frame};
use super::*;

fn ctx(include_usage: bool) -> ResponseContext {
    ResponseContext {
        created: 1_700_000_000,
        model: "claude-bedrock".into(),
        fallback_id: "chatcmpl-req1".into(),
        include_usage,
    }
}

fn translate(body: &Value) -> Result<TranslatedRequest, crate::LlmError> {
    translate_request(
        &serde_json::to_vec(body).expect("json"),
        &RequestOptions {
            drop_unsupported: false,
        },
    )
}

#[test]
fn request_golden() {
    let out = translate(&json!({"model": "m", "max_tokens": 200, "temperature": 0.5, "stop": "END", "user": "u",
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": [{"type": "text", "text": "Look"}, {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBO"}}]},
            {"role": "assistant", "content": "Calling.", "tool_calls": [{"id": "call 1", "type": "function", "function": {"name": "lookup", "arguments": "{\"q\": 1}"}}]},
            {"role": "tool", "tool_call_id": "call 1", "content": "{\"hit\": true}"},
            {"role": "user", "content": "thanks"}],
        "tools": [{"type": "function", "function": {"name": "lookup", "description": "Find", "parameters": {"type": "object", "properties": {"q": {"type": "integer"}}}}}],
        "tool_choice": "required"}))
    .expect("translates");
    let body: Value = serde_json::from_slice(&out.body).expect("json");
    assert_eq!(
        body,
        json!({
            "messages": [
                {"role": "user", "content": [{"text": "Look"}, {"image": {"format": "png", "source": {"bytes": "iVBO"}}}]},
                {"role": "assistant", "content": [{"text": "Calling."}, {"toolUse": {"toolUseId": "call_1", "name": "lookup", "input": {"q": 1}}}]},
                {"role": "user", "content": [{"toolResult": {"toolUseId": "call_1", "content": [{"json": {"hit": true}}], "status": "success"}}, {"text": "thanks"}]}],
            "system": [{"text": "Be brief."}],
            "inferenceConfig": {"maxTokens": 200, "temperature": 0.5, "stopSequences": ["END"]},
            "toolConfig": {"tools": [{"toolSpec": {"name": "lookup", "description": "Find", "inputSchema": {"json": {"type": "object", "properties": {"q": {"type": "integer"}}}}}}],
                "toolChoice": {"any": {}}}
        })
    );
    assert_eq!(out.dropped, ["user"]);
}

#[test]
fn request_refusals_and_tool_choice_none() {
    for (body, want) in [
        (
            json!({"messages": [{"role": "user", "content": "x"}], "n": 2}),
            "`n` is not supported",
        ),
        (
            json!({"messages": [{"role": "user", "content": "x"}], "temperature": 1.5}),
            "between 0 and 1",
        ),
        (
            json!({"messages": [{"role": "user", "content": "x"}], "response_format": {"type": "json_object"}}),
            "`response_format`",
        ),
        (
            json!({"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "https://x"}}]}]}),
            "inline images",
        ),
        (
            json!({"messages": [{"role": "assistant", "content": null, "tool_calls": [{"id": "a", "type": "function", "function": {"name": "f", "arguments": "{}"}}]}]}),
            "needs `tools`",
        ),
    ] {
        let err = translate(&body).expect_err("refused").to_string();
        assert!(err.contains(want), "{body}: {err}");
    }
    let tools = json!([{"type": "function", "function": {"name": "f"}}]);
    let out =
        translate(&json!({"messages": [{"role": "user", "content": "x"}], "tools": tools, "tool_choice": "none"}))
            .expect("ok");
    let body: Value = serde_json::from_slice(&out.body).expect("json");
    assert!(
        body.get("toolConfig").is_none(),
        "Bedrock has no `none`: the tools are not sent"
    );
}

#[test]
fn response_golden_with_cache_usage() {
    let body = json!({"output": {"message": {"role": "assistant", "content": [
            {"reasoningContent": {"reasoningText": {"text": "hmm", "signature": "s"}}},
            {"text": "Hi"}, {"toolUse": {"toolUseId": "tu_1", "name": "lookup", "input": {"q": [1, 2]}}}]}},
        "stopReason": "tool_use",
        "usage": {"inputTokens": 10, "outputTokens": 5, "totalTokens": 515, "cacheReadInputTokens": 300, "cacheWriteInputTokens": 200},
        "metrics": {"latencyMs": 120}});
    let t = translate_response(&serde_json::to_vec(&body).expect("json"), &ctx(false)).expect("ok");
    let v: Value = serde_json::from_slice(&t.body).expect("json");
    assert_eq!(
        v,
        json!({"id": "chatcmpl-req1", "object": "chat.completion", "created": 1_700_000_000, "model": "claude-bedrock",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi", "reasoning_content": "hmm",
                "tool_calls": [{"id": "tu_1", "type": "function", "function": {"name": "lookup", "arguments": "{\"q\":[1,2]}"}}]},
                "logprobs": null, "finish_reason": "tool_calls"}],
            "usage": {"prompt_tokens": 510, "completion_tokens": 5, "total_tokens": 515,
                "prompt_tokens_details": {"cached_tokens": 300, "cache_write_tokens": 200}}})
    );
}

#[test]
fn stop_reasons_and_errors() {
    for (r, want) in [
        ("end_turn", Some("stop")),
        ("max_tokens", Some("length")),
        ("guardrail_intervened", Some("content_filter")),
        ("tool_use", Some("tool_calls")),
        ("new_thing", None),
    ] {
        assert_eq!(finish_reason(r), want, "{r}");
    }
    let e = translate_error(
        429,
        Some("ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/"),
        br#"{"message":"Too many requests, please wait before trying again."}"#,
    );
    assert_eq!((e.status, e.code), (429, "upstream_rate_limited"));
    assert!(String::from_utf8_lossy(&e.body).contains("Too many requests"));
    let e = translate_error(
        403,
        Some("UnrecognizedClientException"),
        br#"{"message":"The security token included in the request is invalid."}"#,
    );
    assert_eq!((e.status, e.code), (502, "upstream_auth_failed"));
    assert!(!String::from_utf8_lossy(&e.body).contains("security token"));
    let e = translate_error(503, Some("ServiceUnavailableException"), br#"{"Message":"busy"}"#);
    assert_eq!((e.status, e.code), (503, "upstream_overloaded"));
    let e = translate_error(
        400,
        Some("ValidationException"),
        br#"{"message":"Input is too long for requested model."}"#,
    );
    assert_eq!((e.status, e.code), (400, "context_length_exceeded"));
}

fn event(kind: &str, payload: &Value) -> Vec<u8> {
    encode_frame(
        &[
            (":event-type", kind),
            (":content-type", "application/json"),
            (":message-type", "event"),
        ],
        payload.to_string().as_bytes(),
    )
}

fn sample_stream() -> Vec<u8> {
    [
        event("messageStart", &json!({"role": "assistant"})),
        event("contentBlockDelta", &json!({"contentBlockIndex": 0, "delta": {"text": "Hel"}})),
        event("contentBlockDelta", &json!({"contentBlockIndex": 0, "delta": {"text": "lo"}})),
        event("contentBlockStop", &json!({"contentBlockIndex": 0})),
        event("contentBlockStart", &json!({"contentBlockIndex": 1, "start": {"toolUse": {"toolUseId": "tu_9", "name": "lookup"}}})),
        event("contentBlockDelta", &json!({"contentBlockIndex": 1, "delta": {"toolUse": {"input": "{\"q\":"}}})),
        event("contentBlockDelta", &json!({"contentBlockIndex": 1, "delta": {"toolUse": {"input": "1}"}}})),
        event("contentBlockStop", &json!({"contentBlockIndex": 1})),
        event("contentBlockStart", &json!({"contentBlockIndex": 2, "start": {"toolUse": {"toolUseId": "tu_10", "name": "noop"}}})),
        event("contentBlockStop", &json!({"contentBlockIndex": 2})),
        event("messageStop", &json!({"stopReason": "tool_use"})),
        event("metadata", &json!({"usage": {"inputTokens": 7, "outputTokens": 4, "totalTokens": 13, "cacheReadInputTokens": 2}, "metrics": {"latencyMs": 5}})),
    ]
    .concat()
}

fn run(pieces: &[&[u8]], include_usage: bool) -> (String, StreamTranslator) {
    let mut d = FrameDecoder::new();
    let mut t = StreamTranslator::new(ctx(include_usage));
    let mut out = Vec::new();
    for p in pieces {
        d.push(p);
        loop {
            match d.next_frame() {
                Ok(Some(f)) => t.on_frame(&f, &mut out),
                Ok(None) => break,
                Err(_) => {
                    t.fail("upstream_invalid_stream", "bad frame", &mut out);
                    break;
                }
            }
        }
    }
    t.finish(&mut out);
    (String::from_utf8(out).expect("utf8"), t)
}

#[test]
fn stream_translates_text_tools_and_usage_after_message_stop() {
    let bytes = sample_stream();
    let (out, t) = run(&[&bytes], true);
    insta::assert_snapshot!("bedrock_stream", out);
    let u = t.usage().expect("usage");
    assert_eq!((u.input_tokens, u.output_tokens, u.cached_input_tokens), (9, 4, 2));
    assert_eq!(t.errored(), None);
}

#[test]
fn exception_frame_and_truncation_end_with_an_error() {
    let mut bytes = [
        event("messageStart", &json!({"role": "assistant"})),
        event(
            "contentBlockDelta",
            &json!({"contentBlockIndex": 0, "delta": {"text": "Hel"}}),
        ),
    ]
    .concat();
    let (out, t) = run(&[&bytes], false);
    assert_eq!(t.errored(), Some("upstream_stream_truncated"), "{out}");
    bytes.extend(encode_frame(
        &[
            (":message-type", "exception"),
            (":exception-type", "throttlingException"),
            (":content-type", "application/json"),
        ],
        br#"{"message":"Too many tokens, please wait before trying again."}"#,
    ));
    let (out, t) = run(&[&bytes], false);
    assert_eq!(t.errored(), Some("upstream_rate_limited"));
    assert!(out.contains("Too many tokens") && !out.contains("[DONE]"), "{out}");
}

#[test]
fn decoder_rejects_corruption_and_oversize() {
    let mut frame = event("messageStart", &json!({"role": "assistant"}));
    let last = frame.len() - 6;
    frame[last] ^= 1;
    let mut d = FrameDecoder::new();
    d.push(&frame);
    assert_eq!(d.next_frame(), Err(FrameError::Checksum));
    let mut d = FrameDecoder::new();
    let big = u32::try_from(MAX_FRAME_BYTES + 1).expect("fits").to_be_bytes();
    let mut head = big.to_vec();
    head.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0]);
    d.push(&head);
    assert_eq!(d.next_frame(), Err(FrameError::Length));
}

proptest! {
    #[test]
    fn frames_round_trip_under_any_split(
        payloads in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..64), 1..6),
        name in "[a-zA-Z:-]{1,20}",
        value in "[ -~]{0,40}",
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..6),
    ) {
        let bytes: Vec<u8> = payloads.iter().flat_map(|p| encode_frame(&[(name.as_str(), value.as_str())], p)).collect();
        let mut points: Vec<usize> = cuts.iter().map(|c| c.index(bytes.len() + 1)).collect();
        points.sort_unstable();
        let mut d = FrameDecoder::new();
        let mut got = Vec::new();
        let mut start = 0;
        for p in points.into_iter().chain([bytes.len()]) {
            d.push(&bytes[start..p]);
            start = p;
            while let Some(f) = d.next_frame().expect("valid frames") {
                got.push(f);
            }
        }
        prop_assert_eq!(got.len(), payloads.len());
        for (f, p) in got.iter().zip(&payloads) {
            prop_assert_eq!(&f.payload[..], &p[..]);
            prop_assert_eq!(f.header(&name), Some(value.as_str()));
        }
        prop_assert_eq!(d.pending(), 0);
    }

    #[test]
    fn stream_output_is_split_invariant(cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..10), include_usage in any::<bool>()) {
        let bytes = sample_stream();
        let (whole, _) = run(&[&bytes], include_usage);
        let mut points: Vec<usize> = cuts.iter().map(|c| c.index(bytes.len() + 1)).collect();
        points.sort_unstable();
        let mut pieces = Vec::new();
        let mut start = 0;
        for p in points {
            pieces.push(&bytes[start..p]);
            start = p;
        }
        pieces.push(&bytes[start..]);
        let (split, _) = run(&pieces, include_usage);
        prop_assert_eq!(whole, split);
    }
}
