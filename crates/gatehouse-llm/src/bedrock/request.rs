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

use std::borrow::Cow;

use serde::Serialize;
use serde_json::value::RawValue;

use super::{RequestOptions, TranslatedRequest};
use crate::LlmError;
use crate::anthropic::json::{CowStr, StrOr, static_raw, truncate};
use crate::anthropic::request::content::{data_url, has_prefix};
use crate::anthropic::request::input::{ChatRequest, Message, Part as InPart, Role, Tool, ToolCall};

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ConverseRequest<'a> {
    messages: Vec<Turn<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    system: Vec<Block<'a>>,
    #[serde(skip_serializing_if = "InferenceConfig::is_empty")]
    inference_config: InferenceConfig<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_config: Option<ToolConfig<'a>>,
}

#[derive(Serialize)]
struct Turn<'a> {
    role: &'static str,
    content: Vec<Block<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
enum Block<'a> {
    Text(Cow<'a, str>),
    Image {
        format: &'static str,
        source: ImageSource<'a>,
    },
    ToolUse(ToolUse<'a>),
    ToolResult(ToolResult<'a>),
}

#[derive(Serialize)]
struct ImageSource<'a> {
    bytes: Cow<'a, str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ToolUse<'a> {
    tool_use_id: String,
    name: Cow<'a, str>,
    input: Cow<'a, RawValue>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ToolResult<'a> {
    tool_use_id: String,
    content: Vec<ResultBlock>,
    status: &'static str,
    #[serde(skip)]
    _p: std::marker::PhantomData<&'a ()>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
enum ResultBlock {
    Text(String),
    Json(Box<RawValue>),
}

#[derive(Default, Serialize)]
#[serde(rename_all = "camelCase")]
struct InferenceConfig<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    max_tokens: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    top_p: Option<f64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    stop_sequences: Vec<Cow<'a, str>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ToolConfig<'a> {
    tools: Vec<ToolEntry<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_choice: Option<Choice<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ToolEntry<'a> {
    tool_spec: ToolSpec<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ToolSpec<'a> {
    name: Cow<'a, str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<Cow<'a, str>>,
    input_schema: Schema<'a>,
}

#[derive(Serialize)]
struct Schema<'a> {
    json: &'a RawValue,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
enum Choice<'a> {
    Auto(Empty),
    Any(Empty),
    Tool { name: Cow<'a, str> },
}

#[derive(Serialize)]
struct Empty {}

struct Drops {
    drop_unsupported: bool,
    names: Vec<&'static str>,
}

struct Pending<'a> {
    user: bool,
    first: usize,
    results: Vec<Block<'a>>,
    content: Vec<Block<'a>>,
}

/// Translates an OpenAI chat-completions body for Bedrock Converse.
///
/// # Errors
///
/// [`LlmError::InvalidJson`] when the body is not UTF-8 JSON; [`LlmError::InvalidRequest`] naming the parameter
/// when it cannot be translated faithfully (see the module docs).
pub fn translate_request(openai_chat_body: &[u8], opts: &RequestOptions) -> Result<TranslatedRequest, LlmError> {
    let text = std::str::from_utf8(openai_chat_body)
        .map_err(|e| LlmError::invalid_json(format!("invalid UTF-8 at byte {}", e.valid_up_to())))?;
    let req: ChatRequest<'_> = serde_json::from_str(text).map_err(|e| match e.classify() {
        serde_json::error::Category::Data => LlmError::invalid_request(e.to_string()),
        _ => LlmError::invalid_json(e.to_string()),
    })?;
    let mut drops = Drops {
        drop_unsupported: opts.drop_unsupported,
        names: Vec::new(),
    };
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
    let mut body = Vec::with_capacity(text.len() + 128);
    serde_json::to_writer(&mut body, &out).map_err(|_| LlmError::Internal {
        detail: "serialising the Bedrock request failed",
    })?;
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
    let checks = [
        ("logprobs", req.logprobs == Some(true)),
        ("top_logprobs", req.top_logprobs.is_some_and(|v| v > 0)),
        (
            "logit_bias",
            req.logit_bias
                .is_some_and(|raw| raw.get().bytes().any(|b| !b" \t\r\n{}".contains(&b))),
        ),
        ("frequency_penalty", req.frequency_penalty.is_some_and(|v| v != 0.0)),
        ("presence_penalty", req.presence_penalty.is_some_and(|v| v != 0.0)),
        (
            "modalities",
            req.modalities
                .as_ref()
                .is_some_and(|m| m.iter().any(|m| &**m != "text")),
        ),
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

type Converted<'a> = (Vec<Block<'a>>, Vec<Turn<'a>>, bool);

fn convert(messages: Vec<Message<'_>>) -> Result<Converted<'_>, LlmError> {
    let mut system = Vec::new();
    let mut pending: Vec<Pending<'_>> = Vec::new();
    let mut leading = true;
    let mut tool_blocks = false;
    for (i, msg) in messages.into_iter().enumerate() {
        match msg.role {
            Role::System | Role::Developer => {
                let mut blocks = Vec::new();
                text_only(msg.content, i, &mut blocks)?;
                if leading {
                    system.append(&mut blocks);
                } else {
                    turn(&mut pending, true, i).content.append(&mut blocks);
                }
            }
            Role::User => {
                leading = false;
                let t = turn(&mut pending, true, i);
                if let Some(content) = msg.content {
                    user_content(content, i, &mut t.content)?;
                }
            }
            Role::Assistant => {
                leading = false;
                let t = turn(&mut pending, false, i);
                text_only(msg.content, i, &mut t.content)?;
                for call in msg.tool_calls.unwrap_or_default() {
                    tool_blocks = true;
                    t.content.push(tool_use(call, i)?);
                }
            }
            Role::Tool => {
                leading = false;
                tool_blocks = true;
                let result = tool_result(msg, i)?;
                turn(&mut pending, true, i).results.push(result);
            }
            Role::Function => {
                return Err(LlmError::invalid_request(format!(
                    "`messages[{i}]`: `function` messages are not supported; use `tool` messages"
                )));
            }
        }
    }
    if pending.is_empty() {
        return Err(LlmError::invalid_request(
            "`messages` must contain at least one user or assistant message",
        ));
    }
    let mut turns = Vec::with_capacity(pending.len());
    for mut p in pending {
        if p.results.is_empty() && p.content.is_empty() {
            return Err(LlmError::invalid_request(format!(
                "`messages[{}]` has no content (Bedrock refuses empty turns)",
                p.first
            )));
        }
        p.results.append(&mut p.content);
        turns.push(Turn {
            role: if p.user { "user" } else { "assistant" },
            content: p.results,
        });
    }
    Ok((system, turns, tool_blocks))
}

fn turn<'a, 'p>(pending: &'p mut Vec<Pending<'a>>, user: bool, index: usize) -> &'p mut Pending<'a> {
    if pending.last().is_none_or(|p| p.user != user) {
        pending.push(Pending {
            user,
            first: index,
            results: Vec::new(),
            content: Vec::new(),
        });
    }
    let last = pending.len() - 1;
    &mut pending[last]
}

fn text_block<'a>(text: CowStr<'a>, out: &mut Vec<Block<'a>>) {
    if !text.trim().is_empty() {
        out.push(Block::Text(text.0));
    }
}

fn text_only<'a>(
    content: Option<StrOr<'a, Vec<InPart<'a>>>>,
    i: usize,
    out: &mut Vec<Block<'a>>,
) -> Result<(), LlmError> {
    match content {
        None => {}
        Some(StrOr::Str(s)) => text_block(s, out),
        Some(StrOr::Other(parts)) => {
            for (j, part) in parts.into_iter().enumerate() {
                let body = match &*part.kind {
                    "text" => part.text,
                    "refusal" => part.refusal,
                    _ => return Err(part_error(i, j, "this role's content may only contain text")),
                };
                text_block(body.ok_or_else(|| part_error(i, j, "text part without `text`"))?, out);
            }
        }
    }
    Ok(())
}

fn user_content<'a>(content: StrOr<'a, Vec<InPart<'a>>>, i: usize, out: &mut Vec<Block<'a>>) -> Result<(), LlmError> {
    let parts = match content {
        StrOr::Str(s) => {
            text_block(s, out);
            return Ok(());
        }
        StrOr::Other(parts) => parts,
    };
    for (j, part) in parts.into_iter().enumerate() {
        match &*part.kind {
            "text" => text_block(
                part.text.ok_or_else(|| part_error(i, j, "text part without `text`"))?,
                out,
            ),
            "image_url" => {
                let url = part
                    .image_url
                    .ok_or_else(|| part_error(i, j, "image part without `image_url`"))?
                    .url;
                if !has_prefix(&url, "data:") {
                    return Err(part_error(
                        i,
                        j,
                        "Bedrock targets need inline images: send a base64 data URL (remote URLs are not fetched)",
                    ));
                }
                let (media, data) = data_url(url.0).map_err(|e| part_error(i, j, &e))?;
                let format = match media.to_ascii_lowercase().as_str() {
                    "image/png" => "png",
                    "image/jpeg" | "image/jpg" => "jpeg",
                    "image/gif" => "gif",
                    "image/webp" => "webp",
                    other => {
                        return Err(part_error(
                            i,
                            j,
                            &format!("unsupported image type `{}`", truncate(other, 32)),
                        ));
                    }
                };
                out.push(Block::Image {
                    format,
                    source: ImageSource { bytes: data },
                });
            }
            other => {
                let kind = truncate(other, 24);
                return Err(part_error(i, j, &format!("unsupported content part type `{kind}`")));
            }
        }
    }
    Ok(())
}

fn tool_use(call: ToolCall<'_>, i: usize) -> Result<Block<'_>, LlmError> {
    let name = tool_name(call.function.name)?;
    let args = call.function.arguments.0;
    let input = if args.trim().is_empty() {
        Cow::Borrowed(static_raw("{}")?)
    } else {
        let raw = RawValue::from_string(args.into_owned()).map_err(|_| {
            LlmError::invalid_request(format!("`messages[{i}]`: tool call arguments are not valid JSON"))
        })?;
        if !raw.get().trim_start().starts_with('{') {
            return Err(LlmError::invalid_request(format!(
                "`messages[{i}]`: tool call arguments must be a JSON object"
            )));
        }
        Cow::Owned(raw)
    };
    Ok(Block::ToolUse(ToolUse {
        tool_use_id: tool_id(&call.id, i)?,
        name,
        input,
    }))
}

fn tool_result(msg: Message<'_>, i: usize) -> Result<Block<'_>, LlmError> {
    let id = msg
        .tool_call_id
        .ok_or_else(|| LlmError::invalid_request(format!("`messages[{i}]`: tool messages need `tool_call_id`")))?;
    let mut text = String::new();
    match msg.content {
        None => {}
        Some(StrOr::Str(s)) => text.push_str(&s),
        Some(StrOr::Other(parts)) => {
            for (j, part) in parts.into_iter().enumerate() {
                match (&*part.kind, part.text) {
                    ("text", Some(t)) => text.push_str(&t),
                    _ => return Err(part_error(i, j, "tool results may only contain text")),
                }
            }
        }
    }
    let block = match RawValue::from_string(text.clone()) {
        Ok(raw) if raw.get().trim_start().starts_with('{') => ResultBlock::Json(raw),
        _ if text.trim().is_empty() => ResultBlock::Text("(empty)".into()),
        _ => ResultBlock::Text(text),
    };
    Ok(Block::ToolResult(ToolResult {
        tool_use_id: tool_id(&id, i)?,
        content: vec![block],
        status: "success",
        _p: std::marker::PhantomData,
    }))
}

/// A tool id Bedrock accepts (`[a-zA-Z0-9_.:-]+`, ≤ 64): other characters become `_`, the rest is cut.
fn tool_id(id: &str, i: usize) -> Result<String, LlmError> {
    if id.is_empty() {
        return Err(LlmError::invalid_request(format!(
            "`messages[{i}]`: tool call id is empty"
        )));
    }
    Ok(id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | ':' | '-') {
                c
            } else {
                '_'
            }
        })
        .take(64)
        .collect())
}

/// A tool name Bedrock accepts (`^[a-zA-Z0-9_-]{1,64}$`).
fn tool_name(name: CowStr<'_>) -> Result<Cow<'_, str>, LlmError> {
    let ok = (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if !ok {
        return Err(LlmError::invalid_request(format!(
            "tool name `{}` must match ^[a-zA-Z0-9_-]{{1,64}}$ for Bedrock",
            truncate(&name, 32)
        )));
    }
    Ok(name.0)
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

fn part_error(i: usize, j: usize, what: &str) -> LlmError {
    LlmError::invalid_request(format!("`messages[{i}].content[{j}]`: {what}"))
}

// === impl Drops ===

impl Drops {
    fn note(&mut self, name: &'static str) {
        if !self.names.contains(&name) {
            self.names.push(name);
        }
    }

    fn unsupported(&mut self, name: &'static str) -> Result<(), LlmError> {
        if self.drop_unsupported {
            self.note(name);
            Ok(())
        } else {
            Err(LlmError::invalid_request(format!(
                "`{name}` is not supported by Bedrock Converse"
            )))
        }
    }
}

// === impl InferenceConfig ===

impl InferenceConfig<'_> {
    fn is_empty(&self) -> bool {
        self.max_tokens.is_none()
            && self.temperature.is_none()
            && self.top_p.is_none()
            && self.stop_sequences.is_empty()
    }
}
