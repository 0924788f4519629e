//! Anthropic Messages ⇄ OpenAI chat completions, the reverse direction, pure.
//!
//! A client speaking Anthropic `POST /v1/messages` (Claude Code, the Anthropic SDKs) is served by an OpenAI-style
//! backend (vLLM, any OpenAI-compatible server). This module is the whole translation; the server only moves bytes
//! and headers:
//!
//! - [`translate_request`]: Anthropic request body → OpenAI `/v1/chat/completions` body, plus what was dropped and
//!   a local estimate of the prompt's tokens.
//! - [`translate_response`]: OpenAI `chat.completion` → Anthropic `Message`, plus the metered [`Usage`].
//! - [`MessageStreamTranslator`]: OpenAI `chat.completion.chunk` events → Anthropic stream events, one at a time.
//! - [`translate_error`]: OpenAI-style error status and body → the Anthropic error the client receives.
//! - [`estimate_input_tokens`]: `POST /v1/messages/count_tokens` for targets that cannot count.
//!
//! Invariants:
//! - Nothing is silently mistranslated: a parameter either maps, is refused with a 400 naming it, or is dropped and
//!   reported in [`IngressRequest::dropped`] (or [`IngressRequest::dropped_unknown`]).
//! - Usage keeps the crate's meaning (the metered `input_tokens` counts every prompt token, cached ones included);
//!   the client sees Anthropic's meaning (`input_tokens` excludes cache reads and writes, which are reported in
//!   their own fields), so the client's sum equals the upstream's `prompt_tokens`.
//! - Streams are translated incrementally and the output depends only on the sequence of events; a stream that
//!   errors or is cut short ends with an Anthropic `error` event, never a silent truncation.
//! - No function panics on any input (fuzz targets `anthropic_ingress_request`, `anthropic_ingress_response`,
//!   `anthropic_ingress_stream`).

mod estimate;
mod input;
mod request;
mod response;
mod stream;
mod tokens;
mod upstream_error;

pub use crate::TranslatedError;
pub use estimate::estimate_input_tokens;
pub use request::translate_request;
pub use response::translate_response;
pub use stream::{MessageStreamContext, MessageStreamTranslator};
pub use upstream_error::translate_error;

use crate::Usage;

/// An OpenAI chat-completions request ready to send, and what the server needs to know about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IngressRequest {
    /// OpenAI `/v1/chat/completions` JSON.
    pub body: Vec<u8>,
    /// The client asked for a stream; `body` then always carries `stream_options.include_usage: true`, because
    /// Anthropic's `message_delta` must report usage and OpenAI only streams it when asked.
    pub stream: bool,
    /// Anthropic parameters that were present but not sent (no OpenAI meaning, e.g. `cache_control`, thinking
    /// blocks and their signatures), for a log line and a response header. Each name appears once.
    pub dropped: Vec<&'static str>,
    /// Top-level keys this translator does not know (newer Anthropic fields that clients such as Claude Code send
    /// before gateways learn them), dropped likewise: at most 16 names, each cut to 64 bytes.
    pub dropped_unknown: Vec<String>,
    /// A local estimate of the prompt tokens (see [`estimate_input_tokens`]): Anthropic clients read
    /// `message_start.usage.input_tokens`, which an OpenAI stream only learns at its end.
    pub input_tokens_estimate: u64,
}

/// What [`translate_response`] needs besides the body.
#[derive(Debug, Clone, Copy)]
pub struct MessageContext<'a> {
    /// The model name reported to the client: the name it asked for, not the backend's, so clients that compare
    /// `model` with what they sent keep working and the upstream choice stays the gateway's business.
    pub model: &'a str,
}

/// A translated response with everything the server may want to log or meter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TranslatedMessage {
    /// Anthropic `Message` JSON.
    pub body: Vec<u8>,
    /// What to meter (`input_tokens` includes cached tokens, as everywhere in this crate).
    pub usage: Usage,
    /// The `stop_reason` reported to the client.
    pub stop_reason: &'static str,
    /// Tool calls whose `arguments` were not a JSON object and were sent as `input: {}`; non-zero means the
    /// backend produced a broken call the client will see as empty, worth a warning in the log.
    pub invalid_tool_arguments: usize,
}

/// Maps an OpenAI `finish_reason` (and vLLM's matched stop string) to Anthropic's `stop_reason` and
/// `stop_sequence`.
///
/// `stop` is `end_turn`, unless vLLM names the stop string that ended the output (its `stop_reason` extension),
/// which is exactly Anthropic's `stop_sequence`. Unknown or missing reasons are `end_turn`: the model stopped and
/// nothing says it was cut.
fn stop_reason(finish_reason: Option<&str>, matched_stop: Option<String>) -> (&'static str, Option<String>) {
    match finish_reason {
        Some("stop") if matched_stop.is_some() => ("stop_sequence", matched_stop),
        Some("length") => ("max_tokens", None),
        Some("tool_calls" | "function_call") => ("tool_use", None),
        Some("content_filter") => ("refusal", None),
        _ => ("end_turn", None),
    }
}

/// vLLM's `stop_reason`: the matched stop string, or a stop token id (a number, not a sequence the client gave).
fn matched_stop(raw: Option<&serde_json::value::RawValue>) -> Option<String> {
    raw.and_then(|r| serde_json::from_str::<String>(r.get()).ok())
}

#[cfg(test)]
mod tests;
