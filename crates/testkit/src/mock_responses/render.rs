//! The mock's answers in the published Responses shapes: the response object, and the typed event stream
//! (`event: <type>` + `data: {…, "sequence_number": n}`, no `[DONE]`).

use bytes::Bytes;
use serde_json::{Value, json};

use super::ResponsesReply;
use super::validate::Accepted;
use crate::sse_body::StreamFrames;

/// One answer being rendered.
pub(crate) struct Output<'a> {
    id: &'a str,
    seq: usize,
    req: &'a Accepted,
    reply: &'a ResponsesReply,
}

/// Fixed `created_at` so snapshots are stable.
const CREATED_AT: u64 = 1_741_476_542;

// === impl Output ===

impl<'a> Output<'a> {
    pub(crate) fn new(id: &'a str, seq: usize, req: &'a Accepted, reply: &'a ResponsesReply) -> Self {
        Self { id, seq, req, reply }
    }

    fn item_id(&self) -> String {
        match self.reply {
            ResponsesReply::FunctionCall { .. } => format!("fc_mock{:04}", self.seq),
            _ => format!("msg_mock{:04}", self.seq),
        }
    }

    fn output_tokens(&self) -> u64 {
        match self.reply {
            ResponsesReply::Text(t) => t.split_whitespace().count() as u64,
            ResponsesReply::FunctionCall { arguments, .. } => arguments.len().div_ceil(4) as u64,
            ResponsesReply::Status { .. } => 0,
        }
    }

    /// The finished output item.
    fn item(&self, status: &str) -> Value {
        match self.reply {
            ResponsesReply::FunctionCall { name, arguments } => json!({
                "type": "function_call", "id": self.item_id(), "call_id": format!("call_mock{:04}", self.seq),
                "name": name, "arguments": arguments, "status": status,
            }),
            ResponsesReply::Text(text) => json!({
                "type": "message", "id": self.item_id(), "status": status, "role": "assistant",
                "content": [{"type": "output_text", "text": text, "annotations": [], "logprobs": []}],
            }),
            ResponsesReply::Status { .. } => Value::Null,
        }
    }

    /// The response object; `status` `in_progress` has no output and no usage yet.
    pub(crate) fn response(&self, status: &str) -> Value {
        let done = status != "in_progress";
        let (input, output) = (self.req.input_tokens, self.output_tokens());
        json!({
            "id": self.id, "object": "response", "created_at": CREATED_AT, "status": status,
            "background": false, "error": null, "incomplete_details": null, "instructions": null,
            "max_output_tokens": null, "model": self.req.model,
            "output": if done { json!([self.item("completed")]) } else { json!([]) },
            "parallel_tool_calls": true, "previous_response_id": self.req.previous_response_id,
            "reasoning": {"effort": null, "summary": null}, "store": self.req.store, "temperature": 1.0,
            "text": {"format": {"type": "text"}}, "tool_choice": "auto", "tools": [], "top_p": 1.0,
            "truncation": "disabled", "metadata": {},
            "usage": if done { json!({
                "input_tokens": input, "input_tokens_details": {"cached_tokens": 0},
                "output_tokens": output, "output_tokens_details": {"reasoning_tokens": 0},
                "total_tokens": input + output,
            }) } else { Value::Null },
        })
    }

    /// The typed event stream for this answer.
    pub(crate) fn events(&self) -> StreamFrames {
        let mut n = 0u64;
        let mut ev = |kind: &str, mut data: Value| {
            data["type"] = json!(kind);
            data["sequence_number"] = json!(n);
            n += 1;
            Bytes::from(format!("event: {kind}\ndata: {data}\n\n"))
        };
        let item_id = self.item_id();
        let mut head = vec![
            ev("response.created", json!({"response": self.response("in_progress")})),
            ev(
                "response.in_progress",
                json!({"response": self.response("in_progress")}),
            ),
            ev(
                "response.output_item.added",
                json!({"output_index": 0, "item": self.item_in_progress()}),
            ),
        ];
        let mut content = Vec::new();
        let mut tail = Vec::new();
        match self.reply {
            ResponsesReply::Text(text) => {
                let part = |t: &str| json!({"type": "output_text", "text": t, "annotations": [], "logprobs": []});
                head.push(ev(
                    "response.content_part.added",
                    json!({"item_id": item_id, "output_index": 0, "content_index": 0, "part": part("")}),
                ));
                for (i, word) in text.split_whitespace().enumerate() {
                    let delta = if i == 0 { word.to_string() } else { format!(" {word}") };
                    content.push(ev(
                        "response.output_text.delta",
                        json!({"item_id": item_id, "output_index": 0, "content_index": 0, "delta": delta, "logprobs": []}),
                    ));
                }
                tail.push(ev(
                    "response.output_text.done",
                    json!({"item_id": item_id, "output_index": 0, "content_index": 0, "text": text, "logprobs": []}),
                ));
                tail.push(ev(
                    "response.content_part.done",
                    json!({"item_id": item_id, "output_index": 0, "content_index": 0, "part": part(text)}),
                ));
            }
            ResponsesReply::FunctionCall { arguments, .. } => {
                let mid = arguments
                    .char_indices()
                    .nth(arguments.chars().count() / 2)
                    .map_or(0, |(i, _)| i);
                for half in [&arguments[..mid], &arguments[mid..]] {
                    content.push(ev(
                        "response.function_call_arguments.delta",
                        json!({"item_id": item_id, "output_index": 0, "delta": half}),
                    ));
                }
                tail.push(ev(
                    "response.function_call_arguments.done",
                    json!({"item_id": item_id, "output_index": 0, "arguments": arguments}),
                ));
            }
            ResponsesReply::Status { .. } => {}
        }
        tail.push(ev(
            "response.output_item.done",
            json!({"output_index": 0, "item": self.item("completed")}),
        ));
        tail.push(ev(
            "response.completed",
            json!({"response": self.response("completed")}),
        ));
        let mut frames = StreamFrames::new(content, tail);
        frames.head = head;
        frames
    }

    fn item_in_progress(&self) -> Value {
        let mut item = self.item("in_progress");
        match self.reply {
            ResponsesReply::FunctionCall { .. } => item["arguments"] = json!(""),
            _ => item["content"] = json!([]),
        }
        item
    }
}
