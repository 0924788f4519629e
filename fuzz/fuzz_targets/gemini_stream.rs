//! Any bytes as a Gemini `alt=sse` stream, split at a point chosen by the input: no panic, the split does not
//! change the client bytes, every frame is one `data:` line of JSON or `[DONE]`, and nothing follows the end.
//!
//! One exception to split invariance, by design of the transport: the SSE decoder refuses a pushed chunk that
//! contains an over-limit line, so *which* error ends the stream (the limit, or an undecodable event that came
//! before it) can depend on the chunking. Both end with exactly one error frame; equality is only asserted when
//! neither run hit the limit.
#![no_main]

use gatehouse_llm::gemini::{ResponseContext, StreamTranslator};
use gatehouse_llm::{SseDecoder, SseLimits};
use libfuzzer_sys::fuzz_target;

fn translate(chunks: &[&[u8]], include_usage: bool) -> (Vec<u8>, bool) {
    let mut decoder = SseDecoder::new(SseLimits {
        max_line_bytes: 4096,
        max_event_bytes: 8192,
    });
    let mut t = StreamTranslator::new(ResponseContext {
        created: 1,
        model: "gem".into(),
        fallback_id: "id".into(),
        include_usage,
    });
    let mut out = Vec::new();
    for chunk in chunks {
        // Events completed before a bad line are translated first, as the gateway does.
        let pushed = decoder.push(chunk);
        while let Some(ev) = decoder.next_event() {
            t.on_event(&ev, &mut out);
        }
        if pushed.is_err() {
            let limited = !t.ended();
            t.fail("upstream_sse_limit", "limit", &mut out);
            return (out, limited);
        }
    }
    while let Some(ev) = decoder.finish().or_else(|| decoder.next_event()) {
        t.on_event(&ev, &mut out);
    }
    t.finish(&mut out);
    assert!(t.ended());
    (out, false)
}

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let include_usage = first & 1 == 1;
    let cut = usize::from(first >> 1) % (rest.len() + 1);
    let (a, b) = rest.split_at(cut);
    let (whole, limited_whole) = translate(&[rest], include_usage);
    let (split, limited_split) = translate(&[a, b], include_usage);
    if !limited_whole && !limited_split {
        assert_eq!(whole, split);
    }
    for out in [&whole, &split] {
        let errors = out.windows(10).filter(|w| w == b"{\"error\":{").count();
        assert!(errors <= 1, "at most one error frame");
    }
    let text = std::str::from_utf8(&whole).expect("output is UTF-8");
    let frames: Vec<&str> = text.split_terminator("\n\n").collect();
    for (i, frame) in frames.iter().enumerate() {
        let data = frame.strip_prefix("data: ").expect("data frame");
        if data == "[DONE]" || data.starts_with("{\"error\"") {
            assert_eq!(i + 1, frames.len(), "nothing after the end");
        }
        if data != "[DONE]" {
            assert!(serde_json::from_str::<serde::de::IgnoredAny>(data).is_ok(), "{data}");
        }
    }
});
