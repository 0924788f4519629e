//! The request parameters a Responses object repeats back (`instructions`, `tools`, `tool_choice`,
//! `temperature`, ...), written once per request as JSON members.
//!
//! Values are the client's own, compacted (no insignificant whitespace, so a frame stays one `data:` line); an
//! absent parameter is echoed with the value OpenAI reports for it (`temperature: 1.0`, `tool_choice: "auto"`,
//! `tools: []`, `truncation: "disabled"`, `store: true`, ...). `service_tier` is always `"default"`.

use serde::Deserialize;
use serde_json::value::RawValue;

use super::super::ResponseEcho;
use super::input::ResponsesRequest;
use super::tools::invalid;
use crate::LlmError;
use crate::anthropic::json::{compact, write_str};

/// `reasoning`, read only to echo its two fields.
#[derive(Default, Deserialize)]
struct Reasoning<'a> {
    #[serde(default, borrow)]
    effort: Option<&'a RawValue>,
    #[serde(default, borrow)]
    summary: Option<&'a RawValue>,
}

/// The echo of `req`.
pub(super) fn build(req: &ResponsesRequest<'_>) -> Result<ResponseEcho, LlmError> {
    let mut s = String::with_capacity(512 + req.tools.map_or(0, |t| t.get().len()));
    let reasoning: Reasoning<'_> = match req.reasoning {
        None => Reasoning::default(),
        Some(raw) => serde_json::from_str(raw.get()).map_err(|e| invalid("reasoning", &e))?,
    };
    s.push_str("\"background\":false,\"instructions\":");
    raw_or(&mut s, req.instructions, "null");
    s.push_str(",\"max_output_tokens\":");
    match req.max_output_tokens {
        Some(n) => s.push_str(&n.to_string()),
        None => s.push_str("null"),
    }
    s.push_str(",\"max_tool_calls\":");
    raw_or(&mut s, req.max_tool_calls, "null");
    s.push_str(",\"metadata\":");
    raw_or(&mut s, req.metadata, "{}");
    s.push_str(",\"parallel_tool_calls\":");
    s.push_str(if req.parallel_tool_calls == Some(false) {
        "false"
    } else {
        "true"
    });
    s.push_str(",\"previous_response_id\":");
    str_or_null(&mut s, req.previous_response_id.as_deref());
    s.push_str(",\"reasoning\":{\"effort\":");
    raw_or(&mut s, reasoning.effort, "null");
    s.push_str(",\"summary\":");
    raw_or(&mut s, reasoning.summary, "null");
    s.push_str("},\"service_tier\":\"default\",\"store\":");
    s.push_str(if req.store == Some(false) { "false" } else { "true" });
    s.push_str(",\"temperature\":");
    raw_or(&mut s, req.temperature, "1.0");
    s.push_str(",\"text\":");
    raw_or(&mut s, req.text, r#"{"format":{"type":"text"},"verbosity":"medium"}"#);
    s.push_str(",\"tool_choice\":");
    raw_or(&mut s, req.tool_choice, "\"auto\"");
    s.push_str(",\"tools\":");
    raw_or(&mut s, req.tools, "[]");
    s.push_str(",\"top_logprobs\":");
    s.push_str(&req.top_logprobs.unwrap_or(0).to_string());
    s.push_str(",\"top_p\":");
    raw_or(&mut s, req.top_p, "1.0");
    s.push_str(",\"truncation\":");
    str_or_null(&mut s, Some(req.truncation.as_deref().unwrap_or("disabled")));
    s.push_str(",\"user\":");
    str_or_null(&mut s, req.user.as_deref());
    Ok(ResponseEcho { members: s })
}

/// The raw value without line breaks (compacted only when it has some: SDKs send compact JSON), or `default`
/// when absent (or `null`).
fn raw_or(s: &mut String, raw: Option<&RawValue>, default: &str) {
    match raw.map(RawValue::get).filter(|r| *r != "null") {
        Some(r) if memchr::memchr2(b'\n', b'\r', r.as_bytes()).is_some() => compact(r, s),
        Some(r) => s.push_str(r),
        None => s.push_str(default),
    }
}

fn str_or_null(s: &mut String, v: Option<&str>) {
    match v {
        Some(v) => {
            let mut buf = Vec::with_capacity(v.len() + 2);
            write_str(&mut buf, v);
            // `write_str` writes valid UTF-8 (the input plus ASCII escapes).
            s.push_str(&String::from_utf8_lossy(&buf));
        }
        None => s.push_str("null"),
    }
}
