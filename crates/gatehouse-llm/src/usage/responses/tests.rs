//! Responses API usage: golden bodies and stream events in the published shapes, and malformed input.

use super::*;

fn ev(event: Option<&str>, data: &str) -> SseEvent {
    SseEvent {
        event: event.map(str::to_string),
        data: data.to_string(),
        id: None,
    }
}

const BODY: &str = r#"{"id":"resp_1","object":"response","status":"completed","model":"gpt-4.1",
  "output":[{"type":"message","id":"msg_1","status":"completed","role":"assistant",
    "content":[{"type":"output_text","text":"usage: not this","annotations":[]}]}],
  "usage":{"input_tokens":36,"input_tokens_details":{"cached_tokens":12},"output_tokens":87,
    "output_tokens_details":{"reasoning_tokens":0},"total_tokens":123}}"#;

#[test]
fn body_golden() {
    let u = from_responses_body(BODY.as_bytes()).expect("usage");
    assert_eq!(
        u,
        Usage {
            input_tokens: 36,
            output_tokens: 87,
            cached_input_tokens: 12,
            cache_write_input_tokens: 0,
            total_tokens: 123,
        }
    );
}

#[test]
fn body_without_total_is_summed_and_bad_bodies_are_none() {
    let u = from_responses_body(br#"{"usage":{"input_tokens":3,"output_tokens":4}}"#).expect("usage");
    assert_eq!((u.total_tokens, u.cached_input_tokens), (7, 0));
    for bad in [
        &b"not json"[..],
        b"[1,2]",
        br#"{"usage":null}"#,
        br#"{"usage":[1,2]}"#,
        br#"{"usage":{"input_tokens":-1}}"#,
        br#"{"id":"resp_1"}"#,
    ] {
        assert_eq!(from_responses_body(bad), None, "{}", String::from_utf8_lossy(bad));
    }
}

#[test]
fn stream_reads_only_the_terminal_event() {
    let mut s = ResponsesStreamUsage::new();
    let created = r#"{"type":"response.created","sequence_number":0,"response":{"id":"resp_1","status":"in_progress","usage":null}}"#;
    s.observe(&ev(Some("response.created"), created));
    // A delta whose text names the terminal event and a usage object is not usage.
    let delta = r#"{"type":"response.output_text.delta","sequence_number":3,"delta":"response.completed {\"usage\":{\"input_tokens\":9}}"}"#;
    s.observe(&ev(Some("response.output_text.delta"), delta));
    assert_eq!(s.usage(), None);
    assert!(!s.saw_terminal());
    let done = r#"{"type":"response.completed","sequence_number":9,"response":{"id":"resp_1","status":"completed","usage":{"input_tokens":5,"input_tokens_details":{"cached_tokens":2},"output_tokens":6,"total_tokens":11}}}"#;
    s.observe(&ev(Some("response.completed"), done));
    assert!(s.saw_terminal());
    assert_eq!(
        s.usage()
            .map(|u| (u.input_tokens, u.output_tokens, u.cached_input_tokens)),
        Some((5, 6, 2))
    );
}

#[test]
fn stream_without_event_lines_and_incomplete_ends() {
    let incomplete = r#"{"type":"response.incomplete","response":{"status":"incomplete","usage":{"input_tokens":1,"output_tokens":16,"total_tokens":17}}}"#;
    assert_eq!(
        from_responses_event(&ev(None, incomplete)).map(|u| u.output_tokens),
        Some(16)
    );
    // The delta scan without an event name parses the data and finds no `response.usage`.
    let delta = r#"{"type":"response.output_text.delta","delta":"response.completed"}"#;
    assert_eq!(from_responses_event(&ev(None, delta)), None);
    assert_eq!(from_responses_event(&ev(Some("response.completed"), "{not json")), None);
}
