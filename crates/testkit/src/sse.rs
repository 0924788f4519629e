//! Reading a server-sent-events body back into its `data:` payloads, for assertions in tests.
//!
//! Follows the SSE spec where it matters for OpenAI streams: lines end in `\n`, `\r\n` or `\r`; one optional space
//! after `data:` is dropped; several `data:` lines of one event are joined with `\n`; comments and other fields are
//! ignored; an event is dispatched at a blank line, so a trailing event without one is discarded. Not hardened:
//! test-only, unbounded.

use bytes::Bytes;
use futures_util::{Stream, StreamExt};

/// Incremental SSE parser: feed it body chunks as they arrive (split anywhere), read the completed events.
#[derive(Debug, Default)]
pub struct SseCollector {
    /// Bytes of a line not yet terminated.
    partial: Vec<u8>,
    /// The `data` of the event being read, if it has any.
    data: Option<String>,
    events: Vec<String>,
}

// === impl SseCollector ===

impl SseCollector {
    /// An empty collector.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds the next piece of the body.
    pub fn push(&mut self, bytes: &[u8]) {
        self.partial.extend_from_slice(bytes);
        let mut start = 0;
        while let Some(offset) = self.partial[start..].iter().position(|b| matches!(b, b'\n' | b'\r')) {
            let end = start + offset;
            let next = match (self.partial[end], self.partial.get(end + 1)) {
                (b'\r', Some(b'\n')) => end + 2,
                // A `\r` at the end may be the first half of `\r\n`: wait for the next piece.
                (b'\r', None) => break,
                _ => end + 1,
            };
            let line = String::from_utf8_lossy(&self.partial[start..end]).into_owned();
            self.line(&line);
            start = next;
        }
        self.partial.drain(..start);
    }

    /// The `data` of every event completed so far.
    pub fn events(&self) -> &[String] {
        &self.events
    }

    /// Ends the body and returns every completed event's `data`.
    pub fn finish(mut self) -> Vec<String> {
        if self.partial.last() == Some(&b'\r') {
            // The body ended on a bare `\r`: that was a line end after all.
            self.partial.push(b'\n');
            self.push(&[]);
        }
        self.events
    }

    /// Completed events parsed as JSON, skipping OpenAI's `[DONE]` sentinel.
    ///
    /// # Panics
    ///
    /// If an event is neither JSON nor `[DONE]`: in a test, that is the failure.
    pub fn json(&self) -> Vec<serde_json::Value> {
        self.events
            .iter()
            .filter(|data| data.as_str() != "[DONE]")
            .map(|data| serde_json::from_str(data).unwrap_or_else(|e| panic!("SSE event is not JSON ({e}): {data:?}")))
            .collect()
    }

    fn line(&mut self, line: &str) {
        if line.is_empty() {
            if let Some(data) = self.data.take() {
                self.events.push(data);
            }
            return;
        }
        let (field, value) = line.split_once(':').unwrap_or((line, ""));
        if field != "data" {
            return; // a comment (empty field name), `event`, `id`, `retry` or unknown
        }
        let value = value.strip_prefix(' ').unwrap_or(value);
        match &mut self.data {
            Some(data) => {
                data.push('\n');
                data.push_str(value);
            }
            None => self.data = Some(value.to_string()),
        }
    }
}

/// The `data` payloads of a complete SSE body.
pub fn sse_data(body: &[u8]) -> Vec<String> {
    let mut collector = SseCollector::new();
    collector.push(body);
    collector.finish()
}

/// Reads a body stream (e.g. `reqwest::Response::bytes_stream()`) to its end and returns its `data` payloads.
pub async fn collect_sse<S, E>(body: S) -> Result<Vec<String>, E>
where
    S: Stream<Item = Result<Bytes, E>>,
{
    let mut collector = SseCollector::new();
    let mut body = std::pin::pin!(body);
    while let Some(chunk) = body.next().await {
        collector.push(&chunk?);
    }
    Ok(collector.finish())
}

#[cfg(test)]
mod tests;
