//! Any bytes as an OpenAI chat (and embeddings) body for a Gemini target: no panic (schemas, `$ref` cycles and deep nesting
//! included); a successful translation is a JSON object with non-empty `contents` whose roles alternate.
#![no_main]

use gatehouse_llm::gemini::{RequestOptions, translate_request};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&knobs, body)) = data.split_first() else {
        return;
    };
    if let Ok(embed) = gatehouse_llm::gemini::translate_embeddings_request(body, "m") {
        assert!((1..=gatehouse_llm::gemini::MAX_INPUTS).contains(&embed.count));
        let _ = gatehouse_llm::gemini::translate_embeddings_response(body, "m", &embed);
    }
    let opts = RequestOptions {
        drop_unsupported: knobs & 1 == 1,
    };
    let Ok(out) = translate_request(body, &opts) else {
        return;
    };
    let shape: serde_json::Value = serde_json::from_slice(&out.body).expect("translated body is JSON");
    let contents = shape["contents"].as_array().expect("contents");
    assert!(!contents.is_empty());
    for pair in contents.windows(2) {
        assert_ne!(pair[0]["role"], pair[1]["role"], "same-role turns are merged");
    }
    for c in contents {
        assert!(c["parts"].as_array().is_some_and(|p| !p.is_empty()));
    }
    assert!(out.dropped_unknown.len() <= 16);
});
