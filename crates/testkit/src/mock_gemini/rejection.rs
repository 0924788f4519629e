//! Why [`MockGemini`](crate::MockGemini) refused a request, with Google's status, canonical code and body.

use bytes::Bytes;
use http::StatusCode;
use serde_json::json;

/// A refusal in Google's terms, kept on the recorded request so tests can assert the gateway sent something the
/// real API would have accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum GeminiRejection {
    /// Not `POST /v1beta/models/{model}:generateContent|streamGenerateContent`: 404.
    UnknownRoute,
    /// No `x-goog-api-key` while a key is required: 403 `PERMISSION_DENIED`.
    MissingKey,
    /// A different key: 400 `INVALID_ARGUMENT` with reason `API_KEY_INVALID` (what Gemini really answers).
    InvalidKey,
    /// An `Authorization` header (Google takes it as an OAuth token, which the mock never accepts): 401.
    Unauthenticated,
    /// A model the mock does not serve: 404 `NOT_FOUND`.
    ModelNotFound(String),
    /// The body broke a rule: 400 `INVALID_ARGUMENT` with Google's message.
    InvalidArgument(String),
    /// The request body ended early.
    IncompleteBody,
}

// === impl GeminiRejection ===

impl GeminiRejection {
    /// The HTTP status Google uses.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::UnknownRoute | Self::ModelNotFound(_) => StatusCode::NOT_FOUND,
            Self::MissingKey => StatusCode::FORBIDDEN,
            Self::Unauthenticated => StatusCode::UNAUTHORIZED,
            Self::InvalidKey | Self::InvalidArgument(_) | Self::IncompleteBody => StatusCode::BAD_REQUEST,
        }
    }

    /// Google's canonical status string.
    pub fn status_name(&self) -> &'static str {
        match self {
            Self::UnknownRoute | Self::ModelNotFound(_) => "NOT_FOUND",
            Self::MissingKey => "PERMISSION_DENIED",
            Self::Unauthenticated => "UNAUTHENTICATED",
            Self::InvalidKey | Self::InvalidArgument(_) | Self::IncompleteBody => "INVALID_ARGUMENT",
        }
    }

    /// The message (never echoing a presented key).
    pub fn message(&self) -> String {
        match self {
            Self::UnknownRoute => "The requested URL was not found on this server.".into(),
            Self::MissingKey => "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.".into(),
            Self::InvalidKey => "API key not valid. Please pass a valid API key.".into(),
            Self::Unauthenticated => "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.".into(),
            Self::ModelNotFound(m) => format!("models/{m} is not found for API version v1beta, or is not supported for generateContent."),
            Self::InvalidArgument(m) => m.clone(),
            Self::IncompleteBody => "The request body ended before it was complete.".into(),
        }
    }

    /// Google's error JSON.
    pub(crate) fn body(&self) -> Bytes {
        let mut error =
            json!({"code": self.status().as_u16(), "message": self.message(), "status": self.status_name()});
        if *self == Self::InvalidKey {
            error["details"] = json!([{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID",
                "domain": "googleapis.com", "metadata": {"service": "generativelanguage.googleapis.com"}}]);
        }
        Bytes::from(json!({ "error": error }).to_string())
    }
}
