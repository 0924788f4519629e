//! The crate's single error type.
//!
//! Two things can fail here: reading a replica's metrics text and reading a nameserver's reply (or building the
//! query for a bad name). The text and the reply come from upstreams, so those failures are upstream failures and
//! another scrape or resolution may succeed; a bad name is the configuration's fault and never heals.

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
    /// A pool's DNS name cannot be put in a query (empty label, label over 63 bytes, name over 253 bytes).
    #[error("not a valid DNS name")]
    DnsName,
    /// A nameserver's reply is not a well-formed answer to the query.
    #[error("malformed DNS reply: {detail}")]
    DnsMalformed {
        /// What was wrong (our own words, never the input).
        detail: &'static str,
    },
    /// The nameserver answered with an error code (3 = NXDOMAIN, 2 = SERVFAIL, ...).
    #[error("DNS error code {rcode}{}", if *rcode == 3 { " (NXDOMAIN)" } else if *rcode == 2 { " (SERVFAIL)" } else { "" })]
    DnsRcode {
        /// The RCODE.
        rcode: u8,
    },
}

/// Where a failure came from, as in the other gatehouse crates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorSource {
    /// The replica or the nameserver sent something unusable.
    Upstream,
    /// The configuration asked for something impossible.
    Config,
}

// === impl PickerError ===

impl PickerError {
    /// Where the error came from: a bad DNS name is the configuration's; everything else an upstream's.
    #[must_use]
    pub fn source_kind(&self) -> ErrorSource {
        match self {
            Self::DnsName => ErrorSource::Config,
            _ => ErrorSource::Upstream,
        }
    }

    /// Whether the next scrape or resolution could succeed: yes for upstream errors (a restarting replica, a
    /// truncated read, a nameserver hiccup), never for a bad name.
    #[must_use]
    pub fn retryable(&self) -> bool {
        !matches!(self, Self::DnsName)
    }

    /// A stable code for logs, `/status` and metric labels.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            Self::TooLarge { .. } => "metrics_too_large",
            Self::LineTooLong { .. } => "metrics_line_too_long",
            Self::Malformed { .. } => "metrics_malformed",
            Self::NotVllm => "metrics_not_vllm",
            Self::DnsName => "dns_bad_name",
            Self::DnsMalformed { .. } => "dns_malformed",
            Self::DnsRcode { .. } => "dns_error_code",
        }
    }
}
