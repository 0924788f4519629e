//! Guards the picker's hot path: hashing a prompt and one `inference` decision over 8 replicas with a warm table.
#![allow(missing_docs)] // criterion's macros generate undocumented items

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use gatehouse_picker::{
    PickRequest, Picker, PrefixConfig, PrefixTable, ReplicaState, Signals, Strategy, Thresholds, Weights, hash_prompt,
};

fn replicas() -> Vec<ReplicaState> {
    (0..8)
        .map(|i| ReplicaState {
            signals: Some(Signals {
                waiting: Some(f64::from(i % 3)),
                running: Some(10.0),
                kv_usage: Some(0.1 * f64::from(i)),
                model_name: Some("m".into()),
                ..Signals::default()
            }),
            scraped_at: Some(Duration::from_secs(1)),
            healthy: true,
            in_flight: 10,
            awaiting_first_token: 1,
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let cfg = PrefixConfig::default();
    // ~4 KiB chat prompt: a shared system prompt and a question.
    let prompt = format!(
        "[{{\"role\":\"system\",\"content\":\"{}\"}},{{\"role\":\"user\",\"content\":\"what now?\"}}]",
        "You are a helpful assistant. ".repeat(140)
    );
    c.bench_function("hash_prompt_4k", |b| {
        b.iter(|| hash_prompt(black_box("m"), black_box(prompt.as_bytes()), &cfg))
    });
    let hashes = hash_prompt("m", prompt.as_bytes(), &cfg);
    let mut table = PrefixTable::new(8, cfg.lru_blocks_per_replica);
    for r in 0..8 {
        for g in 0..200u64 {
            let other: Vec<u64> = hashes.iter().map(|h| h ^ (g + 1) ^ ((r as u64) << 40)).collect();
            table.record(r, &other);
        }
    }
    table.record(3, &hashes);
    let states = replicas();
    let picker = Picker {
        strategy: Strategy::Inference,
        weights: Weights::default(),
        thresholds: Thresholds::default(),
        staleness: Duration::from_millis(200),
        overload_filter: true,
        queue_signal: gatehouse_picker::score::QueueSignal::AwaitingFirstToken,
    };
    let req = PickRequest {
        model: "m",
        hashes: &hashes,
    };
    let mut seed = 0u64;
    c.bench_function("inference_pick_8_replicas", |b| {
        b.iter(|| {
            seed += 1;
            picker.pick(black_box(&states), &table, &req, Duration::from_secs(1), seed, 0)
        })
    });
    c.bench_function("record_winner", |b| b.iter(|| table.record(3, black_box(&hashes))));
}

criterion_group!(benches, bench);
criterion_main!(benches);
