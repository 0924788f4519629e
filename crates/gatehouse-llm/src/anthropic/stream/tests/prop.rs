//! Property: however the upstream bytes are split (and whichever line terminator they use), the client receives
//! the same bytes.

use proptest::prelude::*;
use serde_json::json;

use super::{FIXTURES, ctx, run};
use crate::anthropic::StreamTranslator;

/// A content block of a generated stream (also used by the Responses stream properties).
#[derive(Debug, Clone)]
pub(crate) enum GenBlock {
    Text(Vec<String>),
    Thinking(Vec<String>),
    Tool(String, Vec<String>),
}

fn event(out: &mut String, data: &serde_json::Value) {
    let kind = data["type"].as_str().expect("type");
    out.push_str(&format!("event: {kind}\ndata: {data}\n\n"));
}

/// A valid Anthropic stream with the given blocks.
pub(crate) fn stream(blocks: &[GenBlock], stop: &str, input: u64, output: u64, pings: bool) -> Vec<u8> {
    let mut s = String::new();
    event(
        &mut s,
        &json!({"type": "message_start", "message": {"id": "msg_prop", "type": "message", "role": "assistant",
            "content": [], "model": "claude", "stop_reason": null, "stop_sequence": null,
            "usage": {"input_tokens": input, "cache_read_input_tokens": 3, "output_tokens": 1}}}),
    );
    for (index, block) in blocks.iter().enumerate() {
        let (start, deltas): (_, Vec<_>) = match block {
            GenBlock::Text(parts) => (
                json!({"type": "text", "text": ""}),
                parts.iter().map(|p| json!({"type": "text_delta", "text": p})).collect(),
            ),
            GenBlock::Thinking(parts) => (
                json!({"type": "thinking", "thinking": "", "signature": ""}),
                parts
                    .iter()
                    .map(|p| json!({"type": "thinking_delta", "thinking": p}))
                    .chain([json!({"type": "signature_delta", "signature": "c2ln"})])
                    .collect(),
            ),
            GenBlock::Tool(name, parts) => (
                json!({"type": "tool_use", "id": format!("toolu_{index}"), "name": name, "input": {}}),
                parts
                    .iter()
                    .map(|p| json!({"type": "input_json_delta", "partial_json": p}))
                    .collect(),
            ),
        };
        event(
            &mut s,
            &json!({"type": "content_block_start", "index": index, "content_block": start}),
        );
        for d in deltas {
            if pings {
                event(&mut s, &json!({"type": "ping"}));
            }
            event(
                &mut s,
                &json!({"type": "content_block_delta", "index": index, "delta": d}),
            );
        }
        event(&mut s, &json!({"type": "content_block_stop", "index": index}));
    }
    event(
        &mut s,
        &json!({"type": "message_delta", "delta": {"stop_reason": stop, "stop_sequence": null}, "usage": {"output_tokens": output}}),
    );
    event(&mut s, &json!({"type": "message_stop"}));
    s.into_bytes()
}

pub(crate) fn block() -> impl Strategy<Value = GenBlock> {
    let parts = prop::collection::vec(any::<String>(), 0..5);
    prop_oneof![
        parts.clone().prop_map(GenBlock::Text),
        parts.clone().prop_map(GenBlock::Thinking),
        ("[a-z_]{1,12}", parts).prop_map(|(n, p)| GenBlock::Tool(n, p)),
    ]
}

pub(crate) fn fixture_streams() -> Vec<Vec<u8>> {
    let mut names: Vec<_> = std::fs::read_dir(FIXTURES)
        .expect("fixtures")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "sse"))
        .collect();
    names.sort();
    names.iter().map(|p| std::fs::read(p).expect("read")).collect()
}

pub(crate) fn split<'a>(bytes: &'a [u8], cuts: &[prop::sample::Index]) -> Vec<&'a [u8]> {
    let mut at: Vec<usize> = cuts.iter().map(|c| c.index(bytes.len() + 1)).collect();
    at.sort_unstable();
    let mut chunks = Vec::new();
    let mut prev = 0;
    for cut in at.into_iter().chain([bytes.len()]) {
        chunks.push(&bytes[prev..cut]);
        prev = cut;
    }
    chunks
}

pub(crate) fn crlf(bytes: &[u8]) -> Vec<u8> {
    String::from_utf8_lossy(bytes).replace('\n', "\r\n").into_bytes()
}

fn client_bytes(chunks: Vec<&[u8]>, include_usage: bool) -> Vec<u8> {
    let mut t = StreamTranslator::new(ctx(include_usage));
    run(chunks, &mut t)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_split_of_a_generated_stream(
        blocks in prop::collection::vec(block(), 0..5),
        stop in prop::sample::select(vec!["end_turn", "tool_use", "max_tokens", "refusal", "pause_turn", "unheard_of"]),
        input in 0u64..100_000,
        output in 0u64..100_000,
        pings in any::<bool>(),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..24),
        include_usage in any::<bool>(),
        use_crlf in any::<bool>(),
    ) {
        let bytes = stream(&blocks, stop, input, output, pings);
        let whole = client_bytes(vec![&bytes[..]], include_usage);
        let bytes = if use_crlf { crlf(&bytes) } else { bytes };
        let pieces = client_bytes(split(&bytes, &cuts), include_usage);
        prop_assert_eq!(&pieces, &whole);
        let text = String::from_utf8(whole).expect("UTF-8");
        prop_assert!(text.ends_with("data: [DONE]\n\n"));
    }

    #[test]
    fn any_split_of_a_fixture_stream(
        which in any::<prop::sample::Index>(),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..40),
        include_usage in any::<bool>(),
        use_crlf in any::<bool>(),
    ) {
        let streams = fixture_streams();
        let bytes = &streams[which.index(streams.len())];
        let whole = client_bytes(vec![&bytes[..]], include_usage);
        let bytes = if use_crlf { crlf(bytes) } else { bytes.clone() };
        let pieces = client_bytes(split(&bytes, &cuts), include_usage);
        prop_assert_eq!(pieces, whole);
    }

    #[test]
    fn byte_at_a_time(which in any::<prop::sample::Index>()) {
        let streams = fixture_streams();
        let bytes = &streams[which.index(streams.len())];
        let whole = client_bytes(vec![&bytes[..]], true);
        let single: Vec<&[u8]> = bytes.chunks(1).collect();
        prop_assert_eq!(client_bytes(single, true), whole);
    }
}
