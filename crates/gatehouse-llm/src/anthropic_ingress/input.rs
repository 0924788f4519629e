//! The Anthropic `POST /v1/messages` request as the translator reads it (ASDK `MessageCreateParams` shapes).
//!
//! Strings borrow from the client's body when they contain no escapes; tool schemas and tool inputs stay
//! `&RawValue` and reach the OpenAI body verbatim (never re-parsed into a tree). Content blocks are one flat struct
//! whose `type` decides which fields matter, so a block type added to the API later parses and is refused by name
//! instead of failing as a shape error. The top level is read by a hand-written visitor so unknown keys can be
//! reported (derive would only ignore or reject them) and a repeated key is refused rather than guessed at.

use std::fmt;
use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;

use crate::LlmError;
use crate::anthropic::json::{CowStr, StrOr, present, record_unknown};
use crate::de::RequestFields;

/// `system`, a message's `content` and a tool result's `content`: a string or blocks.
pub(super) type Content<'a> = StrOr<'a, Vec<Block<'a>>>;

/// The fields of `POST /v1/messages` the translator understands; anything else is recorded by name.
#[derive(Debug, Default)]
pub(super) struct MessagesRequest<'a> {
    pub(super) messages: Option<Vec<Message<'a>>>,
    pub(super) max_tokens: Option<u64>,
    pub(super) system: Option<Content<'a>>,
    pub(super) stop_sequences: Option<Vec<CowStr<'a>>>,
    pub(super) temperature: Option<f64>,
    pub(super) top_p: Option<f64>,
    pub(super) top_k: Option<u64>,
    pub(super) stream: Option<bool>,
    pub(super) tools: Option<Vec<Tool<'a>>>,
    pub(super) tool_choice: Option<ToolChoice<'a>>,
    pub(super) metadata: Option<Metadata<'a>>,
    pub(super) thinking: Option<Thinking<'a>>,
    pub(super) output_config: Option<OutputConfig<'a>>,
    /// Anthropic's MCP connector: servers Anthropic would call on the client's behalf.
    pub(super) mcp_servers: Option<Vec<IgnoredAny>>,
    /// Parameters that only concern Anthropic's platform (service tier, code-execution container, context
    /// management): dropped, reported.
    pub(super) platform_only: Vec<&'static str>,
    /// Keys Anthropic's API (as of this writing) does not define.
    pub(super) unknown: Vec<String>,
}

/// One entry of `messages`.
#[derive(Debug, Deserialize)]
pub(super) struct Message<'a> {
    pub(super) role: Role,
    #[serde(borrow)]
    pub(super) content: Content<'a>,
}

/// `messages[].role`: Anthropic has no `system` role inside `messages`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(super) enum Role {
    User,
    Assistant,
}

/// A content block; `kind` decides which of the other fields is read.
#[derive(Debug, Deserialize)]
pub(super) struct Block<'a> {
    #[serde(rename = "type", borrow)]
    pub(super) kind: CowStr<'a>,
    #[serde(default, borrow)]
    pub(super) text: Option<CowStr<'a>>,
    /// Read on demand ([`Block::source`]): `search_result` blocks use a string here.
    #[serde(default, borrow)]
    pub(super) source: Option<&'a RawValue>,
    #[serde(default, borrow)]
    pub(super) id: Option<CowStr<'a>>,
    #[serde(default, borrow)]
    pub(super) name: Option<CowStr<'a>>,
    #[serde(default, borrow)]
    pub(super) input: Option<&'a RawValue>,
    #[serde(default, borrow)]
    pub(super) tool_use_id: Option<CowStr<'a>>,
    #[serde(default, borrow)]
    pub(super) content: Option<Nested<'a>>,
    #[serde(default)]
    pub(super) is_error: Option<bool>,
    #[serde(default, borrow)]
    pub(super) title: Option<CowStr<'a>>,
    #[serde(default, borrow)]
    pub(super) context: Option<CowStr<'a>>,
    #[serde(default, borrow)]
    pub(super) cache_control: Option<&'a RawValue>,
    #[serde(default, borrow)]
    pub(super) citations: Option<&'a RawValue>,
}

/// A block's `content`: a string or blocks (tool results), or another shape some other block type uses (an
/// error object in `web_search_tool_result`), skipped unread so that block is refused by its type, not its shape.
#[derive(Debug)]
pub(super) enum Nested<'a> {
    Content(Content<'a>),
    Other,
}

/// An image or document `source`.
#[derive(Debug, Deserialize)]
pub(super) struct Source<'a> {
    #[serde(rename = "type", borrow)]
    pub(super) kind: CowStr<'a>,
    #[serde(default, borrow)]
    pub(super) media_type: Option<CowStr<'a>>,
    #[serde(default, borrow)]
    pub(super) data: Option<CowStr<'a>>,
    #[serde(default, borrow)]
    pub(super) url: Option<CowStr<'a>>,
}

/// A `tools[]` entry: a client tool (no `type`, or `custom`) or one of Anthropic's typed tools.
#[derive(Debug, Deserialize)]
pub(super) struct Tool<'a> {
    #[serde(rename = "type", default, borrow)]
    pub(super) kind: Option<CowStr<'a>>,
    #[serde(default, borrow)]
    pub(super) name: Option<CowStr<'a>>,
    #[serde(default, borrow)]
    pub(super) description: Option<CowStr<'a>>,
    #[serde(default, borrow)]
    pub(super) input_schema: Option<&'a RawValue>,
    #[serde(default)]
    pub(super) strict: Option<bool>,
    #[serde(default, borrow)]
    pub(super) cache_control: Option<&'a RawValue>,
    #[serde(default)]
    pub(super) eager_input_streaming: Option<bool>,
}

/// `tool_choice`.
#[derive(Debug, Deserialize)]
pub(super) struct ToolChoice<'a> {
    #[serde(rename = "type", borrow)]
    pub(super) kind: CowStr<'a>,
    #[serde(default, borrow)]
    pub(super) name: Option<CowStr<'a>>,
    #[serde(default)]
    pub(super) disable_parallel_tool_use: Option<bool>,
}

/// `metadata`.
#[derive(Debug, Deserialize)]
pub(super) struct Metadata<'a> {
    #[serde(default, borrow)]
    pub(super) user_id: Option<CowStr<'a>>,
}

/// `thinking`.
#[derive(Debug, Deserialize)]
pub(super) struct Thinking<'a> {
    #[serde(rename = "type", borrow)]
    pub(super) kind: CowStr<'a>,
    #[serde(default)]
    pub(super) budget_tokens: Option<u64>,
}

/// `output_config` (structured outputs and effort).
#[derive(Debug, Deserialize)]
pub(super) struct OutputConfig<'a> {
    #[serde(default, borrow)]
    pub(super) format: Option<OutputFormat<'a>>,
    #[serde(default, borrow)]
    pub(super) effort: Option<CowStr<'a>>,
}

/// `output_config.format`.
#[derive(Debug, Deserialize)]
pub(super) struct OutputFormat<'a> {
    #[serde(rename = "type", borrow)]
    pub(super) kind: CowStr<'a>,
    #[serde(default, borrow)]
    pub(super) schema: Option<&'a RawValue>,
}

/// Reads the client's body: [`LlmError::InvalidJson`] when it is not UTF-8 JSON, [`LlmError::InvalidRequest`]
/// when it is JSON of the wrong shape.
pub(super) fn parse(body: &[u8]) -> Result<MessagesRequest<'_>, LlmError> {
    crate::body::parse_body(body).map(|(_, req)| req)
}

// === impl Block ===

impl<'a> Block<'a> {
    /// The `source` object of an image or document.
    pub(super) fn source(&self) -> Result<Option<Source<'a>>, serde_json::Error> {
        self.source.map(|raw| serde_json::from_str(raw.get())).transpose()
    }
}

// === impl Nested ===

impl<'de: 'a, 'a> Deserialize<'de> for Nested<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(NestedVisitor(PhantomData))
    }
}

struct NestedVisitor<'a>(PhantomData<&'a ()>);

impl<'de: 'a, 'a> Visitor<'de> for NestedVisitor<'a> {
    type Value = Nested<'a>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("block content")
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Nested::Content(StrOr::Str(CowStr(std::borrow::Cow::Borrowed(v)))))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Nested::Content(StrOr::Str(CowStr(std::borrow::Cow::Owned(
            v.to_owned(),
        )))))
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        Vec::deserialize(de::value::SeqAccessDeserializer::new(seq)).map(|v| Nested::Content(StrOr::Other(v)))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        IgnoredAny::deserialize(de::value::MapAccessDeserializer::new(map)).map(|_| Nested::Other)
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(Nested::Other)
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(Nested::Other)
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(Nested::Other)
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(Nested::Other)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Nested::Other)
    }
}

// === impl MessagesRequest ===

crate::de::request_deserialize!(MessagesRequest);

impl<'de: 'a, 'a> RequestFields<'de> for MessagesRequest<'a> {
    const EXPECTING: &'static str = "a messages request object";

    fn field<A: MapAccess<'de>>(&mut self, key: &str, mut map: A) -> Result<(), A::Error> {
        let r = self;
        macro_rules! field {
            ($name:ident) => {
                crate::de::once_field!(map, r, A::Error, $name)
            };
        }
        match key {
            "messages" => field!(messages),
            "max_tokens" => field!(max_tokens),
            "system" => field!(system),
            "stop_sequences" => field!(stop_sequences),
            "temperature" => field!(temperature),
            "top_p" => field!(top_p),
            "top_k" => field!(top_k),
            "stream" => field!(stream),
            "tools" => field!(tools),
            "tool_choice" => field!(tool_choice),
            "metadata" => field!(metadata),
            "thinking" => field!(thinking),
            "output_config" => field!(output_config),
            "mcp_servers" => field!(mcp_servers),
            "service_tier" => present(&mut map, &mut r.platform_only, "service_tier")?,
            "container" => present(&mut map, &mut r.platform_only, "container")?,
            "context_management" => present(&mut map, &mut r.platform_only, "context_management")?,
            other => {
                map.next_value::<IgnoredAny>()?;
                record_unknown(&mut r.unknown, other);
            }
        }
        Ok(())
    }
}
