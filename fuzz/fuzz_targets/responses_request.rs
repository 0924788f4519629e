//! Any bytes as an OpenAI Responses body (optionally with a stored conversation cut from the same input): no
//! panic under any model rules; a success is a JSON object with the upstream model, a positive `max_tokens`, a
//! non-empty `messages`, bounded, header-safe warnings, and an echo that is one line of JSON members.
#![no_main]

use gatehouse_llm::responses::{ModelRules, RequestOptions, Sampling, translate_request};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&knobs, rest)) = data.split_first() else {
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
    // With bit 4 set, the input is `history JSON \0 body`: a stored conversation to prepend.
    let (history, body) = match (knobs & 16 != 0, rest.iter().position(|&b| b == 0)) {
        (true, Some(nul)) => (
            serde_json::from_slice::<Vec<serde_json::Value>>(&rest[..nul]).ok(),
            &rest[nul + 1..],
        ),
        _ => (None, rest),
    };
    let opts = RequestOptions {
        upstream_model: "claude-\"fuzz\"",
        rules: &rules,
        history: history.as_deref(),
    };
    let Ok(out) = translate_request(body, &opts) else {
        return;
    };
    let shape: serde_json::Value = serde_json::from_slice(&out.body).expect("translated body is JSON");
    assert_eq!(shape["model"], "claude-\"fuzz\"");
    assert!(shape["max_tokens"].as_u64().is_some_and(|n| n >= 1));
    assert!(shape["messages"].as_array().is_some_and(|m| !m.is_empty()));
    assert!(out.dropped_unknown.len() <= 16);
    assert!(out.warnings.len() <= 16);
    assert!(
        out.warnings
            .iter()
            .all(|w| w.bytes().all(|b| b.is_ascii_alphanumeric() || b"_.:-".contains(&b))),
        "warnings are header-safe"
    );
    let members = out.echo.as_json_members();
    assert!(!members.contains('\n'));
    let _echo: serde_json::Value = serde_json::from_str(&format!("{{{members}}}")).expect("echo is JSON members");
});
