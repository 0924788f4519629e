//! OpenAI request bodies and their conversion into an engine [`Submission`].
//!
//! Only the fields the simulator acts on are declared; unknown fields are ignored, as vLLM ignores (most of)
//! them. Conversion checks, in vLLM's order: the model exists, then `n`, the token limit and the context length.

use std::sync::Arc;

use serde::Deserialize;

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
}

/// Parses a JSON body into `T`, answering 400 in vLLM's shape on failure.
pub(crate) fn parse<'a, T: Deserialize<'a>>(body: &'a [u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| ApiError::BadRequest(format!("Invalid request body: {e}")))
}

// === impl ChatRequest ===

impl ChatRequest {
    /// Validates against the replica's options and renders the chat template.
    pub(crate) fn prepare(self, opts: &SimOptions) -> Result<Prepared, ApiError> {
        let model = check_model(self.model, opts)?;
        let texts: Vec<String> = self
            .messages
            .iter()
            .map(|m| m.content.as_ref().map(Content::text).unwrap_or_default())
            .collect();
        let turns: Vec<ChatTurn<'_>> = self
            .messages
            .iter()
            .zip(&texts)
            .map(|(m, text)| ChatTurn {
                role: &m.role,
                content: text,
            })
            .collect();
        let prompt = tokenizer::encode_chat(&turns);
        let limit = self.max_completion_tokens.or(self.common.max_tokens);
        self.common.prepare(model, prompt, limit, opts)
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
        };
        Ok(Prepared {
            model,
            submission,
            stream,
            include_usage,
        })
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
