//! OpenAI chat completions → Google Gemini `generateContent` / `streamGenerateContent?alt=sse` and back, pure.
//!
//! - [`translate_request`]: OpenAI request body → Gemini `GenerateContentRequest` body (the model and the
//!   endpoint go in the URL, which the server builds), plus what was dropped.
//! - [`translate_response`]: `GenerateContentResponse` → OpenAI `chat.completion` and the metered usage.
//! - [`StreamTranslator`]: the `alt=sse` stream (each `data:` a whole `GenerateContentResponse`) → OpenAI chunks.
//! - [`translate_embeddings_request`] / [`translate_embeddings_response`]: OpenAI embeddings ⇄
//!   `batchEmbedContents`.
//! - [`translate_error`]: Google's error JSON (`{"error":{code,message,status,details}}`, also wrapped in an
//!   array) → the OpenAI error the client receives.
//!
//! Invariants (as for [`anthropic`](crate::anthropic)): nothing is silently mistranslated — a parameter maps, is
//! refused with a 400 naming it, or is dropped and reported; usage counts every prompt token
//! (`promptTokenCount` already includes cached tokens; tool-use prompt tokens are added) and every generated one
//! (`candidatesTokenCount` excludes thoughts, so thoughts are added); streams end with `[DONE]` or an error frame,
//! never silently; no function panics on any input (fuzz targets `gemini_request`, `gemini_response`,
//! `gemini_stream`). The field-by-field mapping is in `docs/providers/gemini.md`.

mod embeddings;
mod request;
mod response;
mod schema;
mod stream;
mod upstream_error;
mod usage;

pub use embeddings::{EmbedRequest, MAX_INPUTS, translate_embeddings_request, translate_embeddings_response};
pub use request::translate_request;
pub use response::translate_response;
pub use stream::StreamTranslator;
pub use upstream_error::translate_error;

/// Separates a synthesized tool-call id from the Gemini `thoughtSignature` it carries. Gemini 3 requires the
/// signature of a `functionCall` part to be sent back with it; OpenAI clients echo tool-call ids reliably, so the
/// signature rides in the id (`call_0__thought__<signature>`) and is split off again on the next request.
pub const THOUGHT_SEPARATOR: &str = "__thought__";

/// What [`translate_request`] needs besides the body.
#[derive(Debug, Clone, Copy)]
pub struct RequestOptions {
    /// `true`: parameters with no Gemini meaning are dropped and reported; `false`: refused with a 400 naming them.
    pub drop_unsupported: bool,
}

/// A Gemini request ready to send.
#[derive(Debug, Clone, PartialEq)]
pub struct TranslatedRequest {
    /// `GenerateContentRequest` JSON.
    pub body: Vec<u8>,
    /// The client asked for a stream: call `streamGenerateContent?alt=sse` instead of `generateContent`.
    pub stream: bool,
    /// OpenAI parameters that were present but not sent, each once.
    pub dropped: Vec<&'static str>,
    /// Top-level keys OpenAI does not define either, dropped likewise (at most 16, each cut to 64 bytes).
    pub dropped_unknown: Vec<String>,
}

/// What [`translate_response`] and [`StreamTranslator`] need besides the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseContext {
    /// Unix seconds for `created` (Gemini sends no timestamp; the crate reads no clock).
    pub created: u64,
    /// The model name reported to the client (the name it asked for).
    pub model: String,
    /// The completion id when Gemini sends no `responseId` (the server passes its request id).
    pub fallback_id: String,
    /// Streams only: the client asked for `stream_options.include_usage` (`"usage":null` on every chunk, a
    /// usage chunk before `[DONE]`).
    pub include_usage: bool,
}

/// Maps a Gemini `finishReason` to an OpenAI `finish_reason`; `None` for a value this crate does not know (callers
/// report `stop` and log it). `STOP` becomes `tool_calls` when the reply contains function calls.
#[must_use]
pub fn finish_reason(reason: &str, has_calls: bool) -> Option<&'static str> {
    Some(match reason {
        "STOP" | "FINISH_REASON_UNSPECIFIED" | "OTHER" | "MALFORMED_FUNCTION_CALL" if has_calls => "tool_calls",
        "STOP" | "FINISH_REASON_UNSPECIFIED" | "OTHER" | "MALFORMED_FUNCTION_CALL" => "stop",
        "MAX_TOKENS" => "length",
        "SAFETY"
        | "RECITATION"
        | "LANGUAGE"
        | "BLOCKLIST"
        | "PROHIBITED_CONTENT"
        | "SPII"
        | "IMAGE_SAFETY"
        | "IMAGE_PROHIBITED_CONTENT"
        | "IMAGE_RECITATION"
        | "IMAGE_OTHER"
        | "UNEXPECTED_TOOL_CALL"
        | "TOO_MANY_TOOL_CALLS" => "content_filter",
        _ => return None,
    })
}

#[cfg(test)]
mod tests;
