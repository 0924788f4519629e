//! Any bytes as an Anthropic event stream, split at a point chosen by the input: no panic, the split does not
//! change the client bytes, every frame is one `data:` line of JSON or `[DONE]`, and nothing follows the end.
#![no_main]

use gatehouse_llm::anthropic::{StreamContext, StreamTranslator};
use gatehouse_llm::{SseDecoder, SseLimits};
use libfuzzer_sys::fuzz_target;

fn translate(chunks: &[&[u8]], include_usage: bool) -> Vec<u8> {
    let mut decoder = SseDecoder::new(SseLimits {
        max_line_bytes: 4096,
        max_event_bytes: 8192,
    });
    let mut t = StreamTranslator::new(StreamContext {
        created: 1,
        model: "claude".into(),
        include_usage,
    });
    let mut out = Vec::new();
    for chunk in chunks {
        // Events completed before a bad line are translated first, as the gateway does, so the split point
        // cannot change which of them reach the client.
        let pushed = decoder.push(chunk);
        while let Some(ev) = decoder.next_event() {
            t.on_event(&ev, &mut out);
        }
        if pushed.is_err() {
            t.fail("upstream_sse_limit", "limit", &mut out);
            return out;
        }
    }
    while let Some(ev) = decoder.finish().or_else(|| decoder.next_event()) {
        t.on_event(&ev, &mut out);
    }
    t.finish(&mut out);
    assert!(t.ended());
    out
}

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let include_usage = first & 1 == 1;
    let cut = usize::from(first >> 1) % (rest.len() + 1);
    let (a, b) = rest.split_at(cut);
    let whole = translate(&[rest], include_usage);
    let split = translate(&[a, b], include_usage);
    assert_eq!(whole, split);
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
