//! The OpenAI Responses ⇄ Anthropic translation next to the chat ⇄ Anthropic one on the same conversations
//! (`tests/fixtures/responses/bench/*.json` are the chat bench fixtures in Responses shape): request (2 KB, 30 KB
//! with tools), response, and a 104-event text stream. The ratio of each pair is the price of the Responses path.
#![allow(missing_docs, reason = "criterion's macros generate undocumented items")]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use gatehouse_llm::{SseDecoder, SseLimits, anthropic, responses};

const CHAT_2K: &[u8] = include_bytes!("../tests/fixtures/anthropic/bench/chat_2k.json");
const CHAT_TOOLS_30K: &[u8] = include_bytes!("../tests/fixtures/anthropic/bench/tools_30k.json");
const RESPONSES_2K: &[u8] = include_bytes!("../tests/fixtures/responses/bench/responses_2k.json");
const RESPONSES_TOOLS_30K: &[u8] = include_bytes!("../tests/fixtures/responses/bench/tools_30k.json");
const RESPONSE: &[u8] = include_bytes!("../tests/fixtures/anthropic/bench/response.json");

const RULES: anthropic::ModelRules = anthropic::ModelRules {
    max_tokens_default: 4096,
    sampling: anthropic::Sampling::Exclusive,
    drop_unsupported: false,
};

fn request(c: &mut Criterion) {
    let chat = anthropic::RequestOptions {
        upstream_model: "claude-haiku-4-5",
        rules: &RULES,
    };
    let resp = responses::RequestOptions {
        upstream_model: "claude-haiku-4-5",
        rules: &RULES,
        history: None,
    };
    let mut group = c.benchmark_group("request");
    for (name, chat_body, resp_body) in [
        ("2k", CHAT_2K, RESPONSES_2K),
        ("tools_30k", CHAT_TOOLS_30K, RESPONSES_TOOLS_30K),
    ] {
        group.throughput(Throughput::Bytes(resp_body.len() as u64));
        group.bench_function(format!("chat_{name}"), |b| {
            b.iter(|| black_box(anthropic::translate_request(black_box(chat_body), &chat).expect("translates")));
        });
        group.bench_function(format!("responses_{name}"), |b| {
            b.iter(|| black_box(responses::translate_request(black_box(resp_body), &resp).expect("translates")));
        });
    }
    group.finish();
}

fn response(c: &mut Criterion) {
    let chat = anthropic::ResponseContext {
        created: 1_700_000_000,
        model: "claude-haiku",
    };
    let echo = responses::translate_request(
        RESPONSES_2K,
        &responses::RequestOptions {
            upstream_model: "claude-haiku-4-5",
            rules: &RULES,
            history: None,
        },
    )
    .expect("translates")
    .echo;
    let resp = responses::ResponseContext {
        id: "resp_bench",
        created_at: 1_700_000_000,
        model: "claude-haiku",
        echo: &echo,
    };
    let mut group = c.benchmark_group("response_1k");
    group.bench_function("chat", |b| {
        b.iter(|| black_box(anthropic::translate_response(black_box(RESPONSE), &chat).expect("translates")));
    });
    group.bench_function("responses", |b| {
        b.iter(|| black_box(responses::translate_response(black_box(RESPONSE), &resp).expect("translates")));
    });
    group.finish();
}

/// A realistic text stream: start, 100 text deltas, stop (the chat bench's stream).
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

fn run(bytes: &[u8], t: &mut impl gatehouse_llm::StreamTranslate) -> usize {
    let mut decoder = SseDecoder::new(SseLimits::default());
    let mut out = Vec::with_capacity(32 * 1024);
    decoder.push(bytes).expect("within limits");
    while let Some(ev) = decoder.next_event() {
        t.on_event(&ev, &mut out);
    }
    t.finish(&mut out);
    out.len()
}

fn stream(c: &mut Criterion) {
    let bytes = stream_bytes();
    let chat = anthropic::StreamContext {
        created: 1_700_000_000,
        model: "claude-haiku".into(),
        include_usage: true,
    };
    let resp = responses::StreamContext {
        id: "resp_bench".into(),
        created_at: 1_700_000_000,
        model: "claude-haiku".into(),
        echo: responses::ResponseEcho::default(),
    };
    let mut group = c.benchmark_group("stream_104_events");
    group.throughput(Throughput::Elements(104));
    group.bench_function("chat", |b| {
        b.iter(|| {
            black_box(run(
                black_box(&bytes),
                &mut anthropic::StreamTranslator::new(chat.clone()),
            ))
        });
    });
    group.bench_function("responses", |b| {
        b.iter(|| {
            black_box(run(
                black_box(&bytes),
                &mut responses::ResponseStreamTranslator::new(resp.clone()),
            ))
        });
    });
    group.finish();
}

criterion_group!(benches, request, response, stream);
criterion_main!(benches);
