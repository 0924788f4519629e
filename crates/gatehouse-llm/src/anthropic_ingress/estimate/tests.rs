//! The estimate's arithmetic on hand-counted requests, and what it ignores.

use serde_json::{Value, json};

use super::*;

fn estimate_of(body: &Value) -> u64 {
    estimate_input_tokens(&serde_json::to_vec(body).expect("serialises")).expect("valid")
}

#[test]
fn hand_counted() {
    // "Hello, Claude" is 13 bytes: ceil(13 / 4) = 4; one message: 4; reply: 3.
    let body = json!({"model": "m", "messages": [{"role": "user", "content": "Hello, Claude"}]});
    assert_eq!(estimate_of(&body), 11);

    // Text: system 8 ("Be brief") + "Weather?" 8 + tool_use name 1 ("w") + input `{"c":"Oslo"}` 12 + result "cold" 4
    // + tool name 1 + description 3 ("Get") + schema `{"type":"object"}` 17 = 54 bytes → 14 tokens.
    // Framing: system, 3 messages and 1 tool result at 4 each = 20; one tool call 4; one tool 8. Media: 1600.
    let body = json!({
        "model": "m",
        "max_tokens": 5,
        "system": "Be brief",
        "tools": [{"name": "w", "description": "Get", "input_schema": {"type":"object"}}],
        "messages": [
            {"role": "user", "content": [{"type": "text", "text": "Weather?"}, {"type": "image", "source": {"type": "url", "url": "https://x"}}]},
            {"role": "assistant", "content": [{"type": "thinking", "thinking": "not counted at all"}, {"type": "tool_use", "id": "t", "name": "w", "input": {"c":"Oslo"}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t", "content": [{"type": "text", "text": "cold"}]}]}
        ]
    });
    assert_eq!(estimate_of(&body), 14 + 20 + 4 + 8 + 1600 + 3);
}

#[test]
fn documents_count_as_media_or_text() {
    let doc = |source: Value| json!({"model": "m", "messages": [{"role": "user", "content": [{"type": "document", "source": source}]}]});
    assert_eq!(
        estimate_of(&doc(
            json!({"type": "base64", "media_type": "application/pdf", "data": "JVBERi0="})
        )),
        1600 + 4 + 3
    );
    assert_eq!(
        estimate_of(&doc(
            json!({"type": "text", "media_type": "text/plain", "data": "12345678"})
        )),
        2 + 4 + 3
    );
}

#[test]
fn count_tokens_bodies_need_no_max_tokens_but_need_messages() {
    assert!(estimate_input_tokens(br#"{"model":"m","messages":[{"role":"user","content":"x"}]}"#).is_ok());
    for (body, code) in [
        (&br#"{"model":"m"}"#[..], "invalid_request"),
        (br#"{"messages":[]}"#, "invalid_request"),
        (br#"{"messages":[{"role":"robot","content":"x"}]}"#, "invalid_request"),
        (b"nope", "invalid_json"),
    ] {
        assert_eq!(estimate_input_tokens(body).expect_err("must fail").code(), code);
    }
}

#[test]
fn huge_counts_saturate() {
    let c = Count {
        bytes: u64::MAX,
        framing: u64::MAX,
        media: u64::MAX,
    };
    assert_eq!(c.total(), u64::MAX);
}
