//! Turns a [`Reply`] into the HTTP response for one accepted request.
//!
//! Delays and hangs happen here, before any header is sent, so a gateway's first-byte timeout sees nothing at all.

use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};
use http_body_util::{BodyExt, Full};

use crate::journal::{Counter, DropGuard, Journal};
use crate::openai_json;
use crate::reply::{Kind, Pacing, Reply};
use crate::sse_body::{self, MockBody, StreamFrames};
use crate::validate::{Accepted, Endpoint};

/// Answers request number `seq` (its journal position) with `reply`.
pub(crate) async fn render(reply: Reply, req: &Accepted, seq: usize, journal: &Arc<Journal>) -> Response<MockBody> {
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
            Kind::Text(text) if req.stream && req.endpoint != Endpoint::Embeddings => {
                let words: Vec<&str> = text.split_whitespace().collect();
                let frames = openai_json::stream(req, seq, &words);
                break sse(frames, Pacing::Immediate, journal);
            }
            Kind::Text(text) => {
                break json(StatusCode::OK, &openai_json::complete(req, seq, &text));
            }
            Kind::Stream { .. } if req.endpoint == Endpoint::Embeddings => {
                break json(StatusCode::OK, &openai_json::embeddings(req));
            }
            Kind::Stream { words, pacing } => {
                break sse(openai_json::stream(req, seq, &words), pacing, journal);
            }
            Kind::Status { status, body } => break json(status, &body),
            Kind::Raw {
                status,
                content_type,
                body,
            } => break full(status, content_type, body),
        }
    };
    for (name, value) in headers {
        response.headers_mut().append(name, value);
    }
    response
}

/// A JSON response with `body`.
pub(crate) fn json(status: StatusCode, body: &serde_json::Value) -> Response<MockBody> {
    full(
        status,
        HeaderValue::from_static("application/json"),
        Bytes::from(body.to_string()),
    )
}

/// A complete (non-streamed) response.
pub(crate) fn full(status: StatusCode, content_type: HeaderValue, body: Bytes) -> Response<MockBody> {
    let mut response = Response::new(Full::new(body).map_err(|never| match never {}).boxed_unsync());
    *response.status_mut() = status;
    response.headers_mut().insert(header::CONTENT_TYPE, content_type);
    response
}

/// A streamed response: `frames` released as `pacing` allows, counted as cancelled if dropped early.
pub(crate) fn sse<R>(frames: StreamFrames, pacing: Pacing, journal: &Journal<R>) -> Response<MockBody> {
    let guard = DropGuard::new(journal, Counter::CancelledStream);
    let mut response = Response::new(sse_body::paced(frames, pacing, guard));
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}
