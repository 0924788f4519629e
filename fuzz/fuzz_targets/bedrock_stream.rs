//! Any bytes as a ConverseStream body (binary event-stream frames), split at a point chosen by the input: no
//! panic, the split does not change the client bytes, every frame is one `data:` line of JSON or `[DONE]`,
//! nothing follows the end, and the decoder never buffers past its bound.
#![no_main]

use gatehouse_llm::bedrock::eventstream::{FrameDecoder, MAX_FRAME_BYTES, encode_frame};
use gatehouse_llm::bedrock::{ResponseContext, StreamTranslator};
use libfuzzer_sys::fuzz_target;

fn translate(chunks: &[&[u8]], include_usage: bool) -> Vec<u8> {
    let mut d = FrameDecoder::new();
    let mut t = StreamTranslator::new(ResponseContext {
        created: 1,
        model: "m".into(),
        fallback_id: "id".into(),
        include_usage,
    });
    let mut out = Vec::new();
    for chunk in chunks {
        d.push(chunk);
        loop {
            match d.next_frame() {
                Ok(Some(f)) => t.on_frame(&f, &mut out),
                Ok(None) => break,
                Err(e) => {
                    t.fail("upstream_invalid_stream", &e.to_string(), &mut out);
                    break;
                }
            }
            if t.ended() {
                break;
            }
        }
        assert!(d.pending() <= MAX_FRAME_BYTES + chunk.len());
    }
    t.finish(&mut out);
    assert!(t.ended());
    out
}

/// Event types the translator knows, so structured inputs reach every branch.
const EVENTS: [&str; 7] = [
    "messageStart",
    "contentBlockStart",
    "contentBlockDelta",
    "contentBlockStop",
    "messageStop",
    "metadata",
    "exception",
];

/// Structured mode: the input split at 0xFF bytes, each piece a valid frame whose first byte picks the event type
/// and whose rest is the payload — random bytes rarely pass both CRCs, this reaches the translator.
fn frames(input: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for piece in input.split(|b| *b == 0xFF) {
        let Some((&kind, payload)) = piece.split_first() else { continue };
        let name = EVENTS[usize::from(kind) % EVENTS.len()];
        let headers: Vec<(&str, &str)> = if name == "exception" {
            vec![(":message-type", "exception"), (":exception-type", "throttlingException")]
        } else {
            vec![(":message-type", "event"), (":event-type", name)]
        };
        out.extend(encode_frame(&headers, payload));
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let include_usage = first & 1 == 1;
    let built;
    let rest = if first & 2 == 2 {
        built = frames(rest);
        &built[..]
    } else {
        rest
    };
    let cut = usize::from(first >> 2) % (rest.len() + 1);
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
