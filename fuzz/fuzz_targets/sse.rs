//! Any bytes, split at a point chosen by the input: no panic, and the split must not change the events.
#![no_main]

use gatehouse_llm::{LlmError, SseDecoder, SseEvent, SseLimits};
use libfuzzer_sys::fuzz_target;

fn decode(chunks: &[&[u8]], limits: SseLimits) -> Result<Vec<SseEvent>, LlmError> {
    let mut decoder = SseDecoder::new(limits);
    let mut events = Vec::new();
    for chunk in chunks {
        decoder.push(chunk)?;
        events.extend(std::iter::from_fn(|| decoder.next_event()));
    }
    events.extend(decoder.finish());
    events.extend(std::iter::from_fn(|| decoder.next_event()));
    Ok(events)
}

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let limits = SseLimits {
        max_line_bytes: 64,
        max_event_bytes: 256,
    };
    let cut = usize::from(first) % (rest.len() + 1);
    let (a, b) = rest.split_at(cut);
    let whole = decode(&[rest], limits);
    let split = decode(&[a, b], limits);
    assert_eq!(whole, split);
});
