//! Anthropic usage: reading it, merging streamed updates, and reporting it in OpenAI's and the meter's terms.
//!
//! Anthropic's `input_tokens` excludes cached tokens: the ASDK `Usage` docstring says total input "is the
//! summation of `input_tokens`, `cache_creation_input_tokens`, and `cache_read_input_tokens`". So
//! `prompt_tokens` is that sum, `cached_tokens` the cache reads and `cache_write_tokens` the cache writes.
//! Streamed usage is cumulative: [`AnthropicUsage::merge`] overwrites per field and never adds.

use serde::Deserialize;

use crate::Usage;

/// Anthropic's `usage` object; every field may be absent (or `null`) in a `message_delta`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
pub(crate) struct AnthropicUsage {
    #[serde(default)]
    input_tokens: Option<u64>,
    #[serde(default)]
    output_tokens: Option<u64>,
    #[serde(default)]
    cache_creation_input_tokens: Option<u64>,
    #[serde(default)]
    cache_read_input_tokens: Option<u64>,
}

// === impl AnthropicUsage ===

impl AnthropicUsage {
    /// Takes every field `later` carries; fields it omits keep their earlier value (never summed).
    pub(crate) fn merge(&mut self, later: &Self) {
        self.input_tokens = later.input_tokens.or(self.input_tokens);
        self.output_tokens = later.output_tokens.or(self.output_tokens);
        self.cache_creation_input_tokens = later.cache_creation_input_tokens.or(self.cache_creation_input_tokens);
        self.cache_read_input_tokens = later.cache_read_input_tokens.or(self.cache_read_input_tokens);
    }

    /// The metered usage: input counts every prompt token, cached and cache-written ones included.
    pub(crate) fn to_usage(self) -> Usage {
        let cache_read = self.cache_read_input_tokens.unwrap_or(0);
        let cache_write = self.cache_creation_input_tokens.unwrap_or(0);
        let input = self
            .input_tokens
            .unwrap_or(0)
            .saturating_add(cache_read)
            .saturating_add(cache_write);
        let output = self.output_tokens.unwrap_or(0);
        Usage {
            input_tokens: input,
            output_tokens: output,
            cached_input_tokens: cache_read,
            cache_write_input_tokens: cache_write,
            total_tokens: input.saturating_add(output),
        }
    }
}

/// Appends OpenAI's `usage` object for `u`.
pub(crate) fn write_openai_usage(u: &Usage, out: &mut Vec<u8>) {
    use std::io::Write as _;
    // Writing into a Vec cannot fail.
    let _ = write!(
        out,
        "{{\"prompt_tokens\":{},\"completion_tokens\":{},\"total_tokens\":{},\
         \"prompt_tokens_details\":{{\"cached_tokens\":{},\"cache_write_tokens\":{}}}}}",
        u.input_tokens, u.output_tokens, u.total_tokens, u.cached_input_tokens, u.cache_write_input_tokens
    );
}
