//! The OpenAI chat-completions request as the translator reads it.
//!
//! Strings borrow from the client's body when they contain no escapes; tool schemas, `cache_control` and other
//! opaque JSON stay `&RawValue` and are copied to the Anthropic body verbatim (never re-parsed into a tree). The
//! top level is read by a hand-written visitor so unknown keys can be reported (derive would only ignore or
//! reject them) and a repeated key is refused rather than guessed at.

use serde::Deserialize;
use serde::de::{self, IgnoredAny, MapAccess};
use serde_json::value::RawValue;

use super::super::json::{CowStr, StrOr, present, record_unknown};
use crate::de::RequestFields;

/// The fields of `POST /v1/chat/completions` the translator understands; anything else is recorded by name.
#[derive(Debug, Default)]
pub(crate) struct ChatRequest<'a> {
    pub(crate) messages: Option<Vec<Message<'a>>>,
    pub(crate) max_completion_tokens: Option<u64>,
    pub(crate) max_tokens: Option<u64>,
    pub(crate) temperature: Option<f64>,
    pub(crate) top_p: Option<f64>,
    /// Not OpenAI; a common vendor extension Anthropic understands.
    pub(crate) top_k: Option<u64>,
    pub(crate) stop: Option<StrOr<'a, Vec<CowStr<'a>>>>,
    pub(crate) stream: Option<bool>,
    pub(crate) stream_options: Option<StreamOptions>,
    pub(crate) tools: Option<Vec<Tool<'a>>>,
    pub(crate) tool_choice: Option<StrOr<'a, ChoiceObject<'a>>>,
    pub(crate) parallel_tool_calls: Option<bool>,
    pub(crate) response_format: Option<ResponseFormat<'a>>,
    pub(crate) reasoning_effort: Option<CowStr<'a>>,
    pub(crate) user: Option<CowStr<'a>>,
    pub(crate) safety_identifier: Option<CowStr<'a>>,
    pub(crate) n: Option<u64>,
    pub(crate) logprobs: Option<bool>,
    pub(crate) top_logprobs: Option<u64>,
    pub(crate) logit_bias: Option<&'a RawValue>,
    pub(crate) frequency_penalty: Option<f64>,
    pub(crate) presence_penalty: Option<f64>,
    pub(crate) modalities: Option<Vec<CowStr<'a>>>,
    /// `seed`, kept for targets that honour it (Gemini); it is also listed in `unsupported` for those that do not.
    pub(crate) seed: Option<i64>,
    /// Parameters present (not `null`) that have no Anthropic meaning whatever their value.
    pub(crate) unsupported: Vec<&'static str>,
    /// Parameters that only concern OpenAI's platform (storage, service tier, its cache key): dropped, reported.
    pub(crate) platform_only: Vec<&'static str>,
    /// Keys OpenAI does not define.
    pub(crate) unknown: Vec<String>,
}

/// `stream_options`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct StreamOptions {
    #[serde(default)]
    pub(crate) include_usage: Option<bool>,
}

/// One entry of `messages`; the role decides which fields matter.
#[derive(Debug, Deserialize)]
pub(crate) struct Message<'a> {
    pub(crate) role: Role,
    #[serde(default, borrow)]
    pub(crate) content: Option<StrOr<'a, Vec<Part<'a>>>>,
    #[serde(default, borrow)]
    pub(crate) tool_calls: Option<Vec<ToolCall<'a>>>,
    #[serde(default, borrow)]
    pub(crate) tool_call_id: Option<CowStr<'a>>,
}

/// `messages[].role`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Role {
    System,
    Developer,
    User,
    Assistant,
    Tool,
    Function,
}

/// A content part; `kind` decides which of the other fields is read.
#[derive(Debug, Deserialize)]
pub(crate) struct Part<'a> {
    #[serde(rename = "type", borrow)]
    pub(crate) kind: CowStr<'a>,
    #[serde(default, borrow)]
    pub(crate) text: Option<CowStr<'a>>,
    #[serde(default, borrow)]
    pub(crate) refusal: Option<CowStr<'a>>,
    #[serde(default, borrow)]
    pub(crate) image_url: Option<ImageUrl<'a>>,
    #[serde(default, borrow)]
    pub(crate) file: Option<FileRef<'a>>,
    /// Not OpenAI; Anthropic prompt caching hints sent by cache-aware clients, passed through.
    #[serde(default, borrow)]
    pub(crate) cache_control: Option<&'a RawValue>,
}

/// `image_url` of an image part (`detail` has no Anthropic equivalent and is ignored).
#[derive(Debug, Deserialize)]
pub(crate) struct ImageUrl<'a> {
    #[serde(borrow)]
    pub(crate) url: CowStr<'a>,
}

/// `file` of a file part.
#[derive(Debug, Deserialize)]
pub(crate) struct FileRef<'a> {
    #[serde(default, borrow)]
    pub(crate) file_data: Option<CowStr<'a>>,
    #[serde(default, borrow)]
    pub(crate) file_id: Option<CowStr<'a>>,
}

/// An assistant's `tool_calls[]` entry.
#[derive(Debug, Deserialize)]
pub(crate) struct ToolCall<'a> {
    #[serde(borrow)]
    pub(crate) id: CowStr<'a>,
    #[serde(rename = "type", default, borrow)]
    pub(crate) kind: Option<CowStr<'a>>,
    #[serde(borrow)]
    pub(crate) function: FunctionCall<'a>,
}

/// `tool_calls[].function`: `arguments` is JSON text inside a JSON string.
#[derive(Debug, Deserialize)]
pub(crate) struct FunctionCall<'a> {
    #[serde(borrow)]
    pub(crate) name: CowStr<'a>,
    #[serde(borrow)]
    pub(crate) arguments: CowStr<'a>,
}

/// A `tools[]` entry.
#[derive(Debug, Deserialize)]
pub(crate) struct Tool<'a> {
    #[serde(rename = "type", borrow)]
    pub(crate) kind: CowStr<'a>,
    #[serde(default, borrow)]
    pub(crate) function: Option<FunctionDef<'a>>,
    /// Not OpenAI; passed through like the content-part extension.
    #[serde(default, borrow)]
    pub(crate) cache_control: Option<&'a RawValue>,
}

/// `tools[].function`.
#[derive(Debug, Deserialize)]
pub(crate) struct FunctionDef<'a> {
    #[serde(borrow)]
    pub(crate) name: CowStr<'a>,
    #[serde(default, borrow)]
    pub(crate) description: Option<CowStr<'a>>,
    #[serde(default, borrow)]
    pub(crate) parameters: Option<&'a RawValue>,
    #[serde(default)]
    pub(crate) strict: Option<bool>,
}

/// The object forms of `tool_choice`: a named function, or `allowed_tools`.
#[derive(Debug, Deserialize)]
pub(crate) struct ChoiceObject<'a> {
    #[serde(rename = "type", borrow)]
    pub(crate) kind: CowStr<'a>,
    #[serde(default, borrow)]
    pub(crate) function: Option<NameOnly<'a>>,
    #[serde(default, borrow)]
    pub(crate) allowed_tools: Option<AllowedTools<'a>>,
}

/// `{"name": ...}`.
#[derive(Debug, Deserialize)]
pub(crate) struct NameOnly<'a> {
    #[serde(borrow)]
    pub(crate) name: CowStr<'a>,
}

/// `tool_choice.allowed_tools`.
#[derive(Debug, Deserialize)]
pub(crate) struct AllowedTools<'a> {
    #[serde(borrow)]
    pub(crate) mode: CowStr<'a>,
    #[serde(borrow)]
    pub(crate) tools: Vec<AllowedTool<'a>>,
}

/// `tool_choice.allowed_tools.tools[]`.
#[derive(Debug, Deserialize)]
pub(crate) struct AllowedTool<'a> {
    #[serde(default, borrow)]
    pub(crate) function: Option<NameOnly<'a>>,
}

/// `response_format`.
#[derive(Debug, Deserialize)]
pub(crate) struct ResponseFormat<'a> {
    #[serde(rename = "type", borrow)]
    pub(crate) kind: CowStr<'a>,
    #[serde(default, borrow)]
    pub(crate) json_schema: Option<JsonSchema<'a>>,
}

/// `response_format.json_schema` (`name`, `strict` and `description` have no Anthropic counterpart).
#[derive(Debug, Deserialize)]
pub(crate) struct JsonSchema<'a> {
    #[serde(default, borrow)]
    pub(crate) schema: Option<&'a RawValue>,
}

// === impl ChatRequest ===

impl ChatRequest<'_> {
    /// The OpenAI-only options this request sets to something other than their default, in the order the
    /// translators report them: `logprobs`, `top_logprobs`, `logit_bias`, then (when the target has no penalties,
    /// `penalties`) `frequency_penalty` and `presence_penalty`, then non-text `modalities`.
    pub(crate) fn openai_only(&self, penalties: bool) -> impl Iterator<Item = &'static str> {
        [
            ("logprobs", self.logprobs == Some(true)),
            ("top_logprobs", self.top_logprobs.is_some_and(|v| v > 0)),
            (
                "logit_bias",
                self.logit_bias
                    .is_some_and(|raw| raw.get().bytes().any(|b| !b" \t\r\n{}".contains(&b))),
            ),
            (
                "frequency_penalty",
                penalties && self.frequency_penalty.is_some_and(|v| v != 0.0),
            ),
            (
                "presence_penalty",
                penalties && self.presence_penalty.is_some_and(|v| v != 0.0),
            ),
            (
                "modalities",
                self.modalities
                    .as_ref()
                    .is_some_and(|m| m.iter().any(|m| &**m != "text")),
            ),
        ]
        .into_iter()
        .filter_map(|(name, set)| set.then_some(name))
    }
}

crate::de::request_deserialize!(ChatRequest);

impl<'de: 'a, 'a> RequestFields<'de> for ChatRequest<'a> {
    const EXPECTING: &'static str = "a chat completions request object";

    fn field<A: MapAccess<'de>>(&mut self, key: &str, mut map: A) -> Result<(), A::Error> {
        let r = self;
        macro_rules! field {
            ($name:ident) => {
                crate::de::once_field!(map, r, A::Error, $name)
            };
        }
        match key {
            "messages" => field!(messages),
            "max_completion_tokens" => field!(max_completion_tokens),
            "max_tokens" => field!(max_tokens),
            "temperature" => field!(temperature),
            "top_p" => field!(top_p),
            "top_k" => field!(top_k),
            "stop" => field!(stop),
            "stream" => field!(stream),
            "stream_options" => field!(stream_options),
            "tools" => field!(tools),
            "tool_choice" => field!(tool_choice),
            "parallel_tool_calls" => field!(parallel_tool_calls),
            "response_format" => field!(response_format),
            "reasoning_effort" => field!(reasoning_effort),
            "user" => field!(user),
            "safety_identifier" => field!(safety_identifier),
            "n" => field!(n),
            "logprobs" => field!(logprobs),
            "top_logprobs" => field!(top_logprobs),
            "logit_bias" => field!(logit_bias),
            "frequency_penalty" => field!(frequency_penalty),
            "presence_penalty" => field!(presence_penalty),
            "modalities" => field!(modalities),
            "seed" => {
                field!(seed);
                if r.seed.is_some() {
                    r.unsupported.push("seed");
                }
            }
            "audio" => present(&mut map, &mut r.unsupported, "audio")?,
            "prediction" => present(&mut map, &mut r.unsupported, "prediction")?,
            "functions" => present(&mut map, &mut r.unsupported, "functions")?,
            "function_call" => present(&mut map, &mut r.unsupported, "function_call")?,
            "web_search_options" => present(&mut map, &mut r.unsupported, "web_search_options")?,
            "verbosity" => present(&mut map, &mut r.unsupported, "verbosity")?,
            "store" => present(&mut map, &mut r.platform_only, "store")?,
            "metadata" => present(&mut map, &mut r.platform_only, "metadata")?,
            "service_tier" => present(&mut map, &mut r.platform_only, "service_tier")?,
            "prompt_cache_key" => present(&mut map, &mut r.platform_only, "prompt_cache_key")?,
            other => {
                map.next_value::<IgnoredAny>()?;
                record_unknown(&mut r.unknown, other);
            }
        }
        Ok(())
    }
}
