//! Token usage of OpenAI Responses API answers (`POST /v1/responses`), for the passthrough path where the gateway
//! relays the upstream's bytes unchanged and only reads the numbers metering needs.
//!
//! A Responses body names its counts differently from chat completions (`input_tokens` / `output_tokens`,
//! `input_tokens_details.cached_tokens`), and a stream carries them once, on the terminal event
//! (`response.completed`, or `response.incomplete` / `response.failed`) inside its `response` object. Like the chat
//! readers next door, these never fail: malformed input yields `None` and the caller records the gap.
//!
//! Invariant: `total_tokens` is the upstream's figure when given, otherwise `input_tokens + output_tokens`.

use serde::Deserialize;

use super::{MapOnly, Usage};
use crate::SseEvent;

/// Follows a Responses event stream and keeps the usage of its terminal event.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ResponsesStreamUsage {
    last: Option<Usage>,
    done: bool,
}

/// The `usage` key of a Responses object.
#[derive(Deserialize)]
struct Envelope {
    #[serde(default)]
    usage: Option<MapOnly<ResponsesUsage>>,
}

/// A terminal stream event: `{"type":"response.completed","response":{…,"usage":{…}}}`.
#[derive(Deserialize)]
struct Terminal {
    #[serde(default)]
    response: Option<MapOnly<Envelope>>,
}

/// The Responses API's `usage` object.
#[derive(Deserialize)]
struct ResponsesUsage {
    #[serde(default)]
    input_tokens: Option<u64>,
    #[serde(default)]
    output_tokens: Option<u64>,
    #[serde(default)]
    total_tokens: Option<u64>,
    #[serde(default)]
    input_tokens_details: Option<MapOnly<InputDetails>>,
}

#[derive(Deserialize)]
struct InputDetails {
    #[serde(default)]
    cached_tokens: Option<u64>,
    /// Input tokens written to the provider's prompt cache (gatehouse's translated Anthropic answers carry it).
    #[serde(default)]
    cache_write_tokens: Option<u64>,
}

/// The event types that end a Responses stream and carry the final `response` object.
const TERMINAL: [&str; 3] = ["response.completed", "response.incomplete", "response.failed"];

/// Usage from a non-streamed Responses object (`{"object":"response",…,"usage":{…}}`).
///
/// `None` when the body is not a JSON object, has no `usage` object, or its counts are not non-negative integers.
#[must_use]
pub fn from_responses_body(body: &[u8]) -> Option<Usage> {
    let MapOnly(envelope) = serde_json::from_slice::<MapOnly<Envelope>>(body).ok()?;
    envelope.usage.map(|MapOnly(u)| Usage::from(u))
}

/// Usage from one Responses stream event: only a terminal event (named by its `event:` field, or by `type` in its
/// data when the `event:` line is absent) is parsed; every delta is skipped without parsing.
#[must_use]
pub fn from_responses_event(ev: &SseEvent) -> Option<Usage> {
    if !is_terminal(ev) {
        return None;
    }
    let MapOnly(terminal) = serde_json::from_str::<MapOnly<Terminal>>(&ev.data).ok()?;
    let MapOnly(envelope) = terminal.response?;
    envelope.usage.map(|MapOnly(u)| Usage::from(u))
}

/// Whether `ev` is a terminal event. With an `event:` field that decides; without one, a cheap scan of the data for
/// a terminal type name (a delta whose text happens to contain the name is parsed and found to have no usage).
fn is_terminal(ev: &SseEvent) -> bool {
    match ev.event.as_deref() {
        Some(name) => TERMINAL.contains(&name),
        None => TERMINAL.iter().any(|t| ev.data.contains(t)),
    }
}

// === impl Usage ===

impl From<ResponsesUsage> for Usage {
    fn from(u: ResponsesUsage) -> Self {
        let input_tokens = u.input_tokens.unwrap_or(0);
        let output_tokens = u.output_tokens.unwrap_or(0);
        let details = u.input_tokens_details.map(|MapOnly(d)| d);
        Self {
            input_tokens,
            output_tokens,
            cached_input_tokens: details.as_ref().and_then(|d| d.cached_tokens).unwrap_or(0),
            cache_write_input_tokens: details.as_ref().and_then(|d| d.cache_write_tokens).unwrap_or(0),
            total_tokens: u
                .total_tokens
                .unwrap_or_else(|| input_tokens.saturating_add(output_tokens)),
        }
    }
}

// === impl ResponsesStreamUsage ===

impl ResponsesStreamUsage {
    /// Nothing observed yet.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Records one decoded event; a terminal event's usage replaces any earlier one and marks the stream done.
    pub fn observe(&mut self, ev: &SseEvent) {
        if let Some(u) = from_responses_event(ev) {
            self.last = Some(u);
            self.done = true;
        }
    }

    /// The usage of the terminal event, once seen.
    #[must_use]
    pub fn usage(&self) -> Option<Usage> {
        self.last
    }

    /// Whether a terminal event with usage was seen; a stream that ends without one was cut short.
    #[must_use]
    pub fn saw_terminal(&self) -> bool {
        self.done
    }
}

#[cfg(test)]
mod tests;
