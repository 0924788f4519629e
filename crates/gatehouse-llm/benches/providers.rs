//! Guards the Gemini and Bedrock translators on the hot path: the 2 KB chat request translated for each, and the
//! per-event cost of their stream translation (Gemini: decode one SSE event and translate it; Bedrock: decode one
//! binary event-stream frame, CRCs included, and translate it).
#![allow(missing_docs, reason = "criterion's macros generate undocumented items")]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use gatehouse_llm::bedrock::eventstream::{FrameDecoder, encode_frame};
use gatehouse_llm::{SseDecoder, SseLimits, bedrock, gemini};

const CHAT_2K: &[u8] = include_bytes!("../tests/fixtures/anthropic/bench/chat_2k.json");

fn ctx() -> gemini::ResponseContext {
    gemini::ResponseContext {
        created: 1_700_000_000,
        model: "bench".into(),
        fallback_id: "chatcmpl-bench".into(),
        include_usage: true,
    }
}

fn request(c: &mut Criterion) {
    let mut group = c.benchmark_group("provider_request_chat_2k");
    group.throughput(Throughput::Bytes(CHAT_2K.len() as u64));
    group.bench_function("gemini", |b| {
        let opts = gemini::RequestOptions { drop_unsupported: true };
        b.iter(|| black_box(gemini::translate_request(black_box(CHAT_2K), &opts).expect("translates")));
    });
    group.bench_function("bedrock", |b| {
        let opts = bedrock::RequestOptions { drop_unsupported: true };
        b.iter(|| black_box(bedrock::translate_request(black_box(CHAT_2K), &opts).expect("translates")));
    });
    group.finish();
}

fn gemini_stream_bytes() -> Vec<u8> {
    let mut s = String::new();
    for i in 0..100 {
        s.push_str(&format!(
            "data: {{\"candidates\": [{{\"content\": {{\"parts\": [{{\"text\": \"token {i} with \\\"quotes\\\"\\n\"}}],\"role\": \"model\"}},\"index\": 0}}],\"usageMetadata\": {{\"promptTokenCount\": 512,\"totalTokenCount\": 512}},\"responseId\": \"bench\"}}\r\n\r\n"
        ));
    }
    s.push_str("data: {\"candidates\": [{\"content\": {\"parts\": [{\"text\": \"end\"}],\"role\": \"model\"},\"finishReason\": \"STOP\",\"index\": 0}],\"usageMetadata\": {\"promptTokenCount\": 512,\"candidatesTokenCount\": 101,\"totalTokenCount\": 613},\"responseId\": \"bench\"}\r\n\r\n");
    s.into_bytes()
}

fn bedrock_stream_bytes() -> Vec<u8> {
    let event = |kind: &str, payload: String| {
        encode_frame(
            &[
                (":event-type", kind),
                (":content-type", "application/json"),
                (":message-type", "event"),
            ],
            payload.as_bytes(),
        )
    };
    let mut out = event("messageStart", r#"{"role":"assistant"}"#.into());
    for i in 0..100 {
        out.extend(event(
            "contentBlockDelta",
            format!(r#"{{"contentBlockIndex":0,"delta":{{"text":"token {i} with \"quotes\"\n"}}}}"#),
        ));
    }
    out.extend(event("contentBlockStop", r#"{"contentBlockIndex":0}"#.into()));
    out.extend(event("messageStop", r#"{"stopReason":"end_turn"}"#.into()));
    out.extend(event(
        "metadata",
        r#"{"usage":{"inputTokens":512,"outputTokens":100,"totalTokens":612}}"#.into(),
    ));
    out
}

fn stream(c: &mut Criterion) {
    let mut group = c.benchmark_group("provider_stream_100_events");
    let sse = gemini_stream_bytes();
    group.throughput(Throughput::Elements(101));
    group.bench_function("gemini", |b| {
        b.iter(|| {
            let mut decoder = SseDecoder::new(SseLimits::default());
            let mut t = gemini::StreamTranslator::new(ctx());
            let mut out = Vec::with_capacity(64 << 10);
            decoder.push(black_box(&sse)).expect("within limits");
            while let Some(ev) = decoder.next_event() {
                t.on_event(&ev, &mut out);
            }
            t.finish(&mut out);
            black_box(out)
        });
    });
    let frames = bedrock_stream_bytes();
    group.throughput(Throughput::Elements(104));
    group.bench_function("bedrock", |b| {
        b.iter(|| {
            let mut decoder = FrameDecoder::new();
            let mut t = bedrock::StreamTranslator::new(ctx());
            let mut out = Vec::with_capacity(64 << 10);
            decoder.push(black_box(&frames));
            while let Ok(Some(frame)) = decoder.next_frame() {
                t.on_frame(&frame, &mut out);
            }
            black_box(out)
        });
    });
    group.finish();
}

criterion_group!(benches, request, stream);
criterion_main!(benches);
