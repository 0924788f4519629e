//! Any bytes as an Anthropic response (and as an error body): no panic; a successful translation is JSON and its
//! usage adds up the way the meter reads it back.
#![no_main]

use gatehouse_llm::anthropic::{ResponseContext, translate_error, translate_response};
use gatehouse_llm::usage;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let ctx = ResponseContext {
        created: 1,
        model: "claude\n\"x\"",
    };
    if let Ok((body, metered)) = translate_response(data, &ctx) {
        assert!(
            serde_json::from_slice::<serde::de::IgnoredAny>(&body).is_ok(),
            "invalid JSON out"
        );
        assert_eq!(usage::from_openai_response(&body), Some(metered));
        assert!(metered.input_tokens >= metered.cached_input_tokens);
    }
    let status = data.first().map_or(500, |b| 400 + u16::from(*b) % 200);
    let err = translate_error(status, data);
    assert!(serde_json::from_slice::<serde::de::IgnoredAny>(&err.body).is_ok());
    assert!((400..600).contains(&err.status));
});
