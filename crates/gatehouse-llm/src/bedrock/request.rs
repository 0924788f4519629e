//! OpenAI chat-completions request → Bedrock `Converse` / `ConverseStream` request (botocore
//! `bedrock-runtime` 2023-09-30 shapes; the model id goes in the URL).
//!
//! - Leading `system`/`developer` messages → `system[{text}]` (leading run only, as for the other targets); a later
//!   one becomes user text in place.
//! - `user` → `{role:"user", content:[{text}|{image:{format, source:{bytes}}}]}`; images only as `data:` URLs of
//!   png/jpeg/gif/webp (Bedrock has no URL source; the gateway does not fetch).
//! - `assistant` → text then `{toolUse:{toolUseId, name, input}}` per tool call (arguments parsed, must be an
//!   object); `tool` → `{toolResult:{toolUseId, content:[{json}|{text}], status:"success"}}` in a user turn, before
//!   its other blocks. Consecutive same-role messages are merged (Bedrock wants alternation). Tool ids are
//!   sanitised to `[a-zA-Z0-9_.:-]` and cut to 64 bytes, identically on both sides, so they still pair.
//! - `max_completion_tokens` else `max_tokens` → `inferenceConfig.maxTokens`; `temperature`, `top_p`, `stop`
//!   (`stopSequences`).
//! - `tools` → `toolConfig.tools[{toolSpec:{name, description, inputSchema:{json}}}]`; `tool_choice` `auto` →
//!   `{auto:{}}`, `required` → `{any:{}}`, a function → `{tool:{name}}`; `none` has no Bedrock equivalent: the tools
//!   are not sent at all — unless the conversation already holds tool blocks (then Bedrock requires `toolConfig`),
//!   in which case the tools are sent without a choice and `tool_choice` is reported as dropped.
//! - `parallel_tool_calls`, `user`, `safety_identifier`, `top_k` and OpenAI platform fields: dropped and reported.
//! - `n` > 1, `seed`, `logprobs`, `top_logprobs`, `logit_bias`, non-zero penalties, `response_format` other than
//!   `text`, `reasoning_effort`, non-text `modalities` and the other OpenAI-only features: 400 naming the
//!   parameter, or dropped per target (`drop_unsupported`).

mod messages;
mod output;

use super::{RequestOptions, TranslatedRequest};
use crate::LlmError;
use crate::anthropic::json::{StrOr, static_raw};
use crate::anthropic::request::input::{ChatRequest, Tool};
use crate::drops::Drops;
use messages::{convert, tool_name};
use output::{Choice, ConverseRequest, Empty, InferenceConfig, Schema, ToolConfig, ToolEntry, ToolSpec};

/// Translates an OpenAI chat-completions body for Bedrock Converse.
///
/// # Errors
///
/// [`LlmError::InvalidJson`] when the body is not UTF-8 JSON; [`LlmError::InvalidRequest`] naming the parameter
/// when it cannot be translated faithfully (see the module docs).
pub fn translate_request(openai_chat_body: &[u8], opts: &RequestOptions) -> Result<TranslatedRequest, LlmError> {
    let (text, req): (&str, ChatRequest<'_>) = crate::body::parse_body(openai_chat_body)?;
    let mut drops = Drops::new(opts.drop_unsupported, "Bedrock Converse");
    unsupported(&req, &mut drops)?;
    for name in &req.platform_only {
        drops.note(name);
    }
    for (name, present) in [
        ("parallel_tool_calls", req.parallel_tool_calls.is_some()),
        ("user", req.user.is_some()),
        ("safety_identifier", req.safety_identifier.is_some()),
        ("top_k", req.top_k.is_some()),
    ] {
        if present {
            drops.note(name);
        }
    }
    let ChatRequest {
        messages,
        max_completion_tokens,
        max_tokens,
        temperature,
        top_p,
        stop,
        stream,
        tools,
        tool_choice,
        unknown,
        ..
    } = req;
    if temperature.is_some_and(|t| !(0.0..=1.0).contains(&t)) {
        return Err(LlmError::invalid_request(
            "`temperature` must be between 0 and 1 for Bedrock models",
        ));
    }
    if top_p.is_some_and(|p| !(0.0..=1.0).contains(&p)) {
        return Err(LlmError::invalid_request("`top_p` must be between 0 and 1"));
    }
    let max_tokens = match (max_completion_tokens, max_tokens) {
        (Some(0), _) | (None, Some(0)) => return Err(LlmError::invalid_request("`max_tokens` must be at least 1")),
        (Some(v), _) | (None, Some(v)) => Some(v),
        (None, None) => None,
    };
    let messages = messages.ok_or_else(|| LlmError::invalid_request("`messages` is required"))?;
    let (system, turns, has_tool_blocks) = convert(messages)?;
    let tool_config = tool_config(tools, tool_choice, has_tool_blocks, &mut drops)?;
    let stop_sequences = match stop {
        None => Vec::new(),
        Some(StrOr::Str(s)) => vec![s.0],
        Some(StrOr::Other(v)) => v.into_iter().map(|s| s.0).collect(),
    };
    let out = ConverseRequest {
        messages: turns,
        system,
        inference_config: InferenceConfig {
            max_tokens,
            temperature,
            top_p,
            stop_sequences: stop_sequences.into_iter().filter(|s| !s.is_empty()).collect(),
        },
        tool_config,
    };
    let body = crate::body::write_body(&out, text.len(), "serialising the Bedrock request failed")?;
    Ok(TranslatedRequest {
        body,
        stream: stream.unwrap_or(false),
        dropped: drops.names,
        dropped_unknown: unknown,
    })
}

fn unsupported(req: &ChatRequest<'_>, drops: &mut Drops) -> Result<(), LlmError> {
    match req.n {
        Some(0) => return Err(LlmError::invalid_request("`n` must be at least 1")),
        Some(2..) => drops.unsupported("n")?,
        _ => {}
    }
    for name in req.openai_only(true) {
        drops.unsupported(name)?;
    }
    let checks = [
        (
            "response_format",
            req.response_format.as_ref().is_some_and(|f| &*f.kind != "text"),
        ),
        (
            "reasoning_effort",
            req.reasoning_effort.as_ref().is_some_and(|e| &**e != "none"),
        ),
    ];
    for (name, hit) in checks {
        if hit {
            drops.unsupported(name)?;
        }
    }
    for name in &req.unsupported {
        drops.unsupported(name)?;
    }
    Ok(())
}

fn tool_config<'a>(
    tools: Option<Vec<Tool<'a>>>,
    choice: Option<StrOr<'a, crate::anthropic::request::input::ChoiceObject<'a>>>,
    has_tool_blocks: bool,
    drops: &mut Drops,
) -> Result<Option<ToolConfig<'a>>, LlmError> {
    let mut entries = Vec::new();
    for (i, tool) in tools.unwrap_or_default().into_iter().enumerate() {
        if &*tool.kind != "function" {
            return Err(LlmError::invalid_request(format!(
                "`tools[{i}]`: only `function` tools are supported"
            )));
        }
        let f = tool
            .function
            .ok_or_else(|| LlmError::invalid_request(format!("`tools[{i}].function` is required")))?;
        entries.push(ToolEntry {
            tool_spec: ToolSpec {
                name: tool_name(f.name)?,
                description: f.description.map(|d| d.0),
                input_schema: Schema {
                    json: match f.parameters {
                        Some(p) => p,
                        None => static_raw(r#"{"type":"object","properties":{}}"#)?,
                    },
                },
            },
        });
    }
    let bad = || LlmError::invalid_request(r#"`tool_choice` must be "auto", "none", "required" or a function"#);
    let (choice, none) = match choice {
        None => (None, false),
        Some(StrOr::Str(s)) => match &*s {
            "auto" => (Some(Choice::Auto(Empty {})), false),
            "required" => (Some(Choice::Any(Empty {})), false),
            "none" => (None, true),
            _ => return Err(bad()),
        },
        Some(StrOr::Other(obj)) if &*obj.kind == "function" => {
            let f = obj
                .function
                .ok_or_else(|| LlmError::invalid_request("`tool_choice.function.name` is required"))?;
            if !entries.iter().any(|e| e.tool_spec.name == *f.name) {
                return Err(LlmError::invalid_request(
                    "`tool_choice` names a function that is not in `tools`",
                ));
            }
            (Some(Choice::Tool { name: f.name.0 }), false)
        }
        Some(StrOr::Other(_)) => return Err(bad()),
    };
    if entries.is_empty() {
        if matches!(choice, Some(Choice::Any(_) | Choice::Tool { .. })) {
            return Err(LlmError::invalid_request("`tool_choice` requires `tools`"));
        }
        if has_tool_blocks {
            return Err(LlmError::invalid_request(
                "Bedrock needs `tools` when the conversation contains tool calls or tool results",
            ));
        }
        return Ok(None);
    }
    if none {
        if !has_tool_blocks {
            return Ok(None);
        }
        drops.note("tool_choice");
    }
    Ok(Some(ToolConfig {
        tools: entries,
        tool_choice: choice,
    }))
}
