//! Escaping, compaction and truncation against serde_json as the oracle.

use super::*;

#[test]
fn write_str_escapes_like_serde() {
    for s in [
        "",
        "plain",
        "q\"b\\s",
        "nl\n cr\r tab\t",
        "\u{1}\u{1f}\u{7f}",
        "é🚀\u{2028}",
    ] {
        let mut out = Vec::new();
        write_str(&mut out, s);
        let back: String = serde_json::from_slice(&out).expect("valid JSON string");
        assert_eq!(back, s);
    }
}

#[test]
fn compact_strips_only_outside_strings() {
    let mut out = String::new();
    compact("{ \"a b\" : [ 1 ,\n 2 ], \"c\\\" d\" : \"x \\\\\" }", &mut out);
    assert_eq!(out, "{\"a b\":[1,2],\"c\\\" d\":\"x \\\\\"}");
}

#[test]
fn truncate_on_char_boundary() {
    assert_eq!(truncate("abc", 3), "abc");
    assert_eq!(truncate("aéb", 2), "a…");
}
