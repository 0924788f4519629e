//! `testkit`: strict mock upstreams and file helpers for gatehouse's integration tests, and the fast canned upstream
//! behind the `mock-upstream` benchmark binary.
//!
//! - [`MockOpenAi`] — an OpenAI-compatible upstream that refuses what the real API refuses, answers with a
//!   [`Reply`] chosen by the test, and records every request ([`Recorded`]) so tests assert what the gateway *sent*.
//! - [`MockAnthropic`] — the same for Anthropic's Messages API: strict validation with the API's own error JSON,
//!   streamed replies with the full event grammar, gates, mid-stream errors, cut connections, 429/529.
//! - [`MockGemini`] — the same for Google's Gemini API (`generateContent`, `streamGenerateContent`): proto-JSON
//!   strictness (unknown fields refused), Google's error JSON, `alt=sse` streams, mid-stream errors, cuts.
//! - [`MockBedrock`] — Bedrock Runtime's Converse API: every request's SigV4 signature verified (shape, date,
//!   payload hash, session token, and the signature recomputed), Converse body rules, real event-stream frames.
//! - [`MockResponses`] — OpenAI's Responses API (`/v1/responses`, or Azure's `/openai/responses`): unknown
//!   top-level keys refused as the API does, `previous_response_id` checked against the ids it stored, the typed
//!   event stream with `sequence_number`s and usage on `response.completed`.
//! - [`SseCollector`] / [`sse_data`] — read an SSE body back into its `data:` payloads.
//! - [`write_file_atomically`] and [`swap_k8s_secret_dir`] — change files the way editors and the kubelet do, for
//!   reload tests.
//! - [`DnsServer`] — a loopback nameserver whose A records the test changes, for DNS pool membership.
//! - [`OtlpReceiver`] — an OTLP/HTTP trace collector that decodes the protobuf and keeps every span.
//! - [`bench_upstream`] — precomputed responses for load tests, with none of the mock's checks.
//!
//! ```no_run
//! # async fn demo() {
//! use testkit::{MockOpenAi, Reply};
//! let mock = MockOpenAi::builder().api_key("sk-upstream").reply(Reply::chat("hello")).start().await;
//! // ... point the gateway at mock.base_url() and send a request through it ...
//! let sent = mock.wait_for_requests(1).await;
//! assert_eq!(sent[0].header("authorization"), Some("Bearer sk-upstream"));
//! # }
//! ```

mod atomic_file;
pub mod bench_upstream;
mod dns_server;
mod journal;
#[cfg(unix)]
mod k8s_secret;
mod listener;
mod mock_anthropic;
mod mock_bedrock;
mod mock_gemini;
mod mock_openai;
mod mock_responses;
mod openai_json;
mod otlp;
mod render;
mod reply;
mod sse;
mod sse_body;
mod validate;

pub use atomic_file::write_file_atomically;
pub use dns_server::DnsServer;
pub use journal::Recorded;
#[cfg(unix)]
pub use k8s_secret::swap_k8s_secret_dir;
pub use listener::{free_port_listener, listener_on};
pub use mock_anthropic::{AnthropicRecorded, AnthropicRejection, AnthropicReply, MockAnthropic, MockAnthropicBuilder};
pub use mock_bedrock::{BedrockRecorded, BedrockReply, MockBedrock, MockBedrockBuilder};
pub use mock_gemini::{GeminiRecorded, GeminiRejection, GeminiReply, MockGemini, MockGeminiBuilder};
pub use mock_openai::{MockOpenAi, MockOpenAiBuilder};
pub use mock_responses::{MockResponses, MockResponsesBuilder, ResponsesRejection, ResponsesReply};
pub use otlp::{OtlpReceiver, ReceivedSpan};
pub use reply::{Reply, StreamGate};
pub use sse::{SseCollector, collect_sse, sse_data};
pub use validate::Rejection;
