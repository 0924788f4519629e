//! OpenAI usage: reading it, metering it, and reporting it in Anthropic's terms.
//!
//! OpenAI's `prompt_tokens` includes cached tokens (`prompt_tokens_details.cached_tokens`) and, where reported,
//! tokens written to the cache (`cache_write_tokens`). Anthropic's `input_tokens` excludes both, which have their
//! own fields. So the client gets `input_tokens = prompt − cached − cache_write` (never below 0),
//! `cache_read_input_tokens = cached`, `cache_creation_input_tokens = cache_write` (0 when not reported) and
//! `output_tokens = completion`, and its sum of the input fields equals `prompt_tokens`. The meter keeps the crate's
//! meaning: `input_tokens = prompt_tokens`, cached included. Cache counts larger than the prompt (a broken
//! upstream) are clamped so both views stay consistent.

use std::io::Write as _;

use serde::Deserialize;

use crate::Usage;

/// OpenAI's `usage` object; every field may be absent or `null`.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
pub(super) struct OpenAiUsage {
    #[serde(default)]
    prompt_tokens: Option<u64>,
    #[serde(default)]
    completion_tokens: Option<u64>,
    #[serde(default)]
    total_tokens: Option<u64>,
    #[serde(default)]
    prompt_tokens_details: Option<PromptDetails>,
}

#[derive(Debug, Clone, Copy, Default, Deserialize)]
struct PromptDetails {
    #[serde(default)]
    cached_tokens: Option<u64>,
    #[serde(default)]
    cache_write_tokens: Option<u64>,
}

// === impl OpenAiUsage ===

impl OpenAiUsage {
    /// The metered usage: input counts every prompt token, cached ones included.
    pub(super) fn to_usage(self) -> Usage {
        let input = self.prompt_tokens.unwrap_or(0);
        let output = self.completion_tokens.unwrap_or(0);
        let details = self.prompt_tokens_details.unwrap_or_default();
        let cached = details.cached_tokens.unwrap_or(0).min(input);
        let written = details.cache_write_tokens.unwrap_or(0).min(input - cached);
        Usage {
            input_tokens: input,
            output_tokens: output,
            cached_input_tokens: cached,
            cache_write_input_tokens: written,
            total_tokens: self.total_tokens.unwrap_or_else(|| input.saturating_add(output)),
        }
    }
}

/// Anthropic's `input_tokens`: the prompt tokens neither read from nor written to the cache.
pub(super) fn uncached_input(u: &Usage) -> u64 {
    u.input_tokens
        .saturating_sub(u.cached_input_tokens)
        .saturating_sub(u.cache_write_input_tokens)
}

/// Appends Anthropic's `usage` object of a `Message`.
pub(super) fn write_message_usage(u: &Usage, out: &mut Vec<u8>) {
    // Writing into a Vec cannot fail.
    let _ = write!(
        out,
        "{{\"input_tokens\":{},\"cache_creation_input_tokens\":{},\"cache_read_input_tokens\":{},\"output_tokens\":{}}}",
        uncached_input(u),
        u.cache_write_input_tokens,
        u.cached_input_tokens,
        u.output_tokens
    );
}

/// Appends the cumulative `usage` object of a `message_delta` event. Cache writes are included only when the
/// upstream reported some, as Anthropic omits fields that do not apply.
pub(super) fn write_delta_usage(u: &Usage, out: &mut Vec<u8>) {
    let _ = write!(
        out,
        "{{\"output_tokens\":{},\"input_tokens\":{},\"cache_read_input_tokens\":{}",
        u.output_tokens,
        uncached_input(u),
        u.cached_input_tokens
    );
    if u.cache_write_input_tokens > 0 {
        let _ = write!(out, ",\"cache_creation_input_tokens\":{}", u.cache_write_input_tokens);
    }
    out.push(b'}');
}
