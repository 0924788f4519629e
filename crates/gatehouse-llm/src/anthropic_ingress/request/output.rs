//! The OpenAI `POST /v1/chat/completions` request as the translator writes it (OSDK `CompletionCreateParams`).
//!
//! Every optional field is omitted when unset, so the body carries only what the client asked for plus `model`,
//! `messages` and `max_tokens`. Opaque client JSON (tool schemas) is written back verbatim from `RawValue`s, and
//! data URLs are written straight from the borrowed base64 text without building the URL first.

use std::borrow::Cow;
use std::fmt;

use serde::{Serialize, Serializer};
use serde_json::value::RawValue;

/// The request body.
#[derive(Debug, Serialize)]
pub(super) struct ChatRequest<'a> {
    pub(super) model: &'a str,
    pub(super) messages: Vec<ChatMessage<'a>>,
    pub(super) max_tokens: u64,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(super) stop: Vec<Cow<'a, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) temperature: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) top_p: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) top_k: Option<u64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(super) tools: Vec<FunctionTool<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) tool_choice: Option<ToolChoice<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) parallel_tool_calls: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) reasoning_effort: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) response_format: Option<ResponseFormat<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) user: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub(super) stream: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) stream_options: Option<StreamOptions>,
}

/// One message.
#[derive(Debug, Serialize)]
#[serde(tag = "role", rename_all = "lowercase")]
pub(super) enum ChatMessage<'a> {
    System {
        content: Content<'a>,
    },
    User {
        content: Content<'a>,
    },
    Assistant {
        /// `null` when the turn is only tool calls.
        content: Option<Content<'a>>,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        tool_calls: Vec<ToolCall<'a>>,
    },
    Tool {
        tool_call_id: Cow<'a, str>,
        content: Cow<'a, str>,
    },
}

/// A message's content: a plain string (one text part) or parts.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub(super) enum Content<'a> {
    Text(Cow<'a, str>),
    Parts(Vec<Part<'a>>),
}

/// A content part.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(super) enum Part<'a> {
    Text { text: Cow<'a, str> },
    ImageUrl { image_url: ImageUrl<'a> },
    File { file: FileData<'a> },
}

/// `image_url` of an image part.
#[derive(Debug, Serialize)]
pub(super) struct ImageUrl<'a> {
    pub(super) url: Url<'a>,
}

/// A URL as given, or a `data:` URL built from a media type and base64 text.
#[derive(Debug)]
pub(super) enum Url<'a> {
    Plain(Cow<'a, str>),
    Data(DataUrl<'a>),
}

/// `data:<media_type>;base64,<data>`, serialised without materialising the string.
#[derive(Debug)]
pub(super) struct DataUrl<'a> {
    pub(super) media_type: Cow<'a, str>,
    pub(super) data: Cow<'a, str>,
}

/// `file` of a file part.
#[derive(Debug, Serialize)]
pub(super) struct FileData<'a> {
    pub(super) filename: Cow<'a, str>,
    pub(super) file_data: DataUrl<'a>,
}

/// An assistant's `tool_calls[]` entry.
#[derive(Debug, Serialize)]
pub(super) struct ToolCall<'a> {
    pub(super) id: Cow<'a, str>,
    #[serde(rename = "type")]
    pub(super) kind: &'static str,
    pub(super) function: FunctionCall<'a>,
}

/// `tool_calls[].function`: `arguments` is the compact JSON text of Anthropic's `input`.
#[derive(Debug, Serialize)]
pub(super) struct FunctionCall<'a> {
    pub(super) name: Cow<'a, str>,
    pub(super) arguments: String,
}

/// A `tools[]` entry.
#[derive(Debug, Serialize)]
pub(super) struct FunctionTool<'a> {
    #[serde(rename = "type")]
    pub(super) kind: &'static str,
    pub(super) function: FunctionDef<'a>,
}

/// `tools[].function`.
#[derive(Debug, Serialize)]
pub(super) struct FunctionDef<'a> {
    pub(super) name: Cow<'a, str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) description: Option<Cow<'a, str>>,
    pub(super) parameters: &'a RawValue,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) strict: Option<bool>,
}

/// `tool_choice`: a mode string or a named function.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub(super) enum ToolChoice<'a> {
    Mode(&'static str),
    Function {
        #[serde(rename = "type")]
        kind: &'static str,
        function: Name<'a>,
    },
}

/// `{"name": ...}`.
#[derive(Debug, Serialize)]
pub(super) struct Name<'a> {
    pub(super) name: Cow<'a, str>,
}

/// `response_format` for a JSON schema.
#[derive(Debug, Serialize)]
pub(super) struct ResponseFormat<'a> {
    #[serde(rename = "type")]
    pub(super) kind: &'static str,
    pub(super) json_schema: JsonSchema<'a>,
}

/// `response_format.json_schema`; OpenAI requires a `name`, Anthropic has none.
#[derive(Debug, Serialize)]
pub(super) struct JsonSchema<'a> {
    pub(super) name: &'static str,
    pub(super) schema: &'a RawValue,
}

/// `stream_options`.
#[derive(Debug, Serialize)]
pub(super) struct StreamOptions {
    pub(super) include_usage: bool,
}

// === impl Url ===

impl Serialize for Url<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Plain(url) => serializer.serialize_str(url),
            Self::Data(data) => data.serialize(serializer),
        }
    }
}

// === impl DataUrl ===

impl Serialize for DataUrl<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl fmt::Display for DataUrl<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "data:{};base64,{}", self.media_type, self.data)
    }
}
