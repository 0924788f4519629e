//! A bounded Server-Sent Events decoder that observes a stream, and a matching encoder.
//!
//! The gateway forwards upstream SSE bytes to the client unchanged and immediately; it feeds the same bytes to a
//! [`SseDecoder`] only to *observe* events (usage, errors). Decoding follows the WHATWG "event stream
//! interpretation" rules: lines end in `\n`, `\r\n` or `\r` (a `\r` closing one chunk may pair with a `\n` opening
//! the next), `data` lines are joined with `\n`, one space after the colon is dropped, `:` lines are comments,
//! unknown fields are ignored, a blank line dispatches, and an event without `data` is not dispatched. A leading
//! UTF-8 BOM is skipped and invalid UTF-8 is replaced with U+FFFD.
//!
//! Invariants: memory is bounded by [`SseLimits`] (one partial line plus one event under construction, plus the
//! events decoded from the chunk just pushed); splitting the same bytes into chunks differently yields the same
//! events; crossing a bound is reported once as [`LlmError::SseLimit`] and the decoder then stays failed.

mod encode;

pub use encode::encode_event;

use std::collections::VecDeque;

use crate::LlmError;

/// Bounds on what the decoder buffers, so a hostile or broken upstream cannot exhaust memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SseLimits {
    /// Longest line accepted, in bytes, excluding the line terminator.
    pub max_line_bytes: usize,
    /// Largest event accepted: the sum of its `data` (with joining newlines) and `event` type, in bytes.
    pub max_event_bytes: usize,
}

/// One dispatched event.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct SseEvent {
    /// The `event` field, or `None` for the default `message` type.
    pub event: Option<String>,
    /// The `data` lines joined with `\n`.
    pub data: String,
    /// The last event ID seen so far in the stream (it persists across events, per the spec), if non-empty.
    pub id: Option<String>,
}

/// Incremental SSE decoder; push bytes as they arrive, then drain [`next_event`](SseDecoder::next_event).
#[derive(Debug, Clone)]
pub struct SseDecoder {
    limits: SseLimits,
    /// Bytes of a line whose terminator has not arrived yet.
    line: Vec<u8>,
    /// The previous chunk ended in `\r`: a `\n` opening the next chunk belongs to that terminator.
    pending_cr: bool,
    /// No line has been completed yet (a BOM may still need stripping).
    at_start: bool,
    /// `data` lines of the event under construction, each followed by `\n`.
    data: String,
    /// Whether any `data` field was seen for the event under construction.
    has_data: bool,
    event_type: String,
    last_event_id: String,
    retry: Option<u64>,
    ready: VecDeque<SseEvent>,
    failed: Option<LlmError>,
}

// === impl SseLimits ===

impl Default for SseLimits {
    /// 1 MiB per line and 4 MiB per event: far above any real completion chunk, far below a memory problem.
    fn default() -> Self {
        Self {
            max_line_bytes: 1024 * 1024,
            max_event_bytes: 4 * 1024 * 1024,
        }
    }
}

// === impl SseDecoder ===

impl Default for SseDecoder {
    fn default() -> Self {
        Self::new(SseLimits::default())
    }
}

impl SseDecoder {
    /// A decoder at the start of a stream.
    #[must_use]
    pub fn new(limits: SseLimits) -> Self {
        Self {
            limits,
            line: Vec::new(),
            pending_cr: false,
            at_start: true,
            data: String::new(),
            has_data: false,
            event_type: String::new(),
            last_event_id: String::new(),
            retry: None,
            ready: VecDeque::new(),
            failed: None,
        }
    }

    /// Feeds the next bytes of the stream; chunk boundaries may fall anywhere, even inside a UTF-8 character.
    ///
    /// # Errors
    ///
    /// [`LlmError::SseLimit`] when a line or an event crosses its bound; every later call returns the same error.
    pub fn push(&mut self, chunk: &[u8]) -> Result<(), LlmError> {
        if let Some(err) = &self.failed {
            return Err(err.clone());
        }
        self.push_inner(chunk).inspect_err(|err| {
            self.failed = Some(err.clone());
            self.line = Vec::new();
            self.data = String::new();
        })
    }

    /// The next decoded event, oldest first.
    pub fn next_event(&mut self) -> Option<SseEvent> {
        self.ready.pop_front()
    }

    /// Ends the stream: a final line without terminator is processed and an event without the closing blank line
    /// is dispatched (many upstreams omit it). Returns the next queued event; drain the rest with
    /// [`next_event`](Self::next_event).
    pub fn finish(&mut self) -> Option<SseEvent> {
        if self.failed.is_none() {
            if !self.line.is_empty() {
                let line = std::mem::take(&mut self.line);
                // The line already passed the length check while it was buffered.
                let _ = self.process_line(&line);
            }
            self.dispatch();
        }
        self.pending_cr = false;
        self.next_event()
    }

    /// The last `retry` interval (milliseconds) the upstream asked for.
    #[must_use]
    pub fn retry(&self) -> Option<u64> {
        self.retry
    }

    fn push_inner(&mut self, mut chunk: &[u8]) -> Result<(), LlmError> {
        if chunk.is_empty() {
            // An empty chunk must not clear a pending `\r`: the `\n` pairing with it may come in the next one.
            return Ok(());
        }
        if self.pending_cr {
            self.pending_cr = false;
            if let Some(rest) = chunk.strip_prefix(b"\n") {
                chunk = rest;
            }
        }
        while let Some(end) = memchr::memchr2(b'\n', b'\r', chunk) {
            let (content, rest) = chunk.split_at(end);
            let terminator_len = match rest {
                [b'\r', b'\n', ..] => 2,
                [b'\r'] => {
                    self.pending_cr = true;
                    1
                }
                _ => 1,
            };
            if self.line.is_empty() {
                self.check_line(content.len())?;
                self.process_line(content)?;
            } else {
                self.check_line(self.line.len() + content.len())?;
                let mut line = std::mem::take(&mut self.line);
                line.extend_from_slice(content);
                self.process_line(&line)?;
                line.clear();
                self.line = line;
            }
            chunk = rest.get(terminator_len..).unwrap_or_default();
        }
        if !chunk.is_empty() {
            self.check_line(self.line.len() + chunk.len())?;
            self.line.extend_from_slice(chunk);
        }
        Ok(())
    }

    fn check_line(&self, len: usize) -> Result<(), LlmError> {
        if len > self.limits.max_line_bytes {
            return Err(LlmError::SseLimit {
                what: "line",
                limit: self.limits.max_line_bytes,
            });
        }
        Ok(())
    }

    fn check_event(&self, extra: usize) -> Result<(), LlmError> {
        if self.data.len() + self.event_type.len() + extra > self.limits.max_event_bytes {
            return Err(LlmError::SseLimit {
                what: "event",
                limit: self.limits.max_event_bytes,
            });
        }
        Ok(())
    }

    /// Interprets one complete line (without its terminator).
    fn process_line(&mut self, mut line: &[u8]) -> Result<(), LlmError> {
        if self.at_start {
            self.at_start = false;
            line = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
        }
        if line.is_empty() {
            self.dispatch();
            return Ok(());
        }
        if line.first() == Some(&b':') {
            return Ok(());
        }
        let (field, value) = match memchr::memchr(b':', line) {
            Some(colon) => {
                let value = &line[colon + 1..];
                (&line[..colon], value.strip_prefix(b" ").unwrap_or(value))
            }
            None => (line, &b""[..]),
        };
        match field {
            b"data" => {
                let value = String::from_utf8_lossy(value);
                self.check_event(value.len() + 1)?;
                self.data.push_str(&value);
                self.data.push('\n');
                self.has_data = true;
            }
            b"event" => {
                let value = String::from_utf8_lossy(value);
                let grows = value.len().saturating_sub(self.event_type.len());
                self.check_event(grows)?;
                self.event_type = value.into_owned();
            }
            b"id" if !value.contains(&0) => {
                self.last_event_id = String::from_utf8_lossy(value).into_owned();
            }
            b"retry" if !value.is_empty() && value.iter().all(u8::is_ascii_digit) => {
                // Digits that overflow u64 are ignored, like any other unparseable value.
                if let Ok(ms) = std::str::from_utf8(value).unwrap_or_default().parse() {
                    self.retry = Some(ms);
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// Dispatches the event under construction, if it has data, and resets the buffers.
    fn dispatch(&mut self) {
        let event_type = std::mem::take(&mut self.event_type);
        if !std::mem::take(&mut self.has_data) {
            return;
        }
        let mut data = std::mem::take(&mut self.data);
        data.pop(); // the `\n` after the last data line
        self.ready.push_back(SseEvent {
            event: (!event_type.is_empty()).then_some(event_type),
            data,
            id: (!self.last_event_id.is_empty()).then(|| self.last_event_id.clone()),
        });
    }
}

#[cfg(test)]
mod tests;
