//! The streamed half of `/v1/responses` on an Anthropic target (waiting for the stream translator).

use std::time::Duration;

use axum::response::Response;
use tokio::time::Instant;

use super::anthropic::Reply;
use crate::context::{Dialect, RequestContext};
use crate::error::GatewayError;

/// Not yet translated: a clear 400.
pub(super) fn relay(
    _resp: http::Response<crate::body::Upstream>,
    _deadline: Instant,
    _idle: Duration,
    _reply: Reply,
    mut ctx: RequestContext,
) -> Response {
    super::super::translated::fail(
        Dialect::OpenAi,
        GatewayError::RouteNotSupported {
            route: "/v1/responses (stream)",
            target: "anthropic".into(),
        },
        &mut ctx,
    )
}
