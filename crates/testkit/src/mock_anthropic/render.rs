//! Turns an [`AnthropicReply`] into the HTTP response for one accepted request.
//!
//! Delays and hangs happen here, before any header is sent, so a gateway's first-byte timeout sees nothing at all.
//! Every response carries `request-id: req_mock_<n>` (n = the request's journal position), as the real API sends
//! `request-id` on every answer.

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};

use super::events;
use super::rejection::{AnthropicRejection, error_json};
use super::reply::{AnthropicReply, Ending, Kind, Message};
use super::validate::Accepted;
use crate::journal::Journal;
use crate::reply::Pacing;
use crate::sse_body::{MockBody, StreamFrames};

/// The `request-id` of request number `seq`.
pub(super) fn request_id(seq: usize) -> String {
    format!("req_mock_{seq}")
}

/// Adds the `request-id` header every Anthropic response carries.
pub(super) fn with_request_id(mut response: Response<MockBody>, seq: usize) -> Response<MockBody> {
    if let Ok(value) = HeaderValue::try_from(request_id(seq)) {
        response.headers_mut().insert("request-id", value);
    }
    response
}

/// The error response for a refused request number `seq`.
pub(super) fn rejection(rejection: &AnthropicRejection, seq: usize) -> Response<MockBody> {
    let response = crate::render::full(
        rejection.status(),
        HeaderValue::from_static("application/json"),
        rejection.body(&request_id(seq)),
    );
    with_request_id(response, seq)
}

/// Answers request number `seq` (its journal position) with `reply`.
pub(super) async fn render(
    reply: AnthropicReply,
    req: &Accepted,
    seq: usize,
    journal: &Journal<AnthropicRejection>,
) -> Response<MockBody> {
    let mut headers = Vec::new();
    let mut reply = reply;
    let mut response = loop {
        headers.extend(reply.headers);
        match reply.kind {
            Kind::Delay(delay, then) => {
                tokio::time::sleep(delay).await;
                reply = *then;
            }
            Kind::Hang => return std::future::pending().await,
            Kind::Error {
                status,
                error_type,
                message,
            } => break crate::render::json(status, &error_json(&error_type, &message, &request_id(seq))),
            Kind::Raw {
                status,
                content_type,
                body,
            } => break crate::render::full(status, content_type, body),
            Kind::Message(message) if req.stream => {
                let pacing = message.pacing.clone();
                break crate::render::sse(events::stream(&message, req, seq), pacing, journal);
            }
            Kind::Message(message) => break whole(*message, req, seq, journal).await,
        }
    };
    for (name, value) in headers {
        response.headers_mut().append(name, value);
    }
    with_request_id(response, seq)
}

/// A non-streamed message: held until a gate finishes, cut halfway if the reply says so.
async fn whole(
    mut message: Message,
    req: &Accepted,
    seq: usize,
    journal: &Journal<AnthropicRejection>,
) -> Response<MockBody> {
    message.pacing.before_tail().await;
    let body = events::message(&message, req, seq).to_string();
    if let Ending::CutAfter(_) = message.ending {
        let half = Bytes::copy_from_slice(&body.as_bytes()[..body.len() / 2]);
        let frames = StreamFrames {
            head: vec![half],
            cut: true,
            ..StreamFrames::default()
        };
        let mut response = crate::render::sse(frames, Pacing::Immediate, journal);
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.remove(header::CACHE_CONTROL);
        return response;
    }
    crate::render::full(
        StatusCode::OK,
        HeaderValue::from_static("application/json"),
        Bytes::from(body),
    )
}
