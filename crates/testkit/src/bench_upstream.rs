//! The engine of the `mock-upstream` binary: canned OpenAI (`POST /v1/chat/completions`) and Anthropic
//! (`POST /v1/messages`, see [`anthropic`]) responses served with as little work per request as possible, so a load
//! benchmark measures the gateway and not its upstream.
//!
//! Every response is built once at start-up. Per request the server reads the body, runs two substring searches
//! (no JSON parse) and clones `Bytes` handles. The price of the shortcut: a `"stream": true` or
//! `"include_usage": true` that appears *inside a message's text* also counts. Unlike [`crate::MockOpenAi`] this
//! server checks nothing and records nothing.

use std::convert::Infallible;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{HeaderValue, Method, Response, StatusCode, header};
use http_body_util::{BodyExt, Either, Full};
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use memchr::memmem;
use serde_json::{Value, json};
use tokio::net::TcpListener;

mod anthropic;

/// The `model` every canned body names.
pub const MODEL: &str = "mock-upstream";

/// Approximate size of the content string in the non-streamed reply, chosen so the whole body is about 1 KiB.
const CONTENT_BYTES: usize = 700;

/// Words the canned content is made of; each streamed chunk carries one.
const WORDS: [&str; 8] = ["gate", "house", "proxy", "fast", "token", "stream", "model", "reply"];

/// Every response `mock-upstream` can send, precomputed.
#[derive(Debug)]
pub struct Canned {
    chat: Bytes,
    stream: Arc<[Bytes]>,
    stream_with_usage: Arc<[Bytes]>,
    message: Bytes,
    message_stream: Arc<[Bytes]>,
    stream_key: memmem::Finder<'static>,
    usage_key: memmem::Finder<'static>,
}

/// A response body: a complete buffer, or precomputed SSE frames.
pub type CannedBody = Either<Full<Bytes>, Frames>;

/// Precomputed SSE frames sent one per body frame (chunked transfer encoding, like a real streaming server).
#[derive(Debug)]
pub struct Frames {
    frames: Arc<[Bytes]>,
    next: usize,
}

// === impl Canned ===

impl Canned {
    /// Builds every response; streams carry `chunks` content chunks (at least one).
    pub fn new(chunks: usize) -> Self {
        let chunks = chunks.max(1);
        Self {
            chat: Bytes::from(chat_completion().to_string()),
            stream: stream_frames(chunks, false).into(),
            stream_with_usage: stream_frames(chunks, true).into(),
            message: Bytes::from(anthropic::message().to_string()),
            message_stream: anthropic::stream_frames(chunks).into(),
            stream_key: memmem::Finder::new(b"\"stream\""),
            usage_key: memmem::Finder::new(b"\"include_usage\""),
        }
    }

    /// The non-streamed `chat.completion` body.
    pub fn chat_body(&self) -> &Bytes {
        &self.chat
    }

    /// The SSE frames of a streamed reply, with the usage chunk (and `"usage": null` on every chunk) if asked.
    pub fn stream_frames(&self, include_usage: bool) -> &[Bytes] {
        if include_usage {
            &self.stream_with_usage
        } else {
            &self.stream
        }
    }

    /// The non-streamed Anthropic `message` body.
    pub fn message_body(&self) -> &Bytes {
        &self.message
    }

    /// The SSE events of a streamed Anthropic message (`event:` and `data:` lines, one event per element).
    pub fn message_stream_frames(&self) -> &[Bytes] {
        &self.message_stream
    }

    /// Whether a request body has `"stream": true`, by substring search.
    pub fn wants_stream(&self, body: &[u8]) -> bool {
        key_is_true(&self.stream_key, body)
    }

    /// Whether a request body has `"include_usage": true`, by substring search.
    pub fn wants_usage(&self, body: &[u8]) -> bool {
        key_is_true(&self.usage_key, body)
    }

    /// The response to one request: `POST /v1/chat/completions` and `POST /v1/messages` (JSON or SSE by body),
    /// `GET /health`, else 404.
    pub fn respond(&self, method: &Method, path: &str, body: &[u8]) -> Response<CannedBody> {
        match (method, path) {
            (&Method::POST, "/v1/messages") if self.wants_stream(body) => {
                let body = Frames {
                    frames: self.message_stream.clone(),
                    next: 0,
                };
                with_type(StatusCode::OK, "text/event-stream", Either::Right(body))
            }
            (&Method::POST, "/v1/messages") => with_type(
                StatusCode::OK,
                "application/json",
                Either::Left(Full::new(self.message.clone())),
            ),
            (&Method::POST, "/v1/chat/completions") if self.wants_stream(body) => {
                let frames = if self.wants_usage(body) {
                    &self.stream_with_usage
                } else {
                    &self.stream
                };
                let body = Frames {
                    frames: frames.clone(),
                    next: 0,
                };
                with_type(StatusCode::OK, "text/event-stream", Either::Right(body))
            }
            (&Method::POST, "/v1/chat/completions") => with_type(
                StatusCode::OK,
                "application/json",
                Either::Left(Full::new(self.chat.clone())),
            ),
            (&Method::GET, "/health") => with_type(
                StatusCode::OK,
                "text/plain",
                Either::Left(Full::new(Bytes::from_static(b"ok\n"))),
            ),
            _ => with_type(
                StatusCode::NOT_FOUND,
                "application/json",
                Either::Left(Full::new(Bytes::from_static(
                    br#"{"error":{"message":"Invalid URL","type":"invalid_request_error","param":null,"code":null}}"#,
                ))),
            ),
        }
    }
}

fn with_type(status: StatusCode, content_type: &'static str, body: CannedBody) -> Response<CannedBody> {
    let mut response = Response::new(body);
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// Whether some occurrence of `key` (a quoted JSON key) is followed by `: true`, whitespace allowed.
fn key_is_true(key: &memmem::Finder<'_>, body: &[u8]) -> bool {
    key.find_iter(body).any(|at| {
        let rest = skip_ws(&body[at + key.needle().len()..]);
        rest.strip_prefix(b":")
            .is_some_and(|rest| skip_ws(rest).starts_with(b"true"))
    })
}

fn skip_ws(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(bytes.len());
    &bytes[start..]
}

/// The reply text: the words in rotation, `CONTENT_BYTES` long or a little more.
fn content() -> String {
    let mut text = String::new();
    for word in WORDS.iter().cycle() {
        if text.len() >= CONTENT_BYTES {
            break;
        }
        if !text.is_empty() {
            text.push(' ');
        }
        text.push_str(word);
    }
    text
}

fn chat_completion() -> Value {
    let text = content();
    let completion_tokens = text.split_whitespace().count();
    json!({
        "id": "chatcmpl-mock-upstream",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": MODEL,
        "system_fingerprint": null,
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": text, "refusal": null},
            "logprobs": null,
            "finish_reason": "stop",
        }],
        "usage": {"prompt_tokens": 16, "completion_tokens": completion_tokens, "total_tokens": 16 + completion_tokens},
    })
}

/// `chunks` content chunks (the first with the role), the `finish_reason` chunk, the usage chunk when
/// `include_usage`, and `[DONE]`.
fn stream_frames(chunks: usize, include_usage: bool) -> Vec<Bytes> {
    let frame = |value: Value| Bytes::from(format!("data: {value}\n\n"));
    let mut frames: Vec<Bytes> = (0..chunks)
        .map(|i| {
            let word = WORDS[i % WORDS.len()];
            let delta = if i == 0 {
                json!({"role": "assistant", "content": word})
            } else {
                json!({"content": format!(" {word}")})
            };
            let choice = json!({"index": 0, "delta": delta, "logprobs": null, "finish_reason": null});
            frame(chunk(json!([choice]), include_usage))
        })
        .collect();
    let finish = json!({"index": 0, "delta": {}, "logprobs": null, "finish_reason": "stop"});
    frames.push(frame(chunk(json!([finish]), include_usage)));
    if include_usage {
        let mut last = chunk(json!([]), true);
        last["usage"] = json!({"prompt_tokens": 16, "completion_tokens": chunks, "total_tokens": 16 + chunks});
        frames.push(frame(last));
    }
    frames.push(Bytes::from_static(b"data: [DONE]\n\n"));
    frames
}

/// One `chat.completion.chunk`; with `include_usage` it carries `"usage": null`, as OpenAI's do.
fn chunk(choices: Value, include_usage: bool) -> Value {
    let mut chunk = json!({
        "id": "chatcmpl-mock-upstream",
        "object": "chat.completion.chunk",
        "created": 1_700_000_000,
        "model": MODEL,
        "system_fingerprint": null,
        "choices": choices,
    });
    if include_usage {
        chunk["usage"] = Value::Null;
    }
    chunk
}

// === impl Frames ===

impl Body for Frames {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let this = self.get_mut();
        let frame = this.frames.get(this.next).cloned();
        this.next += 1;
        Poll::Ready(frame.map(|bytes| Ok(Frame::data(bytes))))
    }

    fn is_end_stream(&self) -> bool {
        self.next >= self.frames.len()
    }

    fn size_hint(&self) -> SizeHint {
        // Deliberately inexact: an exact hint would make hyper send content-length, and real SSE is chunked.
        SizeHint::default()
    }
}

// === serving ===

/// Serves HTTP/1.1 (keep-alive) on `listener` until the future is dropped; never returns otherwise.
pub async fn serve(listener: TcpListener, canned: Arc<Canned>) {
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) if is_per_connection(&e) => continue,
            Err(_) => {
                // Out of file descriptors or similar, under load: back off briefly, as hyper's examples do,
                // instead of spinning or giving up the benchmark.
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let canned = canned.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req: http::Request<Incoming>| {
                let canned = canned.clone();
                async move {
                    let (parts, body) = req.into_parts();
                    let body = if parts.method == Method::POST {
                        body.collect().await?.to_bytes()
                    } else {
                        Bytes::new()
                    };
                    Ok::<_, hyper::Error>(canned.respond(&parts.method, parts.uri.path(), &body))
                }
            });
            // Errors here are one client's problem (reset, malformed request): drop the connection.
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

/// Accept errors that concern one connection (the peer gave up before we accepted it), not the listener.
fn is_per_connection(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionAborted | io::ErrorKind::ConnectionReset | io::ErrorKind::Interrupted
    )
}

#[cfg(test)]
mod tests;
