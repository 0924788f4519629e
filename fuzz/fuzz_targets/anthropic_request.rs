//! Any bytes as an OpenAI chat body: translation must not panic under any model rules, and a successful
//! translation is a JSON object with the upstream model, a positive `max_tokens` and a non-empty `messages`.
#![no_main]

use gatehouse_llm::anthropic::{ModelRules, RequestOptions, Sampling, translate_request};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&knobs, body)) = data.split_first() else {
        return;
    };
    let rules = ModelRules {
        max_tokens_default: if knobs & 1 == 0 { 4096 } else { 1 },
        sampling: match (knobs >> 1) % 3 {
            0 => Sampling::Both,
            1 => Sampling::Exclusive,
            _ => Sampling::None,
        },
        drop_unsupported: knobs & 8 != 0,
    };
    let opts = RequestOptions {
        upstream_model: "claude-\"fuzz\"",
        rules: &rules,
    };
    let Ok(out) = translate_request(body, &opts) else {
        return;
    };
    let shape: serde_json::Value = serde_json::from_slice(&out.body).expect("translated body is JSON");
    assert_eq!(shape["model"], "claude-\"fuzz\"");
    assert!(shape["max_tokens"].as_u64().is_some_and(|n| n >= 1));
    assert!(shape["messages"].as_array().is_some_and(|m| !m.is_empty()));
    assert!(out.dropped_unknown.len() <= 16);
});
