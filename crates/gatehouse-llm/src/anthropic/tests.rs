//! The whole path as the server drives it: request out, response and stream back, usage metered the same way.

use serde_json::{Value, json};

use super::*;
use crate::{SseDecoder, SseLimits};

const RULES: ModelRules = ModelRules {
    max_tokens_default: 4096,
    sampling: Sampling::Exclusive,
    drop_unsupported: false,
};

#[test]
fn finish_reason_table() {
    for (stop, finish) in [
        ("end_turn", Some("stop")),
        ("stop_sequence", Some("stop")),
        ("pause_turn", Some("stop")),
        ("max_tokens", Some("length")),
        ("model_context_window_exceeded", Some("length")),
        ("compaction", Some("length")),
        ("tool_use", Some("tool_calls")),
        ("refusal", Some("content_filter")),
        ("", None),
        ("END_TURN", None),
    ] {
        assert_eq!(finish_reason(stop), finish, "{stop}");
    }
}

#[test]
fn stream_and_non_stream_meter_the_same_usage() {
    let request = json!({
        "model": "claude-haiku",
        "messages": [{"role": "user", "content": "Hi"}],
        "stream": true,
        "stream_options": {"include_usage": false}
    });
    let opts = RequestOptions {
        upstream_model: "claude-haiku-4-5",
        rules: &RULES,
    };
    let translated = translate_request(&serde_json::to_vec(&request).expect("serialises"), &opts).expect("valid");
    assert!(translated.stream && !translated.include_usage);

    let usage = json!({"input_tokens": 5, "cache_read_input_tokens": 100, "cache_creation_input_tokens": 20, "output_tokens": 9});
    let message = json!({"id": "msg_x", "type": "message", "role": "assistant", "model": "claude-haiku-4-5",
        "content": [{"type": "text", "text": "Hello"}], "stop_reason": "end_turn", "stop_sequence": null, "usage": usage});
    let (_, non_stream) = translate_response(
        &serde_json::to_vec(&message).expect("serialises"),
        &ResponseContext {
            created: 1,
            model: "claude-haiku",
        },
    )
    .expect("valid");

    let mut sse = String::new();
    let mut start = message.clone();
    start["content"] = json!([]);
    start["stop_reason"] = Value::Null;
    start["usage"]["output_tokens"] = json!(1);
    for data in [
        json!({"type": "message_start", "message": start}),
        json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
        json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hello"}}),
        json!({"type": "content_block_stop", "index": 0}),
        json!({"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 9}}),
        json!({"type": "message_stop"}),
    ] {
        sse.push_str(&format!(
            "event: {}\ndata: {data}\n\n",
            data["type"].as_str().expect("type")
        ));
    }
    let mut decoder = SseDecoder::new(SseLimits::default());
    decoder.push(sse.as_bytes()).expect("within limits");
    let mut t = StreamTranslator::new(StreamContext {
        created: 1,
        model: "claude-haiku".into(),
        include_usage: translated.include_usage,
    });
    let mut out = Vec::new();
    while let Some(ev) = decoder.next_event() {
        t.on_event(&ev, &mut out);
    }
    t.finish(&mut out);
    assert_eq!(t.usage(), Some(non_stream));
    assert_eq!(non_stream.input_tokens, 125);
    assert_eq!(non_stream.cached_input_tokens, 100);
    assert_eq!(non_stream.cache_write_input_tokens, 20);
    assert!(String::from_utf8(out).expect("UTF-8").ends_with("data: [DONE]\n\n"));
}
