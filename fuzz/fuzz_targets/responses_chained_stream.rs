//! Any bytes as an OpenAI chunk stream taken through the chained translation a Gemini or Bedrock target's
//! `/v1/responses` stream uses (OpenAI chunks → Anthropic events → Responses events, `gatehouse_llm::Chain`),
//! split at a point chosen by the input: no panic; the split does not change the client bytes; every event is
//! `event: <type>` + one `data:` JSON line whose `type` is that name and whose `sequence_number` counts from 0;
//! exactly one terminal event (`response.completed` / `.incomplete` / `.failed`), last.
#![no_main]

use gatehouse_llm::anthropic_ingress::{MessageStreamContext, MessageStreamTranslator};
use gatehouse_llm::responses::{ResponseEcho, ResponseStreamTranslator, StreamContext};
use gatehouse_llm::{Chain, SseDecoder, SseLimits, StreamTranslate};
use libfuzzer_sys::fuzz_target;

fn translate(chunks: &[&[u8]]) -> Vec<u8> {
    let mut decoder = SseDecoder::new(SseLimits {
        max_line_bytes: 4096,
        max_event_bytes: 8192,
    });
    let mut t = Chain::new(
        MessageStreamTranslator::new(MessageStreamContext {
            model: "gem".into(),
            input_tokens_estimate: 3,
            message_id: "msg_fuzz".into(),
        }),
        ResponseStreamTranslator::new(StreamContext {
            id: "resp_fuzz".into(),
            created_at: 1,
            model: "gem".into(),
            echo: ResponseEcho::default(),
        }),
    );
    let mut out = Vec::new();
    for chunk in chunks {
        // Events completed before a bad line are translated first, as the gateway does, so the split point
        // cannot change which of them reach the client.
        let pushed = decoder.push(chunk);
        while let Some(ev) = decoder.next_event() {
            t.on_event(&ev, &mut out);
        }
        if pushed.is_err() {
            t.fail("upstream_sse_limit", "limit", &mut out);
            return out;
        }
    }
    while let Some(ev) = decoder.finish().or_else(|| decoder.next_event()) {
        t.on_event(&ev, &mut out);
    }
    t.finish(&mut out);
    assert!(t.ended());
    assert!(t.second().status().is_some());
    out
}

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let cut = usize::from(first) % (rest.len() + 1);
    let (a, b) = rest.split_at(cut);
    let whole = translate(&[rest]);
    let split = translate(&[a, b]);
    assert_eq!(whole, split);
    let text = std::str::from_utf8(&whole).expect("output is UTF-8");
    let frames: Vec<&str> = text.split_terminator("\n\n").collect();
    for (i, frame) in frames.iter().enumerate() {
        let (name, data) = frame.split_once('\n').expect("two lines");
        let name = name.strip_prefix("event: ").expect("event line");
        let data = data.strip_prefix("data: ").expect("data line");
        let v: serde_json::Value = serde_json::from_str(data).expect("data is JSON");
        assert_eq!(v["type"], name);
        assert_eq!(v["sequence_number"].as_u64(), Some(i as u64));
        let terminal = matches!(name, "response.completed" | "response.incomplete" | "response.failed");
        assert_eq!(terminal, i + 1 == frames.len(), "one terminal event, last");
    }
});
