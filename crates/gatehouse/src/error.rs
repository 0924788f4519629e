//! The gateway's one error type.
//!
//! Every failure on the data path is a [`GatewayError`]. A variant knows where the failure came from
//! ([`ErrorSource`]), whether it may be retried ([`Retry`]), its HTTP status and its stable `code` — the
//! string that appears in the response body, the access log and the `code` metric label. Turning an error
//! into a response happens in exactly one place per dialect (`respond.rs`).

use http::StatusCode;

/// Where a failure originated; used for logs and to decide what is worth retrying.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorSource {
    /// The client sent something we refuse.
    Client,
    /// The upstream failed, timed out or answered badly.
    Upstream,
    /// Our own fault or state (no target available, shutting down).
    Internal,
}

/// Whether a request that failed this way may be sent again (to the same or another target).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// Never: retrying cannot help (bad input) or is unsafe.
    Never,
    /// Only if nothing has reached the client yet.
    BeforeFirstByte,
}

/// A data-path failure.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    /// The body is not valid JSON.
    #[error("request body is not valid JSON: {0}")]
    InvalidJson(String),
    /// The body is JSON but not an acceptable request.
    #[error("{0}")]
    InvalidRequest(String),
    /// No model named in the header or the body.
    #[error("no model given: set the `model` field or the X-Gateway-Base-Model-Name header")]
    MissingModel,
    /// The model is not configured.
    #[error("the model `{0}` does not exist")]
    ModelNotFound(String),
    /// `previous_response_id` names no response this caller stored (never stored, expired, evicted, `store:
    /// false`, or created by another principal — deliberately indistinguishable).
    #[error("Previous response with id '{0}' not found.")]
    ResponseNotFound(String),
    /// The response store's backend (Redis) failed, so `previous_response_id` cannot be resolved.
    #[error("the response store is unavailable; retry later")]
    StoreUnavailable,
    /// The body exceeds `server.max_body_bytes`.
    #[error("request body exceeds the limit of {limit} bytes")]
    BodyTooLarge {
        /// The configured limit.
        limit: usize,
    },
    /// The client took longer than `server.request_timeout` to send its body.
    #[error("timed out reading the request body")]
    ClientTimeout,
    /// The client's body stream failed.
    #[error("failed to read the request body: {0}")]
    ClientBody(String),
    /// Every target of the model is disabled.
    #[error("model `{model}` has no enabled target: {reason}")]
    NoTargetAvailable {
        /// The model asked for.
        model: String,
        /// Why each target is disabled.
        reason: String,
    },
    /// Could not connect to or talk to the upstream.
    #[error("upstream `{target}` is unreachable: {detail}")]
    UpstreamUnreachable {
        /// Provider name.
        target: String,
        /// What failed (never contains a credential).
        detail: String,
    },
    /// The upstream did not answer in time.
    #[error("upstream `{target}` timed out ({phase})")]
    UpstreamTimeout {
        /// Provider name.
        target: String,
        /// Which timeout fired: connect, first_byte, idle, total.
        phase: &'static str,
    },
    /// The upstream answered with something we cannot relay.
    #[error("upstream `{target}` sent an invalid response: {detail}")]
    UpstreamInvalid {
        /// Provider name.
        target: String,
        /// What was wrong.
        detail: String,
    },
    /// The upstream refused the gateway's own credential: an operator problem, never relayed as the
    /// client's (the upstream's message may echo part of the key).
    #[error("upstream `{target}` rejected the gateway's credential (HTTP {status})")]
    UpstreamAuth {
        /// Provider name.
        target: String,
        /// Upstream status.
        status: u16,
    },
    /// No such route.
    #[error("unknown route {0}")]
    RouteNotFound(String),
    /// The chosen target's provider cannot serve this route (e.g. embeddings on an Anthropic target).
    #[error("the route {route} is not supported by target `{target}`")]
    RouteNotSupported {
        /// The route's path.
        route: &'static str,
        /// Provider name.
        target: String,
    },
    /// The route exists with another method.
    #[error("method not allowed: {0}")]
    MethodNotAllowed(String),
    /// The gateway is draining and accepts no new work.
    #[error("the gateway is shutting down")]
    ShuttingDown,
    /// The caller presented no credential, or one that is unknown, revoked or invalid (`auth:`).
    #[error("{reason}")]
    Unauthenticated {
        /// Stable code: `missing_api_key`, `invalid_api_key`, `invalid_token`, `auth_keys_unavailable`.
        code: &'static str,
        /// What the client is told (never echoes the credential).
        reason: &'static str,
    },
    /// The caller's key may not use this model.
    #[error("the key `{key}` may not use the model `{model}`")]
    ModelNotAllowed {
        /// Canonical model name.
        model: String,
        /// The key's configured name.
        key: String,
    },
    /// A configured limit refused the request.
    #[error("rate limit `{limit}` exceeded ({what}); retry after {retry_after:?}")]
    RateLimited {
        /// The limit's configured name.
        limit: String,
        /// What ran out: `requests`, `tokens`, `concurrent`.
        what: &'static str,
        /// The limit's capacity in that unit (burst, tokens per minute, slots), for `x-ratelimit-limit-*`.
        capacity: u64,
        /// Sent as `Retry-After`.
        retry_after: std::time::Duration,
    },
    /// The shared limiter backend failed and the config says `fail_closed`.
    #[error("rate limit `{limit}` cannot be checked: the shared limiter is unavailable")]
    LimiterUnavailable {
        /// The limit's configured name.
        limit: String,
    },
    /// A spend budget is used up for its period.
    #[error("budget `{budget}` is exhausted for the current period")]
    BudgetExceeded {
        /// The budget's configured name.
        budget: String,
        /// Until the period ends (sent as `Retry-After`).
        retry_after: std::time::Duration,
    },
    /// A saturated vLLM pool shed a request with a negative-priority objective.
    #[error("inference pool `{pool}` is saturated; sheddable request dropped")]
    Shed {
        /// Provider name.
        pool: String,
        /// Sent as `Retry-After`.
        retry_after: std::time::Duration,
    },
}

// === impl GatewayError ===

impl GatewayError {
    /// The stable code used in the response body, the access log and metrics.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidJson(_) => "invalid_json",
            Self::InvalidRequest(_) => "invalid_request",
            Self::MissingModel => "model_required",
            Self::ModelNotFound(_) => "model_not_found",
            Self::ResponseNotFound(_) => "previous_response_not_found",
            Self::StoreUnavailable => "response_store_unavailable",
            Self::BodyTooLarge { .. } => "body_too_large",
            Self::ClientTimeout => "client_timeout",
            Self::ClientBody(_) => "client_body_error",
            Self::NoTargetAvailable { .. } => "target_disabled",
            Self::UpstreamUnreachable { .. } => "upstream_unreachable",
            Self::UpstreamTimeout { .. } => "upstream_timeout",
            Self::UpstreamInvalid { .. } => "upstream_invalid_response",
            Self::UpstreamAuth { .. } => "upstream_auth_failed",
            Self::RouteNotFound(_) => "route_not_found",
            Self::RouteNotSupported { .. } => "route_not_supported",
            Self::MethodNotAllowed(_) => "method_not_allowed",
            Self::ShuttingDown => "shutting_down",
            Self::Shed { .. } => "pool_saturated",
            Self::Unauthenticated { code, .. } => code,
            Self::ModelNotAllowed { .. } => "model_not_allowed",
            Self::RateLimited { .. } => "rate_limit_exceeded",
            Self::BudgetExceeded { .. } => "budget_exceeded",
            Self::LimiterUnavailable { .. } => "limiter_unavailable",
        }
    }

    /// The HTTP status the client receives.
    #[must_use]
    pub fn status(&self) -> StatusCode {
        match self {
            Self::InvalidJson(_)
            | Self::InvalidRequest(_)
            | Self::MissingModel
            | Self::ClientBody(_)
            | Self::RouteNotSupported { .. } => StatusCode::BAD_REQUEST,
            Self::ModelNotFound(_) | Self::RouteNotFound(_) | Self::ResponseNotFound(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            Self::BodyTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::ClientTimeout => StatusCode::REQUEST_TIMEOUT,
            Self::NoTargetAvailable { .. }
            | Self::ShuttingDown
            | Self::LimiterUnavailable { .. }
            | Self::StoreUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::UpstreamUnreachable { .. } | Self::UpstreamInvalid { .. } | Self::UpstreamAuth { .. } => {
                StatusCode::BAD_GATEWAY
            }
            Self::UpstreamTimeout { .. } => StatusCode::GATEWAY_TIMEOUT,
            Self::Shed { .. } | Self::RateLimited { .. } | Self::BudgetExceeded { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unauthenticated { .. } => StatusCode::UNAUTHORIZED,
            Self::ModelNotAllowed { .. } => StatusCode::FORBIDDEN,
        }
    }

    /// Where the failure came from.
    #[must_use]
    pub fn source_kind(&self) -> ErrorSource {
        match self {
            Self::InvalidJson(_)
            | Self::InvalidRequest(_)
            | Self::MissingModel
            | Self::ModelNotFound(_)
            | Self::ResponseNotFound(_)
            | Self::RouteNotFound(_)
            | Self::RouteNotSupported { .. }
            | Self::MethodNotAllowed(_)
            | Self::BodyTooLarge { .. }
            | Self::ClientTimeout
            | Self::ClientBody(_)
            | Self::Unauthenticated { .. }
            | Self::ModelNotAllowed { .. }
            | Self::RateLimited { .. }
            | Self::BudgetExceeded { .. } => ErrorSource::Client,
            Self::UpstreamUnreachable { .. }
            | Self::UpstreamTimeout { .. }
            | Self::UpstreamInvalid { .. }
            | Self::UpstreamAuth { .. } => ErrorSource::Upstream,
            Self::NoTargetAvailable { .. }
            | Self::ShuttingDown
            | Self::Shed { .. }
            | Self::LimiterUnavailable { .. }
            | Self::StoreUnavailable => ErrorSource::Internal,
        }
    }

    /// Whether another attempt could succeed; failover (a later issue) reads this.
    #[must_use]
    pub fn retry(&self) -> Retry {
        match self.source_kind() {
            ErrorSource::Upstream => Retry::BeforeFirstByte,
            ErrorSource::Client | ErrorSource::Internal => Retry::Never,
        }
    }

    /// The Anthropic error `type` for this error (by status, as Anthropic's own API assigns them).
    #[must_use]
    pub fn anthropic_type(&self) -> &'static str {
        match self.status().as_u16() {
            400 | 405 | 408 | 431 => "invalid_request_error",
            401 => "authentication_error",
            403 => "permission_error",
            404 => "not_found_error",
            413 => "request_too_large",
            429 => "rate_limit_error",
            504 => "timeout_error",
            503 => "overloaded_error",
            _ => "api_error",
        }
    }

    /// How long the client should wait before retrying, sent as `Retry-After` (whole seconds, at least 1).
    #[must_use]
    pub fn retry_after(&self) -> Option<std::time::Duration> {
        match self {
            Self::Shed { retry_after, .. }
            | Self::RateLimited { retry_after, .. }
            | Self::BudgetExceeded { retry_after, .. } => Some(*retry_after),
            _ => None,
        }
    }

    /// The OpenAI error `type` for this error.
    #[must_use]
    pub fn openai_type(&self) -> &'static str {
        match self {
            Self::RateLimited { .. } => return "rate_limit_error",
            Self::BudgetExceeded { .. } => return "insufficient_quota",
            _ => {}
        }
        match self.status().as_u16() {
            401 => return "authentication_error",
            403 => return "permission_error",
            _ => {}
        }
        match self.source_kind() {
            ErrorSource::Client => "invalid_request_error",
            ErrorSource::Upstream | ErrorSource::Internal => "api_error",
        }
    }
}

impl From<gatehouse_llm::LlmError> for GatewayError {
    fn from(e: gatehouse_llm::LlmError) -> Self {
        match e {
            gatehouse_llm::LlmError::InvalidJson { .. } => Self::InvalidJson(e.to_string()),
            other => Self::InvalidRequest(other.to_string()),
        }
    }
}
