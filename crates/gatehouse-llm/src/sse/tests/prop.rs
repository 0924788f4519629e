//! Properties: chunking never changes the decoded events; encoding then decoding is the identity up to line-ending
//! normalisation.

use proptest::prelude::*;

use super::decode_chunks;
use crate::sse::{SseEvent, SseLimits, encode_event};

/// Bytes that look like SSE: field names, separators and terminators in random order, with a few random bytes.
fn sse_bytes() -> impl Strategy<Value = Vec<u8>> {
    let token = prop_oneof![
        Just(b"data".to_vec()),
        Just(b"data: ".to_vec()),
        Just(b"event:".to_vec()),
        Just(b"id: ".to_vec()),
        Just(b"retry: 10".to_vec()),
        Just(b":".to_vec()),
        Just(b"\n".to_vec()),
        Just(b"\r".to_vec()),
        Just(b"\r\n".to_vec()),
        Just(b"\xEF\xBB\xBF".to_vec()),
        "[a-z {}\"]{0,6}".prop_map(String::into_bytes),
        prop::collection::vec(any::<u8>(), 0..3),
    ];
    prop::collection::vec(token, 0..40).prop_map(|t| t.concat())
}

fn split(bytes: &[u8], cuts: &[prop::sample::Index]) -> Vec<Vec<u8>> {
    let mut at: Vec<usize> = cuts.iter().map(|c| c.index(bytes.len() + 1)).collect();
    at.sort_unstable();
    let mut chunks = Vec::new();
    let mut prev = 0;
    for cut in at.into_iter().chain([bytes.len()]) {
        chunks.push(bytes[prev..cut].to_vec());
        prev = cut;
    }
    chunks
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn splitting_does_not_change_events(
        bytes in sse_bytes(),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..12),
        small in any::<bool>(),
    ) {
        let limits = if small {
            SseLimits { max_line_bytes: 24, max_event_bytes: 48 }
        } else {
            SseLimits::default()
        };
        let whole = decode_chunks(limits, [&bytes[..]]);
        let chunks = split(&bytes, &cuts);
        let pieces = decode_chunks(limits, chunks.iter().map(Vec::as_slice));
        prop_assert_eq!(pieces, whole);
    }

    #[test]
    fn encode_decode_roundtrip(
        events in prop::collection::vec(
            (prop::option::of("[a-z_.]{1,12}"), any::<String>()),
            0..6,
        ),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..6),
    ) {
        let mut out = Vec::new();
        for (event, data) in &events {
            encode_event(event.as_deref(), data, &mut out);
        }
        let chunks = split(&out, &cuts);
        let decoded = decode_chunks(SseLimits::default(), chunks.iter().map(Vec::as_slice))
            .expect("within limits");
        let expected: Vec<SseEvent> = events
            .iter()
            .map(|(event, data)| SseEvent {
                event: event.clone(),
                data: data.replace("\r\n", "\n").replace('\r', "\n"),
                id: None,
            })
            .collect();
        prop_assert_eq!(decoded, expected);
    }
}
