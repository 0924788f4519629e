//! The Anthropic stream events as the translator reads them (ASDK `RawMessageStreamEvent`), one flat struct for
//! all event types: fields a type does not have stay `None`, and unknown fields are skipped without building a tree.

use serde::Deserialize;

use super::super::json::CowStr;
use super::super::tokens::AnthropicUsage;

/// One Anthropic stream event; `kind` decides which fields are read.
#[derive(Deserialize)]
pub(super) struct Event<'a> {
    #[serde(rename = "type", borrow)]
    pub(super) kind: CowStr<'a>,
    #[serde(default, borrow)]
    pub(super) message: Option<StartMessage<'a>>,
    #[serde(default)]
    pub(super) index: Option<u64>,
    #[serde(default, borrow)]
    pub(super) content_block: Option<StartBlock<'a>>,
    #[serde(default, borrow)]
    pub(super) delta: Option<Delta<'a>>,
    #[serde(default)]
    pub(super) usage: Option<AnthropicUsage>,
    #[serde(default, borrow)]
    pub(super) error: Option<ErrorBody<'a>>,
}

/// `message_start.message`.
#[derive(Deserialize)]
pub(super) struct StartMessage<'a> {
    #[serde(borrow)]
    pub(super) id: CowStr<'a>,
    #[serde(default)]
    pub(super) usage: Option<AnthropicUsage>,
}

/// `content_block_start.content_block`.
#[derive(Deserialize)]
pub(super) struct StartBlock<'a> {
    #[serde(rename = "type", borrow)]
    pub(super) kind: CowStr<'a>,
    #[serde(default, borrow)]
    pub(super) id: Option<CowStr<'a>>,
    #[serde(default, borrow)]
    pub(super) name: Option<CowStr<'a>>,
    #[serde(default, borrow)]
    pub(super) text: Option<CowStr<'a>>,
    #[serde(default, borrow)]
    pub(super) thinking: Option<CowStr<'a>>,
}

/// `delta` of `content_block_delta` (by `type`) and of `message_delta` (`stop_reason`).
#[derive(Deserialize)]
pub(super) struct Delta<'a> {
    #[serde(rename = "type", default, borrow)]
    pub(super) kind: Option<CowStr<'a>>,
    #[serde(default, borrow)]
    pub(super) text: Option<CowStr<'a>>,
    #[serde(default, borrow)]
    pub(super) thinking: Option<CowStr<'a>>,
    #[serde(default, borrow)]
    pub(super) partial_json: Option<CowStr<'a>>,
    #[serde(default, borrow)]
    pub(super) stop_reason: Option<CowStr<'a>>,
}

/// `error.error`.
#[derive(Deserialize)]
pub(super) struct ErrorBody<'a> {
    #[serde(rename = "type", default, borrow)]
    pub(super) kind: Option<CowStr<'a>>,
    #[serde(default, borrow)]
    pub(super) message: Option<CowStr<'a>>,
}
