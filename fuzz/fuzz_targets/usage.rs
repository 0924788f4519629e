//! Any bytes: usage extraction and stream metering (chat completions and the Responses API) must not panic.
#![no_main]

use gatehouse_llm::usage::{self, StreamUsage};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let from_body = usage::from_openai_response(data);
    let text = String::from_utf8_lossy(data);
    let from_chunk = usage::from_openai_chunk(&text);
    if std::str::from_utf8(data).is_ok() {
        assert_eq!(from_body, from_chunk, "the prefilter must not hide usage");
    }
    let mut stream = StreamUsage::new();
    stream.observe_data(&text);

    // Responses API: a body's usage and the same object inside a terminal event's `response` agree.
    let responses_body = usage::from_responses_body(data);
    let terminal = gatehouse_llm::SseEvent {
        event: Some("response.completed".into()),
        data: format!("{{\"response\":{text}}}"),
        id: None,
    };
    let from_event = usage::responses::from_responses_event(&terminal);
    if matches!(serde_json::from_slice::<serde_json::Value>(data), Ok(serde_json::Value::Object(_))) {
        assert_eq!(responses_body, from_event, "a terminal event reads the response's usage");
    }
    let mut responses_stream = usage::ResponsesStreamUsage::new();
    responses_stream.observe(&gatehouse_llm::SseEvent { event: None, data: text.into_owned(), id: None });
});
