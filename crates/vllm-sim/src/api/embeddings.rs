//! `POST /v1/embeddings`: deterministic vectors, so clients and gateways can exercise the route.
//!
//! Embeddings do not go through the batching engine (a generative replica would not serve them at all; this
//! is a convenience for gateway tests): each input is tokenized, its token ids hashed into a unit vector of
//! `DIMENSIONS` floats, and `usage.prompt_tokens` counts every input's tokens. `encoding_format: "base64"`
//! (what the OpenAI Python SDK asks for by default) returns little-endian f32 bytes in base64.

use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::hash;
use crate::options::SimOptions;
use crate::prng::SplitMix64;
use crate::tokenizer;

/// Length of every returned vector.
const DIMENSIONS: usize = 16;

/// `POST /v1/embeddings` body.
#[derive(Debug, Deserialize)]
pub(crate) struct EmbeddingRequest {
    model: Option<String>,
    input: Input,
    encoding_format: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Input {
    One(String),
    Many(Vec<String>),
    Tokens(Vec<u32>),
    ManyTokens(Vec<Vec<u32>>),
}

impl EmbeddingRequest {
    /// Builds the full response body.
    pub(crate) fn respond(self, opts: &SimOptions) -> Result<Value, ApiError> {
        let model = super::request::check_model(self.model, opts)?;
        let base64 = match self.encoding_format.as_deref() {
            None | Some("float") => false,
            Some("base64") => true,
            Some(other) => {
                return Err(ApiError::BadRequest(format!("unsupported encoding_format `{other}`")));
            }
        };
        let inputs: Vec<Vec<u32>> = match self.input {
            Input::One(s) => vec![tokenizer::encode(&s)],
            Input::Many(v) => v.iter().map(|s| tokenizer::encode(s)).collect(),
            Input::Tokens(t) => vec![t],
            Input::ManyTokens(v) => v,
        };
        if inputs.is_empty() || inputs.iter().any(Vec::is_empty) {
            return Err(ApiError::BadRequest("input must not be empty".to_owned()));
        }
        let prompt_tokens: usize = inputs.iter().map(Vec::len).sum();
        let data: Vec<Value> = inputs
            .iter()
            .enumerate()
            .map(|(index, ids)| {
                let v = vector(opts.seed, ids);
                let embedding = if base64 {
                    Value::String(encode_base64(&v))
                } else {
                    json!(v)
                };
                json!({"object": "embedding", "index": index, "embedding": embedding})
            })
            .collect();
        Ok(json!({
            "object": "list",
            "data": data,
            "model": model,
            "usage": {"prompt_tokens": prompt_tokens, "total_tokens": prompt_tokens},
        }))
    }
}

/// A unit vector derived from the token ids.
fn vector(seed: u64, ids: &[u32]) -> Vec<f32> {
    let mut rng = SplitMix64::new(hash::tokens(seed, ids));
    let raw: Vec<f64> = (0..DIMENSIONS)
        .map(|_| (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64 - 0.5)
        .collect();
    let norm = raw.iter().map(|x| x * x).sum::<f64>().sqrt().max(f64::MIN_POSITIVE);
    raw.iter().map(|x| (x / norm) as f32).collect()
}

/// Standard base64 (with padding) of the vector's little-endian f32 bytes.
fn encode_base64(v: &[f32]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let bytes: Vec<u8> = v.iter().flat_map(|f| f.to_le_bytes()).collect();
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (i, shift) in [18u32, 12, 6, 0].into_iter().enumerate() {
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
mod tests {
    use super::*;

    #[test]
    fn vectors_are_deterministic_unit_vectors() {
        let a = vector(1, &[1, 2, 3]);
        assert_eq!(a, vector(1, &[1, 2, 3]));
        assert_ne!(a, vector(1, &[1, 2, 4]));
        let norm: f32 = a.iter().map(|x| x * x).sum();
        assert!((norm - 1.0).abs() < 1e-4);
    }

    #[test]
    fn base64_matches_known_values() {
        assert_eq!(encode_base64(&[1.0]), "AACAPw==");
        assert_eq!(encode_base64(&[]), "");
    }

    #[test]
    fn response_counts_tokens_of_every_input() {
        let req: EmbeddingRequest = serde_json::from_str(r#"{"input":["one two","three"]}"#).expect("json");
        let v = req.respond(&SimOptions::default()).expect("ok");
        assert_eq!(v["data"].as_array().map(Vec::len), Some(2));
        let expected = tokenizer::encode("one two").len() + tokenizer::encode("three").len();
        assert_eq!(v["usage"]["prompt_tokens"], expected);
        let bad: EmbeddingRequest = serde_json::from_str(r#"{"model":"nope","input":"x"}"#).expect("json");
        assert!(matches!(
            bad.respond(&SimOptions::default()),
            Err(ApiError::ModelNotFound(_))
        ));
    }
}
