//! The crate's single error type.
//!
//! The only fallible operation here is reading a replica's metrics text: the text comes from an upstream, so every
//! failure is an upstream failure, and another scrape may succeed (the replica may be restarting).

/// Why a replica's metrics could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PickerError {
    /// The exposition is larger than [`ParseLimits::max_bytes`](crate::ParseLimits); reading it would need
    /// unbounded memory.
    #[error("metrics text exceeds {limit} bytes")]
    TooLarge {
        /// The bound, in bytes.
        limit: usize,
    },
    /// One line exceeds [`ParseLimits::max_line_bytes`](crate::ParseLimits).
    #[error("metrics line {line} exceeds {limit} bytes")]
    LineTooLong {
        /// 1-based line number.
        line: usize,
        /// The bound, in bytes.
        limit: usize,
    },
    /// A sample of a family the picker reads is malformed (the rest of the text is ignored when it is not).
    #[error("metrics line {line}: {detail}")]
    Malformed {
        /// 1-based line number.
        line: usize,
        /// What was wrong (our own words, never the input).
        detail: &'static str,
    },
    /// The text holds none of the vLLM families the picker needs: not a vLLM metrics endpoint.
    #[error(
        "no vLLM metrics found (expected vllm:num_requests_waiting, vllm:num_requests_running or vllm:kv_cache_usage_perc)"
    )]
    NotVllm,
}

/// Where a failure came from, as in the other gatehouse crates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorSource {
    /// The replica sent something unusable.
    Upstream,
}

// === impl PickerError ===

impl PickerError {
    /// Every picker error comes from the replica's metrics endpoint.
    #[must_use]
    pub fn source_kind(&self) -> ErrorSource {
        ErrorSource::Upstream
    }

    /// Whether the next scrape could succeed: always (a restarting replica, a truncated read).
    #[must_use]
    pub fn retryable(&self) -> bool {
        true
    }

    /// A stable code for logs, `/status` and metric labels.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            Self::TooLarge { .. } => "metrics_too_large",
            Self::LineTooLong { .. } => "metrics_line_too_long",
            Self::Malformed { .. } => "metrics_malformed",
            Self::NotVllm => "metrics_not_vllm",
        }
    }
}
