//! OpenAI chat completions → AWS Bedrock `Converse` / `ConverseStream` and back, pure.
//!
//! - [`translate_request`]: OpenAI body → Converse body (the model id goes in the URL; signing is the server's).
//! - [`translate_response`]: Converse response → OpenAI `chat.completion` and the metered usage.
//! - [`eventstream`]: the bounded `application/vnd.amazon.eventstream` frame decoder (and an encoder for tests).
//! - [`StreamTranslator`]: ConverseStream frames → OpenAI chunks.
//! - [`translate_error`]: Bedrock's `{"message"}` + `x-amzn-ErrorType` → the OpenAI error.
//!
//! Usage: Bedrock's `inputTokens` excludes cached tokens, so `prompt_tokens = inputTokens + cacheReadInputTokens
//! + cacheWriteInputTokens` (never `inputTokens` alone), `cached_tokens` = reads, `cache_write_tokens` = writes.
//! In a stream usage arrives in `metadata`, *after* `messageStop`. No function panics on any input (fuzz targets
//! `bedrock_request`, `bedrock_stream`). The mapping is in `docs/providers/bedrock.md`.

pub mod eventstream;
mod request;
mod response;
mod stream;
mod upstream_error;

/// The same response facts as for Gemini (Bedrock sends no response id: `fallback_id` is always used).
pub use crate::gemini::ResponseContext;
pub use request::translate_request;
pub use response::translate_response;
pub use stream::StreamTranslator;
pub use upstream_error::translate_error;

/// What [`translate_request`] needs besides the body.
#[derive(Debug, Clone, Copy)]
pub struct RequestOptions {
    /// `true`: parameters with no Bedrock meaning are dropped and reported; `false`: refused with a 400.
    pub drop_unsupported: bool,
}

/// A Converse request ready to sign and send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TranslatedRequest {
    /// Converse JSON.
    pub body: Vec<u8>,
    /// Call `converse-stream` instead of `converse`.
    pub stream: bool,
    /// OpenAI parameters present but not sent, each once.
    pub dropped: Vec<&'static str>,
    /// Top-level keys OpenAI does not define either (at most 16).
    pub dropped_unknown: Vec<String>,
}

/// Maps a Bedrock `stopReason` to an OpenAI `finish_reason`; `None` for an unknown value.
#[must_use]
pub fn finish_reason(reason: &str) -> Option<&'static str> {
    Some(match reason {
        "end_turn" | "stop_sequence" | "malformed_model_output" | "malformed_tool_use" => "stop",
        "tool_use" => "tool_calls",
        "max_tokens" | "model_context_window_exceeded" => "length",
        "guardrail_intervened" | "content_filtered" => "content_filter",
        _ => return None,
    })
}

#[cfg(test)]
mod tests;
