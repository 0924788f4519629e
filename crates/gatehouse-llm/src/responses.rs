//! OpenAI Responses API (`POST /v1/responses`) ⇄ Anthropic Messages, both directions, pure.
//!
//! Coding agents (the Codex CLI, the Agents SDK) speak only the Responses API. For an Anthropic target the
//! gateway translates; for OpenAI, Azure and vLLM targets it passes the body through (not this module). The
//! server calls, in order:
//!
//! 1. [`translate_request`]`(body, &RequestOptions { upstream_model, rules, history })` →
//!    [`TranslatedRequest`]: the Anthropic body to send to `POST /v1/messages`, whether to stream, `store`, what
//!    was dropped (`dropped`, `dropped_unknown`: log them), `warnings` (tools and items the target cannot run,
//!    dropped: join them into a response header), and the [`ResponseEcho`] the reply must carry.
//!    `history` is the stored conversation when the client sent `previous_response_id` (see [`input_items`] and
//!    the output items below for what to store); without it `previous_response_id` is a 400.
//! 2. Non-streaming: [`translate_response`]`(anthropic_body, &ResponseContext { id, created_at, model, echo })`
//!    → [`TranslatedResponse`]: the Responses object, the metered [`Usage`](crate::Usage), the `output` items
//!    as JSON values for the store, and the status.
//! 3. Streaming: [`ResponseStreamTranslator::new`]`(StreamContext { .. })`, fed every decoded Anthropic SSE
//!    event; it implements [`StreamTranslate`](crate::StreamTranslate) like the chat translators, so the same
//!    relay drives it. After the stream, [`ResponseStreamTranslator::output_items`] and
//!    [`usage`](ResponseStreamTranslator::usage) give what to store and meter.
//! 4. Upstream errors: [`translate_error`]`(status, anthropic_body)` → the OpenAI error body (the Responses API
//!    uses the same `{"error":{message,type,param,code}}` shape as chat completions).
//!
//! ```
//! use gatehouse_llm::responses::{ModelRules, RequestOptions, ResponseContext, input_items};
//! use gatehouse_llm::responses::{translate_request, translate_response};
//!
//! let body = br#"{"model":"claude","input":"Hi","store":true}"#;
//! let rules = ModelRules::default();
//! let opts = RequestOptions { upstream_model: "claude-haiku-4-5", rules: &rules, history: None };
//! let req = translate_request(body, &opts)?;
//! // … send `req.body` to Anthropic `POST /v1/messages`, get `anthropic` back …
//! let anthropic = br#"{"id":"msg_1","content":[{"type":"text","text":"Hello"}],
//!     "stop_reason":"end_turn","usage":{"input_tokens":3,"output_tokens":1}}"#;
//! let ctx = ResponseContext { id: "resp_1", created_at: 1_700_000_000, model: "claude", echo: &req.echo };
//! let resp = translate_response(anthropic, &ctx)?;
//! assert_eq!(resp.status, "completed");
//! // What a later `previous_response_id: "resp_1"` continues (pass it as `RequestOptions::history`):
//! let mut stored = input_items(body)?;
//! stored.extend(resp.output_items);
//! assert_eq!(stored.len(), 2);
//! # Ok::<(), gatehouse_llm::LlmError>(())
//! ```
//!
//! Invariants:
//! - Nothing is silently mistranslated: a parameter maps, is refused with a 400 naming it, or is dropped and
//!   reported (`dropped`, `dropped_unknown`, `warnings`).
//! - The crate reads no clock and makes no ids: the response id and `created_at` come from the caller.
//! - No function panics on any input (fuzz targets `responses_request`, `responses_stream`).
//!
//! The mapping, field by field, and every deliberate choice are documented in `docs/responses.md`.

mod history;
mod object;
pub(crate) mod request;
mod response;
mod stream;

pub use crate::TranslatedError;
pub use crate::anthropic::translate_error;
pub use crate::anthropic::{ModelRules, Sampling};
pub use history::input_items;
pub use request::translate_request;
pub use response::{TranslatedResponse, translate_response};
pub use stream::{ResponseStreamTranslator, StreamContext};

/// What [`translate_request`] needs besides the body.
#[derive(Debug, Clone, Copy)]
pub struct RequestOptions<'a> {
    /// The Anthropic model name (after alias resolution), e.g. `claude-haiku-4-5`.
    pub upstream_model: &'a str,
    /// The model's rules (the same per-model knobs as the chat translator: default `max_tokens`, sampling,
    /// whether unsupported parameters are dropped or refused).
    pub rules: &'a ModelRules,
    /// The stored conversation `previous_response_id` points at: items (input and output, oldest first) to put
    /// before the request's `input`. `None` when the client sent no `previous_response_id`.
    pub history: Option<&'a [serde_json::Value]>,
}

/// An Anthropic `/v1/messages` request ready to send, and what the server needs to know about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TranslatedRequest {
    /// Anthropic `/v1/messages` JSON.
    pub body: Vec<u8>,
    /// The client asked for a stream (`stream: true`); `body` asks Anthropic for one too.
    pub stream: bool,
    /// The client's `store` (default `true`): whether the server should keep this response for a later
    /// `previous_response_id`. Never sent upstream.
    pub store: bool,
    /// Responses parameters that were present but not sent (no Anthropic meaning, rejected by this model, or
    /// only meaningful on OpenAI's platform), for the server to log. Each name appears once.
    pub dropped: Vec<&'static str>,
    /// Top-level keys the Responses API does not define either, dropped likewise (at most 16 names, each cut to
    /// 64 bytes).
    pub dropped_unknown: Vec<String>,
    /// Tools and input items the target cannot run, dropped so the rest could be served: `tool:<type>` (hosted
    /// tools such as `tool:web_search`), `tool:custom:<name>`, `item:<type>` (e.g. `item:web_search_call`). At
    /// most 16 entries of `[A-Za-z0-9_.:-]` only (client bytes outside it become `_`), so the server can join
    /// them into a response header as they are.
    pub warnings: Vec<String>,
    /// The request parameters the Responses object repeats; pass it to [`ResponseContext`] / [`StreamContext`].
    pub echo: ResponseEcho,
}

/// The request parameters a Responses object carries back to the client (`instructions`, `tools`,
/// `tool_choice`, `temperature`, `top_p`, `max_output_tokens`, `reasoning`, `text`, `metadata`, `store`, ...),
/// prepared once by [`translate_request`]. [`ResponseEcho::default`] is the echo of a request that set none of
/// them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseEcho {
    /// JSON object members (`"key":value,...`, no braces, no line breaks).
    pub(crate) members: String,
}

/// What [`translate_response`] needs besides the body.
#[derive(Debug, Clone, Copy)]
pub struct ResponseContext<'a> {
    /// The response id the client sees (`resp_…`), made by the server (this crate makes no ids); output item ids
    /// are derived from it.
    pub id: &'a str,
    /// Unix seconds for `created_at` (Anthropic sends no timestamp; the crate reads no clock).
    pub created_at: u64,
    /// The model name reported to the client: the name the client asked for, as the chat translator reports it.
    pub model: &'a str,
    /// The request's echo, from [`TranslatedRequest::echo`].
    pub echo: &'a ResponseEcho,
}

// === impl ResponseEcho ===

impl Default for ResponseEcho {
    fn default() -> Self {
        request::default_echo()
    }
}

impl ResponseEcho {
    /// The members as JSON text (`"background":false,"instructions":null,...`), to splice into an object.
    #[must_use]
    pub fn as_json_members(&self) -> &str {
        &self.members
    }
}
