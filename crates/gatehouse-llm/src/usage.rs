//! Token usage extraction from OpenAI-style responses and stream chunks.
//!
//! Metering needs a few numbers from bodies the gateway otherwise passes through untouched, so extraction
//! deserialises into small structs that skip everything else (serde ignores unknown fields without building a
//! tree; no `serde_json::Value`). Anything malformed yields `None` rather than an error: a response the gateway
//! cannot meter is still delivered, and the caller records the gap.
//!
//! Invariant: `total_tokens` is the upstream's figure when given, otherwise `input_tokens + output_tokens`.

use std::fmt;
use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::{self, MapAccess, Visitor};

use crate::SseEvent;

pub mod responses;

pub use responses::{ResponsesStreamUsage, from_responses_body};

/// Token counts for one request, in the gateway's provider-neutral vocabulary.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Usage {
    /// Prompt tokens, including cached ones.
    pub input_tokens: u64,
    /// Generated tokens (zero for embeddings).
    pub output_tokens: u64,
    /// The part of `input_tokens` served from the provider's prompt cache (usually billed cheaper).
    pub cached_input_tokens: u64,
    /// The part of `input_tokens` written to the provider's prompt cache (Anthropic bills it at a premium); zero
    /// when the provider does not report it.
    pub cache_write_input_tokens: u64,
    /// As reported by the upstream, or computed when it is missing.
    pub total_tokens: u64,
}

/// Follows a stream's events and keeps what metering needs once the stream ends.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StreamUsage {
    last: Option<Usage>,
    done: bool,
}

/// The only top-level field read from a response or chunk.
#[derive(Deserialize)]
struct Envelope {
    #[serde(default)]
    usage: Option<MapOnly<OpenAiUsage>>,
}

/// OpenAI's `usage` object.
#[derive(Deserialize)]
struct OpenAiUsage {
    #[serde(default)]
    prompt_tokens: Option<u64>,
    #[serde(default)]
    completion_tokens: Option<u64>,
    #[serde(default)]
    total_tokens: Option<u64>,
    #[serde(default)]
    prompt_tokens_details: Option<MapOnly<PromptDetails>>,
}

#[derive(Deserialize)]
struct PromptDetails {
    #[serde(default)]
    cached_tokens: Option<u64>,
    /// Prompt tokens written to the cache (OSDK 3.x field); gatehouse's translated Anthropic responses carry it.
    #[serde(default)]
    cache_write_tokens: Option<u64>,
}

/// Accepts `T` only when written as a JSON object: derived structs also accept arrays (`[1,2]` as a tuple of
/// fields), which no OpenAI body uses, so such input must not be read as usage.
struct MapOnly<T>(T);

/// Usage from a non-streamed chat, completions or embeddings response body.
///
/// `None` when the body is not JSON, has no `usage` object, or its counts are not non-negative integers.
#[must_use]
pub fn from_openai_response(body: &[u8]) -> Option<Usage> {
    let MapOnly(envelope) = serde_json::from_slice::<MapOnly<Envelope>>(body).ok()?;
    envelope.usage.map(|MapOnly(u)| Usage::from(u))
}

/// Usage from one SSE `data:` payload of a streamed response.
///
/// `None` for `[DONE]` and for the (many) chunks whose `usage` is absent or `null`. This runs on every chunk, and
/// with `include_usage` every chunk carries `"usage":null`, so chunks are screened by [`may_carry_usage`] before
/// any parsing.
#[must_use]
pub fn from_openai_chunk(data: &str) -> Option<Usage> {
    if !may_carry_usage(data.as_bytes()) {
        return None;
    }
    from_openai_response(data.as_bytes())
}

/// Whether a chunk might carry a non-null `usage` object: `false` only when every `"usage"` key in it is followed
/// by `null`. A key spelled with escapes (`"\u0075sage"`) would hide from the scan, so any `\u` means "maybe".
/// Inside JSON string values quotes are escaped, so an unescaped `"usage"` followed by `:` is always a key.
fn may_carry_usage(bytes: &[u8]) -> bool {
    if memchr::memmem::find(bytes, b"\\u").is_some() {
        return true;
    }
    for at in memchr::memmem::find_iter(bytes, b"\"usage\"") {
        let rest = skip_ws(bytes.get(at + 7..).unwrap_or_default());
        let Some(rest) = rest.strip_prefix(b":") else {
            continue; // a string value `"usage"`, not a key
        };
        if !skip_ws(rest).starts_with(b"null") {
            return true;
        }
    }
    false
}

fn skip_ws(bytes: &[u8]) -> &[u8] {
    let n = bytes
        .iter()
        .take_while(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
        .count();
    bytes.get(n..).unwrap_or_default()
}

// === impl Usage ===

impl From<OpenAiUsage> for Usage {
    fn from(u: OpenAiUsage) -> Self {
        let input_tokens = u.prompt_tokens.unwrap_or(0);
        let output_tokens = u.completion_tokens.unwrap_or(0);
        let details = u.prompt_tokens_details.map(|MapOnly(d)| d);
        Self {
            input_tokens,
            output_tokens,
            cached_input_tokens: details.as_ref().and_then(|d| d.cached_tokens).unwrap_or(0),
            cache_write_input_tokens: details.as_ref().and_then(|d| d.cache_write_tokens).unwrap_or(0),
            total_tokens: u
                .total_tokens
                .unwrap_or_else(|| input_tokens.saturating_add(output_tokens)),
        }
    }
}

// === impl MapOnly ===

impl<'de, T: Deserialize<'de>> Deserialize<'de> for MapOnly<T> {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(MapOnlyVisitor(PhantomData))
    }
}

struct MapOnlyVisitor<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for MapOnlyVisitor<T> {
    type Value = MapOnly<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        T::deserialize(de::value::MapAccessDeserializer::new(map)).map(MapOnly)
    }
}

// === impl StreamUsage ===

impl StreamUsage {
    /// Nothing observed yet.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Records one decoded event: a usage-bearing chunk replaces any earlier usage; `[DONE]` marks a clean end.
    pub fn observe(&mut self, event: &SseEvent) {
        self.observe_data(&event.data);
    }

    /// Like [`observe`](Self::observe), for callers holding only the `data` payload.
    pub fn observe_data(&mut self, data: &str) {
        if data.trim() == "[DONE]" {
            self.done = true;
        } else if let Some(usage) = from_openai_chunk(data) {
            self.last = Some(usage);
        }
    }

    /// The last usage seen; with `include_usage` forced on it is the final chunk's, i.e. the whole request's.
    #[must_use]
    pub fn usage(&self) -> Option<Usage> {
        self.last
    }

    /// Whether the upstream sent `[DONE]`; a stream that ends without it was cut short.
    #[must_use]
    pub fn saw_done(&self) -> bool {
        self.done
    }
}

#[cfg(test)]
mod tests;
