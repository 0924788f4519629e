//! ConverseStream frames → OpenAI `chat.completion.chunk` stream.
//!
//! | Bedrock event (`:event-type`) | OpenAI output |
//! |---|---|
//! | `messageStart` | the role chunk |
//! | `contentBlockStart` with `start.toolUse{toolUseId,name}` | `tool_calls[{index,id,type,function:{name,arguments:""}}]` (index counts tool blocks) |
//! | `contentBlockDelta` `text` / `reasoningContent.text` / `toolUse.input` | `content` / `reasoning_content` / `tool_calls[{index,function:{arguments}}]` (empty ones skipped) |
//! | `contentBlockStop` | `arguments:"{}"` if a tool block got no argument bytes |
//! | `messageStop{stopReason}` | `delta:{}` + mapped `finish_reason` |
//! | `metadata{usage}` (after `messageStop`) | the usage chunk if asked for, `[DONE]` |
//! | `:message-type: exception` | an OpenAI error frame (mapped by `:exception-type`), no `[DONE]` |
//! | EOF before `metadata` | an error frame `upstream_stream_truncated` |

use serde::Deserialize;
use serde_json::value::RawValue;

use super::ResponseContext;
use super::eventstream::Frame;
use super::response::BedrockUsage;
use crate::Usage;
use crate::anthropic::json::{CowStr, truncate};
use crate::anthropic::stream::frames;

/// At most this many content blocks are tracked at once.
const MAX_BLOCKS: usize = 64;

/// Incremental stream translation; feed it every decoded frame, then call [`finish`](Self::finish).
#[derive(Debug, Clone)]
pub struct StreamTranslator {
    ctx: ResponseContext,
    prefix: Vec<u8>,
    started: bool,
    /// Tool blocks by Bedrock block index: (OpenAI tool index, got argument bytes).
    tools: Vec<(u64, u32, bool)>,
    next_tool: u32,
    finish: Option<&'static str>,
    unknown_stop: Option<String>,
    usage: Option<BedrockUsage>,
    error: Option<&'static str>,
    done: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Event<'a> {
    #[serde(default)]
    content_block_index: Option<u64>,
    #[serde(default, borrow)]
    start: Option<Start<'a>>,
    #[serde(default, borrow)]
    delta: Option<Delta<'a>>,
    #[serde(default, borrow)]
    stop_reason: Option<CowStr<'a>>,
    #[serde(default)]
    usage: Option<BedrockUsage>,
    #[serde(default, borrow)]
    message: Option<CowStr<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Start<'a> {
    #[serde(default, borrow)]
    tool_use: Option<ToolStart<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ToolStart<'a> {
    #[serde(borrow)]
    tool_use_id: CowStr<'a>,
    #[serde(borrow)]
    name: CowStr<'a>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Delta<'a> {
    #[serde(default, borrow)]
    text: Option<CowStr<'a>>,
    #[serde(default, borrow)]
    tool_use: Option<ToolDelta<'a>>,
    #[serde(default, borrow)]
    reasoning_content: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct ToolDelta<'a> {
    #[serde(default, borrow)]
    input: Option<CowStr<'a>>,
}

#[derive(Deserialize)]
struct ReasoningDelta<'a> {
    #[serde(default, borrow)]
    text: Option<CowStr<'a>>,
}

// === impl StreamTranslator ===

impl StreamTranslator {
    /// A translator at the start of a stream.
    #[must_use]
    pub fn new(ctx: ResponseContext) -> Self {
        let prefix = frames::prefix(&ctx.fallback_id, ctx.created, &ctx.model);
        Self {
            ctx,
            prefix,
            started: false,
            tools: Vec::new(),
            next_tool: 0,
            finish: None,
            unknown_stop: None,
            usage: None,
            error: None,
            done: false,
        }
    }

    /// Translates one frame, appending complete SSE frames to `out`.
    pub fn on_frame(&mut self, frame: &Frame, out: &mut Vec<u8>) {
        if self.done {
            return;
        }
        let parsed = serde_json::from_slice::<Event<'_>>(&frame.payload);
        if frame.header(":message-type") == Some("exception") {
            let message = parsed.as_ref().ok().and_then(|e| e.message.as_deref());
            let (_, kind, code, message, _) = super::upstream_error::map(0, frame.header(":exception-type"), message);
            return self.fail_with(kind, code, &message, out);
        }
        let Ok(ev) = parsed else {
            return self.fail_with(
                "server_error",
                "upstream_invalid_stream",
                "an upstream stream event could not be decoded",
                out,
            );
        };
        if !self.started {
            self.started = true;
            self.chunk(out, frames::role);
        }
        match frame.header(":event-type").unwrap_or_default() {
            "contentBlockStart" => {
                if let (Some(index), Some(tool)) = (ev.content_block_index, ev.start.and_then(|s| s.tool_use)) {
                    if self.tools.len() >= MAX_BLOCKS {
                        return self.fail_with(
                            "server_error",
                            "upstream_invalid_stream",
                            "too many content blocks",
                            out,
                        );
                    }
                    let n = self.next_tool;
                    self.next_tool = self.next_tool.saturating_add(1);
                    self.tools.retain(|(i, _, _)| *i != index);
                    self.tools.push((index, n, false));
                    self.chunk(out, |o| frames::tool_start(o, n, &tool.tool_use_id, &tool.name));
                }
            }
            "contentBlockDelta" => {
                let Some(delta) = ev.delta else { return };
                if let Some(text) = delta.text.as_deref().filter(|t| !t.is_empty()) {
                    self.chunk(out, |o| frames::content(o, text));
                } else if let Some(part) = delta.tool_use.and_then(|t| t.input).filter(|p| !p.is_empty()) {
                    if let Some(tool) = self
                        .tools
                        .iter_mut()
                        .find(|(i, _, _)| Some(*i) == ev.content_block_index)
                    {
                        tool.2 = true;
                        let n = tool.1;
                        self.chunk(out, |o| frames::tool_args(o, n, &part));
                    }
                } else if let Some(raw) = delta.reasoning_content
                    && let Ok(ReasoningDelta { text: Some(t) }) = serde_json::from_str::<ReasoningDelta<'_>>(raw.get())
                    && !t.is_empty()
                {
                    self.chunk(out, |o| frames::reasoning(o, &t));
                }
            }
            "contentBlockStop" => {
                if let Some(pos) = self
                    .tools
                    .iter()
                    .position(|(i, _, _)| Some(*i) == ev.content_block_index)
                {
                    let (_, n, had_args) = self.tools.remove(pos);
                    if !had_args {
                        self.chunk(out, |o| frames::tool_args(o, n, "{}"));
                    }
                }
            }
            "messageStop" if self.finish.is_none() => {
                let reason = match ev.stop_reason.as_deref() {
                    Some(r) => super::finish_reason(r).unwrap_or_else(|| {
                        self.unknown_stop = Some(truncate(r, 64).into_owned());
                        "stop"
                    }),
                    None => "stop",
                };
                self.finish = Some(reason);
                self.chunk(out, |o| frames::finish(o, reason));
            }
            "metadata" => {
                if let Some(u) = ev.usage {
                    self.usage = Some(u);
                }
                if self.finish.is_some() {
                    self.close(out);
                }
            }
            _ => {} // messageStart (role already sent) and event types added later
        }
    }

    /// Upstream EOF: a stream that never reached `metadata` after `messageStop` was cut.
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        if !self.done {
            self.fail_with(
                "server_error",
                "upstream_stream_truncated",
                "the upstream stream ended before the response was complete",
                out,
            );
        }
    }

    /// Ends the stream with an error frame for a failure the server detected.
    pub fn fail(&mut self, code: &'static str, message: &str, out: &mut Vec<u8>) {
        if !self.done {
            self.fail_with("server_error", code, message, out);
        }
    }

    /// The usage so far.
    #[must_use]
    pub fn usage(&self) -> Option<Usage> {
        self.usage.map(BedrockUsage::to_usage)
    }

    /// The finish reason sent, once `messageStop` came.
    #[must_use]
    pub fn finish_reason(&self) -> Option<&str> {
        self.finish
    }

    /// An unknown `stopReason` (reported as `stop`), for logging.
    #[must_use]
    pub fn unknown_stop_reason(&self) -> Option<&str> {
        self.unknown_stop.as_deref()
    }

    /// The error code if the stream ended with an error frame.
    #[must_use]
    pub fn errored(&self) -> Option<&'static str> {
        self.error
    }

    /// Whether the client stream is complete.
    #[must_use]
    pub fn ended(&self) -> bool {
        self.done
    }

    fn close(&mut self, out: &mut Vec<u8>) {
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

    fn fail_with(&mut self, kind: &str, code: &'static str, message: &str, out: &mut Vec<u8>) {
        frames::error(out, kind, code, message);
        self.done = true;
        self.error = Some(code);
    }

    fn chunk(&self, out: &mut Vec<u8>, delta: impl FnOnce(&mut Vec<u8>)) {
        frames::chunk(out, &self.prefix, self.ctx.include_usage, delta);
    }
}
