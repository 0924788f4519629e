//! Guards the hot functions on the passthrough path: body splice (against a `Value` round trip), SSE decoding and
//! per-chunk usage extraction.
#![allow(missing_docs, reason = "criterion's macros generate undocumented items")]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use gatehouse_llm::{RequestBody, Rewrite, SseDecoder, SseLimits, usage};

const CHAT: &[u8] = include_bytes!("../tests/fixtures/splice/chat_compact.json");

fn splice(c: &mut Criterion) {
    let mut group = c.benchmark_group("rewrite_1k_chat");
    let edit = Rewrite {
        model: Some("gpt-4o-2024-08-06"),
        force_include_usage: true,
    };
    group.bench_function("splice", |b| {
        b.iter(|| {
            let body = RequestBody::parse(black_box(CHAT)).expect("fixture parses");
            let _ = black_box(body.model());
            black_box(body.rewrite(&edit))
        });
    });
    group.bench_function("value_round_trip", |b| {
        b.iter(|| {
            let mut value: serde_json::Value = serde_json::from_slice(black_box(CHAT)).expect("fixture parses");
            if let Some(obj) = value.as_object_mut() {
                obj.insert("model".into(), "gpt-4o-2024-08-06".into());
            }
            black_box(serde_json::to_vec(&value).expect("serialises"))
        });
    });
    group.finish();
}

fn stream_bytes() -> Vec<Vec<u8>> {
    let mut chunks = Vec::new();
    for i in 0..99 {
        chunks.push(format!(
            "data: {{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4o-mini\",\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"token {i} \"}},\"finish_reason\":null}}],\"usage\":null}}\n\n"
        ).into_bytes());
    }
    chunks.push(b"data: {\"choices\":[],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":99,\"total_tokens\":111}}\n\ndata: [DONE]\n\n".to_vec());
    chunks
}

fn sse(c: &mut Criterion) {
    let chunks = stream_bytes();
    c.bench_function("sse_decode_100_chunks", |b| {
        b.iter(|| {
            let mut decoder = SseDecoder::new(SseLimits::default());
            let mut n = 0;
            for chunk in &chunks {
                decoder.push(black_box(chunk)).expect("within limits");
                while let Some(event) = decoder.next_event() {
                    n += event.data.len();
                }
            }
            black_box(n)
        });
    });
    c.bench_function("sse_decode_and_meter_100_chunks", |b| {
        b.iter(|| {
            let mut decoder = SseDecoder::new(SseLimits::default());
            let mut meter = usage::StreamUsage::new();
            for chunk in &chunks {
                decoder.push(black_box(chunk)).expect("within limits");
                while let Some(event) = decoder.next_event() {
                    meter.observe(&event);
                }
            }
            black_box(meter.usage())
        });
    });
}

fn usage_chunk(c: &mut Criterion) {
    let with = r#"{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[],"usage":{"prompt_tokens":12,"completion_tokens":3,"total_tokens":15,"prompt_tokens_details":{"cached_tokens":4}}}"#;
    let without = r#"{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":"Hello"},"finish_reason":null}]}"#;
    c.bench_function("usage_from_chunk_with_usage", |b| {
        b.iter(|| black_box(usage::from_openai_chunk(black_box(with))));
    });
    c.bench_function("usage_from_chunk_without_usage", |b| {
        b.iter(|| black_box(usage::from_openai_chunk(black_box(without))));
    });
}

criterion_group!(benches, splice, sse, usage_chunk);
criterion_main!(benches);
