//! Responses objects and output items in the published shapes, as vLLM's `ResponsesResponse` serializes them.

use serde_json::{Value, json};

use crate::api::tools::ToolCallPlan;
use crate::engine::{Finish, FinishReason};

/// What every object and event of one response repeats.
#[derive(Debug)]
pub(super) struct Meta {
    /// `resp_…`.
    pub(super) id: String,
    /// `msg_…` or `fc_…`: the one output item's id.
    pub(super) item_id: String,
    /// `call_…`: a function call's `call_id`.
    pub(super) call_id: String,
    /// Unix seconds.
    pub(super) created_at: u64,
    /// Model as requested.
    pub(super) model: String,
    /// The function call this response makes, if any.
    pub(super) tool: Option<ToolCallPlan>,
}

// === impl Meta ===

impl Meta {
    /// The output item: `text` is the message text or the call's arguments; `None` while nothing is generated.
    pub(super) fn item(&self, text: &str, status: &str) -> Value {
        match &self.tool {
            Some(plan) => json!({
                "type": "function_call", "id": self.item_id, "call_id": self.call_id, "name": plan.name,
                "arguments": text, "status": status,
            }),
            None => json!({
                "type": "message", "id": self.item_id, "status": status, "role": "assistant",
                "content": if status == "in_progress" { json!([]) } else { json!([Self::text_part(text)]) },
            }),
        }
    }

    /// An `output_text` content part.
    pub(super) fn text_part(text: &str) -> Value {
        json!({"type": "output_text", "text": text, "annotations": [], "logprobs": []})
    }

    /// The response object. `text`: the generated text once finished (`None`: in progress, no output yet).
    pub(super) fn response(&self, text: Option<&str>, finish: Option<Finish>) -> Value {
        let (status, incomplete) = match finish.map(|f| f.reason) {
            None => ("in_progress", Value::Null),
            Some(FinishReason::Stop) => ("completed", Value::Null),
            Some(FinishReason::Length) => ("incomplete", json!({"reason": "max_output_tokens"})),
        };
        let output = match text {
            Some(t) => json!([self.item(t, "completed")]),
            None => json!([]),
        };
        let usage = finish.map_or(Value::Null, |f| {
            let u = f.usage;
            json!({
                "input_tokens": u.prompt_tokens, "input_tokens_details": {"cached_tokens": u.cached_tokens},
                "output_tokens": u.completion_tokens, "output_tokens_details": {"reasoning_tokens": 0},
                "total_tokens": u.prompt_tokens + u.completion_tokens,
            })
        });
        json!({
            "id": self.id, "object": "response", "created_at": self.created_at, "status": status,
            "background": false, "error": null, "incomplete_details": incomplete, "instructions": null,
            "max_output_tokens": null, "model": self.model, "output": output, "parallel_tool_calls": true,
            "previous_response_id": null, "reasoning": null, "store": false, "temperature": 1.0,
            "text": {"format": {"type": "text"}}, "tool_choice": "auto", "tools": [], "top_p": 1.0,
            "truncation": "disabled", "metadata": {}, "usage": usage,
        })
    }
}
