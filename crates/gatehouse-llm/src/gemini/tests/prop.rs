//! Property: however the upstream bytes are split, the client receives the same bytes, and a valid stream always
//! ends with `[DONE]` and the usage it carried.

use proptest::prelude::*;
use serde_json::json;

use super::{ctx, run};
use crate::gemini::StreamTranslator;

#[derive(Debug, Clone)]
enum GenPart {
    Text(String),
    Thought(String),
    Call(String),
}

fn stream(events: &[Vec<GenPart>], prompt: u64, out_tokens: u64, crlf: bool) -> Vec<u8> {
    let nl = if crlf { "\r\n" } else { "\n" };
    let mut s = String::new();
    let last = events.len().saturating_sub(1);
    for (i, parts) in events.iter().enumerate() {
        let parts: Vec<_> = parts
            .iter()
            .map(|p| match p {
                GenPart::Text(t) => json!({"text": t}),
                GenPart::Thought(t) => json!({"text": t, "thought": true}),
                GenPart::Call(name) => json!({"functionCall": {"name": name, "args": {"q": name}}}),
            })
            .collect();
        let mut candidate = json!({"content": {"role": "model", "parts": parts}, "index": 0});
        if i == last {
            candidate["finishReason"] = json!("STOP");
        }
        let ev = json!({"candidates": [candidate], "responseId": "p1",
            "usageMetadata": {"promptTokenCount": prompt, "candidatesTokenCount": out_tokens.min(i as u64 + 1)}});
        s.push_str(&format!("data: {ev}{nl}{nl}"));
    }
    s.into_bytes()
}

fn part() -> impl Strategy<Value = GenPart> {
    prop_oneof![
        "[a-z \\n\"é😀]{0,12}".prop_map(GenPart::Text),
        "[a-z ]{1,8}".prop_map(GenPart::Thought),
        "[a-z_]{1,8}".prop_map(GenPart::Call),
    ]
}

proptest! {
    #[test]
    fn any_split_gives_the_same_client_stream(
        events in prop::collection::vec(prop::collection::vec(part(), 0..4), 1..6),
        prompt in 0u64..1000,
        out_tokens in 1u64..1000,
        crlf in any::<bool>(),
        include_usage in any::<bool>(),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..8),
    ) {
        let bytes = stream(&events, prompt, out_tokens, crlf);
        let mut whole_t = StreamTranslator::new(ctx(include_usage));
        let whole = run([&bytes[..]], &mut whole_t);
        let mut points: Vec<usize> = cuts.iter().map(|c| c.index(bytes.len() + 1)).collect();
        points.sort_unstable();
        let mut pieces = Vec::new();
        let mut start = 0;
        for p in points {
            pieces.push(&bytes[start..p]);
            start = p;
        }
        pieces.push(&bytes[start..]);
        let mut split_t = StreamTranslator::new(ctx(include_usage));
        let split = run(pieces, &mut split_t);
        prop_assert_eq!(&whole, &split);
        let text = String::from_utf8(whole).expect("utf8");
        prop_assert!(text.ends_with("data: [DONE]\n\n"));
        prop_assert_eq!(whole_t.errored(), None);
        let u = whole_t.usage().expect("usage");
        prop_assert_eq!(u.input_tokens, prompt);
    }
}
