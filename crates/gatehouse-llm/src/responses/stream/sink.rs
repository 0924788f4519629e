//! What the Responses translator writes for each step of the Anthropic stream (the steps themselves are decided
//! by the shared [`EventSink::dispatch`]): output items opened and closed, text / reasoning / argument deltas,
//! the final response object and the failure pair.

use super::object::{self, Outcome};
use super::{Open, ResponseStreamTranslator, frames};
use crate::anthropic::stream::dispatch::{EventSink, Phase, Progress};
use crate::anthropic::stream::event::{Delta, StartBlock};

// === impl ResponseStreamTranslator ===

impl EventSink for ResponseStreamTranslator {
    fn message_start(&mut self, _id: &str, out: &mut Vec<u8>) {
        self.response_event("response.created", Outcome::InProgress, None, out);
        self.response_event("response.in_progress", Outcome::InProgress, None, out);
    }

    fn block_start(&mut self, index: u64, block: StartBlock<'_>, out: &mut Vec<u8>) {
        let open = match &*block.kind {
            "text" => {
                let content_index = self.open_message_part(out);
                let open = Open::Text {
                    content_index,
                    text: String::new(),
                };
                self.blocks.retain(|(i, _)| *i != index);
                self.blocks.push((index, open));
                if let Some(text) = block.text.filter(|t| !t.is_empty()) {
                    self.text_delta(index, &text, out);
                }
                return;
            }
            "thinking" => {
                let (i, id) = self.start_item("rs", out);
                let item = object::reasoning_item(&id, None, None, None);
                frames::event(out, &mut self.seq, "response.output_item.added", |o| {
                    frames::item(o, i, &item)
                });
                frames::event(out, &mut self.seq, "response.reasoning_summary_part.added", |o| {
                    frames::position(o, &id, i);
                    o.extend_from_slice(b",\"summary_index\":0,\"part\":{\"type\":\"summary_text\",\"text\":\"\"}");
                });
                let open = Open::Reasoning {
                    index: i,
                    id,
                    text: String::new(),
                    signature: String::new(),
                };
                self.blocks.retain(|(b, _)| *b != index);
                self.blocks.push((index, open));
                if let Some(text) = block.thinking.filter(|t| !t.is_empty()) {
                    self.thinking_delta(index, &text, out);
                }
                return;
            }
            "redacted_thinking" => {
                let (i, id) = self.start_item("rs", out);
                let item = object::reasoning_item(&id, None, None, None);
                frames::event(out, &mut self.seq, "response.output_item.added", |o| {
                    frames::item(o, i, &item)
                });
                Open::Redacted {
                    index: i,
                    id,
                    data: block.data.map(|d| d.0.into_owned()).unwrap_or_default(),
                }
            }
            "tool_use" => {
                let (Some(call_id), Some(name)) = (block.id, block.name) else {
                    return self.invalid("tool_use block without id or name", out);
                };
                let (i, id) = self.start_item("fc", out);
                let item = object::function_call_item(&id, "in_progress", &call_id, &name, "");
                frames::event(out, &mut self.seq, "response.output_item.added", |o| {
                    frames::item(o, i, &item)
                });
                Open::Tool {
                    index: i,
                    id,
                    call_id: call_id.0.into_owned(),
                    name: name.0.into_owned(),
                    args: String::new(),
                }
            }
            _ => Open::Other,
        };
        self.blocks.retain(|(i, _)| *i != index);
        self.blocks.push((index, open));
    }

    fn block_delta(&mut self, index: Option<u64>, delta: Delta<'_>, out: &mut Vec<u8>) {
        let Some(block) = index else { return };
        match delta.kind.as_deref() {
            Some("text_delta") => {
                if let Some(text) = delta.text.filter(|t| !t.is_empty()) {
                    self.text_delta(block, &text, out);
                }
            }
            Some("thinking_delta") => {
                if let Some(text) = delta.thinking.filter(|t| !t.is_empty()) {
                    self.thinking_delta(block, &text, out);
                }
            }
            Some("signature_delta") => {
                let found = self.blocks.iter_mut().find(|(i, _)| *i == block);
                if let (Some((_, Open::Reasoning { signature, .. })), Some(s)) = (found, delta.signature) {
                    signature.push_str(&s);
                }
            }
            Some("input_json_delta") => {
                let Some(part) = delta.partial_json.filter(|p| !p.is_empty()) else {
                    return;
                };
                let found = self.blocks.iter_mut().find(|(i, _)| *i == block);
                if let Some((_, Open::Tool { index, id, args, .. })) = found {
                    args.push_str(&part);
                    frames::event(out, &mut self.seq, "response.function_call_arguments.delta", |o| {
                        frames::position(o, id, *index);
                        frames::text(o, "delta", &part);
                    });
                }
            }
            _ => {} // citations_delta, future delta types
        }
    }

    fn block_stop(&mut self, index: Option<u64>, out: &mut Vec<u8>) {
        let Some(pos) = self.blocks.iter().position(|(i, _)| Some(*i) == index) else {
            return;
        };
        let (_, open) = self.blocks.remove(pos);
        match open {
            Open::Text { content_index, text } => {
                let Some(m) = self.message.as_mut() else { return };
                let part = object::text_part(&text);
                let at = |o: &mut Vec<u8>| {
                    frames::position(o, &m.id, m.index);
                    let _ = std::io::Write::write_fmt(o, format_args!(",\"content_index\":{content_index}"));
                };
                frames::event(out, &mut self.seq, "response.output_text.done", |o| {
                    at(o);
                    frames::text(o, "text", &text);
                    o.extend_from_slice(b",\"logprobs\":[]");
                });
                frames::event(out, &mut self.seq, "response.content_part.done", |o| {
                    at(o);
                    frames::part(o, &part);
                });
                if let Some(slot) = m.parts.get_mut(content_index) {
                    *slot = part;
                }
            }
            Open::Reasoning {
                index,
                id,
                text,
                signature,
            } => {
                frames::event(out, &mut self.seq, "response.reasoning_summary_text.done", |o| {
                    frames::position(o, &id, index);
                    o.extend_from_slice(b",\"summary_index\":0");
                    frames::text(o, "text", &text);
                });
                frames::event(out, &mut self.seq, "response.reasoning_summary_part.done", |o| {
                    frames::position(o, &id, index);
                    o.extend_from_slice(b",\"summary_index\":0,\"part\":{\"type\":\"summary_text\"");
                    frames::text(o, "text", &text);
                    o.push(b'}');
                });
                let item = object::reasoning_item(&id, Some(&text), Some(&signature), None);
                self.item_done(index, item, out);
            }
            Open::Redacted { index, id, data } => {
                let item = object::reasoning_item(&id, None, None, Some(&data));
                self.item_done(index, item, out);
            }
            Open::Tool {
                index,
                id,
                call_id,
                name,
                args,
            } => {
                let args = if args.is_empty() { "{}".to_owned() } else { args };
                frames::event(out, &mut self.seq, "response.function_call_arguments.done", |o| {
                    frames::position(o, &id, index);
                    frames::text(o, "name", &name);
                    frames::text(o, "arguments", &args);
                });
                let item = object::function_call_item(&id, "completed", &call_id, &name, &args);
                self.item_done(index, item, out);
            }
            Open::Other => {}
        }
    }

    fn stop_reason(&mut self, stop: &str, _out: &mut Vec<u8>) {
        if self.outcome.is_some() {
            return;
        }
        self.outcome = Some(object::outcome(stop).unwrap_or_else(|| {
            self.progress.unknown_stop(stop);
            Outcome::Completed
        }));
    }

    fn message_stop(&mut self, out: &mut Vec<u8>) {
        let outcome = self.outcome.unwrap_or(Outcome::Completed);
        self.outcome = Some(outcome);
        self.close_message(outcome.item_status(), out);
        let kind = match outcome {
            Outcome::Incomplete(_) => "response.incomplete",
            _ => "response.completed",
        };
        self.response_event(kind, outcome, None, out);
    }

    /// `error` with the gateway's code, then `response.failed` whose `error.code` is one the published
    /// `ResponseError` type lists (`rate_limit_exceeded` for upstream rate limits, else `server_error`).
    /// A failure before `message_start` still opens with `response.created`: the SDK's stream accumulator
    /// refuses any other first event, and the client then sees the failure as events of that response.
    fn write_failure(&mut self, _kind: &'static str, code: &'static str, message: &str, out: &mut Vec<u8>) {
        if self.progress.phase == Phase::Waiting {
            self.response_event("response.created", Outcome::InProgress, None, out);
        }
        frames::event(out, &mut self.seq, "error", |o| {
            o.extend_from_slice(b"\"code\":");
            crate::anthropic::json::write_str(o, code);
            frames::text(o, "message", message);
            o.extend_from_slice(b",\"param\":null");
        });
        let published = if code == "upstream_rate_limited" {
            "rate_limit_exceeded"
        } else {
            "server_error"
        };
        self.response_event("response.failed", Outcome::Failed, Some((published, message)), out);
    }

    fn open_blocks(&self) -> usize {
        self.blocks.len()
    }

    fn progress(&mut self) -> &mut Progress {
        &mut self.progress
    }
}
