//! OpenAI request bodies and their conversion into an engine [`Submission`].
//!
//! Only the fields the simulator acts on are declared; unknown fields are ignored, as vLLM ignores (most of)
//! them. Conversion checks, in vLLM's order: `tools` and `tool_choice` (request validation), the model exists,
//! then `n`, the token limit and the context length.
//!
//! The chat prompt follows Llama 3.1's template where tools are involved: the tool definitions are rendered
//! (compact JSON, one per line, then a blank line) in front of the first `user` message, or as a `user` message of
//! their own at the end if there is none; an assistant message's `tool_calls` are rendered after its content as
//! `{"name":…,"parameters":…}`, one per line; `tool` messages are ordinary turns with role `tool`.

use std::sync::Arc;

use serde::Deserialize;
use serde_json::Value;

use super::tools::{self, ToolCallPlan, ToolSpec};
use crate::engine::{FinishReason, Submission};
use crate::error::ApiError;
use crate::options::SimOptions;
use crate::tokenizer::{self, ChatTurn};

/// `POST /v1/chat/completions` body.
#[derive(Debug, Deserialize)]
pub(crate) struct ChatRequest {
    model: Option<String>,
    messages: Vec<Message>,
    #[serde(flatten)]
    common: Common,
    max_completion_tokens: Option<usize>,
    tools: Option<Vec<ToolSpec>>,
    /// Kept as JSON: its shape is validated by [`tools::validate`], with vLLM's messages.
    tool_choice: Option<Value>,
    /// Type-checked, otherwise ignored: the simulated model makes at most one call per turn.
    #[serde(rename = "parallel_tool_calls")]
    _parallel_tool_calls: Option<bool>,
}

/// `POST /v1/completions` body.
#[derive(Debug, Deserialize)]
pub(crate) struct CompletionRequest {
    model: Option<String>,
    prompt: Prompt,
    #[serde(flatten)]
    common: Common,
}

/// Fields shared by both endpoints.
#[derive(Debug, Default, Deserialize)]
struct Common {
    stream: Option<bool>,
    stream_options: Option<StreamOptions>,
    max_tokens: Option<usize>,
    n: Option<u32>,
    seed: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
struct StreamOptions {
    include_usage: Option<bool>,
}

#[derive(Debug, Deserialize)]
struct Message {
    role: String,
    #[serde(default)]
    content: Option<Content>,
    /// Calls an earlier assistant turn made.
    #[serde(default)]
    tool_calls: Option<Vec<MessageToolCall>>,
}

#[derive(Debug, Deserialize)]
struct MessageToolCall {
    function: CalledFunction,
}

#[derive(Debug, Deserialize)]
struct CalledFunction {
    name: String,
    /// A JSON string as OpenAI sends it; an object is accepted too.
    #[serde(default)]
    arguments: Option<Value>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Content {
    Text(String),
    Parts(Vec<Part>),
}

#[derive(Debug, Deserialize)]
struct Part {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    text: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Prompt {
    Text(String),
    Tokens(Vec<u32>),
    Texts(Vec<String>),
    TokenLists(Vec<Vec<u32>>),
}

/// A validated request, ready to submit.
#[derive(Debug)]
pub(crate) struct Prepared {
    /// The `model` echoed in responses.
    pub(crate) model: String,
    /// What the engine runs.
    pub(crate) submission: Submission,
    /// Answer as SSE.
    pub(crate) stream: bool,
    /// Send the final usage chunk (and `"usage": null` on every other chunk).
    pub(crate) include_usage: bool,
    /// Set when the submission generates a tool call rather than text.
    pub(crate) tool_call: Option<ToolCallPlan>,
}

/// Parses a JSON body into `T`, answering 400 in vLLM's shape on failure.
pub(crate) fn parse<'a, T: Deserialize<'a>>(body: &'a [u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| ApiError::BadRequest(format!("Invalid request body: {e}")))
}

// === impl ChatRequest ===

impl ChatRequest {
    /// Validates against the replica's options, renders the chat template and decides on a tool call.
    pub(crate) fn prepare(self, opts: &SimOptions) -> Result<Prepared, ApiError> {
        let choice = tools::validate(self.tools.as_deref(), self.tool_choice.as_ref())?;
        let model = check_model(self.model, opts)?;
        let tools = self.tools.unwrap_or_default();
        let mut texts: Vec<String> = self.messages.iter().map(Message::prompt_text).collect();
        let mut roles: Vec<&str> = self.messages.iter().map(|m| m.role.as_str()).collect();
        if !tools.is_empty() {
            let rendered = tools::render(&tools);
            match roles.iter().position(|r| *r == "user") {
                Some(first_user) => texts[first_user] = format!("{rendered}\n\n{}", texts[first_user]),
                None => {
                    texts.push(rendered);
                    roles.push("user");
                }
            }
        }
        let turns: Vec<ChatTurn<'_>> = roles
            .iter()
            .zip(&texts)
            .map(|(role, text)| ChatTurn { role, content: text })
            .collect();
        let prompt = tokenizer::encode_chat(&turns);
        let last = self.messages.last();
        let last_text = last
            .and_then(|m| m.content.as_ref())
            .map(Content::text)
            .unwrap_or_default();
        let plan = tools::decide(&choice, &tools, last.map(|m| m.role.as_str()), &last_text);
        let limit = self.max_completion_tokens.or(self.common.max_tokens);
        let mut prepared = self.common.prepare(model, prompt, limit, opts)?;
        if let Some(plan) = &plan {
            plan.apply(&mut prepared.submission, limit);
        }
        prepared.tool_call = plan;
        Ok(prepared)
    }
}

// === impl CompletionRequest ===

impl CompletionRequest {
    /// Validates against the replica's options and tokenizes the prompt.
    pub(crate) fn prepare(self, opts: &SimOptions) -> Result<Prepared, ApiError> {
        let model = check_model(self.model, opts)?;
        let batched = || ApiError::BadRequest("vllm-sim accepts one prompt per request".to_owned());
        let prompt = match self.prompt {
            Prompt::Text(text) => text_prompt(&text),
            Prompt::Tokens(ids) => ids,
            Prompt::Texts(texts) => match <[String; 1]>::try_from(texts) {
                Ok([text]) => text_prompt(&text),
                Err(_) => return Err(batched()),
            },
            Prompt::TokenLists(lists) => match <[Vec<u32>; 1]>::try_from(lists) {
                Ok([ids]) => ids,
                Err(_) => return Err(batched()),
            },
        };
        if prompt.is_empty() {
            return Err(ApiError::BadRequest("The prompt cannot be empty.".to_owned()));
        }
        let limit = self.common.max_tokens;
        self.common.prepare(model, prompt, limit, opts)
    }
}

// === impl Common ===

impl Common {
    fn prepare(
        self,
        model: String,
        prompt: Vec<u32>,
        limit: Option<usize>,
        opts: &SimOptions,
    ) -> Result<Prepared, ApiError> {
        if let Some(n) = self.n.filter(|n| *n != 1) {
            return Err(ApiError::BadRequest(format!("n must be 1 in vllm-sim, got {n}.")));
        }
        if limit == Some(0) {
            return Err(ApiError::BadRequest("max_tokens must be at least 1, got 0.".to_owned()));
        }
        let max_tokens = limit.unwrap_or(opts.default_max_tokens);
        let total = prompt.len().saturating_add(max_tokens);
        if total > opts.max_model_len {
            return Err(ApiError::ContextTooLong {
                max_model_len: opts.max_model_len,
                total,
                prompt: prompt.len(),
                completion: max_tokens,
            });
        }
        let adapter = (model != opts.model).then(|| Arc::from(model.as_str()));
        let stream = self.stream.unwrap_or(false);
        let include_usage = stream && self.stream_options.and_then(|o| o.include_usage).unwrap_or(false);
        let finish_reason = if limit.is_some() {
            FinishReason::Length
        } else {
            FinishReason::Stop
        };
        let submission = Submission {
            adapter,
            prompt,
            max_tokens,
            finish_reason,
            request_seed: self.seed.map(i64::cast_unsigned),
            script: None,
        };
        Ok(Prepared {
            model,
            submission,
            stream,
            include_usage,
            tool_call: None,
        })
    }
}

// === impl Message ===

impl Message {
    /// What the chat template puts between the header and `EOT`: the text, then any tool calls.
    fn prompt_text(&self) -> String {
        let mut text = self.content.as_ref().map(Content::text).unwrap_or_default();
        for call in self.tool_calls.iter().flatten() {
            let arguments = match &call.function.arguments {
                Some(Value::String(raw)) => raw.clone(),
                Some(value) => value.to_string(),
                None => "{}".to_owned(),
            };
            if !text.is_empty() {
                text.push('\n');
            }
            let name = Value::from(call.function.name.as_str());
            text.push_str(&format!(r#"{{"name":{name},"parameters":{arguments}}}"#));
        }
        text
    }
}

// === impl Content ===

impl Content {
    /// The text parts joined by newlines (non-text parts contribute nothing).
    fn text(&self) -> String {
        match self {
            Self::Text(text) => text.clone(),
            Self::Parts(parts) => {
                let texts: Vec<&str> = parts
                    .iter()
                    .filter(|p| p.kind == "text")
                    .filter_map(|p| p.text.as_deref())
                    .collect();
                texts.join("\n")
            }
        }
    }
}

/// The served name the request asked for; a missing `model` means the base model, as in vLLM.
pub(crate) fn check_model(model: Option<String>, opts: &SimOptions) -> Result<String, ApiError> {
    match model {
        None => Ok(opts.model.clone()),
        Some(name) if opts.serves(&name) => Ok(name),
        Some(name) => Err(ApiError::ModelNotFound(name)),
    }
}

/// A text completion prompt: `BOS` then the text, as Llama's tokenizer adds special tokens by default.
fn text_prompt(text: &str) -> Vec<u32> {
    let mut ids = vec![tokenizer::BOS];
    tokenizer::encode_into(text, &mut ids);
    ids
}
