//! OpenAI chat-completions request → Anthropic `/v1/messages` request.
//!
//! One pass: the body is read into borrowed typed structs ([`input`]), each parameter is mapped, refused or
//! dropped, and the Anthropic body is serialised from borrowed structs ([`output`]). Messages are in
//! [`messages`], content parts in [`content`], tools and structured output in [`tools`].
//!
//! Parameter rules (beyond the per-field mapping in the submodules):
//! - `max_tokens` (required by Anthropic) = `max_completion_tokens`, else `max_tokens`, else the model default.
//! - `temperature` must be within Anthropic's 0–1 (OpenAI allows 2; scaling would silently change the meaning);
//!   `top_p` within 0–1. Then [`Sampling`] decides what the model may receive.
//! - `reasoning_effort` → `thinking.budget_tokens` on the LiteLLM/agentgateway scale (minimal and low 1024, medium
//!   2048, high 4096, xhigh 8192, max 16384; `none` omits it), capped at `max_tokens - 1`; dropped (reported) when
//!   `max_tokens` ≤ 1024, because Anthropic's minimum budget is 1024 and must stay below `max_tokens`. Thinking
//!   also drops what Anthropic refuses alongside it: a forced tool choice wins over thinking (the client's
//!   functional requirement over a quality knob), `temperature` other than 1, `top_p` below 0.95 and `top_k`.
//! - `stop` → `stop_sequences`; whitespace-only sequences are dropped (Anthropic rejects them).
//! - `safety_identifier` (OpenAI's successor of `user`), else `user` → `metadata.user_id`, unless it looks like an
//!   e-mail address or phone number (Anthropic forbids identifying data there): then it is dropped.
//! - `n` > 1, `logprobs`, `top_logprobs`, `logit_bias`, non-zero `frequency_penalty`/`presence_penalty`, `seed`,
//!   non-text `modalities`, `audio`, `prediction`, `functions`, `function_call`, `web_search_options`,
//!   `verbosity` and `input_audio` parts: 400 naming the parameter, or dropped when the model's rules say so.
//!   Values that ask for nothing (`n: 1`, `logprobs: false`, zero penalties, `modalities: ["text"]`, `null`) are
//!   accepted silently.
//! - `store`, `metadata`, `service_tier`, `prompt_cache_key` only concern OpenAI's platform: always dropped and
//!   reported. Unknown keys are dropped and reported by name.

pub(crate) mod calls;
pub(crate) mod content;
pub(crate) mod input;
pub(crate) mod messages;
pub(crate) mod output;
pub(crate) mod tool_choice;
pub(crate) mod tools;
pub(crate) mod turns;

use std::borrow::Cow;

use super::json::{CowStr, StrOr};
use super::{ModelRules, RequestOptions, Sampling, TranslatedRequest};
use crate::LlmError;
use input::ChatRequest;
use output::{MessagesRequest, Metadata, Thinking};

/// Records dropped parameters and decides, per the model's rules, whether an unsupported one is an error.
pub(crate) struct Drops<'r> {
    pub(crate) rules: &'r ModelRules,
    pub(crate) names: Vec<&'static str>,
}

/// The sampling parameters that may be sent.
pub(crate) struct Sampled {
    pub(crate) temperature: Option<f64>,
    pub(crate) top_p: Option<f64>,
    pub(crate) top_k: Option<u64>,
}

/// Translates an OpenAI chat-completions body for Anthropic.
///
/// # Errors
///
/// [`LlmError::InvalidJson`] when the body is not UTF-8 JSON; [`LlmError::InvalidRequest`] naming the parameter
/// when it cannot be translated faithfully (see the module docs).
pub fn translate_request(openai_chat_body: &[u8], opts: &RequestOptions<'_>) -> Result<TranslatedRequest, LlmError> {
    let (text, req): (&str, ChatRequest<'_>) = crate::body::parse_body(openai_chat_body)?;
    let mut drops = Drops {
        rules: opts.rules,
        names: Vec::new(),
    };
    unsupported(&req, &mut drops)?;
    for name in &req.platform_only {
        drops.note(name);
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
        stream_options,
        tools,
        tool_choice,
        parallel_tool_calls,
        response_format,
        reasoning_effort,
        user,
        safety_identifier,
        unknown,
        ..
    } = req;

    let max_tokens = resolve_max_tokens(max_completion_tokens, max_tokens, opts.rules)?;
    let messages = messages.ok_or_else(|| LlmError::invalid_request("`messages` is required"))?;
    let conversation = messages::convert(messages, &mut drops)?;
    let tools = tools::tools(tools, tool_choice, parallel_tool_calls)?;
    let mut thinking = thinking(reasoning_effort, "reasoning_effort", max_tokens, &mut drops)?;
    if thinking.is_some() && tools.forced {
        drops.note("reasoning_effort");
        thinking = None;
    }
    let Sampled {
        temperature,
        top_p,
        top_k,
    } = sampling(
        [temperature, top_p],
        top_k,
        opts.rules.sampling,
        thinking.is_some(),
        &mut drops,
    )?;
    let stream = stream.unwrap_or(false);
    let out = MessagesRequest {
        model: opts.upstream_model,
        max_tokens,
        system: conversation.system,
        messages: conversation.turns,
        stop_sequences: stop_sequences(stop, &mut drops),
        temperature,
        top_p,
        top_k,
        tools: tools.tools,
        tool_choice: tools.choice,
        thinking,
        output_config: tools::output_config(response_format)?,
        metadata: metadata(safety_identifier, user, &mut drops),
        stream,
    };
    let body = crate::body::write_body(&out, text.len(), "serialising the Anthropic request failed")?;
    Ok(TranslatedRequest {
        body,
        stream,
        include_usage: stream_options.and_then(|o| o.include_usage).unwrap_or(false),
        dropped: drops.names,
        dropped_unknown: unknown,
    })
}

/// Refuses (or drops) parameters with no Anthropic meaning.
fn unsupported(req: &ChatRequest<'_>, drops: &mut Drops<'_>) -> Result<(), LlmError> {
    match req.n {
        Some(0) => return Err(LlmError::invalid_request("`n` must be at least 1")),
        Some(2..) if !drops.rules.drop_unsupported => {
            return Err(LlmError::invalid_request(
                "`n` > 1 is not supported by Anthropic models",
            ));
        }
        Some(2..) => drops.note("n"),
        _ => {}
    }
    for name in req.openai_only(true) {
        drops.unsupported(name)?;
    }
    for name in &req.unsupported {
        drops.unsupported(name)?;
    }
    Ok(())
}

/// `max_completion_tokens`, else `max_tokens`, else the model default.
pub(crate) fn resolve_max_tokens(
    completion: Option<u64>,
    legacy: Option<u64>,
    rules: &ModelRules,
) -> Result<u32, LlmError> {
    let (name, value) = match (completion, legacy) {
        (Some(v), _) => ("max_completion_tokens", v),
        (None, Some(v)) => ("max_tokens", v),
        (None, None) => return Ok(rules.max_tokens_default.max(1)),
    };
    if value == 0 {
        return Err(LlmError::invalid_request(format!("`{name}` must be at least 1")));
    }
    u32::try_from(value).map_err(|_| LlmError::invalid_request(format!("`{name}` is too large")))
}

/// `reasoning_effort` (named `name` in the client's dialect) → `thinking`.
pub(crate) fn thinking(
    effort: Option<CowStr<'_>>,
    name: &'static str,
    max_tokens: u32,
    drops: &mut Drops<'_>,
) -> Result<Option<Thinking>, LlmError> {
    let Some(effort) = effort else {
        return Ok(None);
    };
    let budget: u32 = match &*effort {
        "none" => return Ok(None),
        "minimal" | "low" => 1024,
        "medium" => 2048,
        "high" => 4096,
        "xhigh" => 8192,
        "max" => 16384,
        _ => {
            return Err(LlmError::invalid_request(format!(
                "`{name}` must be none, minimal, low, medium, high, xhigh or max"
            )));
        }
    };
    if max_tokens <= 1024 {
        drops.note(name);
        return Ok(None);
    }
    Ok(Some(Thinking {
        kind: "enabled",
        budget_tokens: budget.min(max_tokens - 1),
    }))
}

/// Validates and filters `temperature`, `top_p` and `top_k` for the model (and for thinking).
pub(crate) fn sampling(
    [temperature, top_p]: [Option<f64>; 2],
    top_k: Option<u64>,
    rule: Sampling,
    thinking: bool,
    drops: &mut Drops<'_>,
) -> Result<Sampled, LlmError> {
    if temperature.is_some_and(|t| !(0.0..=1.0).contains(&t)) {
        return Err(LlmError::invalid_request(
            "`temperature` must be between 0 and 1 for Anthropic models",
        ));
    }
    if top_p.is_some_and(|p| !(0.0..=1.0).contains(&p)) {
        return Err(LlmError::invalid_request("`top_p` must be between 0 and 1"));
    }
    let (mut t, mut p, mut k) = (temperature, top_p, top_k);
    match rule {
        Sampling::Both => {}
        Sampling::Exclusive => {
            if t.is_some() && p.take().is_some() {
                drops.note("top_p");
            }
        }
        Sampling::None => {
            if t.take().is_some_and(|v| v != 1.0) {
                drops.note("temperature");
            }
            if p.take().is_some_and(|v| v != 1.0) {
                drops.note("top_p");
            }
            if k.take().is_some() {
                drops.note("top_k");
            }
        }
    }
    if thinking {
        if t.take().is_some_and(|v| v != 1.0) {
            drops.note("temperature");
        }
        if p.take_if(|v| *v < 0.95).is_some() {
            drops.note("top_p");
        }
        if k.take().is_some() {
            drops.note("top_k");
        }
    }
    Ok(Sampled {
        temperature: t,
        top_p: p,
        top_k: k,
    })
}

/// `stop` → `stop_sequences` without whitespace-only entries.
fn stop_sequences<'a>(stop: Option<StrOr<'a, Vec<CowStr<'a>>>>, drops: &mut Drops<'_>) -> Vec<Cow<'a, str>> {
    let mut list: Vec<Cow<'a, str>> = match stop {
        None => Vec::new(),
        Some(StrOr::Str(s)) => vec![s.0],
        Some(StrOr::Other(v)) => v.into_iter().map(|s| s.0).collect(),
    };
    let before = list.len();
    list.retain(|s| !s.trim().is_empty());
    if list.len() < before {
        drops.note("stop");
    }
    list
}

/// `safety_identifier` or `user` → `metadata.user_id`, unless it looks like personal data.
pub(crate) fn metadata<'a>(
    safety_identifier: Option<CowStr<'a>>,
    user: Option<CowStr<'a>>,
    drops: &mut Drops<'_>,
) -> Option<Metadata<'a>> {
    let (name, id) = match (safety_identifier, user) {
        (Some(id), user) => {
            if user.is_some() {
                drops.note("user");
            }
            ("safety_identifier", id)
        }
        (None, Some(id)) => ("user", id),
        (None, None) => return None,
    };
    let digits = id.bytes().filter(u8::is_ascii_digit).count();
    let phone = digits >= 7 && id.bytes().all(|b| b.is_ascii_digit() || b"+-(). ".contains(&b));
    if id.is_empty() || id.len() > 256 || id.contains('@') || phone {
        drops.note(name);
        return None;
    }
    Some(Metadata { user_id: id.0 })
}

// === impl Drops ===

impl Drops<'_> {
    /// Records a dropped parameter (once).
    pub(crate) fn note(&mut self, name: &'static str) {
        if !self.names.contains(&name) {
            self.names.push(name);
        }
    }

    /// A parameter with no Anthropic meaning: dropped if the rules allow, else a 400 naming it.
    pub(crate) fn unsupported(&mut self, name: &'static str) -> Result<(), LlmError> {
        if self.rules.drop_unsupported {
            self.note(name);
            Ok(())
        } else {
            Err(LlmError::invalid_request(format!(
                "`{name}` is not supported by Anthropic models"
            )))
        }
    }
}

#[cfg(test)]
mod tests;
