//! OpenAI chat completions ⇄ Anthropic Messages, both directions, pure.
//!
//! The gateway accepts OpenAI `POST /v1/chat/completions`, calls Anthropic `POST /v1/messages`, and answers in
//! OpenAI's shape. This module is the whole translation; the server only moves bytes and headers:
//!
//! - [`translate_request`]: OpenAI request body → Anthropic request body, plus what was dropped on the way.
//! - [`translate_response`]: Anthropic message → OpenAI `chat.completion`, plus the metered [`Usage`](crate::Usage).
//! - [`StreamTranslator`]: Anthropic event stream → OpenAI `chat.completion.chunk` frames, one event at a time.
//! - [`translate_error`]: Anthropic error status and body → the OpenAI error the client receives.
//!
//! Invariants:
//! - Nothing is silently mistranslated: a parameter either maps, is refused with a 400 naming it, or is dropped and
//!   reported in [`TranslatedRequest::dropped`] (or [`TranslatedRequest::dropped_unknown`]).
//! - Usage counts every prompt token: `prompt_tokens = input + cache_creation + cache_read` (Anthropic's
//!   `input_tokens` excludes both cache classes). Streamed usage is cumulative: merged per field, last value wins,
//!   never summed.
//! - Streams are translated incrementally; a stream that errors or is cut short ends with an OpenAI error frame and
//!   no `[DONE]`, never a silent truncation.
//! - No function panics on any input (fuzz targets `anthropic_request`, `anthropic_response`, `anthropic_stream`).
//!
//! The mapping, row by row, and every deliberate choice are documented in `docs/providers/anthropic.md`.

pub(crate) mod json;
mod metering;

pub(crate) mod request;
pub(crate) mod response;
pub(crate) mod stream;
pub(crate) mod tokens;
pub(crate) mod upstream_error;

pub use crate::TranslatedError;
pub use metering::{MessageStreamUsage, usage_from_message};
pub use request::translate_request;
pub use response::{TranslatedResponse, translate_response, translate_response_full};
pub use stream::{StreamContext, StreamTranslator};
pub use upstream_error::translate_error;

/// Per-model knobs from config: Anthropic models differ in what they accept, and the gateway must never send a
/// combination the model rejects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModelRules {
    /// `max_tokens` is required by Anthropic; this is sent when the client gives neither `max_completion_tokens`
    /// nor `max_tokens`.
    pub max_tokens_default: u32,
    /// Which sampling parameters the model accepts.
    pub sampling: Sampling,
    /// `true`: parameters with no Anthropic meaning (`n` > 1, `logprobs`, `seed`, ...) are dropped and reported in
    /// [`TranslatedRequest::dropped`]; `false`: they are refused with a 400 naming the parameter.
    pub drop_unsupported: bool,
}

/// Which sampling parameters a model accepts (Anthropic changed this across model generations).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sampling {
    /// `temperature` and `top_p` (and `top_k`) may be sent together (models before Opus 4.1 / Sonnet 4.5).
    Both,
    /// `temperature` and `top_p` are mutually exclusive (Opus 4.1, Sonnet 4.5, Haiku 4.5: the API answers 400
    /// "`temperature` and `top_p` cannot both be specified for this model"). When a client sends both,
    /// `temperature` is kept and `top_p` dropped (and reported): temperature is the knob clients tune far more
    /// often, and it is the one OpenAI documents as the primary control.
    Exclusive,
    /// The model rejects sampling parameters (Claude 4.7+ accept only `temperature: 1`): `temperature`, `top_p`
    /// and `top_k` are never sent; values other than the default are reported as dropped.
    None,
}

/// What [`translate_request`] needs besides the body.
#[derive(Debug, Clone, Copy)]
pub struct RequestOptions<'a> {
    /// The Anthropic model name (after alias resolution), e.g. `claude-haiku-4-5`.
    pub upstream_model: &'a str,
    /// The model's rules.
    pub rules: &'a ModelRules,
}

/// An Anthropic `/v1/messages` request ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TranslatedRequest {
    /// Anthropic `/v1/messages` JSON.
    pub body: Vec<u8>,
    /// The client asked for a stream (`stream: true`); `body` asks Anthropic for one too.
    pub stream: bool,
    /// The client asked for `stream_options.include_usage`; pass it on in [`StreamContext`]. Anthropic always
    /// streams usage, so `stream_options` itself is not forwarded.
    pub include_usage: bool,
    /// OpenAI parameters that were present but not sent (no Anthropic meaning, rejected by this model, or only
    /// meaningful on OpenAI's platform), for the server to log. Each name appears once.
    pub dropped: Vec<&'static str>,
    /// Top-level keys OpenAI does not define either, dropped likewise (at most 16 names, each cut to 64 bytes).
    pub dropped_unknown: Vec<String>,
}

/// What [`translate_response`] needs besides the body.
#[derive(Debug, Clone, Copy)]
pub struct ResponseContext<'a> {
    /// Unix seconds for `created` (Anthropic sends no timestamp; the crate reads no clock).
    pub created: u64,
    /// The model name reported to the client. The server passes the client-facing name (the alias the client
    /// asked for), not Anthropic's dated model id, so clients that compare `model` with what they sent keep
    /// working and the upstream choice stays the gateway's business.
    pub model: &'a str,
}

// === impl ModelRules ===

impl Default for ModelRules {
    /// What an unconfigured model gets: 4096 output tokens (LiteLLM's and agentgateway's default), sampling rules
    /// of the current models (never both `temperature` and `top_p`), unsupported parameters refused.
    fn default() -> Self {
        Self {
            max_tokens_default: 4096,
            sampling: Sampling::Exclusive,
            drop_unsupported: false,
        }
    }
}

// === functions ===

/// Maps an Anthropic `stop_reason` to an OpenAI `finish_reason`; `None` for a value this crate does not know
/// (callers then report `"stop"` and log the unknown value).
#[must_use]
pub fn finish_reason(stop_reason: &str) -> Option<&'static str> {
    Some(match stop_reason {
        "end_turn" | "stop_sequence" | "pause_turn" => "stop",
        "max_tokens" | "model_context_window_exceeded" | "compaction" => "length",
        "tool_use" => "tool_calls",
        "refusal" => "content_filter",
        _ => return None,
    })
}

#[cfg(test)]
mod tests;
