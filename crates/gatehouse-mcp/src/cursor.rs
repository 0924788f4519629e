//! The composite pagination cursor of a merged list.
//!
//! A merged page asks every upstream once; the upstreams that have more pages each give their own cursor. The
//! downstream cursor carries all of them — `(target, upstream cursor)` pairs — so the next request asks exactly those
//! upstreams for exactly their next page, and no upstream ever sees another's cursor. It is an opaque string to the
//! client: `g1` followed by the lowercase hex of a small JSON array. Cursors are not secret (they are upstream
//! cursors) and a forged one can only name an upstream the route already has.

use serde::{Deserialize, Serialize};

use crate::McpError;

/// The most upstream cursors one composite cursor may carry, and its longest encoded form.
pub const MAX_ENCODED_LEN: usize = 16 * 1024;

/// Pending pages, per upstream.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Cursor(pub Vec<(String, String)>);

const PREFIX: &str = "g1";

// === impl Cursor ===

impl Cursor {
    /// Whether no upstream has more pages.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The opaque form handed to the client.
    #[must_use]
    pub fn encode(&self) -> String {
        let json = serde_json::to_vec(&self.0).unwrap_or_default();
        let mut out = String::with_capacity(PREFIX.len() + json.len() * 2);
        out.push_str(PREFIX);
        for b in json {
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xf)]));
        }
        out
    }

    /// Reads a cursor the client sent back.
    pub fn decode(s: &str) -> Result<Self, McpError> {
        if s.len() > MAX_ENCODED_LEN {
            return Err(McpError::InvalidCursor);
        }
        let hex = s.strip_prefix(PREFIX).ok_or(McpError::InvalidCursor)?.as_bytes();
        if hex.len() % 2 != 0 {
            return Err(McpError::InvalidCursor);
        }
        let bytes = hex
            .chunks_exact(2)
            .map(|p| Some(nibble(p[0])? << 4 | nibble(p[1])?))
            .collect::<Option<Vec<u8>>>()
            .ok_or(McpError::InvalidCursor)?;
        let pairs: Vec<(String, String)> = serde_json::from_slice(&bytes).map_err(|_| McpError::InvalidCursor)?;
        if pairs.is_empty() {
            return Err(McpError::InvalidCursor);
        }
        Ok(Self(pairs))
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

fn nibble(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_rejects() {
        let c = Cursor(vec![("a".into(), "page2".into()), ("b".into(), "ü{\"x".into())]);
        let s = c.encode();
        assert!(s.starts_with("g1"));
        assert_eq!(Cursor::decode(&s), Ok(c));
        for bad in ["", "g1", "g1zz", "g1abc", "x17b7d", "g15b5d"] {
            assert_eq!(Cursor::decode(bad), Err(McpError::InvalidCursor), "{bad}");
        }
        assert_eq!(
            Cursor::decode(&"g1".repeat(MAX_ENCODED_LEN)),
            Err(McpError::InvalidCursor)
        );
    }

    proptest::proptest! {
        #[test]
        fn any_cursor_round_trips(pairs in proptest::collection::vec(("[a-z-]{1,10}", "\\PC{0,40}"), 1..4)) {
            let c = Cursor(pairs);
            proptest::prop_assert_eq!(Cursor::decode(&c.encode()), Ok(c));
        }
    }
}
