//! Properties: however the upstream bytes are split (and whichever line terminator they use), the client receives
//! the same Responses events; every generated stream obeys the published event rules and ends completed or
//! incomplete; its final response equals the non-streaming translation of the same message.

use proptest::prelude::*;

use serde_json::{Value, json};

use super::{ctx, events, run};
use crate::anthropic::stream::tests::prop::{GenBlock, block, crlf, fixture_streams, split, stream};
use crate::responses::{ResponseContext, ResponseEcho, ResponseStreamTranslator, translate_response};

/// The Anthropic message the generated stream describes (text and thinking blocks; the generator's tool
/// arguments are arbitrary strings, which a message's `input` object cannot hold).
fn message(blocks: &[GenBlock], stop: &str, input: u64, output: u64) -> Option<Value> {
    let mut content = Vec::new();
    for b in blocks {
        content.push(match b {
            GenBlock::Text(parts) => json!({"type": "text", "text": parts.concat()}),
            GenBlock::Thinking(parts) => json!({"type": "thinking", "thinking": parts.concat(), "signature": "c2ln"}),
            GenBlock::Tool(..) => return None,
        });
    }
    Some(json!({"content": content, "stop_reason": stop,
        "usage": {"input_tokens": input, "cache_read_input_tokens": 3, "output_tokens": output}}))
}

fn client_bytes(chunks: Vec<&[u8]>) -> Vec<u8> {
    let mut t = ResponseStreamTranslator::new(ctx());
    run(chunks, &mut t)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_split_of_a_generated_stream(
        blocks in prop::collection::vec(block(), 0..5),
        stop in prop::sample::select(vec!["end_turn", "tool_use", "max_tokens", "refusal", "pause_turn", "unheard_of"]),
        input in 0u64..100_000,
        output in 0u64..100_000,
        pings in any::<bool>(),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..24),
        use_crlf in any::<bool>(),
    ) {
        let bytes = stream(&blocks, stop, input, output, pings);
        let whole = client_bytes(vec![&bytes[..]]);
        let bytes = if use_crlf { crlf(&bytes) } else { bytes };
        let pieces = client_bytes(split(&bytes, &cuts));
        prop_assert_eq!(&pieces, &whole);
        let evs = events(&String::from_utf8(whole).expect("UTF-8"));
        let last = evs.last().expect("events");
        let expected = if matches!(stop, "max_tokens" | "refusal") { "response.incomplete" } else { "response.completed" };
        prop_assert_eq!(last["type"].as_str(), Some(expected));
        prop_assert_eq!(last["response"]["usage"]["input_tokens"].as_u64(), Some(input + 3));
        prop_assert_eq!(last["response"]["usage"]["output_tokens"].as_u64(), Some(output));
    }

    #[test]
    fn streamed_final_response_equals_the_non_streaming_one(
        blocks in prop::collection::vec(block(), 0..5),
        stop in prop::sample::select(vec!["end_turn", "max_tokens", "refusal", "unheard_of"]),
        input in 0u64..100_000,
        output in 0u64..100_000,
    ) {
        let Some(message) = message(&blocks, stop, input, output) else {
            return Ok(());
        };
        let bytes = stream(&blocks, stop, input, output, false);
        let evs = events(&String::from_utf8(client_bytes(vec![&bytes[..]])).expect("UTF-8"));
        let streamed = &evs.last().expect("events")["response"];
        let echo = ResponseEcho::default();
        let c = ctx();
        let rctx = ResponseContext { id: &c.id, created_at: c.created_at, model: &c.model, echo: &echo };
        let whole = translate_response(&serde_json::to_vec(&message).expect("json"), &rctx).expect("translates");
        let whole: Value = serde_json::from_slice(&whole.body).expect("json");
        prop_assert_eq!(streamed, &whole);
    }

    #[test]
    fn any_split_of_a_fixture_stream(
        which in any::<prop::sample::Index>(),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..40),
        use_crlf in any::<bool>(),
    ) {
        let streams = fixture_streams();
        let bytes = &streams[which.index(streams.len())];
        let whole = client_bytes(vec![&bytes[..]]);
        let bytes = if use_crlf { crlf(bytes) } else { bytes.clone() };
        let pieces = client_bytes(split(&bytes, &cuts));
        prop_assert_eq!(pieces, whole);
    }

    #[test]
    fn byte_at_a_time(which in any::<prop::sample::Index>()) {
        let streams = fixture_streams();
        let bytes = &streams[which.index(streams.len())];
        let whole = client_bytes(vec![&bytes[..]]);
        let single: Vec<&[u8]> = bytes.chunks(1).collect();
        prop_assert_eq!(client_bytes(single), whole);
    }
}
