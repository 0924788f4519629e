//! Embeddings: request and response shapes, base64 encoding, refusals.

use serde_json::{Value, json};

use super::*;

#[test]
fn request_and_response_round_trip() {
    let req = translate_embeddings_request(
        br#"{"model":"e","input":["a b","c"],"dimensions":3,"encoding_format":"float","user":"u"}"#,
        "text-embedding-004",
    )
    .expect("ok");
    let body: Value = serde_json::from_slice(&req.body).expect("json");
    assert_eq!(
        body,
        json!({"requests": [
            {"model": "models/text-embedding-004", "content": {"parts": [{"text": "a b"}]}, "outputDimensionality": 3},
            {"model": "models/text-embedding-004", "content": {"parts": [{"text": "c"}]}, "outputDimensionality": 3}]})
    );
    let (out, usage) = translate_embeddings_response(
        br#"{"embeddings":[{"values":[0.5,-1,0.25]},{"values":[1,2,3]}]}"#,
        "emb",
        &req,
    )
    .expect("ok");
    let v: Value = serde_json::from_slice(&out).expect("json");
    assert_eq!(
        v["data"][1],
        json!({"object": "embedding", "index": 1, "embedding": [1.0, 2.0, 3.0]})
    );
    assert_eq!(v["usage"], json!({"prompt_tokens": 0, "total_tokens": 0}));
    assert_eq!(usage.input_tokens, 0);
}

#[test]
fn base64_is_little_endian_f32() {
    let req = translate_embeddings_request(br#"{"input":"x","encoding_format":"base64"}"#, "m").expect("ok");
    let (out, _) = translate_embeddings_response(br#"{"embeddings":[{"values":[1.0,-2.5]}]}"#, "m", &req).expect("ok");
    let v: Value = serde_json::from_slice(&out).expect("json");
    // 1.0f32 = 00 00 80 3f, -2.5f32 = 00 00 20 c0 (little-endian).
    assert_eq!(v["data"][0]["embedding"], "AACAPwAAIMA=");
    assert_eq!(base64(b"f"), "Zg==");
    assert_eq!(base64(b"fo"), "Zm8=");
    assert_eq!(base64(b"foo"), "Zm9v");
}

#[test]
fn refusals() {
    for (body, want) in [
        (r#"{"input":[1,2,3]}"#, "token arrays"),
        (r#"{"input":[]}"#, "must not be empty"),
        (r#"{"input":"x","encoding_format":"int8"}"#, "encoding_format"),
        (r#"{"model":"m"}"#, "`input` is required"),
    ] {
        let err = translate_embeddings_request(body.as_bytes(), "m")
            .expect_err("refused")
            .to_string();
        assert!(err.contains(want), "{body}: {err}");
    }
    let many = serde_json::to_vec(&json!({"input": vec!["x"; 101]})).expect("json");
    assert!(translate_embeddings_request(&many, "m").is_err());
    let req = translate_embeddings_request(br#"{"input":["a","b"]}"#, "m").expect("ok");
    assert!(translate_embeddings_response(br#"{"embeddings":[{"values":[1]}]}"#, "m", &req).is_err());
}
