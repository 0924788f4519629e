//! The crate's one error type. Every variant is the client's fault (a malformed message, name, cursor or token)
//! or the upstream's (a malformed answer); none is retryable, because resending the same bytes gives the same result.

/// Where a failure came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The downstream client sent it.
    Client,
    /// An upstream MCP server sent it.
    Upstream,
}

/// A protocol-level failure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum McpError {
    /// Not JSON, or not a JSON-RPC 2.0 message.
    #[error("invalid JSON-RPC message: {0}")]
    InvalidMessage(String),
    /// A JSON-RPC batch, which the protocol versions we serve forbid (removed in 2025-06-18).
    #[error("JSON-RPC batches are not supported by this protocol version")]
    BatchNotAllowed,
    /// `params` is missing a field the method needs or has the wrong shape.
    #[error("invalid params: {0}")]
    InvalidParams(String),
    /// A name or URI that no upstream owns.
    #[error("unknown {kind} `{name}`")]
    UnknownName {
        /// `tool`, `prompt` or `resource`.
        kind: &'static str,
        /// What the client asked for.
        name: String,
    },
    /// A pagination cursor we did not issue.
    #[error("invalid cursor")]
    InvalidCursor,
    /// An upstream's list or result is not the documented shape.
    #[error("upstream `{target}` answered with an invalid {what}: {detail}")]
    UpstreamShape {
        /// Upstream name.
        target: String,
        /// What was being read.
        what: &'static str,
        /// Why it is invalid.
        detail: String,
    },
    /// Session claims that do not decode.
    #[error("invalid session claims")]
    InvalidSession,
}

// === impl McpError ===

impl McpError {
    /// Who caused it.
    #[must_use]
    pub fn source_of(&self) -> Source {
        match self {
            Self::UpstreamShape { .. } => Source::Upstream,
            _ => Source::Client,
        }
    }

    /// Never retryable: the same message fails the same way.
    #[must_use]
    pub fn retryable(&self) -> bool {
        false
    }

    /// The JSON-RPC error code this becomes.
    #[must_use]
    pub fn jsonrpc_code(&self) -> i64 {
        match self {
            Self::InvalidMessage(_) | Self::BatchNotAllowed => crate::envelope::codes::INVALID_REQUEST,
            Self::InvalidParams(_) | Self::UnknownName { .. } | Self::InvalidCursor | Self::InvalidSession => {
                crate::envelope::codes::INVALID_PARAMS
            }
            Self::UpstreamShape { .. } => crate::envelope::codes::INTERNAL_ERROR,
        }
    }

    /// The stable code string for logs and metrics.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidMessage(_) => "mcp_invalid_message",
            Self::BatchNotAllowed => "mcp_batch_not_allowed",
            Self::InvalidParams(_) => "mcp_invalid_params",
            Self::UnknownName { .. } => "mcp_unknown_name",
            Self::InvalidCursor => "mcp_invalid_cursor",
            Self::UpstreamShape { .. } => "mcp_upstream_invalid",
            Self::InvalidSession => "mcp_invalid_session",
        }
    }
}
