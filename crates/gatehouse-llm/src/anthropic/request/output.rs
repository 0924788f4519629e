//! The Anthropic `POST /v1/messages` request as the translator writes it (ASDK `MessageCreateParams` shapes).
//!
//! Every optional field is omitted when unset, so the body carries only what the client asked for plus the
//! required `model`, `max_tokens` and `messages`. Opaque client JSON (schemas, tool inputs, `cache_control`) is
//! written back verbatim from `RawValue`s.

use std::borrow::Cow;

use serde::Serialize;
use serde_json::value::RawValue;

/// The request body.
#[derive(Debug, Serialize)]
pub(crate) struct MessagesRequest<'a> {
    pub(crate) model: &'a str,
    pub(crate) max_tokens: u32,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) system: Vec<Block<'a>>,
    pub(crate) messages: Vec<Turn<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) stop_sequences: Vec<Cow<'a, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) temperature: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) top_p: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) top_k: Option<u64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) tools: Vec<ToolDef<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) tool_choice: Option<ToolChoice<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) thinking: Option<Thinking>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) output_config: Option<OutputConfig<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) metadata: Option<Metadata<'a>>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub(crate) stream: bool,
}

/// One message: the content of consecutive same-role OpenAI messages, merged.
#[derive(Debug, Serialize)]
pub(crate) struct Turn<'a> {
    pub(crate) role: &'static str,
    pub(crate) content: Vec<Block<'a>>,
}

/// A content block.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(crate) enum Block<'a> {
    Text {
        text: Cow<'a, str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        cache_control: Option<&'a RawValue>,
    },
    Image {
        source: Source<'a>,
        #[serde(skip_serializing_if = "Option::is_none")]
        cache_control: Option<&'a RawValue>,
    },
    Document {
        source: Source<'a>,
        #[serde(skip_serializing_if = "Option::is_none")]
        cache_control: Option<&'a RawValue>,
    },
    ToolUse {
        id: Cow<'a, str>,
        name: Cow<'a, str>,
        input: Cow<'a, RawValue>,
    },
    ToolResult {
        tool_use_id: Cow<'a, str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        content: Option<ToolResultContent<'a>>,
    },
    /// A thinking block sent back with Anthropic's signature (Responses reasoning items carry both).
    Thinking {
        thinking: Cow<'a, str>,
        signature: Cow<'a, str>,
    },
    /// A redacted thinking block sent back as Anthropic produced it.
    RedactedThinking { data: Cow<'a, str> },
}

/// Where an image or document's bytes come from.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(crate) enum Source<'a> {
    Base64 {
        media_type: &'static str,
        data: Cow<'a, str>,
    },
    Url {
        url: Cow<'a, str>,
    },
}

/// A tool result's content: a string as the client sent it, or its text parts as blocks.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub(crate) enum ToolResultContent<'a> {
    Text(Cow<'a, str>),
    Blocks(Vec<Block<'a>>),
}

/// A `tools[]` entry (a client tool: Anthropic's default type, so no `type` field).
#[derive(Debug, Serialize)]
pub(crate) struct ToolDef<'a> {
    pub(crate) name: Cow<'a, str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) description: Option<Cow<'a, str>>,
    pub(crate) input_schema: &'a RawValue,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) strict: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) cache_control: Option<&'a RawValue>,
}

/// `tool_choice`.
#[derive(Debug, Serialize)]
pub(crate) struct ToolChoice<'a> {
    #[serde(rename = "type")]
    pub(crate) kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) name: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) disable_parallel_tool_use: Option<bool>,
}

/// `thinking` (extended thinking with a token budget).
#[derive(Debug, Serialize)]
pub(crate) struct Thinking {
    #[serde(rename = "type")]
    pub(crate) kind: &'static str,
    pub(crate) budget_tokens: u32,
}

/// `output_config` (structured outputs).
#[derive(Debug, Serialize)]
pub(crate) struct OutputConfig<'a> {
    pub(crate) format: OutputFormat<'a>,
}

/// `output_config.format`.
#[derive(Debug, Serialize)]
pub(crate) struct OutputFormat<'a> {
    #[serde(rename = "type")]
    pub(crate) kind: &'static str,
    pub(crate) schema: &'a RawValue,
}

/// `metadata`.
#[derive(Debug, Serialize)]
pub(crate) struct Metadata<'a> {
    pub(crate) user_id: Cow<'a, str>,
}

// === impl OutputConfig ===

impl<'a> OutputConfig<'a> {
    /// Structured output with `schema` (what both `response_format` and `text.format` become).
    pub(crate) fn json_schema(schema: &'a RawValue) -> Self {
        OutputConfig {
            format: OutputFormat {
                kind: "json_schema",
                schema,
            },
        }
    }
}
