//! OpenAI chat-completions request → Gemini `GenerateContentRequest`.
//!
//! The body is read with the same borrowed reader as the Anthropic translator (unknown keys reported, repeated keys
//! refused); messages are converted in [`contents`]; everything else here:
//! - `temperature` (0–2, as OpenAI), `top_p`, `top_k`, `max_completion_tokens` else `max_tokens` →
//!   `maxOutputTokens`, `stop` (≤ 5 sequences) → `stopSequences`, `presence_penalty` / `frequency_penalty` → the
//!   same-named `generationConfig` fields; `seed` → `generationConfig.seed`.
//! - `tools[].function` → one `tools[{functionDeclarations}]` entry, `parameters` rewritten to Gemini's schema
//!   subset ([`schema`](super::schema)); names must match Gemini's rule (`^[A-Za-z_][A-Za-z0-9_.:-]{0,63}$`).
//! - `tool_choice`: `auto` → `AUTO`, `none` → `NONE`, `required` → `ANY`, a named function → `ANY` +
//!   `allowedFunctionNames`, `allowed_tools` → `AUTO`/`ANY` + `allowedFunctionNames`.
//! - `response_format`: `json_schema` → `responseMimeType: application/json` + `responseSchema` (converted),
//!   `json_object` → `responseMimeType` only, `text` → nothing.
//! - `reasoning_effort` → `thinkingConfig{thinkingBudget, includeThoughts: true}` on the same scale as for
//!   Anthropic (minimal/low 1024, medium 2048, high 4096, xhigh 8192, max 16384); `none` → `thinkingBudget: 0`.
//! - `parallel_tool_calls`, `user`, `safety_identifier` and OpenAI platform fields (`store`, `metadata`,
//!   `service_tier`, `prompt_cache_key`) have no Gemini meaning: dropped and reported.
//! - `n` > 1, `logprobs`, `top_logprobs`, `logit_bias`, non-text `modalities`, `audio`, `prediction`,
//!   `functions`, `function_call`, `web_search_options`, `verbosity`: 400 naming the parameter, or dropped when the
//!   target says `drop_unsupported`.

mod contents;
mod output;

use std::borrow::Cow;

use super::schema;
use super::{RequestOptions, TranslatedRequest};
use crate::LlmError;
use crate::anthropic::json::{CowStr, StrOr, truncate};
use crate::anthropic::request::input::{ChatRequest, ChoiceObject, ResponseFormat, Tool};
use crate::drops::Drops;
use output::{
    FunctionCallingConfig, FunctionDeclaration, GenerateContentRequest, GenerationConfig, SystemInstruction,
    ThinkingConfig, ToolConfig, ToolGroup,
};

/// Gemini accepts at most this many stop sequences.
const MAX_STOP_SEQUENCES: usize = 5;

/// Translates an OpenAI chat-completions body for Gemini.
///
/// # Errors
///
/// [`LlmError::InvalidJson`] when the body is not UTF-8 JSON; [`LlmError::InvalidRequest`] naming the parameter
/// when it cannot be translated faithfully (see the module docs).
pub fn translate_request(openai_chat_body: &[u8], opts: &RequestOptions) -> Result<TranslatedRequest, LlmError> {
    let (text, req): (&str, ChatRequest<'_>) = crate::body::parse_body(openai_chat_body)?;
    let mut drops = Drops::new(opts.drop_unsupported, "Gemini models");
    unsupported(&req, &mut drops)?;
    for name in &req.platform_only {
        drops.note(name);
    }
    if req.parallel_tool_calls == Some(false) {
        drops.note("parallel_tool_calls");
    }
    if req.user.is_some() {
        drops.note("user");
    }
    if req.safety_identifier.is_some() {
        drops.note("safety_identifier");
    }
    let ChatRequest {
        messages,
        max_completion_tokens,
        max_tokens,
        temperature,
        top_p,
        top_k,
        stop,
        stream,
        tools,
        tool_choice,
        response_format,
        reasoning_effort,
        frequency_penalty,
        presence_penalty,
        seed,
        unknown,
        ..
    } = req;

    if temperature.is_some_and(|t| !(0.0..=2.0).contains(&t)) {
        return Err(LlmError::invalid_request("`temperature` must be between 0 and 2"));
    }
    if top_p.is_some_and(|p| !(0.0..=1.0).contains(&p)) {
        return Err(LlmError::invalid_request("`top_p` must be between 0 and 1"));
    }
    let max_output_tokens = match (max_completion_tokens, max_tokens) {
        (Some(0), _) => return Err(LlmError::invalid_request("`max_completion_tokens` must be at least 1")),
        (None, Some(0)) => return Err(LlmError::invalid_request("`max_tokens` must be at least 1")),
        (Some(v), _) | (None, Some(v)) => Some(v),
        (None, None) => None,
    };
    let messages = messages.ok_or_else(|| LlmError::invalid_request("`messages` is required"))?;
    let conversation = contents::convert(messages)?;
    let (tools, tool_config) = tools_and_choice(tools, tool_choice)?;
    let (response_mime_type, response_schema) = response(response_format)?;
    let generation_config = GenerationConfig {
        temperature,
        top_p,
        top_k,
        max_output_tokens,
        stop_sequences: stop_sequences(stop)?,
        presence_penalty: presence_penalty.filter(|v| *v != 0.0),
        frequency_penalty: frequency_penalty.filter(|v| *v != 0.0),
        response_mime_type,
        response_schema,
        seed,
        thinking_config: thinking(reasoning_effort)?,
    };
    let out = GenerateContentRequest {
        contents: conversation.contents,
        system_instruction: (!conversation.system.is_empty()).then_some(SystemInstruction {
            parts: conversation.system,
        }),
        tools,
        tool_config,
        generation_config,
    };
    let body = crate::body::write_body(&out, text.len(), "serialising the Gemini request failed")?;
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
    // Gemini has the penalties (generationConfig).
    for name in req.openai_only(false) {
        drops.unsupported(name)?;
    }
    // `seed` is honoured (generationConfig.seed); the reader lists it for targets that have none.
    for name in req.unsupported.iter().filter(|n| **n != "seed") {
        drops.unsupported(name)?;
    }
    Ok(())
}

/// `tools` + `tool_choice` → function declarations and `toolConfig`.
fn tools_and_choice<'a>(
    tools: Option<Vec<Tool<'a>>>,
    choice: Option<StrOr<'a, ChoiceObject<'a>>>,
) -> Result<(Vec<ToolGroup<'a>>, Option<ToolConfig<'a>>), LlmError> {
    let mut decls = Vec::new();
    for (i, tool) in tools.unwrap_or_default().into_iter().enumerate() {
        if &*tool.kind != "function" {
            return Err(LlmError::invalid_request(format!(
                "`tools[{i}]`: only `function` tools are supported, not `{}`",
                truncate(&tool.kind, 24)
            )));
        }
        let f = tool
            .function
            .ok_or_else(|| LlmError::invalid_request(format!("`tools[{i}].function` is required")))?;
        let parameters = match f.parameters {
            None => None,
            Some(raw) => {
                let value: serde_json::Value = serde_json::from_str(raw.get())
                    .map_err(|_| LlmError::invalid_request(format!("`tools[{i}].function.parameters` is not JSON")))?;
                let converted = schema::convert(&value, &format!("`tools[{i}].function.parameters`"))?;
                // An object schema without properties is "no parameters" to Gemini, which refuses empty objects.
                let empty = converted
                    .get("properties")
                    .is_none_or(|p| p.as_object().is_some_and(|o| o.is_empty()));
                (!empty).then_some(converted)
            }
        };
        decls.push(FunctionDeclaration {
            name: tool_name(f.name)?,
            description: f.description.map(|d| d.0),
            parameters,
        });
    }
    let (mode, allowed): (&'static str, Vec<Cow<'a, str>>) = match choice {
        None => ("", Vec::new()),
        Some(StrOr::Str(s)) => match &*s {
            "auto" => ("AUTO", Vec::new()),
            "none" => ("NONE", Vec::new()),
            "required" => ("ANY", Vec::new()),
            _ => return Err(bad_choice()),
        },
        Some(StrOr::Other(obj)) => match &*obj.kind {
            "function" => {
                let f = obj
                    .function
                    .ok_or_else(|| LlmError::invalid_request("`tool_choice.function.name` is required"))?;
                ("ANY", vec![f.name.0])
            }
            "allowed_tools" => {
                let a = obj
                    .allowed_tools
                    .ok_or_else(|| LlmError::invalid_request("`tool_choice.allowed_tools` is required"))?;
                let mode = match &*a.mode {
                    "auto" => "AUTO",
                    "required" => "ANY",
                    _ => {
                        return Err(LlmError::invalid_request(
                            r#"`tool_choice.allowed_tools.mode` must be "auto" or "required""#,
                        ));
                    }
                };
                (
                    mode,
                    a.tools
                        .into_iter()
                        .filter_map(|t| t.function.map(|f| f.name.0))
                        .collect(),
                )
            }
            _ => return Err(bad_choice()),
        },
    };
    if decls.is_empty() {
        return match mode {
            "ANY" => Err(LlmError::invalid_request("`tool_choice` requires `tools`")),
            _ => Ok((Vec::new(), None)),
        };
    }
    for name in &allowed {
        if !decls.iter().any(|d| d.name == *name) {
            return Err(LlmError::invalid_request(
                "`tool_choice` names a function that is not in `tools`",
            ));
        }
    }
    let config = (!mode.is_empty()).then_some(ToolConfig {
        function_calling_config: FunctionCallingConfig {
            mode,
            allowed_function_names: allowed,
        },
    });
    Ok((
        vec![ToolGroup {
            function_declarations: decls,
        }],
        config,
    ))
}

fn bad_choice() -> LlmError {
    LlmError::invalid_request(r#"`tool_choice` must be "auto", "none", "required" or a function"#)
}

/// A function name Gemini accepts: starts with a letter or `_`, then letters, digits, `_`, `.`, `:`, `-`; ≤ 64.
pub(super) fn tool_name(name: CowStr<'_>) -> Result<Cow<'_, str>, LlmError> {
    let bytes = name.as_bytes();
    let valid = (1..=64).contains(&bytes.len())
        && bytes.first().is_some_and(|b| b.is_ascii_alphabetic() || *b == b'_')
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b':' | b'-'));
    if !valid {
        return Err(LlmError::invalid_request(format!(
            "tool name `{}` must match ^[A-Za-z_][A-Za-z0-9_.:-]{{0,63}}$ for Gemini",
            truncate(&name, 32)
        )));
    }
    Ok(name.0)
}

/// `response_format` → `responseMimeType` and `responseSchema`.
fn response(format: Option<ResponseFormat<'_>>) -> Result<(Option<&'static str>, Option<serde_json::Value>), LlmError> {
    let Some(format) = format else {
        return Ok((None, None));
    };
    match &*format.kind {
        "text" => Ok((None, None)),
        "json_object" => Ok((Some("application/json"), None)),
        "json_schema" => {
            let spec = format
                .json_schema
                .ok_or_else(|| LlmError::invalid_request("`response_format.json_schema` is required"))?;
            let schema = match spec.schema {
                None => None,
                Some(raw) => {
                    let value: serde_json::Value = serde_json::from_str(raw.get())
                        .map_err(|_| LlmError::invalid_request("`response_format.json_schema.schema` is not JSON"))?;
                    Some(schema::convert(&value, "`response_format.json_schema.schema`")?)
                }
            };
            Ok((Some("application/json"), schema))
        }
        _ => Err(LlmError::invalid_request(
            r#"`response_format.type` must be "text", "json_object" or "json_schema""#,
        )),
    }
}

fn thinking(effort: Option<CowStr<'_>>) -> Result<Option<ThinkingConfig>, LlmError> {
    let Some(effort) = effort else {
        return Ok(None);
    };
    let budget = match &*effort {
        "none" => {
            return Ok(Some(ThinkingConfig {
                thinking_budget: 0,
                include_thoughts: false,
            }));
        }
        "minimal" | "low" => 1024,
        "medium" => 2048,
        "high" => 4096,
        "xhigh" => 8192,
        "max" => 16384,
        _ => {
            return Err(LlmError::invalid_request(
                "`reasoning_effort` must be none, minimal, low, medium, high, xhigh or max",
            ));
        }
    };
    Ok(Some(ThinkingConfig {
        thinking_budget: budget,
        include_thoughts: true,
    }))
}

fn stop_sequences<'a>(stop: Option<StrOr<'a, Vec<CowStr<'a>>>>) -> Result<Vec<Cow<'a, str>>, LlmError> {
    let list: Vec<Cow<'a, str>> = match stop {
        None => Vec::new(),
        Some(StrOr::Str(s)) => vec![s.0],
        Some(StrOr::Other(v)) => v.into_iter().map(|s| s.0).collect(),
    };
    if list.len() > MAX_STOP_SEQUENCES {
        return Err(LlmError::invalid_request("`stop`: Gemini accepts at most 5 sequences"));
    }
    Ok(list.into_iter().filter(|s| !s.is_empty()).collect())
}
