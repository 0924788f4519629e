//! OpenAI response bodies the mock fabricates: completions, embeddings, stream chunks and usage.
//!
//! Everything is deterministic: ids come from the request's position in the journal, `created` is a fixed
//! timestamp, and token counts are whitespace words, so tests can assert exact numbers.

use bytes::Bytes;
use serde_json::{Value, json};

use crate::sse_body::StreamFrames;
use crate::validate::{Accepted, Endpoint};

/// `created` in every body: fixed so responses are reproducible.
pub(crate) const CREATED: u64 = 1_700_000_000;

/// The vector returned for every embedding input: small, fixed, and obviously fake.
pub(crate) const EMBEDDING: [f32; 4] = [0.125, -0.25, 0.5, 1.0];

/// Content pieces for `words`: the first as is, the others with a leading space, so they concatenate to the text.
pub(crate) fn pieces<S: AsRef<str>>(words: &[S]) -> Vec<String> {
    words
        .iter()
        .enumerate()
        .map(|(i, w)| {
            if i == 0 {
                w.as_ref().to_string()
            } else {
                format!(" {}", w.as_ref())
            }
        })
        .collect()
}

pub(crate) fn usage(req: &Accepted, completion_tokens: u64) -> Value {
    json!({
        "prompt_tokens": req.prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": req.prompt_tokens + completion_tokens,
    })
}

fn id(req: &Accepted, seq: usize) -> String {
    match req.endpoint {
        Endpoint::Chat => format!("chatcmpl-mock-{seq}"),
        Endpoint::Completions => format!("cmpl-mock-{seq}"),
        Endpoint::Embeddings => format!("emb-mock-{seq}"),
    }
}

/// The non-streamed body for `text`: `chat.completion`, `text_completion` or an embedding list.
pub(crate) fn complete(req: &Accepted, seq: usize, text: &str) -> Value {
    let completion_tokens = text.split_whitespace().count() as u64;
    match req.endpoint {
        Endpoint::Chat => json!({
            "id": id(req, seq),
            "object": "chat.completion",
            "created": CREATED,
            "model": req.model,
            "system_fingerprint": null,
            "choices": [{
                "index": 0,
                "message": {"role": "assistant", "content": text, "refusal": null},
                "logprobs": null,
                "finish_reason": "stop",
            }],
            "usage": usage(req, completion_tokens),
        }),
        Endpoint::Completions => json!({
            "id": id(req, seq),
            "object": "text_completion",
            "created": CREATED,
            "model": req.model,
            "system_fingerprint": null,
            "choices": [{"text": text, "index": 0, "logprobs": null, "finish_reason": "stop"}],
            "usage": usage(req, completion_tokens),
        }),
        Endpoint::Embeddings => embeddings(req),
    }
}

/// An embedding list with one [`EMBEDDING`] per input.
pub(crate) fn embeddings(req: &Accepted) -> Value {
    let data: Vec<Value> = (0..req.inputs)
        .map(|i| json!({"object": "embedding", "index": i, "embedding": EMBEDDING}))
        .collect();
    json!({
        "object": "list",
        "data": data,
        "model": req.model,
        "usage": {"prompt_tokens": req.prompt_tokens, "total_tokens": req.prompt_tokens},
    })
}

/// The SSE frames of a streamed chat or text completion made of `words`: one content frame per word; the tail is
/// the `finish_reason` chunk, the usage chunk (if asked) and `data: [DONE]`.
pub(crate) fn stream<S: AsRef<str>>(req: &Accepted, seq: usize, words: &[S]) -> StreamFrames {
    let chunk = Chunker { req, id: id(req, seq) };
    let mut pieces = pieces(words);
    if pieces.is_empty() {
        // OpenAI always sends the role chunk, even for an empty answer.
        pieces.push(String::new());
    }
    let content = pieces
        .iter()
        .enumerate()
        .map(|(i, piece)| frame(&chunk.content(piece, i == 0)))
        .collect();
    let mut tail = vec![frame(&chunk.finish())];
    if req.include_usage {
        tail.push(frame(&chunk.usage(words.len() as u64)));
    }
    tail.push(Bytes::from_static(b"data: [DONE]\n\n"));
    StreamFrames::new(content, tail)
}

/// One SSE `data:` frame carrying `value`.
pub(crate) fn frame(value: &Value) -> Bytes {
    Bytes::from(format!("data: {value}\n\n"))
}

/// Builds the chunks of one stream, which share an id and model.
struct Chunker<'a> {
    req: &'a Accepted,
    id: String,
}

impl Chunker<'_> {
    fn content(&self, piece: &str, first: bool) -> Value {
        match self.req.endpoint {
            Endpoint::Chat => {
                let delta = if first {
                    json!({"role": "assistant", "content": piece})
                } else {
                    json!({"content": piece})
                };
                self.chunk(json!([{"index": 0, "delta": delta, "logprobs": null, "finish_reason": null}]))
            }
            _ => self.chunk(json!([{"text": piece, "index": 0, "logprobs": null, "finish_reason": null}])),
        }
    }

    fn finish(&self) -> Value {
        match self.req.endpoint {
            Endpoint::Chat => self.chunk(json!([{"index": 0, "delta": {}, "logprobs": null, "finish_reason": "stop"}])),
            _ => self.chunk(json!([{"text": "", "index": 0, "logprobs": null, "finish_reason": "stop"}])),
        }
    }

    fn usage(&self, completion_tokens: u64) -> Value {
        let mut chunk = self.chunk(json!([]));
        chunk["usage"] = usage(self.req, completion_tokens);
        chunk
    }

    fn chunk(&self, choices: Value) -> Value {
        let object = match self.req.endpoint {
            Endpoint::Chat => "chat.completion.chunk",
            _ => "text_completion",
        };
        let mut chunk = json!({
            "id": self.id,
            "object": object,
            "created": CREATED,
            "model": self.req.model,
            "system_fingerprint": null,
            "choices": choices,
        });
        if self.req.include_usage {
            chunk["usage"] = Value::Null;
        }
        chunk
    }
}
