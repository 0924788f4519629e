//! Any bytes as a 2026-07-28 `tools/call` with `Mcp-Param-*` headers: the first line is the tool's input schema
//! (JSON), the second its arguments (JSON), every further line one `name: value` header. Walking the schema and
//! checking the headers must not panic; a schema whose annotations are rejected validates nothing; for an accepted
//! schema, the headers a conforming client would send for these arguments always pass.
#![no_main]

use gatehouse_mcp::modern::params;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let mut lines = data.split(|b| *b == b'\n');
    let Some(Ok(schema)) = lines.next().map(serde_json::from_slice::<Value>) else {
        return;
    };
    let arguments = lines
        .next()
        .and_then(|l| serde_json::from_slice::<Value>(l).ok())
        .unwrap_or(Value::Null);
    let headers: Vec<(String, Vec<u8>)> = lines
        .filter_map(|l| {
            let i = l.iter().position(|b| *b == b':')?;
            Some((
                String::from_utf8_lossy(&l[..i]).into_owned(),
                l[i + 1..].trim_ascii().to_vec(),
            ))
        })
        .collect();
    let checked = params::check(
        &schema,
        &arguments,
        headers.iter().map(|(n, v)| (n.as_str(), v.as_slice())),
    );
    let Some(annotated) = params::annotations(&schema) else {
        assert!(checked.is_ok(), "an invalid schema validates nothing");
        return;
    };
    // What a conforming client sends: each present scalar argument rendered (base64 form when not plain ASCII).
    use base64::Engine as _;
    let mut mirrored: Vec<(String, Vec<u8>)> = Vec::new();
    for a in &annotated {
        let v = a.path.iter().try_fold(&arguments, |n, k| n.as_object()?.get(k));
        let rendered = match v {
            Some(Value::Bool(b)) => b.to_string(),
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => continue,
        };
        let value = if rendered.bytes().all(|b| (0x20..0x7f).contains(&b))
            && !rendered.starts_with("=?base64?")
            && rendered.trim() == rendered
        {
            rendered
        } else {
            format!(
                "=?base64?{}?=",
                base64::engine::general_purpose::STANDARD.encode(rendered.as_bytes())
            )
        };
        mirrored.push((format!("Mcp-Param-{}", a.token), value.into_bytes()));
    }
    let ok = params::check(
        &schema,
        &arguments,
        mirrored.iter().map(|(n, v)| (n.as_str(), v.as_slice())),
    );
    assert!(ok.is_ok(), "{ok:?}");
});
