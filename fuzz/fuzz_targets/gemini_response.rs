//! Any bytes as a Gemini response (and as an error body): no panic; a successful translation is JSON and its
//! usage adds up the way the meter reads it back.
#![no_main]

use gatehouse_llm::gemini::{ResponseContext, translate_error, translate_response};
use gatehouse_llm::usage;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let ctx = ResponseContext {
        created: 1,
        model: "gem\n\"x\"".into(),
        fallback_id: "id".into(),
        include_usage: false,
    };
    if let Ok(t) = translate_response(data, &ctx) {
        assert!(serde_json::from_slice::<serde::de::IgnoredAny>(&t.body).is_ok(), "invalid JSON out");
        let read = usage::from_openai_response(&t.body).expect("usage readable");
        assert_eq!(read.input_tokens, t.usage.input_tokens);
        assert_eq!(read.output_tokens, t.usage.output_tokens);
        assert!(t.usage.input_tokens >= t.usage.cached_input_tokens);
    }
    let status = data.first().map_or(500, |b| 400 + u16::from(*b) % 200);
    let err = translate_error(status, data);
    assert!(serde_json::from_slice::<serde::de::IgnoredAny>(&err.body).is_ok());
    assert!((400..600).contains(&err.status));
});
