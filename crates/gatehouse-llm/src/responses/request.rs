//! OpenAI Responses request → Anthropic `/v1/messages` request.
//!
//! One pass: the body is read into borrowed typed structs ([`input`]), each parameter is mapped, refused or
//! dropped, and the Anthropic body is serialised from the chat translator's borrowed output structs, so both
//! dialects produce the same Anthropic shapes. Items are in [`items`], tools and structured output in [`tools`],
//! the echo of the request in the response object in [`echo`].
//!
//! Parameter rules (beyond the per-field mapping in the submodules):
//! - `max_tokens` (required by Anthropic) = `max_output_tokens`, else the model default (`ModelRules`). Both
//!   count thinking tokens, so the meaning is the same.
//! - `temperature` must be within Anthropic's 0–1 (OpenAI allows 2; scaling would silently change the meaning),
//!   `top_p` within 0–1; then the model's `Sampling` rule decides what is sent (as for chat).
//! - `reasoning.effort` → `thinking.budget_tokens` on the chat translator's scale (minimal/low 1024, medium 2048,
//!   high 4096, xhigh 8192; `none` omits it), capped below `max_tokens`; dropped when `max_tokens` ≤ 1024, when
//!   `tool_choice` forces a tool, or when the last assistant message calls tools without the signed thinking
//!   block Anthropic then requires (the client did not replay its reasoning item): Anthropic would refuse all of
//!   these. `reasoning.summary` only shapes the output and is not sent.
//! - `safety_identifier`, else `user` → `metadata.user_id` unless it looks like an e-mail address or phone number.
//!   The client's `metadata` object is OpenAI's tagging: echoed in the response object, not sent.
//! - `previous_response_id` must have been resolved by the server: it passes the stored conversation as
//!   [`RequestOptions::history`](super::RequestOptions::history), which is prepended to `input`. Without it the
//!   parameter is a 400 (ignoring it would silently lose the conversation).
//! - Refused always (they would change what the client gets): `background: true`, `prompt` (a template stored at
//!   OpenAI), `conversation` (a conversation stored at OpenAI).
//! - Refused, or dropped when the model's rules say so: `top_logprobs` > 0, `include` asking for
//!   `message.output_text.logprobs`, `text.verbosity` other than `medium`.
//! - Dropped and reported: `service_tier`, `prompt_cache_key`, `prompt_cache_retention`, `context_management`
//!   (OpenAI platform features), `truncation: "auto"` (Anthropic never truncates; an oversized prompt is a 400
//!   either way), `max_tool_calls` (limits hosted tools only), reasoning input items. Unknown keys are dropped
//!   and reported by name.
//! - Consumed, not sent: `store` (reported in [`TranslatedRequest::store`](super::TranslatedRequest::store) for
//!   the server's response store), `stream_options` (obfuscation is never added), `include:
//!   ["reasoning.encrypted_content"]` and the other includables of hosted tools.

mod echo;
pub(crate) mod input;
pub(crate) mod items;
mod tools;

use serde_json::value::RawValue;

use super::{RequestOptions, TranslatedRequest};
use crate::LlmError;
use crate::anthropic::json::{CowStr, StrOr};
use crate::anthropic::request::output::{Block, MessagesRequest, Turn};
use crate::anthropic::request::{Drops, Sampled, metadata, sampling, thinking};
use input::{Item, ReasoningConfig, ResponsesRequest};

/// At most this many warnings are reported, each name cut to [`MAX_WARNING_NAME_BYTES`] after its prefix.
const MAX_WARNINGS: usize = 16;
/// Longest name in a warning, in bytes.
const MAX_WARNING_NAME_BYTES: usize = 64;

/// Things the target cannot do that were dropped so the rest of the request could be served (`tool:web_search`,
/// `item:web_search_call`, ...), bounded so a hostile body cannot grow the list.
#[derive(Debug, Default)]
pub(crate) struct Warnings(Vec<String>);

/// Translates an OpenAI Responses body for Anthropic; see [`super`] for how to call it.
///
/// # Errors
///
/// [`LlmError::InvalidJson`] when the body is not UTF-8 JSON; [`LlmError::InvalidRequest`] naming the parameter
/// or item when it cannot be translated faithfully (see the module docs).
pub fn translate_request(responses_body: &[u8], opts: &RequestOptions<'_>) -> Result<TranslatedRequest, LlmError> {
    let (text, req): (&str, ResponsesRequest<'_>) = crate::body::parse_body(responses_body)?;
    let history_text = match opts.history {
        Some(items) => Some(serde_json::to_string(items).map_err(|_| LlmError::Internal {
            detail: "serialising the stored conversation failed",
        })?),
        None => None,
    };
    let history: Option<Vec<Item<'_>>> =
        match &history_text {
            Some(t) => Some(serde_json::from_str(t).map_err(|e| {
                LlmError::invalid_request(format!("the stored conversation is not a list of items: {e}"))
            })?),
            None => None,
        };
    let mut drops = Drops {
        rules: opts.rules,
        names: Vec::new(),
    };
    let mut warnings = Warnings::default();
    refuse(&req, history.is_some(), &mut drops)?;
    let echo = echo::build(&req)?;

    let max_tokens = match req.max_output_tokens {
        None => opts.rules.max_tokens_default.max(1),
        Some(0) => return Err(LlmError::invalid_request("`max_output_tokens` must be at least 1")),
        Some(v) => u32::try_from(v).map_err(|_| LlmError::invalid_request("`max_output_tokens` is too large"))?,
    };
    let instructions = match req.instructions {
        None => None,
        Some(raw) => Some(
            serde_json::from_str::<CowStr<'_>>(raw.get())
                .map_err(|_| LlmError::invalid_request("`instructions` must be a string"))?,
        ),
    };
    let tools = tools::tools(req.tools, req.tool_choice, req.parallel_tool_calls, &mut warnings)?;
    let reasoning: ReasoningConfig<'_> = match req.reasoning {
        None => ReasoningConfig::default(),
        Some(raw) => serde_json::from_str(raw.get()).map_err(|e| tools::invalid("reasoning", &e))?,
    };
    let mut thinking = thinking(reasoning.effort, "reasoning.effort", max_tokens, &mut drops)?;
    if thinking.is_some() && tools.forced {
        drops.note("reasoning.effort");
        thinking = None;
    }
    let mut conversation = items::Builder::new(instructions, thinking.is_some());
    if let Some(prior) = history {
        conversation.items(prior, "previous response", &mut drops, &mut warnings)?;
    }
    match req.input {
        None => return Err(LlmError::invalid_request("`input` is required")),
        Some(StrOr::Str(s)) => conversation.user_text(s),
        Some(StrOr::Other(list)) => conversation.items(list, "input", &mut drops, &mut warnings)?,
    }
    let mut conversation = conversation.finish()?;
    if thinking.is_some() && !thinking_continues(&conversation.turns) {
        drops.note("reasoning.effort");
        thinking = None;
        strip_thinking(&mut conversation.turns);
    }
    let Sampled {
        temperature,
        top_p,
        top_k,
    } = sampling(
        [number(req.temperature, "temperature")?, number(req.top_p, "top_p")?],
        req.top_k,
        opts.rules.sampling,
        thinking.is_some(),
        &mut drops,
    )?;
    let output_config = tools::output_config(req.text, &mut drops)?;
    let stream = req.stream.unwrap_or(false);
    let out = MessagesRequest {
        model: opts.upstream_model,
        max_tokens,
        system: conversation.system,
        messages: conversation.turns,
        stop_sequences: Vec::new(),
        temperature,
        top_p,
        top_k,
        tools: tools.tools,
        tool_choice: tools.choice,
        thinking,
        output_config,
        metadata: metadata(req.safety_identifier, req.user, &mut drops),
        stream,
    };
    let body = crate::body::write_body(&out, text.len(), "serialising the Anthropic request failed")?;
    Ok(TranslatedRequest {
        body,
        stream,
        store: req.store.unwrap_or(true),
        dropped: drops.names,
        dropped_unknown: req.unknown,
        warnings: warnings.0,
        echo,
    })
}

/// Refuses (or drops, per the model's rules) what has no Anthropic meaning; notes platform-only parameters.
fn refuse(req: &ResponsesRequest<'_>, has_history: bool, drops: &mut Drops<'_>) -> Result<(), LlmError> {
    if req.background == Some(true) {
        return Err(LlmError::invalid_request(
            "`background` responses are not supported for this model",
        ));
    }
    if let Some(name) = req.unsupported.first() {
        return Err(LlmError::invalid_request(format!(
            "`{name}` is not supported for this model"
        )));
    }
    if req.previous_response_id.is_some() && !has_history {
        return Err(LlmError::invalid_request(
            "`previous_response_id` could not be resolved for this model",
        ));
    }
    if req.top_logprobs.is_some_and(|n| n > 0) {
        drops.unsupported("top_logprobs")?;
    }
    if req
        .include
        .as_ref()
        .is_some_and(|list| list.iter().any(|i| &**i == "message.output_text.logprobs"))
    {
        drops.unsupported("include")?;
    }
    for name in &req.platform_only {
        drops.note(name);
    }
    if req.truncation.as_deref() == Some("auto") {
        drops.note("truncation");
    }
    if req.max_tool_calls.is_some() {
        drops.note("max_tool_calls");
    }
    Ok(())
}

/// With thinking enabled, Anthropic requires the last assistant message of a tool loop to start with its signed
/// thinking block ("a final `assistant` message must start with a thinking block"). A client that replays only
/// the `function_call` (not the reasoning item before it) cannot satisfy that; such a request is served without
/// thinking (reported) rather than failed.
fn thinking_continues(turns: &[Turn<'_>]) -> bool {
    let Some(last) = turns.iter().rev().find(|t| t.role == "assistant") else {
        return true;
    };
    !last.content.iter().any(|b| matches!(b, Block::ToolUse { .. }))
        || matches!(
            last.content.first(),
            Some(Block::Thinking { .. } | Block::RedactedThinking { .. })
        )
}

/// Removes thinking blocks once thinking is off (keeping a block that is all its message has: an empty message
/// would be refused).
fn strip_thinking(turns: &mut [Turn<'_>]) {
    let thought = |b: &Block<'_>| matches!(b, Block::Thinking { .. } | Block::RedactedThinking { .. });
    for turn in turns {
        if turn.content.iter().any(|b| !thought(b)) {
            turn.content.retain(|b| !thought(b));
        }
    }
}

/// A number parameter kept raw for the echo, read as `f64`.
fn number(raw: Option<&RawValue>, name: &str) -> Result<Option<f64>, LlmError> {
    raw.map(|r| {
        serde_json::from_str::<f64>(r.get())
            .map_err(|_| LlmError::invalid_request(format!("`{name}` must be a number")))
    })
    .transpose()
}

/// The echo of a request that set none of the echoed parameters.
pub(super) fn default_echo() -> super::ResponseEcho {
    echo::build(&ResponsesRequest::default()).unwrap_or(super::ResponseEcho { members: String::new() })
}

// === impl Warnings ===

impl Warnings {
    /// Records `what:name` once, within the bounds. The name comes from the client: every byte outside
    /// `[A-Za-z0-9_.-]` becomes `_`, so an entry is always a valid header value.
    pub(crate) fn push(&mut self, what: &str, name: &str) {
        let mut entry = String::with_capacity(what.len() + 1 + name.len().min(MAX_WARNING_NAME_BYTES));
        entry.push_str(what);
        entry.push(':');
        entry.extend(name.bytes().take(MAX_WARNING_NAME_BYTES).map(|b| {
            if b.is_ascii_alphanumeric() || b"_.-".contains(&b) {
                char::from(b)
            } else {
                '_'
            }
        }));
        if self.0.len() < MAX_WARNINGS && !self.0.contains(&entry) {
            self.0.push(entry);
        }
    }
}

#[cfg(test)]
mod tests;
