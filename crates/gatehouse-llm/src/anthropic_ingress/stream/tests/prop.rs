//! Property: however the upstream bytes are split (and whichever line terminator they use), the client receives
//! the same bytes; and a generated OpenAI stream always yields a well-formed Anthropic stream whose deltas add up
//! to what was generated.

use proptest::prelude::*;
use serde_json::{Value, json};

use super::{FIXTURES, ctx, events, run};
use crate::anthropic_ingress::MessageStreamTranslator;

#[derive(Debug, Clone)]
enum GenPart {
    Text(Vec<String>),
    Reasoning(Vec<String>),
    /// Parallel tool calls: (name, argument fragments) each.
    Tools(Vec<(String, Vec<String>)>),
}

fn data(out: &mut String, choices: &Value, usage: &Value) {
    let chunk = json!({"id": "chatcmpl-prop", "object": "chat.completion.chunk", "created": 1, "model": "m",
        "choices": choices, "usage": usage});
    out.push_str(&format!("data: {chunk}\n\n"));
}

fn delta(out: &mut String, delta: Value) {
    data(
        out,
        &json!([{"index": 0, "delta": delta, "finish_reason": null}]),
        &Value::Null,
    );
}

/// A valid OpenAI stream with the given parts.
fn stream(parts: &[GenPart], finish: &str, prompt: u64, cached: u64, completion: u64, empties: bool) -> Vec<u8> {
    let mut s = String::new();
    delta(&mut s, json!({"role": "assistant", "content": ""}));
    let mut tool_index = 0;
    for part in parts {
        match part {
            GenPart::Text(pieces) | GenPart::Reasoning(pieces) => {
                let key = if matches!(part, GenPart::Text(_)) {
                    "content"
                } else {
                    "reasoning"
                };
                for piece in pieces {
                    delta(&mut s, json!({ key: piece }));
                    if empties {
                        delta(&mut s, json!({"content": ""}));
                    }
                }
            }
            GenPart::Tools(calls) => {
                for (name, fragments) in calls {
                    delta(
                        &mut s,
                        json!({"tool_calls": [{"index": tool_index, "id": format!("call_{tool_index}"), "type": "function",
                            "function": {"name": name, "arguments": ""}}]}),
                    );
                    for fragment in fragments {
                        delta(
                            &mut s,
                            json!({"tool_calls": [{"index": tool_index, "function": {"arguments": fragment}}]}),
                        );
                        if empties {
                            delta(&mut s, json!({"content": ""}));
                        }
                    }
                    tool_index += 1;
                }
            }
        }
    }
    data(
        &mut s,
        &json!([{"index": 0, "delta": {}, "finish_reason": finish}]),
        &Value::Null,
    );
    let usage = json!({"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": cached}});
    data(&mut s, &json!([]), &usage);
    s.push_str("data: [DONE]\n\n");
    s.into_bytes()
}

fn part() -> impl Strategy<Value = GenPart> {
    let pieces = prop::collection::vec(any::<String>(), 0..4);
    let calls = prop::collection::vec(("[a-zA-Z_]{1,12}", pieces.clone()), 1..3);
    prop_oneof![
        pieces.clone().prop_map(GenPart::Text),
        pieces.prop_map(GenPart::Reasoning),
        calls.prop_map(GenPart::Tools),
    ]
}

fn fixture_streams() -> Vec<Vec<u8>> {
    let mut names: Vec<_> = std::fs::read_dir(FIXTURES)
        .expect("fixtures")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "sse"))
        .collect();
    names.sort();
    names.iter().map(|p| std::fs::read(p).expect("read")).collect()
}

fn split<'a>(bytes: &'a [u8], cuts: &[prop::sample::Index]) -> Vec<&'a [u8]> {
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

fn crlf(bytes: &[u8]) -> Vec<u8> {
    String::from_utf8_lossy(bytes).replace('\n', "\r\n").into_bytes()
}

fn client_bytes(chunks: Vec<&[u8]>) -> Vec<u8> {
    let mut t = MessageStreamTranslator::new(ctx());
    run(chunks, &mut t)
}

/// The concatenated deltas of each block, by block type.
fn blocks(events: &[Value]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for e in events {
        match e["type"].as_str() {
            Some("content_block_start") => {
                out.push((
                    e["content_block"]["type"].as_str().unwrap_or_default().to_owned(),
                    String::new(),
                ));
            }
            Some("content_block_delta") => {
                let d = &e["delta"];
                let piece = d["text"]
                    .as_str()
                    .or(d["thinking"].as_str())
                    .or(d["partial_json"].as_str());
                if let Some(last) = out.last_mut() {
                    last.1.push_str(piece.unwrap_or_default());
                }
            }
            _ => {}
        }
    }
    out
}

/// What the generated parts should become: one block per non-empty text run, per tool call.
fn expected_blocks(parts: &[GenPart]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for part in parts {
        let (kind, pieces) = match part {
            GenPart::Text(p) => ("text", p),
            GenPart::Reasoning(p) => ("thinking", p),
            GenPart::Tools(calls) => {
                out.extend(calls.iter().map(|(_, f)| ("tool_use".to_owned(), f.concat())));
                continue;
            }
        };
        let text = pieces.concat();
        if text.is_empty() {
            continue;
        }
        match out.last_mut() {
            Some((k, t)) if k == kind => t.push_str(&text),
            _ => out.push((kind.to_owned(), text)),
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_split_of_a_generated_stream(
        parts in prop::collection::vec(part(), 0..5),
        finish in prop::sample::select(vec!["stop", "length", "tool_calls", "content_filter", "unheard_of"]),
        prompt in 0u64..100_000,
        cached in 0u64..100_000,
        completion in 0u64..100_000,
        empties in any::<bool>(),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..24),
        use_crlf in any::<bool>(),
    ) {
        let bytes = stream(&parts, finish, prompt, cached, completion, empties);
        let whole = client_bytes(vec![&bytes[..]]);
        let bytes = if use_crlf { crlf(&bytes) } else { bytes };
        let pieces = client_bytes(split(&bytes, &cuts));
        prop_assert_eq!(&pieces, &whole);
        let text = String::from_utf8(whole).expect("UTF-8");
        let events = events(&text);
        prop_assert_eq!(events.last().map(|e| e["type"].clone()), Some("message_stop".into()));
        prop_assert_eq!(blocks(&events), expected_blocks(&parts));
        let usage = &events[events.len() - 2]["usage"];
        let cached = cached.min(prompt);
        prop_assert_eq!(usage["cache_read_input_tokens"].as_u64(), Some(cached));
        prop_assert_eq!(usage["input_tokens"].as_u64(), Some(prompt - cached));
        prop_assert_eq!(usage["output_tokens"].as_u64(), Some(completion));
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
