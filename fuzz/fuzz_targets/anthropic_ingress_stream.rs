//! Any bytes as an OpenAI chunk stream, split at a point chosen by the input: no panic, the split does not change
//! the client bytes, every event is `event: <type>` plus one `data:` line of JSON with that `type`, and nothing
//! follows `message_stop` or `error`.
#![no_main]

use gatehouse_llm::anthropic_ingress::{MessageStreamContext, MessageStreamTranslator};
use gatehouse_llm::{SseDecoder, SseLimits};
use libfuzzer_sys::fuzz_target;

fn translate(chunks: &[&[u8]]) -> Vec<u8> {
    let mut decoder = SseDecoder::new(SseLimits {
        max_line_bytes: 4096,
        max_event_bytes: 8192,
    });
    let mut t = MessageStreamTranslator::new(MessageStreamContext {
        model: "claude".into(),
        input_tokens_estimate: 7,
        message_id: "msg_fuzz".into(),
    });
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
    out
}

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let cut = usize::from(first) % (rest.len() + 1);
    let (a, b) = rest.split_at(cut);
    let whole = translate(&[rest]);
    assert_eq!(whole, translate(&[a, b]));
    let text = std::str::from_utf8(&whole).expect("output is UTF-8");
    let events: Vec<&str> = text.split_terminator("\n\n").collect();
    for (i, event) in events.iter().enumerate() {
        let (name, data) = event
            .strip_prefix("event: ")
            .and_then(|e| e.split_once("\ndata: "))
            .expect("a named event");
        assert!(!data.contains('\n'));
        let v: serde_json::Value = serde_json::from_str(data).expect("event data is JSON");
        assert_eq!(v["type"], name);
        if name == "message_stop" || name == "error" {
            assert_eq!(i + 1, events.len(), "nothing after the end");
        }
    }
});
