use serde_json::value::RawValue;

use super::*;
use crate::name::Mode;

fn fixture(name: &str) -> Box<RawValue> {
    let path = format!("{}/src/merge/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).expect("fixture");
    RawValue::from_string(text).expect("raw")
}

fn ns() -> Namespace {
    Namespace::new(vec!["everything".into(), "local".into()], Mode::Prefix)
}

fn pretty(raw: &RawValue) -> serde_json::Value {
    serde_json::from_str(raw.get()).expect("json")
}

#[test]
fn tools_of_two_upstreams() {
    let a = fixture("everything_tools.json");
    let b = fixture("local_tools_page1.json");
    let pages = [Page { target: 0, result: &a }, Page { target: 1, result: &b }];
    let merged = merge(ListKind::Tools, &ns(), &pages, &|_, _| true).expect("merge");
    assert_eq!(merged.invalid, vec![(1, "bad name with spaces".to_string())]);
    assert_eq!(merged.denied, 0);
    let out = pretty(&merged.result);
    let cursor = out["nextCursor"].as_str().expect("cursor");
    assert_eq!(
        crate::cursor::Cursor::decode(cursor).expect("decode").0,
        vec![("local".to_string(), "local-page-2".to_string())]
    );
    insta::assert_json_snapshot!(out);
}

#[test]
fn policy_filters_by_upstream_name() {
    let a = fixture("everything_tools.json");
    let pages = [Page { target: 0, result: &a }];
    let merged = merge(ListKind::Tools, &ns(), &pages, &|t, name| {
        !(t == 0 && name == "get-env")
    })
    .expect("merge");
    assert_eq!(merged.denied, 1);
    let out = pretty(&merged.result);
    let names: Vec<&str> = out["tools"]
        .as_array()
        .expect("tools")
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert_eq!(names, ["everything_echo", "everything_get-sum"]);
    assert!(out.get("nextCursor").is_none());
}

#[test]
fn resources_and_templates_are_namespaced() {
    let r = fixture("everything_resources.json");
    let t = fixture("everything_templates.json");
    let res = merge(
        ListKind::Resources,
        &ns(),
        &[Page { target: 0, result: &r }],
        &|_, _| true,
    )
    .expect("merge");
    let tpl = merge(
        ListKind::ResourceTemplates,
        &ns(),
        &[Page { target: 1, result: &t }],
        &|_, _| true,
    )
    .expect("merge");
    insta::assert_json_snapshot!("resources", pretty(&res.result));
    insta::assert_json_snapshot!("templates", pretty(&tpl.result));
}

#[test]
fn passthrough_keeps_names() {
    let a = fixture("everything_tools.json");
    let one = Namespace::new(vec!["everything".into()], Mode::Passthrough);
    let merged = merge(ListKind::Tools, &one, &[Page { target: 0, result: &a }], &|_, _| true).expect("merge");
    assert_eq!(pretty(&merged.result)["tools"][1]["name"], "get-sum");
}

#[test]
fn malformed_upstream_pages_are_upstream_errors() {
    for bad in [
        r#"{"tools": {}}"#,
        r#"{"tools": [1]}"#,
        r#"{"tools": [{"description": "no name"}]}"#,
        r#"{"tools": [], "nextCursor": 3}"#,
        r#"[]"#,
    ] {
        let raw = RawValue::from_string(bad.to_string()).expect("raw");
        let err = merge(
            ListKind::Tools,
            &ns(),
            &[Page {
                target: 0,
                result: &raw,
            }],
            &|_, _| true,
        )
        .expect_err(bad);
        assert_eq!(err.source_of(), crate::error::Source::Upstream, "{bad}");
    }
    // A missing list is an empty list.
    let raw = RawValue::from_string("{}".into()).expect("raw");
    let ok = merge(
        ListKind::Prompts,
        &ns(),
        &[Page {
            target: 0,
            result: &raw,
        }],
        &|_, _| true,
    )
    .expect("merge");
    assert_eq!(ok.result.get(), r#"{"prompts":[]}"#);
}
