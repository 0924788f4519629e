//! Any bytes as an OpenAI chat body for a Bedrock target (and as a Converse response / error body): no panic; a
//! translated request has non-empty `messages` starting with `user` and alternating roles.
#![no_main]

use gatehouse_llm::bedrock::{RequestOptions, ResponseContext, translate_error, translate_request, translate_response};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&knobs, body)) = data.split_first() else {
        return;
    };
    if let Ok(out) = translate_request(body, &RequestOptions { drop_unsupported: knobs & 1 == 1 }) {
        let shape: serde_json::Value = serde_json::from_slice(&out.body).expect("translated body is JSON");
        let messages = shape["messages"].as_array().expect("messages");
        assert!(!messages.is_empty());
        for pair in messages.windows(2) {
            assert_ne!(pair[0]["role"], pair[1]["role"]);
        }
    }
    let ctx = ResponseContext {
        created: 1,
        model: "m".into(),
        fallback_id: "id".into(),
        include_usage: false,
    };
    if let Ok(t) = translate_response(body, &ctx) {
        assert!(serde_json::from_slice::<serde::de::IgnoredAny>(&t.body).is_ok());
        assert!(t.usage.input_tokens >= t.usage.cached_input_tokens);
    }
    let err = translate_error(400 + u16::from(knobs) % 200, Some("ThrottlingException"), body);
    assert!(serde_json::from_slice::<serde::de::IgnoredAny>(&err.body).is_ok());
});
