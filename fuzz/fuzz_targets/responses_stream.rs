//! Any bytes as an Anthropic event stream translated into Responses events, split at a point chosen by the input:
//! no panic; the split does not change the client bytes; every event is `event: <type>` + one `data:` JSON line
//! whose `type` is that name and whose `sequence_number` counts from 0; exactly one terminal event
//! (`response.completed` / `.incomplete` / `.failed`), last. The same bytes as a non-streamed Anthropic message:
//! no panic; a success is a JSON object whose `output` is the returned output items.
#![no_main]

use gatehouse_llm::responses::{
    ResponseContext, ResponseEcho, ResponseStreamTranslator, StreamContext, translate_response,
};
use gatehouse_llm::{SseDecoder, SseLimits};
use libfuzzer_sys::fuzz_target;

fn translate(chunks: &[&[u8]]) -> Vec<u8> {
    let mut decoder = SseDecoder::new(SseLimits {
        max_line_bytes: 4096,
        max_event_bytes: 8192,
    });
    let mut t = ResponseStreamTranslator::new(StreamContext {
        id: "resp_fuzz".into(),
        created_at: 1,
        model: "claude".into(),
        echo: ResponseEcho::default(),
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
    assert!(t.status().is_some());
    out
}

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let echo = ResponseEcho::default();
    let ctx = ResponseContext {
        id: "resp_fuzz",
        created_at: 1,
        model: "claude",
        echo: &echo,
    };
    if let Ok(resp) = translate_response(rest, &ctx) {
        let v: serde_json::Value = serde_json::from_slice(&resp.body).expect("response is JSON");
        assert_eq!(v["output"], serde_json::Value::Array(resp.output_items));
    }
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
