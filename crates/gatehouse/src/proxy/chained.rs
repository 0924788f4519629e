//! Anthropic in, Gemini or Bedrock out: two translations chained through the OpenAI shape. The request is
//! translated Anthropic → OpenAI (`anthropic_ingress`) and handed to the provider's own OpenAI → native path; that
//! path's OpenAI-shaped answer — a JSON body, an error, or an SSE stream — is then translated OpenAI → Anthropic.
//! Metering and timeouts stay with the provider path's context; this layer only reshapes bytes.

use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::Body;
use axum::response::Response;
use bytes::Bytes;
use gatehouse_llm::anthropic_ingress::{MessageContext, MessageStreamContext, translate_error, translate_response};
use http::{HeaderValue, StatusCode, header};
use http_body::Frame;
use http_body_util::BodyExt;

use gatehouse_llm::{RequestBody, StreamTranslate};

use super::{ClientRequest, Mode, Prepared, SSE, has_content_type, json_response, messages};
use crate::body::{BoxError, OpenAiToAnthropic, Translated};
use crate::config::spec::ProviderKind;
use crate::context::{RequestContext, Route};
use crate::error::GatewayError;

/// Most bytes of an OpenAI-shaped JSON answer read back for re-translation (it is already in memory).
const MAX_BODY: usize = 64 << 20;

/// Translates the Anthropic request to OpenAI and prepares it for the Gemini or Bedrock target.
pub(super) fn prepare(
    incoming: &ClientRequest<'_>,
    endpoint: &str,
    ctx: &RequestContext,
    extra: &mut Vec<(http::HeaderName, HeaderValue)>,
) -> Result<Prepared, GatewayError> {
    if incoming.route == Route::CountTokens {
        return Err(GatewayError::RouteNotSupported {
            route: incoming.route.upstream_path(),
            target: incoming.target.provider.name.clone(),
        });
    }
    let (p, reply) = prepare_chat(incoming, endpoint, ctx, extra)?;
    Ok(Prepared {
        req: p.req,
        mode: Mode::Chained(Box::new(p.mode), reply),
    })
}

/// The Gemini or Bedrock call for an Anthropic Messages body (the provider path's own mode, answering in the
/// OpenAI shape) and what the Anthropic reply needs; the Responses chain (`proxy/responses/chained.rs`) adds its
/// own last hop on top.
pub(super) fn prepare_chat(
    incoming: &ClientRequest<'_>,
    endpoint: &str,
    ctx: &RequestContext,
    extra: &mut Vec<(http::HeaderName, HeaderValue)>,
) -> Result<(Prepared, messages::Reply), GatewayError> {
    let (chat, reply) = messages::translate(incoming, ctx, extra)?;
    let chat = Bytes::from(chat);
    let parsed = RequestBody::parse(&chat)?;
    let inner = ClientRequest {
        route: Route::ChatCompletions,
        bytes: &chat,
        parsed: &parsed,
        ..*incoming
    };
    let p = if incoming.target.provider.kind == ProviderKind::Gemini {
        super::gemini::prepare(&inner, endpoint, ctx, extra)?
    } else {
        super::bedrock::prepare(&inner, endpoint, ctx, extra)?
    };
    merge_dropped(extra);
    Ok((p, reply))
}

/// Every hop reports what it dropped under [`DROPPED_HEADER`](super::DROPPED_HEADER), and the extra headers
/// are inserted, not appended: one comma-joined value keeps every hop's list.
fn merge_dropped(extra: &mut Vec<(http::HeaderName, HeaderValue)>) {
    let name = http::HeaderName::from_static(super::DROPPED_HEADER);
    let lists: Vec<&str> = extra
        .iter()
        .filter(|(n, _)| *n == name)
        .filter_map(|(_, v)| v.to_str().ok())
        .collect();
    if lists.len() < 2 {
        return;
    }
    let merged = HeaderValue::from_str(&lists.join(","));
    extra.retain(|(n, _)| *n != name);
    if let Ok(v) = merged {
        extra.push((name, v));
    }
}

/// Reshapes the provider path's OpenAI answer for the Anthropic-dialect client.
pub(super) async fn to_anthropic(resp: Response, reply: messages::Reply) -> Response {
    let status = resp.status();
    if status.is_success() && has_content_type(resp.headers(), SSE) {
        let translated = OpenAiToAnthropic::new(MessageStreamContext {
            model: reply.model,
            input_tokens_estimate: reply.input_tokens_estimate,
            message_id: reply.message_id,
        });
        return reshape(resp, translated, None);
    }
    let retry_after = resp.headers().get(header::RETRY_AFTER).cloned();
    let extra: Vec<(header::HeaderName, HeaderValue)> = resp
        .headers()
        .iter()
        .filter(|(n, _)| n.as_str().starts_with("x-gatehouse-") || *n == "x-request-id")
        .map(|(n, v)| (n.clone(), v.clone()))
        .collect();
    let bytes = match http_body_util::Limited::new(resp.into_body(), MAX_BODY).collect().await {
        Ok(c) => c.to_bytes(),
        Err(_) => Bytes::new(),
    };
    let mut out = if status.is_success() {
        match translate_response(&bytes, &MessageContext { model: &reply.model }) {
            Ok(t) => json_response(StatusCode::OK, t.body),
            Err(_) => {
                let te = translate_error(
                    502,
                    br#"{"error":{"message":"the upstream answer could not be translated"}}"#,
                );
                json_response(StatusCode::BAD_GATEWAY, te.body)
            }
        }
    } else {
        let te = translate_error(status.as_u16(), &bytes);
        json_response(
            StatusCode::from_u16(te.status).unwrap_or(StatusCode::BAD_GATEWAY),
            te.body,
        )
    };
    if let Some(v) = retry_after {
        out.headers_mut().insert(header::RETRY_AFTER, v);
    }
    for (n, v) in extra {
        out.headers_mut().insert(n, v);
    }
    out
}

/// What to do with the translator once the client stream ended without an error (e.g. store the Responses turn).
pub(super) type OnDone<T> = Box<dyn FnOnce(&T) + Send>;

/// A successful SSE answer re-translated by `translated` as it streams; the headers stay, the length goes.
pub(super) fn reshape<T: StreamTranslate>(
    resp: Response,
    translated: Translated<T>,
    on_done: Option<OnDone<T>>,
) -> Response {
    let (mut parts, body) = resp.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    let body = Reshaped {
        inner: body,
        translated,
        on_done,
    };
    Response::from_parts(parts, Body::new(body))
}

/// An OpenAI SSE body re-translated into the client's events as it streams, by the same translating handler the
/// direct paths use (its metering stays with the provider path's context, so none here).
struct Reshaped<T> {
    inner: Body,
    translated: Translated<T>,
    on_done: Option<OnDone<T>>,
}

impl<T: StreamTranslate> Reshaped<T> {
    /// Runs the completion hook once, if the client stream ended cleanly.
    fn settle(&mut self) {
        if self.translated.ended()
            && self.translated.translator().errored().is_none()
            && let Some(done) = self.on_done.take()
        {
            done(self.translated.translator());
        }
    }
}

impl<T: StreamTranslate> http_body::Body for Reshaped<T> {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = &mut *self;
        loop {
            if this.translated.ended() {
                this.settle();
                let out = this.translated.take_output();
                return Poll::Ready((!out.is_empty()).then(|| Ok(Frame::data(out))));
            }
            match Pin::new(&mut this.inner).poll_frame(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Ok(frame))) => {
                    if let Some(data) = frame.data_ref() {
                        this.translated.feed(data);
                    }
                }
                Poll::Ready(Some(Err(_))) => this.translated.fail("upstream_stream_error"),
                Poll::Ready(None) => this.translated.end_of_input(),
            }
            // Settled before the last frames go out, so a client that continues at once finds its turn stored.
            this.settle();
            let out = this.translated.take_output();
            if !out.is_empty() {
                return Poll::Ready(Some(Ok(Frame::data(out))));
            }
        }
    }
}
