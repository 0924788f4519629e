//! Any bytes as an Anthropic Messages body: translation and the token estimate must not panic, and a successful
//! translation is a JSON object with the upstream model, a positive `max_tokens`, a non-empty `messages`,
//! `stream_options.include_usage` on streams, and the same estimate `estimate_input_tokens` gives.
#![no_main]

use gatehouse_llm::anthropic_ingress::{estimate_input_tokens, translate_request};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let estimate = estimate_input_tokens(data);
    let Ok(out) = translate_request(data, "qwen-\"fuzz\"") else {
        return;
    };
    let shape: serde_json::Value = serde_json::from_slice(&out.body).expect("translated body is JSON");
    assert_eq!(shape["model"], "qwen-\"fuzz\"");
    assert!(shape["max_tokens"].as_u64().is_some_and(|n| n >= 1));
    assert!(shape["messages"].as_array().is_some_and(|m| !m.is_empty()));
    assert_eq!(out.stream, shape["stream"] == true);
    if out.stream {
        assert_eq!(shape["stream_options"]["include_usage"], true);
    }
    assert!(out.dropped_unknown.len() <= 16);
    assert_eq!(estimate, Ok(out.input_tokens_estimate));
});
