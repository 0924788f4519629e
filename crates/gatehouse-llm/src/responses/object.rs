//! The Responses objects both the non-streaming and the streaming translation write: output items, `usage`, the
//! response object itself, and the stop-reason → status mapping.
//!
//! Item ids are derived from the response id the caller gives (the crate has no clock and no randomness):
//! `msg_<base>_<n>`, `fc_<base>_<n>`, `rs_<base>_<n>`, where `<base>` is the response id without its `resp_`
//! prefix and `<n>` the item's `output_index`. `call_id` is Anthropic's `tool_use` id, so a
//! `function_call_output` pairs with the `tool_result` Anthropic expects.

use std::io::Write as _;

use serde_json::{Value, json};

use super::ResponseEcho;
use super::request::items::{REDACTED_PREFIX, THINKING_PREFIX};
use crate::Usage;
use crate::anthropic::json::write_str;

/// What every response object repeats: id, creation time, model, the request echo.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Head<'a> {
    pub(crate) id: &'a str,
    pub(crate) created_at: u64,
    pub(crate) model: &'a str,
    pub(crate) echo: &'a ResponseEcho,
}

/// How the response ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// `status: "in_progress"` (the `response.created` / `response.in_progress` snapshots).
    InProgress,
    Completed,
    /// `status: "incomplete"` with `incomplete_details.reason`.
    Incomplete(&'static str),
    /// `status: "failed"` with `error: {code, message}`.
    Failed,
}

/// Anthropic `stop_reason` → the outcome; `None` for a value this crate does not know (callers then report
/// `completed` and log the value).
pub(crate) fn outcome(stop_reason: &str) -> Option<Outcome> {
    Some(match stop_reason {
        "end_turn" | "stop_sequence" | "tool_use" | "pause_turn" => Outcome::Completed,
        "max_tokens" | "model_context_window_exceeded" | "compaction" => Outcome::Incomplete("max_output_tokens"),
        "refusal" => Outcome::Incomplete("content_filter"),
        _ => return None,
    })
}

// === impl Outcome ===

impl Outcome {
    /// The response's `status`.
    pub(crate) fn status(self) -> &'static str {
        match self {
            Self::InProgress => "in_progress",
            Self::Completed => "completed",
            Self::Incomplete(_) => "incomplete",
            Self::Failed => "failed",
        }
    }

    /// The `status` of a message item closed with this outcome.
    pub(crate) fn item_status(self) -> &'static str {
        match self {
            Self::Incomplete(_) | Self::Failed => "incomplete",
            Self::InProgress | Self::Completed => "completed",
        }
    }
}

/// `<prefix>_<base>_<index>`.
pub(crate) fn item_id(prefix: &str, response_id: &str, index: usize) -> String {
    let base = response_id.strip_prefix("resp_").unwrap_or(response_id);
    format!("{prefix}_{base}_{index}")
}

/// An `output_text` content part.
pub(crate) fn text_part(text: &str) -> Value {
    json!({"type": "output_text", "text": text, "annotations": [], "logprobs": []})
}

/// A `message` output item.
pub(crate) fn message_item(id: &str, status: &str, parts: Vec<Value>) -> Value {
    json!({"id": id, "type": "message", "status": status, "role": "assistant", "content": parts})
}

/// A `function_call` output item.
pub(crate) fn function_call_item(id: &str, status: &str, call_id: &str, name: &str, arguments: &str) -> Value {
    json!({
        "id": id,
        "type": "function_call",
        "status": status,
        "arguments": arguments,
        "call_id": call_id,
        "name": name,
    })
}

/// A `reasoning` output item from a thinking block (`signature` sealed into `encrypted_content`), or from a
/// redacted one (`redacted`: its data, no summary).
pub(crate) fn reasoning_item(
    id: &str,
    thinking: Option<&str>,
    signature: Option<&str>,
    redacted: Option<&str>,
) -> Value {
    let summary: Vec<Value> = thinking
        .map(|t| json!({"type": "summary_text", "text": t}))
        .into_iter()
        .collect();
    let sealed = match (redacted, signature) {
        (Some(data), _) => Value::String(format!("{REDACTED_PREFIX}{data}")),
        (None, Some(sig)) if !sig.is_empty() => Value::String(format!("{THINKING_PREFIX}{sig}")),
        _ => Value::Null,
    };
    json!({"id": id, "type": "reasoning", "summary": summary, "encrypted_content": sealed})
}

/// Appends the Responses `usage` object.
pub(crate) fn write_usage(u: &Usage, out: &mut Vec<u8>) {
    // Writing into a Vec cannot fail.
    let _ = write!(
        out,
        "{{\"input_tokens\":{},\"input_tokens_details\":{{\"cached_tokens\":{},\"cache_write_tokens\":{}}},\
         \"output_tokens\":{},\"output_tokens_details\":{{\"reasoning_tokens\":0}},\"total_tokens\":{}}}",
        u.input_tokens, u.cached_input_tokens, u.cache_write_input_tokens, u.output_tokens, u.total_tokens
    );
}

/// Appends a whole response object.
pub(crate) fn write_response(
    out: &mut Vec<u8>,
    head: &Head<'_>,
    outcome: Outcome,
    error: Option<(&str, &str)>,
    output: &[Value],
    usage: Option<&Usage>,
) {
    out.extend_from_slice(b"{\"id\":");
    write_str(out, head.id);
    let _ = write!(
        out,
        ",\"object\":\"response\",\"created_at\":{},\"status\":\"{}\",",
        head.created_at,
        outcome.status()
    );
    out.extend_from_slice(head.echo.as_json_members().as_bytes());
    out.extend_from_slice(b",\"error\":");
    match error {
        Some((code, message)) => {
            out.extend_from_slice(b"{\"code\":");
            write_str(out, code);
            out.extend_from_slice(b",\"message\":");
            write_str(out, message);
            out.push(b'}');
        }
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"incomplete_details\":");
    match outcome {
        Outcome::Incomplete(reason) => {
            let _ = write!(out, "{{\"reason\":\"{reason}\"}}");
        }
        _ => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"model\":");
    write_str(out, head.model);
    out.extend_from_slice(b",\"output\":");
    // Serialising a Value into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, output);
    out.extend_from_slice(b",\"usage\":");
    match usage {
        Some(u) => write_usage(u, out),
        None => out.extend_from_slice(b"null"),
    }
    out.push(b'}');
}
