use proptest::prelude::*;
use serde_json::{Value, json};

use super::{Annotation, annotations, check};
use crate::modern::errors::HEADER_MISMATCH;

fn schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "region": {"type": "string", "x-mcp-header": "Region"},
            "count": {"type": "integer", "x-mcp-header": "Count"},
            "dry": {"type": "boolean", "x-mcp-header": "Dry-Run"},
            "opts": {"type": "object", "properties": {"zone": {"type": "string", "x-mcp-header": "Zone"}}},
            "free": {"type": "string"}
        }
    })
}

fn run(args: Value, headers: &[(&str, &str)]) -> Result<(), (i64, String)> {
    check(&schema(), &args, headers.iter().map(|(n, v)| (*n, v.as_bytes()))).map_err(|r| (r.code, r.message))
}

#[test]
fn annotations_follow_pure_properties_chains() {
    let a = annotations(&schema()).expect("valid");
    let tokens: Vec<(&str, String)> = a.iter().map(|a| (a.token.as_str(), a.path.join("."))).collect();
    assert_eq!(
        tokens,
        vec![
            ("Count", "count".into()),
            ("Dry-Run", "dry".into()),
            ("Zone", "opts.zone".into()),
            ("Region", "region".into())
        ]
    );
    assert_eq!(
        annotations(&json!({"properties": {"n": {"type": "number", "x-mcp-header": "N"}}})),
        None,
        "number is not allowed"
    );
    assert_eq!(
        annotations(&json!({"items": {"type": "string", "x-mcp-header": "I"}})),
        None,
        "off the chain"
    );
    assert_eq!(
        annotations(&json!({"type": "string", "x-mcp-header": "Root"})),
        None,
        "the root itself"
    );
    assert_eq!(
        annotations(&json!({"properties": {
            "a": {"type": "string", "x-mcp-header": "X"}, "b": {"type": "string", "x-mcp-header": "x"}}})),
        None,
        "duplicate tokens, case-insensitively"
    );
    assert_eq!(
        annotations(&json!({"properties": {"a": {"type": "string", "x-mcp-header": "bad token"}}})),
        None
    );
    assert_eq!(
        annotations(&json!({"properties": {"a": {"type": "string", "default": {"x-mcp-header": "D"}}}})),
        Some(Vec::<Annotation>::new()),
        "instance data is not a schema position"
    );
}

#[test]
fn headers_must_mirror_the_arguments() {
    let args = json!({"region": "eu-west", "count": 3, "dry": true, "opts": {"zone": "b"}, "free": "x"});
    let all = [
        ("Mcp-Param-Region", "eu-west"),
        ("mcp-param-count", "3"),
        ("MCP-PARAM-DRY-RUN", "true"),
        ("Mcp-Param-Zone", "b"),
    ];
    assert_eq!(run(args.clone(), &all), Ok(()));
    // Unknown Mcp-Param-* headers are ignored.
    let mut extra = all.to_vec();
    extra.push(("Mcp-Param-Other", "1"));
    assert_eq!(run(args.clone(), &extra), Ok(()));
    // Missing, different, duplicated.
    let (code, msg) = run(args.clone(), &all[1..]).expect_err("missing");
    assert_eq!(code, HEADER_MISMATCH);
    assert!(msg.contains("Mcp-Param-Region header is missing"), "{msg}");
    let mut wrong = all.to_vec();
    wrong[0] = ("Mcp-Param-Region", "us-east");
    assert!(
        run(args.clone(), &wrong)
            .expect_err("different")
            .1
            .contains("does not match")
    );
    let mut twice = all.to_vec();
    twice.push(("mcp-param-region", "eu-west"));
    assert!(
        run(args.clone(), &twice)
            .expect_err("twice")
            .1
            .contains("more than once")
    );
    // A header without its argument (null counts as absent).
    let (_, msg) = run(json!({"region": null}), &[("Mcp-Param-Region", "eu-west")]).expect_err("absent");
    assert!(msg.contains("argument is absent"), "{msg}");
    assert_eq!(run(json!({}), &[]), Ok(()));
    // base64 form, and a malformed one.
    assert_eq!(
        run(json!({"region": "é"}), &[("Mcp-Param-Region", "=?base64?w6k=?=")]),
        Ok(())
    );
    assert!(run(json!({"region": "é"}), &[("Mcp-Param-Region", "=?base64?w6k?=")]).is_err());
    // Integers compare numerically against canonical decimals.
    assert_eq!(run(json!({"count": 42}), &[("Mcp-Param-Count", "42.0")]), Ok(()));
    assert!(run(json!({"count": 42}), &[("Mcp-Param-Count", "42.5")]).is_err());
    assert!(run(json!({"count": 42}), &[("Mcp-Param-Count", "4.2e1")]).is_err());
    // A value with no header rendering: a header claiming it never matches.
    assert!(run(json!({"region": ["a"]}), &[("Mcp-Param-Region", "a")]).is_err());
    assert_eq!(run(json!({"region": ["a"]}), &[]), Ok(()));
    // Header names are not assumed ASCII (found by fuzz/fuzz_targets/mcp_param_headers.rs).
    assert!(run(json!({"region": "a"}), &[("Mcp\u{fffd}-laram-R", "a")]).is_err());
}

#[test]
fn an_invalid_schema_validates_nothing() {
    let s = json!({"properties": {"n": {"type": "number", "x-mcp-header": "N"}, "r": {"type": "string", "x-mcp-header": "R"}}});
    assert!(check(&s, &json!({"r": "x"}), std::iter::empty()).is_ok());
}

proptest! {
    /// What a conforming client sends (the value rendered, base64-wrapped when not plain visible ASCII) always passes;
    /// a changed value never does.
    #[test]
    fn mirrored_values_pass_and_changed_ones_fail(s in "\\PC{0,24}", other in "\\PC{1,24}") {
        use base64::Engine as _;
        let header = if s.bytes().all(|b| (0x20..0x7f).contains(&b)) && !s.starts_with("=?base64?") {
            s.clone()
        } else {
            format!("=?base64?{}?=", base64::engine::general_purpose::STANDARD.encode(s.as_bytes()))
        };
        let lines = [("Mcp-Param-Region", header.as_bytes())];
        let same = json!({"region": s});
        prop_assert!(check(&schema(), &same, lines).is_ok());
        if other != s {
            let changed = json!({"region": other});
            prop_assert!(check(&schema(), &changed, lines).is_err());
        }
    }
}
