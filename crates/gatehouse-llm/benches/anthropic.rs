//! Guards the OpenAI ⇄ Anthropic translation: request (2 KB chat, 30 KB with tools), response, and the per-event
//! cost of stream translation (decode one SSE event and translate it), against the ≤ 20 µs budget for a 2 KB
//! request + response.
#![allow(missing_docs, reason = "criterion's macros generate undocumented items")]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use gatehouse_llm::anthropic::{
    ModelRules, RequestOptions, ResponseContext, Sampling, StreamContext, StreamTranslator, translate_request,
    translate_response,
};
use gatehouse_llm::{SseDecoder, SseEvent, SseLimits};

const CHAT_2K: &[u8] = include_bytes!("../tests/fixtures/anthropic/bench/chat_2k.json");
const TOOLS_30K: &[u8] = include_bytes!("../tests/fixtures/anthropic/bench/tools_30k.json");
const RESPONSE: &[u8] = include_bytes!("../tests/fixtures/anthropic/bench/response.json");

const RULES: ModelRules = ModelRules {
    max_tokens_default: 4096,
    sampling: Sampling::Exclusive,
    drop_unsupported: false,
};

fn request(c: &mut Criterion) {
    let opts = RequestOptions {
        upstream_model: "claude-haiku-4-5",
        rules: &RULES,
    };
    let mut group = c.benchmark_group("anthropic_request");
    for (name, body) in [("chat_2k", CHAT_2K), ("tools_30k", TOOLS_30K)] {
        group.throughput(Throughput::Bytes(body.len() as u64));
        group.bench_function(name, |b| {
            b.iter(|| black_box(translate_request(black_box(body), &opts).expect("fixture translates")));
        });
    }
    group.finish();
}

fn response(c: &mut Criterion) {
    let ctx = ResponseContext {
        created: 1_700_000_000,
        model: "claude-haiku",
    };
    c.bench_function("anthropic_response_1k", |b| {
        b.iter(|| black_box(translate_response(black_box(RESPONSE), &ctx).expect("fixture translates")));
    });
    let opts = RequestOptions {
        upstream_model: "claude-haiku-4-5",
        rules: &RULES,
    };
    c.bench_function("anthropic_round_trip_2k", |b| {
        b.iter(|| {
            let req = translate_request(black_box(CHAT_2K), &opts).expect("fixture translates");
            let resp = translate_response(black_box(RESPONSE), &ctx).expect("fixture translates");
            black_box((req, resp))
        });
    });
}

/// A realistic text stream: start, 100 text deltas, stop.
fn stream_bytes() -> Vec<u8> {
    let mut s = String::from(
        "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_bench\",\"type\":\"message\",\"role\":\"assistant\",\"content\":[],\"model\":\"claude-haiku-4-5\",\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":512,\"cache_read_input_tokens\":1024,\"output_tokens\":1}}}\n\n\
         event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n",
    );
    for i in 0..100 {
        s.push_str(&format!(
            "event: content_block_delta\ndata: {{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{{\"type\":\"text_delta\",\"text\":\"token {i} with \\\"quotes\\\"\\n\"}}}}\n\n"
        ));
    }
    s.push_str(
        "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n\
         event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":100}}\n\n\
         event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
    );
    s.into_bytes()
}

fn stream(c: &mut Criterion) {
    let bytes = stream_bytes();
    let ctx = StreamContext {
        created: 1_700_000_000,
        model: "claude-haiku".into(),
        include_usage: true,
    };
    let delta = SseEvent {
        event: Some("content_block_delta".into()),
        data: r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello, world! \"quoted\"\n"}}"#
            .into(),
        id: None,
    };
    let start = SseEvent {
        event: Some("message_start".into()),
        data: r#"{"type":"message_start","message":{"id":"msg_bench","type":"message","role":"assistant","content":[],"model":"claude-haiku-4-5","stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":512,"output_tokens":1}}}"#.into(),
        id: None,
    };
    let mut t = StreamTranslator::new(ctx.clone());
    t.on_event(&start, &mut Vec::new());
    let mut out = Vec::with_capacity(4096);
    c.bench_function("anthropic_stream_text_delta_event", |b| {
        b.iter(|| {
            out.clear();
            t.on_event(black_box(&delta), &mut out);
            black_box(out.len())
        });
    });
    let mut group = c.benchmark_group("anthropic_stream_104_events");
    group.throughput(Throughput::Elements(104));
    group.bench_function("decode_and_translate", |b| {
        b.iter(|| {
            let mut decoder = SseDecoder::new(SseLimits::default());
            let mut t = StreamTranslator::new(ctx.clone());
            let mut out = Vec::with_capacity(32 * 1024);
            decoder.push(black_box(&bytes)).expect("within limits");
            while let Some(ev) = decoder.next_event() {
                t.on_event(&ev, &mut out);
            }
            t.finish(&mut out);
            black_box(out.len())
        });
    });
    group.finish();
}

criterion_group!(benches, request, response, stream);
criterion_main!(benches);
