//! Sealing session claims into the `Mcp-Session-Id` token: AES-256-GCM with a random 96-bit nonce.
//!
//! Token = base64url(nonce ‖ ciphertext ‖ tag), no padding — visible ASCII as the spec requires. The AEAD both hides
//! the upstream session ids and the principal and authenticates them, so a client can neither read nor forge a
//! session; any replica with the same key opens it. The associated data binds the token to its purpose.

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use gatehouse_mcp::session::{MAX_CLAIMS_BYTES, SessionClaims};

use super::error::McpFailure;

const AAD: &[u8] = b"gatehouse-mcp-session-v1";

/// The longest token accepted before any crypto is attempted.
pub const MAX_TOKEN_LEN: usize = (MAX_CLAIMS_BYTES + NONCE_LEN + 16) * 4 / 3 + 4;

/// A session sealing key.
pub struct SessionKey {
    key: LessSafeKey,
}

/// Why a key could not be built.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// Not 64 hex characters.
    #[error("the session key must be 32 bytes written as 64 hex characters")]
    Format,
    /// The platform's random source failed.
    #[error("cannot generate a random session key")]
    Random,
}

// === impl SessionKey ===

impl SessionKey {
    /// A key from 64 hex characters.
    pub fn from_hex(hex: &str) -> Result<Self, KeyError> {
        let hex = hex.trim().as_bytes();
        if hex.len() != 64 {
            return Err(KeyError::Format);
        }
        let mut bytes = [0u8; 32];
        for (i, pair) in hex.chunks_exact(2).enumerate() {
            let s = std::str::from_utf8(pair).map_err(|_| KeyError::Format)?;
            bytes[i] = u8::from_str_radix(s, 16).map_err(|_| KeyError::Format)?;
        }
        Self::from_bytes(&bytes)
    }

    /// A random key (no `session_key` configured: this process only).
    pub fn random() -> Result<Self, KeyError> {
        let mut bytes = [0u8; 32];
        aws_lc_rs::rand::fill(&mut bytes).map_err(|_| KeyError::Random)?;
        Self::from_bytes(&bytes)
    }

    fn from_bytes(bytes: &[u8; 32]) -> Result<Self, KeyError> {
        let unbound = UnboundKey::new(&AES_256_GCM, bytes).map_err(|_| KeyError::Format)?;
        Ok(Self {
            key: LessSafeKey::new(unbound),
        })
    }

    /// Seals claims into a token.
    pub fn seal(&self, claims: &SessionClaims) -> Result<String, McpFailure> {
        // Only size can make the claims unencodable, and only the client's initialize params can be large.
        let buf = claims.to_bytes().map_err(|_| {
            McpFailure::Protocol(gatehouse_mcp::McpError::InvalidParams(format!(
                "initialize params too large to keep in the session (the session state is limited to {} bytes)",
                gatehouse_mcp::session::MAX_CLAIMS_BYTES
            )))
        })?;
        self.seal_bytes(AAD, buf)
    }

    /// Opens a token; anything that does not authenticate is [`McpFailure::UnknownSession`].
    pub fn open(&self, token: &str) -> Result<SessionClaims, McpFailure> {
        let plain = self
            .open_bytes(AAD, token, MAX_TOKEN_LEN)
            .ok_or(McpFailure::UnknownSession)?;
        SessionClaims::from_bytes(&plain).map_err(|_| McpFailure::UnknownSession)
    }

    /// Seals `plain` for the purpose named by `aad` (a token sealed for one purpose never opens for another):
    /// base64url(nonce ‖ ciphertext ‖ tag).
    pub fn seal_bytes(&self, aad: &[u8], mut plain: Vec<u8>) -> Result<String, McpFailure> {
        let mut nonce = [0u8; NONCE_LEN];
        aws_lc_rs::rand::fill(&mut nonce).map_err(|_| McpFailure::SessionTooLarge)?;
        self.key
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(aad), &mut plain)
            .map_err(|_| McpFailure::SessionTooLarge)?;
        let mut out = Vec::with_capacity(NONCE_LEN + plain.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&plain);
        Ok(URL_SAFE_NO_PAD.encode(out))
    }

    /// Opens what [`Self::seal_bytes`] sealed with the same `aad`; `None` for anything longer than `max_len`, not
    /// base64url, or not authentic.
    #[must_use]
    pub fn open_bytes(&self, aad: &[u8], token: &str, max_len: usize) -> Option<Vec<u8>> {
        if token.len() > max_len {
            return None;
        }
        let mut raw = URL_SAFE_NO_PAD.decode(token).ok()?;
        if raw.len() < NONCE_LEN + 16 {
            return None;
        }
        let mut sealed = raw.split_off(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(&raw).ok()?;
        let plain = self.key.open_in_place(nonce, Aad::from(aad), &mut sealed).ok()?;
        Some(plain.to_vec())
    }
}

impl std::fmt::Debug for SessionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionKey(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use gatehouse_mcp::session::{UpstreamSession, VERSION};
    use serde_json::value::RawValue;

    use super::*;

    fn claims() -> SessionClaims {
        SessionClaims {
            v: VERSION,
            sid: "s1".into(),
            principal: "alice".into(),
            protocol: "2025-11-25".into(),
            init: RawValue::from_string("{}".into()).expect("raw"),
            upstreams: vec![UpstreamSession {
                target: "everything".into(),
                session: Some("secret-upstream-id".into()),
                protocol: None,
            }],
        }
    }

    const HEX: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

    #[test]
    fn seal_open_round_trip_across_instances_with_one_key() {
        let a = SessionKey::from_hex(HEX).expect("key");
        let b = SessionKey::from_hex(HEX).expect("key");
        let t = a.seal(&claims()).expect("seal");
        assert!(t.bytes().all(|c| (0x21..=0x7e).contains(&c)), "visible ASCII");
        assert!(!t.contains("secret-upstream-id") && !t.contains("alice"));
        assert_eq!(
            b.open(&t).expect("open").upstream_session("everything"),
            Some("secret-upstream-id")
        );
        assert_ne!(t, a.seal(&claims()).expect("seal"), "fresh nonce per token");
    }

    #[test]
    fn tampered_foreign_and_garbage_tokens_are_unknown() {
        let a = SessionKey::from_hex(HEX).expect("key");
        let other = SessionKey::random().expect("key");
        let t = a.seal(&claims()).expect("seal");
        assert!(matches!(other.open(&t), Err(McpFailure::UnknownSession)));
        let mut bytes = t.into_bytes();
        let last = bytes.len() - 1;
        bytes[last] = if bytes[last] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(bytes).expect("ascii");
        assert!(matches!(a.open(&tampered), Err(McpFailure::UnknownSession)));
        for bad in ["", "x", "!!!!", &"A".repeat(MAX_TOKEN_LEN + 1)] {
            assert!(matches!(a.open(bad), Err(McpFailure::UnknownSession)));
        }
    }

    #[test]
    fn key_format() {
        assert!(SessionKey::from_hex("abc").is_err());
        assert!(SessionKey::from_hex(&"zz".repeat(32)).is_err());
        assert!(!format!("{:?}", SessionKey::from_hex(HEX).expect("key")).contains("00"));
    }
}
