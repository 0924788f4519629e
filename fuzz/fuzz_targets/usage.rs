//! Any bytes: usage extraction and stream metering must not panic.
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
});
