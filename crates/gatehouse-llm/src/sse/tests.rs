//! Golden streams, spec edge cases, limits, and split-invariance properties.

use super::*;

mod prop;

const OPENAI_STREAM: &[u8] = include_bytes!("../../tests/fixtures/sse/openai_chat_stream.txt");
const MIXED: &[u8] = include_bytes!("../../tests/fixtures/sse/mixed_terminators.txt");

/// Decodes `chunks` in order, then finishes the stream.
pub(super) fn decode_chunks<'a>(
    limits: SseLimits,
    chunks: impl IntoIterator<Item = &'a [u8]>,
) -> Result<Vec<SseEvent>, LlmError> {
    let mut decoder = SseDecoder::new(limits);
    let mut events = Vec::new();
    for chunk in chunks {
        decoder.push(chunk)?;
        events.extend(std::iter::from_fn(|| decoder.next_event()));
    }
    events.extend(decoder.finish());
    events.extend(std::iter::from_fn(|| decoder.next_event()));
    Ok(events)
}

fn decode(bytes: &[u8]) -> Vec<SseEvent> {
    decode_chunks(SseLimits::default(), [bytes]).expect("within limits")
}

fn ev(event: Option<&str>, data: &str, id: Option<&str>) -> SseEvent {
    SseEvent {
        event: event.map(str::to_owned),
        data: data.to_owned(),
        id: id.map(str::to_owned),
    }
}

#[test]
fn openai_stream_golden() {
    let events = decode(OPENAI_STREAM);
    assert_eq!(events.len(), 5);
    assert_eq!(events[4], ev(None, "[DONE]", None));
    insta::assert_json_snapshot!("openai_chat_stream", events);
}

#[test]
fn mixed_terminators_golden() {
    let events = decode(MIXED);
    assert_eq!(
        events,
        vec![
            ev(Some("message_start"), r#"{"type":"message_start"}"#, None),
            ev(Some("ping"), r#"{"type": "ping"}"#, None),
            ev(Some("content_block_delta"), "line one\nline two\n indented", Some("7")),
            ev(None, "", Some("7")),
            ev(Some("message_stop"), r#"{"type":"message_stop"}"#, Some("7")),
        ]
    );
    insta::assert_json_snapshot!("mixed_terminators", events);
}

#[test]
fn every_single_byte_split_matches() {
    let whole = decode(MIXED);
    let bytes: Vec<&[u8]> = MIXED.chunks(1).collect();
    let split = decode_chunks(SseLimits::default(), bytes).expect("limits");
    assert_eq!(split, whole);
}

#[test]
fn cr_at_chunk_end_pairs_with_next_lf() {
    let events = decode_chunks(
        SseLimits::default(),
        [&b"data: a\r"[..], b"\ndata: b\r", b"\n\r", b"\n"],
    )
    .expect("limits");
    assert_eq!(events, vec![ev(None, "a\nb", None)]);
}

#[test]
fn spec_examples() {
    // WHATWG examples: a lone `data` makes an empty-data event; an event type without data is not dispatched.
    assert_eq!(
        decode(b"data\n\ndata\ndata\n\ndata:\n"),
        vec![ev(None, "", None), ev(None, "\n", None), ev(None, "", None),]
    );
    assert_eq!(
        decode(b"data:test\n\ndata: test\n\n"),
        vec![ev(None, "test", None), ev(None, "test", None),]
    );
    assert!(decode(b"event: x\n\n: only a comment\n\nid: 1\n\n").is_empty());
    // Only one leading space is stripped; a colon-less line is a field with an empty value.
    assert_eq!(decode(b"data:  two\n\n"), vec![ev(None, " two", None)]);
}

#[test]
fn id_persists_and_resets() {
    let events = decode(b"id: 1\ndata: a\n\ndata: b\n\nid\ndata: c\n\nid: x\0y\ndata: d\n\n");
    let ids: Vec<Option<&str>> = events.iter().map(|e| e.id.as_deref()).collect();
    assert_eq!(ids, vec![Some("1"), Some("1"), None, None]);
}

#[test]
fn bom_is_skipped_once_and_bad_utf8_replaced() {
    let events = decode(b"\xEF\xBB\xBFdata: a\n\n\xEF\xBB\xBFdata: b\n\ndata: \xff\n\n");
    assert_eq!(events[0], ev(None, "a", None));
    assert!(events.len() == 2, "second BOM makes an unknown field");
    assert_eq!(events[1], ev(None, "\u{FFFD}", None));
    let split = decode_chunks(SseLimits::default(), [&b"\xEF"[..], b"\xBB", b"\xBFdata: a\n\n"]).expect("limits");
    assert_eq!(split, vec![ev(None, "a", None)]);
}

#[test]
fn retry_field() {
    let mut d = SseDecoder::default();
    d.push(b"retry: 1500\nretry: 12a\nretry:\nretry: 99999999999999999999999\n\n")
        .expect("push");
    assert_eq!(d.retry(), Some(1500));
    assert_eq!(d.next_event(), None);
}

#[test]
fn finish_flushes_unterminated_event() {
    let mut d = SseDecoder::default();
    d.push(b"data: one\n\nevent: last\ndata: tw").expect("push");
    assert_eq!(d.next_event(), Some(ev(None, "one", None)));
    assert_eq!(d.next_event(), None);
    d.push(b"o").expect("push");
    assert_eq!(d.finish(), Some(ev(Some("last"), "two", None)));
    assert_eq!(d.finish(), None);
}

#[test]
fn line_limit_is_enforced_across_chunks() {
    let limits = SseLimits {
        max_line_bytes: 8,
        max_event_bytes: 100,
    };
    assert!(decode_chunks(limits, [&b"data: 12\n\n"[..]]).is_ok(), "8 bytes is fine");
    let err = decode_chunks(limits, [&b"data: 123\n\n"[..]]).expect_err("9 bytes");
    assert_eq!(err, LlmError::SseLimit { what: "line", limit: 8 });
    let err = decode_chunks(limits, [&b"data"[..], b": ", b"123"]).expect_err("no terminator yet");
    assert_eq!(err.code(), "upstream_sse_limit");
    assert_eq!(err.source(), crate::ErrorSource::Upstream);
}

#[test]
fn event_limit_is_enforced_and_sticky() {
    let limits = SseLimits {
        max_line_bytes: 100,
        max_event_bytes: 10,
    };
    // 4 + 1 + 4 = 9 bytes of data including the joining newline, plus the trailing newline = 10.
    assert!(decode_chunks(limits, [&b"data: abcd\ndata: efgh\n\n"[..]]).is_ok());
    let mut d = SseDecoder::new(limits);
    let err = d.push(b"data: abcd\ndata: efghi\n\n").expect_err("11 bytes");
    assert_eq!(
        err,
        LlmError::SseLimit {
            what: "event",
            limit: 10
        }
    );
    assert_eq!(d.push(b"data: ok\n\n"), Err(err));
    assert_eq!(d.next_event(), None);
    assert_eq!(d.finish(), None);
    let err = decode_chunks(limits, [&b"event: 0123456789a\ndata: x\n\n"[..]]).expect_err("type");
    assert_eq!(
        err,
        LlmError::SseLimit {
            what: "event",
            limit: 10
        }
    );
}

#[test]
fn encoder_splits_lines_and_sanitises_event() {
    let mut out = Vec::new();
    encode_event(Some("delta"), "a\nb\r\nc\rd", &mut out);
    encode_event(None, "", &mut out);
    encode_event(Some("bad\nevent: injected"), "x", &mut out);
    assert_eq!(
        String::from_utf8(out.clone()).expect("utf8"),
        "event: delta\ndata: a\ndata: b\ndata: c\ndata: d\n\ndata: \n\nevent: badevent: injected\ndata: x\n\n"
    );
    assert_eq!(
        decode(&out),
        vec![
            ev(Some("delta"), "a\nb\nc\nd", None),
            ev(None, "", None),
            ev(Some("badevent: injected"), "x", None),
        ]
    );
}

#[test]
fn empty_chunk_between_cr_and_lf_keeps_one_terminator() {
    let mut d = SseDecoder::new(SseLimits::default());
    for chunk in [&b"data: a\r"[..], b"", b"\ndata: b\n\n"] {
        d.push(chunk).expect("push");
    }
    assert_eq!(d.next_event(), Some(ev(None, "a\nb", None)));
    assert_eq!(d.next_event(), None);
}
