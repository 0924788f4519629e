//! The claims inside the gateway's `Mcp-Session-Id` token.
//!
//! The token is the whole session state, so any replica holding the key serves any session without shared storage:
//! who the session belongs to, what the client said at `initialize` (to re-initialise an upstream that lost its
//! session, with the client's real capabilities), the negotiated version, and each upstream's own session id. The
//! server crate seals these bytes with an AEAD and a random nonce; this module only defines, bounds and checks the
//! plaintext.

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::McpError;

/// Largest plaintext accepted (an upstream session id is short; the client's initialize params are bounded).
pub const MAX_CLAIMS_BYTES: usize = 6 * 1024;

/// The current claims format.
pub const VERSION: u8 = 1;

/// What a session token carries.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SessionClaims {
    /// Format version.
    pub v: u8,
    /// A random id naming this session in logs and in per-replica caches (never the upstreams' ids).
    pub sid: String,
    /// The authenticated principal (`sub`, or `anonymous` without auth); a token presented by anyone else is refused.
    pub principal: String,
    /// The protocol version negotiated with the client.
    pub protocol: String,
    /// The client's `initialize` params, raw, replayed when an upstream session must be re-created.
    pub init: Box<RawValue>,
    /// Each upstream's session.
    pub upstreams: Vec<UpstreamSession>,
}

/// One upstream's session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpstreamSession {
    /// Upstream name.
    pub target: String,
    /// Its `Mcp-Session-Id`, when it issued one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<String>,
    /// The protocol version it negotiated (sent as `MCP-Protocol-Version`), when it initialised.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
}

// === impl SessionClaims ===

impl SessionClaims {
    /// The plaintext bytes to seal.
    pub fn to_bytes(&self) -> Result<Vec<u8>, McpError> {
        let out = serde_json::to_vec(self).map_err(|_| McpError::InvalidSession)?;
        if out.len() > MAX_CLAIMS_BYTES {
            return Err(McpError::InvalidSession);
        }
        Ok(out)
    }

    /// Reads opened plaintext; unknown versions and oversize input are refused.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, McpError> {
        if bytes.len() > MAX_CLAIMS_BYTES {
            return Err(McpError::InvalidSession);
        }
        let claims: Self = serde_json::from_slice(bytes).map_err(|_| McpError::InvalidSession)?;
        if claims.v != VERSION {
            return Err(McpError::InvalidSession);
        }
        Ok(claims)
    }

    /// The session id an upstream gave, if any.
    #[must_use]
    pub fn upstream_session(&self, target: &str) -> Option<&str> {
        self.upstreams
            .iter()
            .find(|u| u.target == target)
            .and_then(|u| u.session.as_deref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims() -> SessionClaims {
        SessionClaims {
            v: VERSION,
            sid: "abc".into(),
            principal: "alice".into(),
            protocol: "2025-11-25".into(),
            init: RawValue::from_string(r#"{"capabilities":{"sampling":{}},"x-vendor":1}"#.into()).expect("raw"),
            upstreams: vec![
                UpstreamSession {
                    target: "everything".into(),
                    session: Some("7f1c".into()),
                    protocol: Some("2025-11-25".into()),
                },
                UpstreamSession {
                    target: "local".into(),
                    session: None,
                    protocol: None,
                },
            ],
        }
    }

    #[test]
    fn round_trip_keeps_raw_init_params() {
        let bytes = claims().to_bytes().expect("encode");
        let back = SessionClaims::from_bytes(&bytes).expect("decode");
        assert_eq!(back.init.get(), r#"{"capabilities":{"sampling":{}},"x-vendor":1}"#);
        assert_eq!(back.upstream_session("everything"), Some("7f1c"));
        assert_eq!(back.upstream_session("local"), None);
        assert_eq!(back.principal, "alice");
    }

    #[test]
    fn refuses_other_versions_garbage_and_oversize() {
        let mut c = claims();
        c.v = 2;
        let bytes = c.to_bytes().expect("encode");
        assert!(SessionClaims::from_bytes(&bytes).is_err());
        assert!(SessionClaims::from_bytes(b"{}").is_err());
        assert!(SessionClaims::from_bytes(&vec![b' '; MAX_CLAIMS_BYTES + 1]).is_err());
        let mut big = claims();
        big.init = RawValue::from_string(format!("\"{}\"", "x".repeat(MAX_CLAIMS_BYTES))).expect("raw");
        assert!(big.to_bytes().is_err());
    }
}
