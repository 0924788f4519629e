//! Any bytes as an OpenAI chat completion (and as an error body): no panic; a successful translation is JSON whose
//! Anthropic usage fields add up to the metered prompt, and an error is an Anthropic error object with a 4xx/5xx
//! status.
#![no_main]

use gatehouse_llm::anthropic_ingress::{MessageContext, translate_error, translate_response};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let ctx = MessageContext { model: "claude\n\"x\"" };
    if let Ok(message) = translate_response(data, &ctx) {
        let body: Value = serde_json::from_slice(&message.body).expect("translated body is JSON");
        assert_eq!(body["type"], "message");
        assert_eq!(body["stop_reason"], message.stop_reason);
        let u = &body["usage"];
        let field = |k: &str| u[k].as_u64().expect("usage count");
        let sum = field("input_tokens") + field("cache_read_input_tokens") + field("cache_creation_input_tokens");
        assert_eq!(sum, message.usage.input_tokens);
        assert_eq!(field("output_tokens"), message.usage.output_tokens);
    }
    let status = data.first().map_or(500, |b| 100 + u16::from(*b) * 2);
    let err = translate_error(status, data);
    let body: Value = serde_json::from_slice(&err.body).expect("error body is JSON");
    assert_eq!(body["type"], "error");
    assert!(body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()));
    assert!((400..600).contains(&err.status));
});
