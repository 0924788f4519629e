//! Anthropic `/v1/messages` request → OpenAI `/v1/chat/completions` request.
//!
//! One pass: the body is read into borrowed typed structs ([`input`](super::input)), each parameter is mapped,
//! refused or dropped, and the OpenAI body is serialised from borrowed structs ([`output`]). Messages are in
//! [`messages`], tools in [`tools`].
//!
//! Parameter rules (beyond the per-field mapping in the submodules):
//! - `model` is not read: the server resolved it already and passes the backend's name.
//! - `max_tokens` is required (≥ 1), as by Anthropic, and sent as `max_tokens`, not `max_completion_tokens`: vLLM
//!   and every OpenAI-compatible server accept `max_tokens`, while `max_completion_tokens` is newer and missing
//!   from many of them (only OpenAI's own reasoning models insist on it, and they are not the target here).
//! - `stop_sequences` → `stop`, every entry: OpenAI's limit of 4 does not bind vLLM, and dropping sequences would
//!   silently change where the output ends.
//! - `temperature`, `top_p` pass unchanged (Anthropic's 0–1 range lies inside OpenAI's 0–2); `top_k` passes as
//!   `top_k`, an extra parameter vLLM (and most OpenAI-compatible servers) accept.
//! - `thinking: {type: enabled, budget_tokens}` → `reasoning_effort`: budget ≤ 1024 `low`, ≤ 4096 `medium`, else
//!   `high`. `disabled` sends nothing; `adaptive` sends the level of `output_config.effort` if given
//!   (`xhigh`/`max` → `high`). An enabled budget wins over `output_config.effort`.
//! - `output_config.format` (`json_schema`) → `response_format: {type: json_schema, json_schema: {name:
//!   "response", schema}}`, without `strict` (OpenAI's strict mode refuses many valid schemas; vLLM constrains the
//!   output either way).
//! - `metadata.user_id` → `user`.
//! - `stream: true` → `stream: true` + `stream_options.include_usage: true` (Anthropic's `message_delta` must
//!   carry usage, and OpenAI streams it only when asked).
//! - `service_tier`, `container`, `context_management` only concern Anthropic's platform: dropped, reported.
//!   Unknown top-level keys are dropped and reported by name.
//! - A conversation with nothing left to send once thinking blocks are dropped is a 400 (OpenAI-style backends
//!   refuse an empty `messages` less clearly).
//!
//! Names reported in [`IngressRequest::dropped`]: `service_tier`, `container`, `context_management`,
//! `cache_control`, `citations`, `document_context`, `eager_input_streaming`, `thinking_blocks`, `is_error`,
//! `assistant_prefill`.

mod messages;
mod output;
mod tools;

use super::input::{self, OutputConfig, Thinking};
use super::{IngressRequest, estimate};
use crate::LlmError;
use output::{ChatRequest, JsonSchema, ResponseFormat, StreamOptions};

/// Records dropped parameters, each once.
#[derive(Debug, Default)]
pub(super) struct Drops {
    names: Vec<&'static str>,
}

/// Translates an Anthropic Messages request body into an OpenAI chat-completions body for `upstream_model`.
///
/// # Errors
///
/// [`LlmError::InvalidJson`] when the body is not UTF-8 JSON; [`LlmError::InvalidRequest`] naming the parameter
/// when it is missing, malformed or cannot be served by an OpenAI-style backend (see the module docs).
pub fn translate_request(anthropic_body: &[u8], upstream_model: &str) -> Result<IngressRequest, LlmError> {
    let req = input::parse(anthropic_body)?;
    let max_tokens = match req.max_tokens {
        None => return Err(LlmError::invalid_request("`max_tokens` is required")),
        Some(0) => return Err(LlmError::invalid_request("`max_tokens` must be at least 1")),
        Some(n) => n,
    };
    let input_tokens_estimate = estimate::estimate(&req)?;
    if req.mcp_servers.as_ref().is_some_and(|s| !s.is_empty()) {
        return Err(LlmError::invalid_request(
            "`mcp_servers`: Anthropic's MCP connector is not supported by this target",
        ));
    }
    let mut drops = Drops::default();
    for name in &req.platform_only {
        drops.note(name);
    }
    let input::MessagesRequest {
        messages,
        system,
        stop_sequences,
        temperature,
        top_p,
        top_k,
        stream,
        tools,
        tool_choice,
        metadata,
        thinking,
        output_config,
        unknown,
        ..
    } = req;
    let tools = tools::tools(tools, tool_choice, &mut drops)?;
    let messages = messages::convert(system, messages.unwrap_or_default(), &mut drops)?;
    if messages.iter().all(|m| matches!(m, output::ChatMessage::System { .. })) {
        return Err(LlmError::invalid_request(
            "`messages` has nothing to send once thinking blocks are dropped",
        ));
    }
    let (format, effort) = output_config.map_or((None, None), |OutputConfig { format, effort }| (format, effort));
    let stream = stream.unwrap_or(false);
    let out = ChatRequest {
        model: upstream_model,
        messages,
        max_tokens,
        stop: stop_sequences.unwrap_or_default().into_iter().map(|s| s.0).collect(),
        temperature,
        top_p,
        top_k,
        tools: tools.tools,
        tool_choice: tools.choice,
        parallel_tool_calls: tools.parallel_tool_calls,
        reasoning_effort: reasoning_effort(thinking, effort.as_deref())?,
        response_format: response_format(format)?,
        user: metadata.and_then(|m| m.user_id).map(|u| u.0),
        stream,
        stream_options: stream.then_some(StreamOptions { include_usage: true }),
    };
    let body = crate::body::write_body(&out, anthropic_body.len(), "serialising the OpenAI request failed")?;
    Ok(IngressRequest {
        body,
        stream,
        dropped: drops.names,
        dropped_unknown: unknown,
        input_tokens_estimate,
    })
}

/// `thinking` (and `output_config.effort`) → `reasoning_effort`.
fn reasoning_effort(thinking: Option<Thinking<'_>>, effort: Option<&str>) -> Result<Option<&'static str>, LlmError> {
    let level = match effort {
        None => None,
        Some("low") => Some("low"),
        Some("medium") => Some("medium"),
        Some("high" | "xhigh" | "max") => Some("high"),
        Some(_) => {
            return Err(LlmError::invalid_request(
                "`output_config.effort` must be low, medium, high, xhigh or max",
            ));
        }
    };
    let Some(thinking) = thinking else {
        return Ok(level);
    };
    match &*thinking.kind {
        "enabled" => {
            let budget = thinking.budget_tokens.ok_or_else(|| {
                LlmError::invalid_request("`thinking.budget_tokens` is required when thinking is enabled")
            })?;
            Ok(Some(match budget {
                0..=1024 => "low",
                1025..=4096 => "medium",
                _ => "high",
            }))
        }
        "disabled" => Ok(None),
        "adaptive" => Ok(level),
        _ => Err(LlmError::invalid_request(
            "`thinking.type` must be enabled, disabled or adaptive",
        )),
    }
}

/// `output_config.format` → `response_format`.
fn response_format(format: Option<input::OutputFormat<'_>>) -> Result<Option<ResponseFormat<'_>>, LlmError> {
    let Some(format) = format else {
        return Ok(None);
    };
    if &*format.kind != "json_schema" {
        return Err(LlmError::invalid_request(
            "`output_config.format.type` must be json_schema",
        ));
    }
    let schema = format
        .schema
        .ok_or_else(|| LlmError::invalid_request("`output_config.format.schema` is required"))?;
    Ok(Some(ResponseFormat {
        kind: "json_schema",
        json_schema: JsonSchema {
            name: "response",
            schema,
        },
    }))
}

// === impl Drops ===

impl Drops {
    /// Records a dropped parameter (once).
    pub(super) fn note(&mut self, name: &'static str) {
        if !self.names.contains(&name) {
            self.names.push(name);
        }
    }
}

#[cfg(test)]
mod tests;
