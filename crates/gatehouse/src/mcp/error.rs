//! What can go wrong on `/mcp`, classified once: source, retryability, HTTP status, JSON-RPC code, stable code string.
//!
//! MCP failures are kept in their own enum rather than in `crate::error::GatewayError` because they answer in a
//! different dialect (JSON-RPC) with different status rules (most failures of one call are HTTP 200 with a JSON-RPC
//! error, so the rest of the session keeps working); `respond::jsonrpc_error` renders them.

use http::StatusCode;

pub use crate::error::{ErrorSource, Retry};
use gatehouse_mcp::envelope::codes;

/// A failure while serving `/mcp`.
#[derive(Debug, thiserror::Error)]
pub enum McpFailure {
    /// The message is not acceptable (parse error, bad params, unknown name).
    #[error(transparent)]
    Protocol(#[from] gatehouse_mcp::McpError),
    /// The body exceeds `mcp.max_message_bytes`.
    #[error("message exceeds the limit of {limit} bytes")]
    TooLarge {
        /// The limit.
        limit: usize,
    },
    /// `Origin` is present and not allowed (DNS rebinding protection).
    #[error("origin not allowed")]
    BadOrigin,
    /// `Host` is not one of `mcp.allowed_hosts`.
    #[error("host not allowed")]
    BadHost,
    /// `Accept` does not list both `application/json` and `text/event-stream`, or `Content-Type` is not JSON.
    #[error("{0}")]
    BadHeaders(&'static str),
    /// `MCP-Protocol-Version` names a version this gateway does not serve.
    #[error("unsupported MCP-Protocol-Version `{0}`")]
    BadVersion(String),
    /// A non-initialize request without `Mcp-Session-Id`.
    #[error("missing Mcp-Session-Id: send `initialize` first")]
    NoSession,
    /// The session token does not open with this key (unknown, tampered, or from another deployment).
    #[error("session not found")]
    UnknownSession,
    /// The session belongs to another principal.
    #[error("session belongs to another principal")]
    ForeignSession,
    /// The method is not served.
    #[error("method `{0}` is not supported by this gateway")]
    MethodNotFound(String),
    /// An upstream could not be reached or failed.
    #[error("upstream `{target}` is unavailable: {detail}")]
    Upstream {
        /// Upstream name.
        target: String,
        /// What failed (never a credential).
        detail: String,
    },
    /// An upstream took longer than `mcp.request_timeout`.
    #[error("upstream `{0}` timed out")]
    UpstreamTimeout(String),
    /// The caller's rate limit is exhausted.
    #[error("rate limit exceeded; retry in {} ms", retry_after.as_millis())]
    RateLimited {
        /// When the next request would be allowed.
        retry_after: std::time::Duration,
    },
    /// The shared (Redis) limiter failed and `redis.on_error` is `fail_closed`.
    #[error("the rate limiter is unavailable")]
    LimiterUnavailable,
    /// The caller is not authenticated.
    #[error("{0}")]
    Unauthenticated(crate::auth::AuthError),
    /// The caller's claims do not allow this tool, prompt or resource.
    #[error("{kind} `{name}` is not allowed for this caller")]
    Denied {
        /// `tool`, `prompt` or `resource`.
        kind: &'static str,
        /// The name the client used.
        name: String,
    },
    /// The sealed session would not fit in a header.
    #[error("session state too large")]
    SessionTooLarge,
    /// A stateless client's multi-round-trip retry whose `requestState` does not fit: not sealed by this deployment,
    /// another principal's, issued for another request, expired, or naming a call this replica does not hold.
    #[error("{0}; send the request again without requestState")]
    RequestState(gatehouse_mcp::mrtr::StateError),
}

// === impl McpFailure ===

impl McpFailure {
    /// Where it came from.
    #[must_use]
    pub fn source_of(&self) -> ErrorSource {
        match self {
            Self::Protocol(e) if e.source_of() == gatehouse_mcp::error::Source::Upstream => ErrorSource::Upstream,
            Self::Upstream { .. } | Self::UpstreamTimeout(_) => ErrorSource::Upstream,
            Self::SessionTooLarge | Self::LimiterUnavailable => ErrorSource::Internal,
            _ => ErrorSource::Client,
        }
    }

    /// Whether sending the same message again may succeed.
    #[must_use]
    pub fn retry(&self) -> Retry {
        match self {
            Self::Upstream { .. } | Self::UpstreamTimeout(_) | Self::RateLimited { .. } | Self::LimiterUnavailable => {
                Retry::BeforeFirstByte
            }
            _ => Retry::Never,
        }
    }

    /// The HTTP status when the failure ends the exchange before any JSON-RPC processing, else 200.
    #[must_use]
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Protocol(gatehouse_mcp::McpError::InvalidMessage(_) | gatehouse_mcp::McpError::BatchNotAllowed)
            | Self::BadVersion(_)
            | Self::NoSession => StatusCode::BAD_REQUEST,
            Self::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::BadOrigin | Self::BadHost | Self::ForeignSession => StatusCode::FORBIDDEN,
            Self::Unauthenticated(crate::auth::AuthError::KeysUnavailable) | Self::LimiterUnavailable => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            Self::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::BadHeaders("Content-Type must be application/json") => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::BadHeaders(_) => StatusCode::NOT_ACCEPTABLE,
            Self::UnknownSession => StatusCode::NOT_FOUND,
            Self::SessionTooLarge => StatusCode::INTERNAL_SERVER_ERROR,
            Self::Protocol(_)
            | Self::MethodNotFound(_)
            | Self::Denied { .. }
            | Self::Upstream { .. }
            | Self::UpstreamTimeout(_)
            | Self::RequestState(_) => StatusCode::OK,
        }
    }

    /// The JSON-RPC error code.
    #[must_use]
    pub fn jsonrpc_code(&self) -> i64 {
        match self {
            Self::Protocol(e) => e.jsonrpc_code(),
            Self::MethodNotFound(_) => codes::METHOD_NOT_FOUND,
            Self::TooLarge { .. } | Self::BadHeaders(_) | Self::BadVersion(_) | Self::NoSession => {
                codes::INVALID_REQUEST
            }
            Self::SessionTooLarge => codes::INTERNAL_ERROR,
            Self::RequestState(_) => codes::INVALID_PARAMS,
            _ => codes::SERVER_ERROR,
        }
    }

    /// Stable code for logs and metrics.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            Self::Protocol(e) => e.code(),
            Self::TooLarge { .. } => "mcp_message_too_large",
            Self::BadOrigin => "mcp_bad_origin",
            Self::BadHost => "mcp_bad_host",
            Self::BadHeaders(_) => "mcp_bad_headers",
            Self::BadVersion(_) => "mcp_bad_protocol_version",
            Self::NoSession => "mcp_no_session",
            Self::UnknownSession => "mcp_unknown_session",
            Self::ForeignSession => "mcp_foreign_session",
            Self::MethodNotFound(_) => "mcp_method_not_found",
            Self::Upstream { .. } => "mcp_upstream_unavailable",
            Self::UpstreamTimeout(_) => "mcp_upstream_timeout",
            Self::Denied { .. } => "mcp_denied",
            Self::Unauthenticated(e) => e.code(),
            Self::RateLimited { .. } => "mcp_rate_limited",
            Self::LimiterUnavailable => "limiter_unavailable",
            Self::SessionTooLarge => "mcp_session_too_large",
            Self::RequestState(e) => e.code(),
        }
    }
}
