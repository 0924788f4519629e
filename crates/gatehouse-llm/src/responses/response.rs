//! Anthropic message → Responses object (non-streaming).
//!
//! | Anthropic | Responses |
//! |---|---|
//! | (caller) | `id`, `created_at`, `model` from [`ResponseContext`] |
//! | `thinking` block | `reasoning` item: `summary: [{type:"summary_text", text}]`, `encrypted_content` = the signature sealed for the round trip |
//! | `redacted_thinking` block | `reasoning` item: `summary: []`, `encrypted_content` = its data sealed |
//! | consecutive `text` blocks | one `message` item (`role: assistant`), one `output_text` part (`annotations: []`) per block |
//! | `tool_use` block | `function_call` item: `call_id` = the `tool_use` id, `name`, `arguments` = compact JSON text of `input` |
//! | `server_tool_use`, `*_tool_result`, other blocks | nothing (the gateway never declares Anthropic server tools) |
//! | `stop_reason` `end_turn`, `stop_sequence`, `tool_use`, `pause_turn` | `status: "completed"` |
//! | `stop_reason` `max_tokens`, `model_context_window_exceeded` | `status: "incomplete"`, `incomplete_details.reason: "max_output_tokens"`, the last `message` item `incomplete` |
//! | `stop_reason` `refusal` | `status: "incomplete"`, `incomplete_details.reason: "content_filter"` |
//! | `stop_reason` null or unknown | `status: "completed"`; the unknown value is returned for the server to log |
//! | `usage` | `input_tokens` = input + cache read + cache creation, `input_tokens_details.cached_tokens` = cache read, `output_tokens`, `output_tokens_details.reasoning_tokens` = 0 (Anthropic does not split it out), `total_tokens` |
//!
//! The request parameters the object repeats (`instructions`, `tools`, `temperature`, ...) come from the
//! [`ResponseEcho`](super::ResponseEcho) of the request.

use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;

use super::ResponseContext;
use super::object::{self, Head, Outcome};
use crate::anthropic::json::{CowStr, compact, truncate};
use crate::anthropic::tokens::AnthropicUsage;
use crate::{LlmError, Usage};

/// A translated response with everything the server needs to answer, meter, store and log.
#[derive(Debug, Clone, PartialEq)]
pub struct TranslatedResponse {
    /// The Responses object JSON (`object: "response"`).
    pub body: Vec<u8>,
    /// What to meter.
    pub usage: Usage,
    /// The `output` items (also in `body`), for the response store: append them after the request's
    /// [`input_items`](super::input_items) to get the conversation a later `previous_response_id` continues.
    pub output_items: Vec<Value>,
    /// `completed` or `incomplete`.
    pub status: &'static str,
    /// Anthropic's `stop_reason` when it was not one this crate knows (reported as `completed`), cut to 64 bytes.
    pub unknown_stop_reason: Option<String>,
}

/// The parts of an Anthropic `Message` the translation reads.
#[derive(Deserialize)]
struct Message<'a> {
    #[serde(borrow)]
    content: Vec<Block<'a>>,
    #[serde(default, borrow)]
    stop_reason: Option<CowStr<'a>>,
    usage: AnthropicUsage,
}

/// A content block; `kind` decides which fields are read.
#[derive(Deserialize)]
struct Block<'a> {
    #[serde(rename = "type", borrow)]
    kind: CowStr<'a>,
    #[serde(default, borrow)]
    text: Option<CowStr<'a>>,
    #[serde(default, borrow)]
    thinking: Option<CowStr<'a>>,
    #[serde(default, borrow)]
    signature: Option<CowStr<'a>>,
    #[serde(default, borrow)]
    data: Option<CowStr<'a>>,
    #[serde(default, borrow)]
    id: Option<CowStr<'a>>,
    #[serde(default, borrow)]
    name: Option<CowStr<'a>>,
    #[serde(default, borrow)]
    input: Option<&'a RawValue>,
}

/// Translates an Anthropic message into a Responses object.
///
/// # Errors
///
/// [`LlmError::UpstreamInvalid`] when the body is not an Anthropic message.
pub fn translate_response(anthropic_body: &[u8], ctx: &ResponseContext<'_>) -> Result<TranslatedResponse, LlmError> {
    let text = std::str::from_utf8(anthropic_body).map_err(|_| LlmError::upstream_invalid("body is not UTF-8"))?;
    let msg: Message<'_> = serde_json::from_str(text).map_err(|e| LlmError::upstream_invalid(e.to_string()))?;
    let (outcome, unknown_stop_reason) = match msg.stop_reason.as_deref() {
        None => (Outcome::Completed, None),
        Some(s) => match object::outcome(s) {
            Some(o) => (o, None),
            None => (Outcome::Completed, Some(truncate(s, 64).into_owned())),
        },
    };

    let mut output: Vec<Value> = Vec::with_capacity(msg.content.len());
    // The open message: its output index and parts.
    let mut message: Option<(usize, Vec<Value>)> = None;
    // A message followed by another item is complete; only the last one is cut by a `max_tokens` stop.
    let close = |message: &mut Option<(usize, Vec<Value>)>, output: &mut Vec<Value>, status: &str| {
        if let Some((index, parts)) = message.take() {
            let id = object::item_id("msg", ctx.id, index);
            output[index] = object::message_item(&id, status, parts);
        }
    };
    for block in &msg.content {
        match &*block.kind {
            "text" => {
                let t = block.text.as_deref().unwrap_or_default();
                match &mut message {
                    Some((_, parts)) => parts.push(object::text_part(t)),
                    None => {
                        message = Some((output.len(), vec![object::text_part(t)]));
                        output.push(Value::Null);
                    }
                }
            }
            "thinking" => {
                close(&mut message, &mut output, "completed");
                let id = object::item_id("rs", ctx.id, output.len());
                output.push(object::reasoning_item(
                    &id,
                    Some(block.thinking.as_deref().unwrap_or_default()),
                    block.signature.as_deref(),
                    None,
                ));
            }
            "redacted_thinking" => {
                close(&mut message, &mut output, "completed");
                let id = object::item_id("rs", ctx.id, output.len());
                output.push(object::reasoning_item(&id, None, None, block.data.as_deref()));
            }
            "tool_use" => {
                close(&mut message, &mut output, "completed");
                let (Some(call_id), Some(name)) = (block.id.as_deref(), block.name.as_deref()) else {
                    return Err(LlmError::upstream_invalid("tool_use block without id or name"));
                };
                let mut arguments = String::new();
                compact(block.input.map_or("{}", RawValue::get), &mut arguments);
                let id = object::item_id("fc", ctx.id, output.len());
                output.push(object::function_call_item(&id, "completed", call_id, name, &arguments));
            }
            _ => {}
        }
    }
    close(&mut message, &mut output, outcome.item_status());
    let usage = msg.usage.to_usage();
    let head = Head {
        id: ctx.id,
        created_at: ctx.created_at,
        model: ctx.model,
        echo: ctx.echo,
    };
    let mut body = Vec::with_capacity(text.len() + ctx.echo.as_json_members().len() + 512);
    object::write_response(&mut body, &head, outcome, None, &output, Some(&usage));
    Ok(TranslatedResponse {
        body,
        usage,
        output_items: output,
        status: outcome.status(),
        unknown_stop_reason,
    })
}

#[cfg(test)]
mod tests;
