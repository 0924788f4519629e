//! Gemini `usageMetadata` → the metered [`Usage`] and OpenAI's `usage` object.
//!
//! Gemini's counts (API reference, `UsageMetadata`): `promptTokenCount` is the whole prompt *including*
//! `cachedContentTokenCount` ("this is still the total effective prompt size"); `candidatesTokenCount` excludes
//! `thoughtsTokenCount`; `toolUsePromptTokenCount` counts tool-use prompts on top. So:
//! `prompt_tokens = promptTokenCount + toolUsePromptTokenCount`, `cached_tokens = cachedContentTokenCount`,
//! `completion_tokens = candidatesTokenCount + thoughtsTokenCount`, `reasoning_tokens = thoughtsTokenCount`,
//! `total_tokens = prompt + completion`. Streamed usage is cumulative: the last value of each field wins.

use std::io::Write as _;

use serde::Deserialize;

use crate::Usage;

/// `usageMetadata`; every field may be absent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct UsageMetadata {
    #[serde(default)]
    prompt_token_count: Option<u64>,
    #[serde(default)]
    candidates_token_count: Option<u64>,
    #[serde(default)]
    cached_content_token_count: Option<u64>,
    #[serde(default)]
    thoughts_token_count: Option<u64>,
    #[serde(default)]
    tool_use_prompt_token_count: Option<u64>,
}

// === impl UsageMetadata ===

impl UsageMetadata {
    /// Takes every field `later` carries (cumulative counts: never summed).
    pub(crate) fn merge(&mut self, later: &Self) {
        self.prompt_token_count = later.prompt_token_count.or(self.prompt_token_count);
        self.candidates_token_count = later.candidates_token_count.or(self.candidates_token_count);
        self.cached_content_token_count = later.cached_content_token_count.or(self.cached_content_token_count);
        self.thoughts_token_count = later.thoughts_token_count.or(self.thoughts_token_count);
        self.tool_use_prompt_token_count = later.tool_use_prompt_token_count.or(self.tool_use_prompt_token_count);
    }

    /// The metered usage.
    pub(crate) fn to_usage(self) -> Usage {
        let input = self
            .prompt_token_count
            .unwrap_or(0)
            .saturating_add(self.tool_use_prompt_token_count.unwrap_or(0));
        let output = self
            .candidates_token_count
            .unwrap_or(0)
            .saturating_add(self.thoughts_token_count.unwrap_or(0));
        Usage {
            input_tokens: input,
            output_tokens: output,
            cached_input_tokens: self.cached_content_token_count.unwrap_or(0).min(input),
            cache_write_input_tokens: 0,
            total_tokens: input.saturating_add(output),
        }
    }

    /// Appends OpenAI's `usage` object, with `reasoning_tokens` from the thoughts.
    pub(crate) fn write_openai(self, out: &mut Vec<u8>) {
        let u = self.to_usage();
        // Writing into a Vec cannot fail.
        let _ = write!(
            out,
            "{{\"prompt_tokens\":{},\"completion_tokens\":{},\"total_tokens\":{},\
             \"prompt_tokens_details\":{{\"cached_tokens\":{}}},\
             \"completion_tokens_details\":{{\"reasoning_tokens\":{}}}}}",
            u.input_tokens,
            u.output_tokens,
            u.total_tokens,
            u.cached_input_tokens,
            self.thoughts_token_count.unwrap_or(0)
        );
    }
}
