//! The OpenAI Responses request (`POST /v1/responses`) as the translator reads it.
//!
//! Strings borrow from the client's body when they contain no escapes. `tools`, `tool_choice`, `text`,
//! `reasoning`, `metadata` and the other echoed parameters are kept as `&RawValue` too: the translation parses
//! them once more into typed structs, and the response object echoes them verbatim (never re-parsed into a tree).
//! The top level is read by a hand-written visitor so unknown keys can be reported and a repeated key is refused.

use serde::Deserialize;
use serde::de::{self, IgnoredAny, MapAccess};
use serde_json::value::RawValue;

use crate::anthropic::json::{CowStr, StrOr, present, record_unknown};
use crate::de::RequestFields;

/// The fields of `POST /v1/responses` the translator understands; anything else is recorded by name.
#[derive(Debug, Default)]
pub(crate) struct ResponsesRequest<'a> {
    pub(crate) input: Option<StrOr<'a, Vec<Item<'a>>>>,
    pub(crate) instructions: Option<&'a RawValue>,
    pub(crate) max_output_tokens: Option<u64>,
    pub(crate) temperature: Option<&'a RawValue>,
    pub(crate) top_p: Option<&'a RawValue>,
    /// Not OpenAI; a common vendor extension Anthropic understands.
    pub(crate) top_k: Option<u64>,
    pub(crate) stream: Option<bool>,
    pub(crate) tools: Option<&'a RawValue>,
    pub(crate) tool_choice: Option<&'a RawValue>,
    pub(crate) parallel_tool_calls: Option<bool>,
    pub(crate) text: Option<&'a RawValue>,
    pub(crate) reasoning: Option<&'a RawValue>,
    pub(crate) metadata: Option<&'a RawValue>,
    pub(crate) user: Option<CowStr<'a>>,
    pub(crate) safety_identifier: Option<CowStr<'a>>,
    pub(crate) store: Option<bool>,
    pub(crate) previous_response_id: Option<CowStr<'a>>,
    pub(crate) truncation: Option<CowStr<'a>>,
    pub(crate) background: Option<bool>,
    pub(crate) top_logprobs: Option<u64>,
    pub(crate) max_tool_calls: Option<&'a RawValue>,
    pub(crate) include: Option<Vec<CowStr<'a>>>,
    /// Parameters present (not `null`) that would change what the client gets and cannot be honoured.
    pub(crate) unsupported: Vec<&'static str>,
    /// Parameters that only concern OpenAI's platform (tiers, its cache, its conversation objects): dropped.
    pub(crate) platform_only: Vec<&'static str>,
    /// Keys the Responses API does not define.
    pub(crate) unknown: Vec<String>,
}

/// One `input` item. The Responses API distinguishes items by `type` (a bare `{role, content}` is a message);
/// one flat struct reads them all and the translation checks which fields the type needs.
#[derive(Debug, Deserialize)]
pub(crate) struct Item<'a> {
    #[serde(rename = "type", default, borrow)]
    pub(crate) kind: Option<CowStr<'a>>,
    #[serde(default, borrow)]
    pub(crate) role: Option<CowStr<'a>>,
    #[serde(default, borrow)]
    pub(crate) content: Option<StrOr<'a, Vec<Part<'a>>>>,
    #[serde(default, borrow)]
    pub(crate) call_id: Option<CowStr<'a>>,
    #[serde(default, borrow)]
    pub(crate) name: Option<CowStr<'a>>,
    #[serde(default, borrow)]
    pub(crate) arguments: Option<CowStr<'a>>,
    #[serde(default, borrow)]
    pub(crate) output: Option<StrOr<'a, Vec<Part<'a>>>>,
    #[serde(default, borrow)]
    pub(crate) summary: Option<Vec<Part<'a>>>,
    #[serde(default, borrow)]
    pub(crate) encrypted_content: Option<CowStr<'a>>,
}

/// A content part of a message or of a `function_call_output`; `kind` decides which fields matter.
#[derive(Debug, Deserialize)]
pub(crate) struct Part<'a> {
    #[serde(rename = "type", borrow)]
    pub(crate) kind: CowStr<'a>,
    #[serde(default, borrow)]
    pub(crate) text: Option<CowStr<'a>>,
    #[serde(default, borrow)]
    pub(crate) refusal: Option<CowStr<'a>>,
    #[serde(default, borrow)]
    pub(crate) image_url: Option<CowStr<'a>>,
    #[serde(default, borrow)]
    pub(crate) file_id: Option<CowStr<'a>>,
    #[serde(default, borrow)]
    pub(crate) file_data: Option<CowStr<'a>>,
    #[serde(default, borrow)]
    pub(crate) file_url: Option<CowStr<'a>>,
}

/// A `tools[]` entry: a function, a `namespace` of functions, or a tool the target cannot run.
#[derive(Debug, Deserialize)]
pub(crate) struct Tool<'a> {
    #[serde(rename = "type", borrow)]
    pub(crate) kind: CowStr<'a>,
    #[serde(default, borrow)]
    pub(crate) name: Option<CowStr<'a>>,
    #[serde(default, borrow)]
    pub(crate) description: Option<CowStr<'a>>,
    #[serde(default, borrow)]
    pub(crate) parameters: Option<&'a RawValue>,
    #[serde(default)]
    pub(crate) strict: Option<bool>,
    /// A namespace's members.
    #[serde(default, borrow)]
    pub(crate) tools: Option<Vec<Tool<'a>>>,
}

/// The object forms of `tool_choice`: `{type:"function",name}`, `{type:"allowed_tools",mode,tools}`, or a tool
/// type (`{type:"web_search"}`, `{type:"mcp",server_label}`, `{type:"custom",name}`).
#[derive(Debug, Deserialize)]
pub(crate) struct ChoiceObject<'a> {
    #[serde(rename = "type", borrow)]
    pub(crate) kind: CowStr<'a>,
    #[serde(default, borrow)]
    pub(crate) name: Option<CowStr<'a>>,
    #[serde(default, borrow)]
    pub(crate) mode: Option<CowStr<'a>>,
    #[serde(default, borrow)]
    pub(crate) tools: Option<Vec<ChoiceObject<'a>>>,
}

/// `text`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct TextConfig<'a> {
    #[serde(default, borrow)]
    pub(crate) format: Option<TextFormat<'a>>,
    #[serde(default, borrow)]
    pub(crate) verbosity: Option<CowStr<'a>>,
}

/// `text.format` (flat in the Responses API: `schema` sits next to `type`).
#[derive(Debug, Deserialize)]
pub(crate) struct TextFormat<'a> {
    #[serde(rename = "type", borrow)]
    pub(crate) kind: CowStr<'a>,
    #[serde(default, borrow)]
    pub(crate) schema: Option<&'a RawValue>,
}

/// `reasoning` (`summary` and the deprecated `generate_summary` shape the output only: a summary is always
/// produced from Anthropic's thinking).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ReasoningConfig<'a> {
    #[serde(default, borrow)]
    pub(crate) effort: Option<CowStr<'a>>,
}

// === impl ResponsesRequest ===

crate::de::request_deserialize!(ResponsesRequest);

impl<'de: 'a, 'a> RequestFields<'de> for ResponsesRequest<'a> {
    const EXPECTING: &'static str = "a responses request object";
    /// `stream_options` has only `include_obfuscation`, which a translated stream never adds anyway.
    const IGNORED_ONCE: &'static [&'static str] = &["model", "stream_options"];

    fn field<A: MapAccess<'de>>(&mut self, key: &str, mut map: A) -> Result<(), A::Error> {
        let r = self;
        macro_rules! field {
            ($name:ident) => {
                crate::de::once_field!(map, r, A::Error, $name)
            };
        }
        macro_rules! raw {
            ($name:ident) => {{
                if r.$name.is_some() {
                    return Err(de::Error::duplicate_field(stringify!($name)));
                }
                let v: &'de RawValue = map.next_value()?;
                r.$name = (v.get() != "null").then_some(v);
            }};
        }
        match key {
            "input" => field!(input),
            "instructions" => raw!(instructions),
            "max_output_tokens" => field!(max_output_tokens),
            "temperature" => raw!(temperature),
            "top_p" => raw!(top_p),
            "top_k" => field!(top_k),
            "stream" => field!(stream),
            "tools" => raw!(tools),
            "tool_choice" => raw!(tool_choice),
            "parallel_tool_calls" => field!(parallel_tool_calls),
            "text" => raw!(text),
            "reasoning" => raw!(reasoning),
            "metadata" => raw!(metadata),
            "user" => field!(user),
            "safety_identifier" => field!(safety_identifier),
            "store" => field!(store),
            "previous_response_id" => field!(previous_response_id),
            "truncation" => field!(truncation),
            "background" => field!(background),
            "top_logprobs" => field!(top_logprobs),
            "max_tool_calls" => raw!(max_tool_calls),
            "include" => field!(include),
            "prompt" => present(&mut map, &mut r.unsupported, "prompt")?,
            "conversation" => present(&mut map, &mut r.unsupported, "conversation")?,
            "service_tier" => present(&mut map, &mut r.platform_only, "service_tier")?,
            "prompt_cache_key" => present(&mut map, &mut r.platform_only, "prompt_cache_key")?,
            "prompt_cache_retention" => present(&mut map, &mut r.platform_only, "prompt_cache_retention")?,
            "context_management" => present(&mut map, &mut r.platform_only, "context_management")?,
            other => {
                map.next_value::<IgnoredAny>()?;
                record_unknown(&mut r.unknown, other);
            }
        }
        Ok(())
    }
}
