//! Usage of native Anthropic traffic, read on the side: when an Anthropic-dialect client reaches an Anthropic
//! target the bytes pass through untouched, and these readers only observe them for the meter.
//!
//! - [`usage_from_message`]: the `usage` of a non-streamed Anthropic message.
//! - [`MessageStreamUsage`]: usage from an Anthropic event stream (`message_start`, then `message_delta`s),
//!   merged per field — cumulative, last value wins, never summed.
//!
//! Both count every prompt token as input (cache reads and writes included), the same meaning the rest of the
//! crate gives [`Usage::input_tokens`].

use serde::Deserialize;

use super::tokens::AnthropicUsage;
use crate::{SseEvent, Usage};

/// Observes an Anthropic event stream for its usage.
#[derive(Debug, Clone, Default)]
pub struct MessageStreamUsage {
    usage: Option<AnthropicUsage>,
}

#[derive(Deserialize)]
struct WithUsage {
    #[serde(default)]
    usage: Option<AnthropicUsage>,
}

#[derive(Deserialize)]
struct Event {
    #[serde(default)]
    message: Option<WithUsage>,
    #[serde(default)]
    usage: Option<AnthropicUsage>,
}

/// The usage of an Anthropic `Message` body; `None` when the body is not one or has no usage.
#[must_use]
pub fn usage_from_message(body: &[u8]) -> Option<Usage> {
    serde_json::from_slice::<WithUsage>(body)
        .ok()?
        .usage
        .map(AnthropicUsage::to_usage)
}

// === impl MessageStreamUsage ===

impl MessageStreamUsage {
    /// An observer at the start of a stream.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads one event; only `message_start` and `message_delta` carry usage, everything else is skipped cheaply.
    pub fn observe(&mut self, ev: &SseEvent) {
        let named = ev.event.as_deref();
        let carries = match named {
            Some(name) => name == "message_start" || name == "message_delta",
            // Nameless events: look inside (some proxies drop `event:` lines).
            None => ev.data.contains("\"usage\""),
        };
        if !carries {
            return;
        }
        let Ok(event) = serde_json::from_str::<Event>(&ev.data) else {
            return;
        };
        let Some(later) = event.usage.or(event.message.and_then(|m| m.usage)) else {
            return;
        };
        match &mut self.usage {
            Some(u) => u.merge(&later),
            None => self.usage = Some(later),
        }
    }

    /// The usage seen so far.
    #[must_use]
    pub fn usage(&self) -> Option<Usage> {
        self.usage.map(AnthropicUsage::to_usage)
    }
}

#[cfg(test)]
mod tests;
