//! Property: for any JSON object in any formatting, `rewrite` changes `model` and `stream_options` as asked and
//! leaves every other member's bytes and the key order alone. `serde_json::Value` is used here only as the oracle.

use proptest::prelude::*;
use serde_json::{Map, Value, json};

use serde_json::value::RawValue;

use crate::splice::{RequestBody, Rewrite};

const WS: [&str; 6] = ["", " ", "  ", "\n    ", "\t", "\r\n"];

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<String>().prop_map(Value::String),
        "[a-z ]{0,12}".prop_map(Value::String),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z]{1,4}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "[a-z_]{1,10}",
        1 => any::<String>(),
        1 => prop_oneof![Just("model".to_owned()), Just("stream".to_owned()), Just("stream_options".to_owned())],
    ]
}

fn special(name: &'static str) -> impl Strategy<Value = Option<(String, Value)>> {
    let values: BoxedStrategy<Value> = match name {
        "model" => prop_oneof![any::<String>().prop_map(Value::String), Just(json!(7))].boxed(),
        "stream" => prop_oneof![Just(json!(true)), Just(json!(false)), Just(Value::Null)].boxed(),
        _ => prop_oneof![
            Just(Value::Null),
            Just(json!("x")),
            Just(json!({})),
            Just(json!({"include_usage": false})),
            Just(json!({"include_usage": true, "other": [1]})),
            prop::collection::btree_map("[a-z_]{1,14}", leaf(), 0..3)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
        .boxed(),
    };
    prop::option::of(values.prop_map(move |v| (name.to_owned(), v)))
}

/// A JSON object as (members in order, text with random whitespace and per-value pretty/compact formatting).
fn object() -> impl Strategy<Value = (Vec<(String, Value)>, String)> {
    let members = (
        prop::collection::vec((key(), value()), 0..8),
        special("model"),
        special("stream"),
        special("stream_options"),
        any::<prop::sample::Index>(),
    )
        .prop_map(|(mut members, a, b, c, pos)| {
            for m in [a, b, c].into_iter().flatten() {
                let at = pos.index(members.len() + 1);
                members.insert(at, m);
            }
            let mut seen = std::collections::HashSet::new();
            members.retain(|(k, _)| seen.insert(k.clone()));
            members
        });
    (
        members,
        prop::collection::vec(0..WS.len(), 64),
        prop::collection::vec(any::<bool>(), 16),
    )
        .prop_map(|(members, ws, pretty)| {
            let mut ws = ws.into_iter().cycle().map(|i| WS[i]);
            let mut pretty = pretty.into_iter().cycle();
            let mut text = String::new();
            text.push_str(ws.next().unwrap_or_default());
            text.push('{');
            for (i, (k, v)) in members.iter().enumerate() {
                if i > 0 {
                    text.push(',');
                }
                text.push_str(ws.next().unwrap_or_default());
                text.push_str(&serde_json::to_string(k).expect("key"));
                text.push_str(ws.next().unwrap_or_default());
                text.push(':');
                text.push_str(ws.next().unwrap_or_default());
                let v = if pretty.next().unwrap_or_default() {
                    serde_json::to_string_pretty(v)
                } else {
                    serde_json::to_string(v)
                };
                text.push_str(&v.expect("value"));
                text.push_str(ws.next().unwrap_or_default());
            }
            text.push('}');
            text.push_str(ws.next().unwrap_or_default());
            (members, text)
        })
}

fn expected(members: &[(String, Value)], model: Option<&str>, force: bool) -> Value {
    let mut map: Map<String, Value> = members.iter().cloned().collect();
    if let Some(m) = model {
        map.insert("model".to_owned(), Value::String(m.to_owned()));
    }
    if force && map.get("stream") == Some(&Value::Bool(true)) {
        match map.get_mut("stream_options") {
            Some(Value::Object(options)) => {
                options.insert("include_usage".to_owned(), Value::Bool(true));
            }
            _ => {
                map.insert("stream_options".to_owned(), json!({"include_usage": true}));
            }
        }
    }
    Value::Object(map)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn rewrite_changes_only_what_it_must(
        (members, text) in object(),
        model in prop::option::of(any::<String>()),
        force in any::<bool>(),
    ) {
        let body = RequestBody::parse(text.as_bytes()).expect("generated object parses");
        let out = body.rewrite(&Rewrite { model: model.as_deref(), force_include_usage: force });

        let value: Value = serde_json::from_slice(&out).expect("output is JSON");
        prop_assert_eq!(value, expected(&members, model.as_deref(), force));

        // Every untouched member keeps its exact bytes, and the key order is kept.
        let rewritten = RequestBody::parse(&out).expect("output parses");
        let before: Vec<&str> = body.object.members.iter().map(|m| m.key.as_ref()).collect();
        let after: Vec<&str> = rewritten.object.members.iter().map(|m| m.key.as_ref()).collect();
        prop_assert_eq!(&after[..before.len()], &before[..]);
        for m in &body.object.members {
            if m.key != "model" && m.key != "stream_options" {
                prop_assert_eq!(rewritten.get(&m.key).map(RawValue::get), Some(m.raw.get()));
            }
        }

        if model.is_none() && !force {
            prop_assert_eq!(&out[..], text.as_bytes());
        }
    }

    #[test]
    fn parse_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        if let Ok(body) = RequestBody::parse(&bytes) {
            let _ = body.model();
            let _ = body.stream();
            let _ = body.include_usage();
            let out = body.rewrite(&Rewrite { model: Some("m"), force_include_usage: true });
            prop_assert!(serde_json::from_slice::<serde::de::IgnoredAny>(&out).is_ok());
        }
    }
}
