//! The OpenAI stream chunk as the translator reads it (OSDK `ChatCompletionChunk`), plus the error objects that
//! OpenAI-compatible servers put in a stream instead of a chunk. Unknown fields are skipped without building a
//! tree.

use serde::Deserialize;
use serde_json::value::RawValue;

use super::super::tokens::OpenAiUsage;
use crate::anthropic::json::{CowStr, StrOr};

/// One `data:` payload: a chunk, or an error.
#[derive(Deserialize)]
pub(super) struct Chunk<'a> {
    #[serde(default, borrow)]
    pub(super) choices: Option<Vec<Choice<'a>>>,
    #[serde(default)]
    pub(super) usage: Option<OpenAiUsage>,
    /// OpenAI and current vLLM: `{"error": {...}}`; some servers send a bare string.
    #[serde(default, borrow)]
    pub(super) error: Option<StrOr<'a, ErrorObject<'a>>>,
    /// Older vLLM streams its error object unwrapped: `{"object":"error","message",...,"code":400}`.
    #[serde(default, borrow)]
    pub(super) object: Option<CowStr<'a>>,
    #[serde(default, borrow)]
    pub(super) message: Option<CowStr<'a>>,
    #[serde(rename = "type", default, borrow)]
    pub(super) kind: Option<CowStr<'a>>,
    #[serde(default, borrow)]
    pub(super) code: Option<&'a RawValue>,
}

/// `choices[]` of a chunk.
#[derive(Deserialize)]
pub(super) struct Choice<'a> {
    #[serde(default)]
    pub(super) index: Option<u64>,
    #[serde(default, borrow)]
    pub(super) delta: Option<Delta<'a>>,
    #[serde(default, borrow)]
    pub(super) finish_reason: Option<CowStr<'a>>,
    /// vLLM: the stop string (or token id) that ended the output.
    #[serde(default, borrow)]
    pub(super) stop_reason: Option<&'a RawValue>,
}

/// `choices[].delta`.
#[derive(Deserialize)]
pub(super) struct Delta<'a> {
    #[serde(default, borrow)]
    pub(super) content: Option<CowStr<'a>>,
    #[serde(default, borrow)]
    pub(super) refusal: Option<CowStr<'a>>,
    #[serde(default, borrow)]
    pub(super) reasoning: Option<CowStr<'a>>,
    #[serde(default, borrow)]
    pub(super) reasoning_content: Option<CowStr<'a>>,
    #[serde(default, borrow)]
    pub(super) tool_calls: Option<Vec<ToolCallDelta<'a>>>,
}

/// `delta.tool_calls[]`: the first fragment of a call carries `id` and `function.name`, later ones only
/// `index` and a piece of `function.arguments`.
#[derive(Deserialize)]
pub(super) struct ToolCallDelta<'a> {
    #[serde(default)]
    pub(super) index: Option<u64>,
    #[serde(default, borrow)]
    pub(super) id: Option<CowStr<'a>>,
    #[serde(default, borrow)]
    pub(super) function: Option<FunctionDelta<'a>>,
}

/// `delta.tool_calls[].function`.
#[derive(Deserialize)]
pub(super) struct FunctionDelta<'a> {
    #[serde(default, borrow)]
    pub(super) name: Option<CowStr<'a>>,
    #[serde(default, borrow)]
    pub(super) arguments: Option<CowStr<'a>>,
}

/// An OpenAI-style error object.
#[derive(Deserialize)]
pub(super) struct ErrorObject<'a> {
    #[serde(default, borrow)]
    pub(super) message: Option<CowStr<'a>>,
    #[serde(rename = "type", default, borrow)]
    pub(super) kind: Option<CowStr<'a>>,
    #[serde(default, borrow)]
    pub(super) code: Option<&'a RawValue>,
}

/// An error found in a chunk, flattened.
pub(super) struct StreamError<'a> {
    pub(super) message: Option<CowStr<'a>>,
    pub(super) kind: Option<CowStr<'a>>,
    pub(super) code: Option<&'a RawValue>,
}

// === impl Chunk ===

impl<'a> Chunk<'a> {
    /// The error this payload carries instead of a chunk, if any.
    pub(super) fn take_error(&mut self) -> Option<StreamError<'a>> {
        match self.error.take() {
            Some(StrOr::Other(e)) => Some(StreamError {
                message: e.message,
                kind: e.kind,
                code: e.code,
            }),
            Some(StrOr::Str(message)) => Some(StreamError {
                message: Some(message),
                kind: None,
                code: None,
            }),
            None if self.object.as_deref() == Some("error") => Some(StreamError {
                message: self.message.take(),
                kind: self.kind.take(),
                code: self.code.take(),
            }),
            None => None,
        }
    }
}
