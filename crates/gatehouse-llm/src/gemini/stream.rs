//! Gemini `streamGenerateContent?alt=sse` → OpenAI `chat.completion.chunk` stream, one event at a time.
//!
//! Each `data:` is a whole `GenerateContentResponse` holding only the new parts; there are no event names and no
//! end marker — the connection closing ends the stream. So:
//!
//! | Gemini event | OpenAI output |
//! |---|---|
//! | the first one | the role chunk `{"role":"assistant","content":""}` (id = `responseId`, else the fallback) |
//! | `text` part / `thought: true` part | `content` / `reasoning_content` (empty ones skipped) |
//! | `functionCall` part (always whole) | one `tool_calls` delta with index, id, name and the full `arguments` |
//! | `usageMetadata` | merged (cumulative: last value of each field wins) |
//! | `finishReason` | `delta:{}` + the mapped `finish_reason` (once) |
//! | `promptFeedback.blockReason` without candidates | `finish_reason: content_filter` |
//! | `{"error": …}` | an OpenAI error frame; the stream ends, no `[DONE]` |
//! | upstream EOF after a finish reason | the usage chunk if asked for, `[DONE]` |
//! | upstream EOF before one | an error frame `upstream_stream_truncated`, no `[DONE]` |
//!
//! Output depends only on the sequence of events, never on how bytes were split; after `[DONE]` or an error
//! frame nothing more is written.

use serde::Deserialize;
use serde_json::value::RawValue;

use super::ResponseContext;
use super::response::{GenerateContentResponse, read_call};
use super::upstream_error::error_from_value;
use super::usage::UsageMetadata;
use crate::anthropic::json::truncate;
use crate::anthropic::stream::frames;
use crate::{SseEvent, Usage};

/// Incremental stream translation; feed it every decoded upstream event, then call [`finish`](Self::finish).
#[derive(Debug, Clone)]
pub struct StreamTranslator {
    ctx: ResponseContext,
    prefix: Vec<u8>,
    id: String,
    started: bool,
    usage: Option<UsageMetadata>,
    calls: usize,
    finish: Option<&'static str>,
    unknown_stop: Option<String>,
    error: Option<&'static str>,
    done: bool,
}

/// Only the `error` member of an event, to tell an error event from a response.
#[derive(Deserialize)]
struct ErrorProbe<'a> {
    #[serde(default, borrow)]
    error: Option<&'a RawValue>,
}

// === impl StreamTranslator ===

impl StreamTranslator {
    /// A translator at the start of a stream.
    #[must_use]
    pub fn new(ctx: ResponseContext) -> Self {
        Self {
            ctx,
            prefix: Vec::new(),
            id: String::new(),
            started: false,
            usage: None,
            calls: 0,
            finish: None,
            unknown_stop: None,
            error: None,
            done: false,
        }
    }

    /// Translates one upstream event, appending zero or more complete SSE frames to `out`.
    pub fn on_event(&mut self, ev: &SseEvent, out: &mut Vec<u8>) {
        if self.ended() || ev.data.trim().is_empty() {
            return;
        }
        if let Ok(ErrorProbe { error: Some(raw) }) = serde_json::from_str::<ErrorProbe<'_>>(&ev.data) {
            let e = error_from_value(raw.get());
            return self.fail_with(e.kind, e.code, &e.message, out);
        }
        let resp = match serde_json::from_str::<GenerateContentResponse<'_>>(&ev.data) {
            Ok(r) => r,
            Err(e) if e.classify() == serde_json::error::Category::Eof => return self.truncated(out),
            Err(_) => {
                return self.fail_with(
                    "server_error",
                    "upstream_invalid_stream",
                    "an upstream stream event could not be decoded",
                    out,
                );
            }
        };
        if !self.started {
            self.id = resp
                .response_id
                .as_deref()
                .map_or_else(|| self.ctx.fallback_id.clone(), |id| truncate(id, 128).into_owned());
            self.prefix = frames::prefix(&self.id, self.ctx.created, &self.ctx.model);
            self.started = true;
            self.chunk(out, frames::role);
        }
        if let Some(u) = &resp.usage_metadata {
            self.usage.get_or_insert_default().merge(u);
        }
        let candidate = resp.candidates.first();
        for part in candidate
            .and_then(|c| c.content.as_ref())
            .map_or(&[][..], |c| &c.parts[..])
        {
            if let Some(call) = &part.function_call {
                let call = read_call(call, part.thought_signature.as_deref(), &self.id, self.calls);
                let index = u32::try_from(self.calls).unwrap_or(u32::MAX);
                self.calls += 1;
                self.chunk(out, |o| frames::tool_start(o, index, &call.id, &call.name));
                self.chunk(out, |o| frames::tool_args(o, index, &call.arguments));
            } else if let Some(text) = part.text.as_deref().filter(|t| !t.is_empty()) {
                if part.thought == Some(true) {
                    self.chunk(out, |o| frames::reasoning(o, text));
                } else {
                    self.chunk(out, |o| frames::content(o, text));
                }
            }
        }
        if self.finish.is_some() {
            return;
        }
        let reason = match candidate.and_then(|c| c.finish_reason.as_deref()) {
            Some(r) => super::finish_reason(r, self.calls > 0).unwrap_or_else(|| {
                self.unknown_stop = Some(truncate(r, 64).into_owned());
                "stop"
            }),
            None if candidate.is_none() && resp.prompt_feedback.as_ref().is_some_and(|f| f.block_reason.is_some()) => {
                "content_filter"
            }
            None => return,
        };
        self.finish = Some(reason);
        self.chunk(out, |o| frames::finish(o, reason));
    }

    /// Ends the stream at upstream EOF: the usage chunk (if asked for) and `[DONE]` after a finish reason, else a
    /// truncation error frame.
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        if self.ended() {
            return;
        }
        if self.finish.is_none() {
            return self.truncated(out);
        }
        if self.ctx.include_usage {
            out.extend_from_slice(b"data: ");
            out.extend_from_slice(&self.prefix);
            out.extend_from_slice(b"[],\"usage\":");
            self.usage.unwrap_or_default().write_openai(out);
            out.extend_from_slice(b"}\n\n");
        }
        out.extend_from_slice(b"data: [DONE]\n\n");
        self.done = true;
    }

    /// Ends the stream with an error frame for a failure the server detected. Does nothing if it already ended.
    pub fn fail(&mut self, code: &'static str, message: &str, out: &mut Vec<u8>) {
        if !self.ended() {
            self.fail_with("server_error", code, message, out);
        }
    }

    /// The usage so far, tracked even without `include_usage`.
    #[must_use]
    pub fn usage(&self) -> Option<Usage> {
        self.usage.map(UsageMetadata::to_usage)
    }

    /// The `finish_reason` sent to the client, once there was one.
    #[must_use]
    pub fn finish_reason(&self) -> Option<&str> {
        self.finish
    }

    /// A Gemini `finishReason` this crate does not know (reported as `stop`), for logging.
    #[must_use]
    pub fn unknown_stop_reason(&self) -> Option<&str> {
        self.unknown_stop.as_deref()
    }

    /// The error code, if the stream ended with an error frame.
    #[must_use]
    pub fn errored(&self) -> Option<&'static str> {
        self.error
    }

    /// Whether the client stream is complete (`[DONE]` or an error frame written).
    #[must_use]
    pub fn ended(&self) -> bool {
        self.done
    }

    fn truncated(&mut self, out: &mut Vec<u8>) {
        self.fail_with(
            "server_error",
            "upstream_stream_truncated",
            "the upstream stream ended before the response was complete",
            out,
        );
    }

    fn fail_with(&mut self, kind: &str, code: &'static str, message: &str, out: &mut Vec<u8>) {
        frames::error(out, kind, code, message);
        self.done = true;
        self.error = Some(code);
    }

    fn chunk(&self, out: &mut Vec<u8>, delta: impl FnOnce(&mut Vec<u8>)) {
        frames::chunk(out, &self.prefix, self.ctx.include_usage, delta);
    }
}
