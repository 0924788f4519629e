//! The chain gives exactly what running the two translators one after the other over the whole stream gives, on
//! every OpenAI golden stream of `anthropic_ingress` (OpenAI chunks → Anthropic events → Responses events),
//! whole or fed one byte at a time; a server failure is the second translator's error, once.

use super::*;
use crate::anthropic_ingress::{MessageStreamContext, MessageStreamTranslator};
use crate::responses::{ResponseEcho, ResponseStreamTranslator, StreamContext};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/anthropic_ingress/stream");

fn first() -> MessageStreamTranslator {
    MessageStreamTranslator::new(MessageStreamContext {
        model: "gem".into(),
        input_tokens_estimate: 9,
        message_id: "msg_01Chain".into(),
    })
}

fn second() -> ResponseStreamTranslator {
    ResponseStreamTranslator::new(StreamContext {
        id: "resp_0123456789abcdef0123456789abcdef".into(),
        created_at: 1_700_000_000,
        model: "gem".into(),
        echo: ResponseEcho::default(),
    })
}

/// Decodes `chunks` and drives `t` over every event, then its end.
fn run<T: StreamTranslate>(chunks: &[&[u8]], t: &mut T) -> Vec<u8> {
    let mut decoder = SseDecoder::new(SseLimits::default());
    let mut out = Vec::new();
    for chunk in chunks {
        decoder.push(chunk).expect("within limits");
        while let Some(ev) = decoder.next_event() {
            t.on_event(&ev, &mut out);
        }
    }
    if let Some(ev) = decoder.finish() {
        t.on_event(&ev, &mut out);
    }
    t.finish(&mut out);
    out
}

fn fixtures() -> Vec<(String, Vec<u8>)> {
    let mut all: Vec<(String, Vec<u8>)> = std::fs::read_dir(FIXTURES)
        .expect("fixtures")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "sse"))
        .map(|p| (p.display().to_string(), std::fs::read(&p).expect("read")))
        .collect();
    all.sort();
    assert!(all.len() >= 5, "the golden streams are there");
    all
}

#[test]
fn chain_equals_the_two_translators_in_turn() {
    for (name, sse) in fixtures() {
        let mut a = first();
        let between = run(&[&sse], &mut a);
        let mut b = second();
        let expected = run(&[&between], &mut b);

        let mut whole = Chain::new(first(), second());
        assert_eq!(run(&[&sse], &mut whole), expected, "{name}");
        assert!(whole.ended(), "{name}");
        assert_eq!(whole.errored(), b.errored(), "{name}");
        assert_eq!(whole.usage(), b.usage(), "{name}");
        assert_eq!(whole.second().output_items(), b.output_items(), "{name}");

        let bytes: Vec<&[u8]> = sse.chunks(1).collect();
        let mut split = Chain::new(first(), second());
        assert_eq!(run(&bytes, &mut split), expected, "{name}: one byte at a time");
    }
}

#[test]
fn a_server_failure_is_the_second_translators_error_once() {
    let sse = std::fs::read(format!("{FIXTURES}/text.sse")).expect("fixture");
    let events: Vec<&[u8]> = sse.split_inclusive(|b| *b == b'\n').collect();
    let head = &events[..events.len() / 2];
    let mut chain = Chain::new(first(), second());
    let mut decoder = SseDecoder::new(SseLimits::default());
    let mut out = Vec::new();
    for line in head {
        decoder.push(line).expect("within limits");
        while let Some(ev) = decoder.next_event() {
            chain.on_event(&ev, &mut out);
        }
    }
    assert!(!chain.ended());
    chain.fail("upstream_idle_timeout", "stalled", &mut out);
    assert!(chain.ended());
    assert_eq!(chain.errored(), Some("upstream_idle_timeout"));
    let text = String::from_utf8(out.clone()).expect("UTF-8");
    assert!(text.contains("event: error\n"), "{text}");
    assert!(text.contains("event: response.failed\n"), "{text}");
    assert!(!text.contains("event: response.completed\n"), "{text}");
    // Nothing more once ended.
    let len = out.len();
    chain.fail("upstream_timeout", "again", &mut out);
    chain.finish(&mut out);
    assert_eq!(out.len(), len);
}
