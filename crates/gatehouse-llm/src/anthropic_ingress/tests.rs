//! The whole path as the server drives it: request out, response and stream back, usage metered the same way.

use serde_json::json;

use super::*;
use crate::{SseDecoder, SseLimits};

#[test]
fn stop_reason_table() {
    for (finish, matched, stop, sequence) in [
        (Some("stop"), None, "end_turn", None),
        (Some("stop"), Some("END"), "stop_sequence", Some("END")),
        (Some("length"), Some("END"), "max_tokens", None),
        (Some("tool_calls"), None, "tool_use", None),
        (Some("function_call"), None, "tool_use", None),
        (Some("content_filter"), None, "refusal", None),
        (Some("abort"), None, "end_turn", None),
        (None, None, "end_turn", None),
    ] {
        let (s, q) = stop_reason(finish, matched.map(str::to_owned));
        assert_eq!((s, q.as_deref()), (stop, sequence), "{finish:?}");
    }
    let raw = |s: &str| serde_json::value::RawValue::from_string(s.to_owned()).expect("raw");
    assert_eq!(matched_stop(Some(&raw("\"</s>\""))).as_deref(), Some("</s>"));
    assert_eq!(
        matched_stop(Some(&raw("151645"))),
        None,
        "a stop token id is not a sequence"
    );
    assert_eq!(matched_stop(None), None);
}

#[test]
fn stream_and_non_stream_meter_the_same_usage() {
    let request = json!({"model": "claude-sonnet-4-5", "max_tokens": 100, "stream": true,
        "messages": [{"role": "user", "content": "Hi"}]});
    let translated = translate_request(&serde_json::to_vec(&request).expect("serialises"), "qwen3-8b").expect("valid");
    assert!(translated.stream);
    let sent: serde_json::Value = serde_json::from_slice(&translated.body).expect("JSON");
    assert_eq!(sent["stream_options"], json!({"include_usage": true}));

    let usage = json!({"prompt_tokens": 120, "completion_tokens": 9, "total_tokens": 129, "prompt_tokens_details": {"cached_tokens": 100}});
    let completion = json!({"id": "chatcmpl-x", "object": "chat.completion", "created": 1, "model": "qwen3-8b",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello"}, "finish_reason": "stop"}], "usage": usage});
    let ctx = MessageContext {
        model: "claude-sonnet-4-5",
    };
    let message = translate_response(&serde_json::to_vec(&completion).expect("serialises"), &ctx).expect("valid");

    let chunk = |choices: serde_json::Value, usage: serde_json::Value| json!({"id": "chatcmpl-x", "object": "chat.completion.chunk", "created": 1, "model": "qwen3-8b", "choices": choices, "usage": usage});
    let mut sse = String::new();
    for data in [
        chunk(
            json!([{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": null}]),
            json!(null),
        ),
        chunk(
            json!([{"index": 0, "delta": {"content": "Hello"}, "finish_reason": null}]),
            json!(null),
        ),
        chunk(json!([{"index": 0, "delta": {}, "finish_reason": "stop"}]), json!(null)),
        chunk(json!([]), usage),
    ] {
        sse.push_str(&format!("data: {data}\n\n"));
    }
    sse.push_str("data: [DONE]\n\n");
    let mut decoder = SseDecoder::new(SseLimits::default());
    decoder.push(sse.as_bytes()).expect("within limits");
    let mut t = MessageStreamTranslator::new(MessageStreamContext {
        model: ctx.model.into(),
        input_tokens_estimate: translated.input_tokens_estimate,
        message_id: "msg_x".into(),
    });
    let mut out = Vec::new();
    while let Some(ev) = decoder.next_event() {
        t.on_event(&ev, &mut out);
    }
    t.finish(&mut out);
    assert_eq!(t.usage(), Some(message.usage));
    assert_eq!(t.stop_reason(), Some(message.stop_reason));
    assert_eq!(message.usage.input_tokens, 120);
    assert_eq!(message.usage.cached_input_tokens, 100);
    let text = String::from_utf8(out).expect("UTF-8");
    assert!(
        text.contains(r#""usage":{"output_tokens":9,"input_tokens":20,"cache_read_input_tokens":100}"#),
        "{text}"
    );
    assert!(text.ends_with("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"));
}
