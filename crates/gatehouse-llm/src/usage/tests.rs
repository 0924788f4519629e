//! Golden responses from OpenAI and vLLM, stream chunks, and tolerance of malformed input.

use super::*;

const CHAT: &[u8] = include_bytes!("../../tests/fixtures/usage/chat_completion.json");
const EMBEDDINGS: &[u8] = include_bytes!("../../tests/fixtures/usage/embeddings.json");
const VLLM: &[u8] = include_bytes!("../../tests/fixtures/usage/vllm_completion.json");
const STREAM: &[u8] = include_bytes!("../../tests/fixtures/sse/openai_chat_stream.txt");

fn usage(input: u64, output: u64, cached: u64, total: u64) -> Usage {
    Usage {
        input_tokens: input,
        output_tokens: output,
        cached_input_tokens: cached,
        cache_write_input_tokens: 0,
        total_tokens: total,
    }
}

#[test]
fn responses_golden() {
    assert_eq!(from_openai_response(CHAT), Some(usage(19, 10, 0, 29)));
    assert_eq!(from_openai_response(EMBEDDINGS), Some(usage(8, 0, 0, 8)));
    assert_eq!(from_openai_response(VLLM), Some(usage(5, 7, 3, 12)));
    insta::assert_json_snapshot!("vllm_completion", from_openai_response(VLLM));
}

#[test]
fn missing_total_is_computed() {
    let body = br#"{"usage":{"prompt_tokens":3,"completion_tokens":4}}"#;
    assert_eq!(from_openai_response(body), Some(usage(3, 4, 0, 7)));
    let body = br#"{"usage":{"prompt_tokens":18446744073709551615,"completion_tokens":4}}"#;
    assert_eq!(from_openai_response(body).map(|u| u.total_tokens), Some(u64::MAX));
}

#[test]
fn absent_null_or_malformed_is_none() {
    for body in [
        &br#"{"id":"x"}"#[..],
        br#"{"usage":null}"#,
        br#"{"usage":{"prompt_tokens":-1}}"#,
        br#"{"usage":{"prompt_tokens":1.5}}"#,
        br#"{"usage":"lots"}"#,
        br#"[1,2]"#,
        br#"[[]]"#,
        br#"{"usage":[1,2,3,[]]}"#,
        br#"{"usage":{"prompt_tokens":1,"prompt_tokens_details":[5]}}"#,
        b"not json",
        b"",
    ] {
        assert_eq!(from_openai_response(body), None, "{}", String::from_utf8_lossy(body));
    }
}

#[test]
fn nulls_inside_usage_count_as_zero() {
    let body = br#"{"usage":{"prompt_tokens":2,"completion_tokens":null,"prompt_tokens_details":null}}"#;
    assert_eq!(from_openai_response(body), Some(usage(2, 0, 0, 2)));
}

#[test]
fn chunks() {
    assert_eq!(from_openai_chunk("[DONE]"), None);
    assert_eq!(
        from_openai_chunk(r#"{"choices":[{"delta":{"content":"hi"}}],"usage":null}"#),
        None
    );
    assert_eq!(
        from_openai_chunk(r#"{"choices":[{"delta":{"content":"usage"}}]}"#),
        None
    );
    assert_eq!(
        from_openai_chunk(r#"{"choices":[],"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}"#),
        Some(usage(1, 2, 0, 3))
    );
    assert_eq!(
        from_openai_chunk(r#"{"\u0075sage":{"prompt_tokens":1,"completion_tokens":2}}"#),
        Some(usage(1, 2, 0, 3)),
        "escaped key still found"
    );
}

#[test]
fn stream_usage_over_a_golden_stream() {
    let mut decoder = crate::SseDecoder::default();
    decoder.push(STREAM).expect("within limits");
    let mut stream = StreamUsage::new();
    assert_eq!(stream.usage(), None);
    while let Some(event) = decoder.next_event() {
        stream.observe(&event);
    }
    assert_eq!(stream.usage(), Some(usage(12, 3, 4, 15)));
    assert!(stream.saw_done());
}

#[test]
fn stream_usage_without_done() {
    let mut stream = StreamUsage::new();
    stream.observe_data(r#"{"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}"#);
    stream.observe_data(r#"{"usage":null}"#);
    stream.observe_data(r#"{"usage":{"prompt_tokens":1,"completion_tokens":5,"total_tokens":6}}"#);
    assert_eq!(stream.usage(), Some(usage(1, 5, 0, 6)));
    assert!(!stream.saw_done());
}

#[test]
fn chunk_prefilter_skips_null_usage_but_never_hides_a_real_one() {
    let null = r#"{"id":"c","choices":[{"delta":{"content":"hi"}}],"usage":null}"#;
    assert_eq!(from_openai_chunk(null), None);
    let spaced = r#"{"choices":[],"usage" : {"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}"#;
    assert_eq!(from_openai_chunk(spaced).map(|u| u.total_tokens), Some(5));
    // Text that talks about usage (escaped quotes inside a string) does not make a null usage real.
    let text = r#"{"choices":[{"delta":{"content":"\"usage\": {\"x\":1}"}}],"usage":null}"#;
    assert_eq!(from_openai_chunk(text), None);
    // The string value "usage" before the real key is not mistaken for the key.
    let value_first = r#"{"object":"usage","usage":{"prompt_tokens":1,"completion_tokens":1}}"#;
    assert_eq!(from_openai_chunk(value_first).map(|u| u.total_tokens), Some(2));
    // An escaped key spelling is still found.
    let escaped = r#"{"\u0075sage":{"prompt_tokens":4,"completion_tokens":0}}"#;
    assert_eq!(from_openai_chunk(escaped).map(|u| u.input_tokens), Some(4));
}
