//! `POST /v1/responses` (the OpenAI Responses API), the parts that differ from chat completions.
//!
//! OpenAI-style targets (`openai`, `azure_openai`, `openai_compatible`, `vllm_pool`) serve the Responses API
//! themselves: the body goes through [`passthrough::prepare`](super::passthrough::prepare) (model spliced, the
//! provider's credential in place of the client's, `previous_response_id` and every other field untouched) and
//! the reply is relayed unchanged by [`relay_passthrough`], which reads usage from the Responses shapes
//! (`usage` on the body, `response.completed` in a stream). Anthropic targets are translated both ways
//! ([`anthropic`], [`stream`]), with `previous_response_id` served from the gateway's store ([`store`]); Gemini
//! and Bedrock targets chain the same translation onto the `/v1/messages` chain ([`chained`]). docs/responses.md
//! has the whole picture.

mod anthropic;
mod chained;
mod store;
mod stream;

use std::time::Duration;

use axum::response::Response;
use tokio::time::Instant;

pub(super) use anthropic::{Reply, prepare as prepare_anthropic, relay as relay_anthropic};
pub(super) use chained::{Chained, prepare as prepare_chained, relay as relay_chained};
pub(super) use store::Stores;

use super::passthrough::{Unchanged, relay_unchanged};
use crate::body::ResponsesPassthrough;
use crate::context::{Dialect, RequestContext};

/// Relays a Responses API answer as the upstream sent it, metering it from its own usage shapes.
pub(super) async fn relay_passthrough(
    resp: http::Response<crate::body::Upstream>,
    deadline: Instant,
    idle: Duration,
    target: String,
    ctx: RequestContext,
) -> Response {
    let unchanged = Unchanged {
        handler: ResponsesPassthrough::new(),
        usage_of: gatehouse_llm::usage::from_responses_body,
        dialect: Dialect::OpenAi,
    };
    relay_unchanged(resp, deadline, idle, target, unchanged, ctx).await
}
