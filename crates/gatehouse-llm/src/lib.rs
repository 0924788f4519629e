//! Pure wire-level building blocks for the LLM data plane.
//!
//! This crate is **pure**: it performs no I/O, opens no sockets, reads no clock, loads no configuration and does not
//! depend on tokio. Every function takes bytes or strings and returns values, so the whole crate can be unit-tested,
//! property-tested and fuzzed in isolation, and the server crate (`gatehouse`) owns every side effect.
//!
//! What lives here:
//!
//! - [`splice`]: zero-copy rewrite of an OpenAI-compatible request body on the passthrough path — only `model` and
//!   `stream_options.include_usage` change, every other byte is copied verbatim.
//! - [`sse`]: a bounded Server-Sent Events decoder that *observes* the upstream stream the gateway forwards
//!   unchanged, plus a small encoder.
//! - [`usage`]: extraction of token usage from OpenAI responses and stream chunks.
//! - [`anthropic`]: OpenAI chat completions ⇄ Anthropic Messages translation (requests, responses, event streams,
//!   errors).
//! - [`anthropic_ingress`]: the reverse direction — Anthropic Messages clients served by OpenAI-style backends
//!   (requests, responses, event streams, errors, a local token estimate for `count_tokens`).
//! - [`gemini`]: OpenAI chat completions ⇄ Gemini `generateContent` translation (requests, responses, SSE streams,
//!   errors).
//! - [`responses`]: OpenAI Responses API ⇄ Anthropic Messages translation (requests, responses, event streams,
//!   errors), for agents that speak only `/v1/responses`.
//! - [`error`]: the crate's one error type, [`LlmError`], which knows where each failure came from.
//!
//! Every buffer has a bound ([`SseLimits`]); no function panics on any input (each parser has a fuzz target in
//! `fuzz/`).

pub mod anthropic;
pub mod anthropic_ingress;
pub mod bedrock;
mod body;
mod de;
mod drops;
pub mod error;
pub mod gemini;
pub mod responses;
pub mod splice;
pub mod sse;
pub mod translate;
pub mod usage;

pub use error::{ErrorSource, LlmError, Retry};
pub use splice::{RequestBody, Rewrite};
pub use sse::{SseDecoder, SseEvent, SseLimits, encode_event};
pub use translate::{Chain, StreamTranslate, TranslatedError};
pub use usage::{StreamUsage, Usage};
