//! The Anthropic stream events as the translator reads them (ASDK `RawMessageStreamEvent`), one flat struct for
//! all event types: fields a type does not have stay `None`, and unknown fields are skipped without building a tree.

use serde::Deserialize;

use super::super::json::CowStr;
use super::super::tokens::AnthropicUsage;

/// One Anthropic stream event; `kind` decides which fields are read.
#[derive(Deserialize)]
pub(crate) struct Event<'a> {
    #[serde(rename = "type", borrow)]
    pub(crate) kind: CowStr<'a>,
    #[serde(default, borrow)]
    pub(crate) message: Option<StartMessage<'a>>,
    #[serde(default)]
    pub(crate) index: Option<u64>,
    #[serde(default, borrow)]
    pub(crate) content_block: Option<StartBlock<'a>>,
    #[serde(default, borrow)]
    pub(crate) delta: Option<Delta<'a>>,
    #[serde(default)]
    pub(crate) usage: Option<AnthropicUsage>,
    #[serde(default, borrow)]
    pub(crate) error: Option<ErrorBody<'a>>,
}

/// `message_start.message`.
#[derive(Deserialize)]
pub(crate) struct StartMessage<'a> {
    #[serde(borrow)]
    pub(crate) id: CowStr<'a>,
    #[serde(default)]
    pub(crate) usage: Option<AnthropicUsage>,
}

/// `content_block_start.content_block`.
#[derive(Deserialize)]
pub(crate) struct StartBlock<'a> {
    #[serde(rename = "type", borrow)]
    pub(crate) kind: CowStr<'a>,
    #[serde(default, borrow)]
    pub(crate) id: Option<CowStr<'a>>,
    #[serde(default, borrow)]
    pub(crate) name: Option<CowStr<'a>>,
    #[serde(default, borrow)]
    pub(crate) text: Option<CowStr<'a>>,
    #[serde(default, borrow)]
    pub(crate) thinking: Option<CowStr<'a>>,
    /// `redacted_thinking` blocks carry their (encrypted) content here.
    #[serde(default, borrow)]
    pub(crate) data: Option<CowStr<'a>>,
}

/// `delta` of `content_block_delta` (by `type`) and of `message_delta` (`stop_reason`).
#[derive(Deserialize)]
pub(crate) struct Delta<'a> {
    #[serde(rename = "type", default, borrow)]
    pub(crate) kind: Option<CowStr<'a>>,
    #[serde(default, borrow)]
    pub(crate) text: Option<CowStr<'a>>,
    #[serde(default, borrow)]
    pub(crate) thinking: Option<CowStr<'a>>,
    #[serde(default, borrow)]
    pub(crate) partial_json: Option<CowStr<'a>>,
    /// `signature_delta`: the thinking block's signature (the Responses translation keeps it).
    #[serde(default, borrow)]
    pub(crate) signature: Option<CowStr<'a>>,
    #[serde(default, borrow)]
    pub(crate) stop_reason: Option<CowStr<'a>>,
}

/// `error.error`.
#[derive(Deserialize)]
pub(crate) struct ErrorBody<'a> {
    #[serde(rename = "type", default, borrow)]
    pub(crate) kind: Option<CowStr<'a>>,
    #[serde(default, borrow)]
    pub(crate) message: Option<CowStr<'a>>,
}
