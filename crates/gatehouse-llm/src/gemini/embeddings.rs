//! OpenAI `POST /v1/embeddings` ⇄ Gemini `models/{model}:batchEmbedContents`.
//!
//! - `input`: a string or a list of strings (≤ [`MAX_INPUTS`], none empty) → one `requests[]` entry each, in order,
//!   `{model: "models/<model>", content: {parts: [{text}]}}`. Token arrays (lists of integers) are refused: Gemini
//!   embeds text only.
//! - `dimensions` → `outputDimensionality` on every entry; `user` is dropped; `encoding_format` `float` (default)
//!   or `base64` is honoured on the way back (base64 = the little-endian f32 bytes, as OpenAI encodes them — the
//!   OpenAI Python SDK asks for base64 by default).
//! - The reply `{"embeddings": [{"values": [...]}]}` becomes `{"object":"list","data":[{"object":"embedding",
//!   "index","embedding"}],"model","usage"}`; a count that differs from the inputs is an upstream error.
//! - Usage: Gemini's batch embedding reply carries no token counts, so `usage` is
//!   `{"prompt_tokens":0,"total_tokens":0}` unless the reply has `usageMetadata.promptTokenCount`.

use serde::{Deserialize, Serialize};

use crate::anthropic::json::{CowStr, StrOr};
use crate::{LlmError, Usage};

/// Gemini's `batchEmbedContents` limit.
pub const MAX_INPUTS: usize = 100;

/// A translated embeddings request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmbedRequest {
    /// `batchEmbedContents` JSON.
    pub body: Vec<u8>,
    /// How many embeddings must come back.
    pub count: usize,
    /// The client asked for base64-encoded vectors.
    pub base64: bool,
}

#[derive(Deserialize)]
struct OpenAiEmbed<'a> {
    #[serde(borrow)]
    input: Option<StrOr<'a, Vec<serde_json::Value>>>,
    #[serde(default, borrow)]
    encoding_format: Option<CowStr<'a>>,
    #[serde(default)]
    dimensions: Option<u32>,
}

#[derive(Serialize)]
struct Batch<'a> {
    requests: Vec<Entry<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Entry<'a> {
    model: &'a str,
    content: Content,
    #[serde(skip_serializing_if = "Option::is_none")]
    output_dimensionality: Option<u32>,
}

#[derive(Serialize)]
struct Content {
    parts: [Text; 1],
}

#[derive(Serialize)]
struct Text {
    text: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Reply {
    embeddings: Vec<Values>,
    #[serde(default)]
    usage_metadata: Option<EmbedUsage>,
}

#[derive(Deserialize)]
struct Values {
    values: Vec<f64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct EmbedUsage {
    #[serde(default)]
    prompt_token_count: u64,
}

/// Translates an OpenAI embeddings body for `models/<model>:batchEmbedContents`.
///
/// # Errors
///
/// [`LlmError::InvalidRequest`] for token-array input, empty input, more than [`MAX_INPUTS`] inputs or an unknown
/// `encoding_format`; [`LlmError::InvalidJson`] for a body that is not JSON.
pub fn translate_embeddings_request(body: &[u8], model: &str) -> Result<EmbedRequest, LlmError> {
    let req: OpenAiEmbed<'_> = serde_json::from_slice(body).map_err(|e| match e.classify() {
        serde_json::error::Category::Data => LlmError::invalid_request(e.to_string()),
        _ => LlmError::invalid_json(e.to_string()),
    })?;
    let texts: Vec<String> = match req.input {
        None => return Err(LlmError::invalid_request("`input` is required")),
        Some(StrOr::Str(s)) => vec![s.0.into_owned()],
        Some(StrOr::Other(items)) => items
            .into_iter()
            .map(|v| match v {
                serde_json::Value::String(s) => Ok(s),
                _ => Err(LlmError::invalid_request(
                    "`input`: Gemini embeds text only; token arrays are not supported",
                )),
            })
            .collect::<Result<_, _>>()?,
    };
    if texts.is_empty() || texts.iter().any(|t| t.is_empty()) {
        return Err(LlmError::invalid_request("`input` must not be empty"));
    }
    if texts.len() > MAX_INPUTS {
        return Err(LlmError::invalid_request(
            "`input`: Gemini embeds at most 100 inputs per request",
        ));
    }
    let base64 = match req.encoding_format.as_deref() {
        None | Some("float") => false,
        Some("base64") => true,
        Some(_) => {
            return Err(LlmError::invalid_request(
                r#"`encoding_format` must be "float" or "base64""#,
            ));
        }
    };
    let model_path = format!("models/{model}");
    let count = texts.len();
    let batch = Batch {
        requests: texts
            .into_iter()
            .map(|text| Entry {
                model: &model_path,
                content: Content { parts: [Text { text }] },
                output_dimensionality: req.dimensions,
            })
            .collect(),
    };
    let body = serde_json::to_vec(&batch).map_err(|_| LlmError::Internal {
        detail: "serialising the Gemini embeddings request failed",
    })?;
    Ok(EmbedRequest { body, count, base64 })
}

/// Translates a `batchEmbedContents` reply into OpenAI's embedding list, with the metered usage.
///
/// # Errors
///
/// [`LlmError::UpstreamInvalid`] when the body is not an embedding list or has the wrong number of vectors.
pub fn translate_embeddings_response(
    body: &[u8],
    model: &str,
    req: &EmbedRequest,
) -> Result<(Vec<u8>, Usage), LlmError> {
    let reply: Reply = serde_json::from_slice(body).map_err(|e| LlmError::upstream_invalid(e.to_string()))?;
    if reply.embeddings.len() != req.count {
        return Err(LlmError::upstream_invalid(
            "the number of embeddings does not match the inputs",
        ));
    }
    let tokens = reply.usage_metadata.map_or(0, |u| u.prompt_token_count);
    let data: Vec<serde_json::Value> = reply
        .embeddings
        .iter()
        .enumerate()
        .map(|(index, e)| {
            let embedding = if req.base64 {
                // OpenAI's base64 vectors are little-endian f32; narrowing is the encoding's own precision.
                let bytes: Vec<u8> = e.values.iter().flat_map(|v| (*v as f32).to_le_bytes()).collect();
                serde_json::Value::String(base64(&bytes))
            } else {
                serde_json::json!(e.values)
            };
            serde_json::json!({"object": "embedding", "index": index, "embedding": embedding})
        })
        .collect();
    let out = serde_json::json!({"object": "list", "data": data, "model": model,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens}});
    let usage = Usage {
        input_tokens: tokens,
        total_tokens: tokens,
        ..Usage::default()
    };
    Ok((out.to_string().into_bytes(), usage))
}

/// Standard base64 with padding.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (i, shift) in [18, 12, 6, 0].into_iter().enumerate() {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> shift) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests;
