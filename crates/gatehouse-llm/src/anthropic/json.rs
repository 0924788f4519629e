//! JSON text primitives the translators share: borrowed string reading, string escaping, whitespace compaction.
//!
//! serde's own `Cow<str>` always copies, and `serde_json::to_writer` returns a `Result` even into a `Vec`; these
//! small pieces keep the hot paths allocation-light and infallible. Invariant: [`write_str`] output is always a
//! valid JSON string literal, and [`compact`] of valid JSON is valid JSON with the same value.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;
use std::ops::Deref;

use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use crate::LlmError;

/// A JSON string, borrowed from the input when it contains no escapes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CowStr<'a>(pub(crate) Cow<'a, str>);

/// A value that is either a JSON string or something else (`T`, read from an array or object). OpenAI uses this
/// shape for `content`, `stop` and `tool_choice`; serde's untagged enums would buffer the value and lose borrows.
#[derive(Debug)]
pub(crate) enum StrOr<'a, T> {
    /// The string form.
    Str(CowStr<'a>),
    /// The array or object form.
    Other(T),
}

// === impl CowStr ===

impl Deref for CowStr<'_> {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for CowStr<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(CowStrVisitor(PhantomData))
    }
}

struct CowStrVisitor<'a>(PhantomData<&'a ()>);

impl<'de: 'a, 'a> Visitor<'de> for CowStrVisitor<'a> {
    type Value = CowStr<'a>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(CowStr(Cow::Borrowed(v)))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(CowStr(Cow::Owned(v.to_owned())))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(CowStr(Cow::Owned(v)))
    }
}

// === impl StrOr ===

impl<'de: 'a, 'a, T: Deserialize<'de>> Deserialize<'de> for StrOr<'a, T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(StrOrVisitor(PhantomData))
    }
}

struct StrOrVisitor<'a, T>(PhantomData<(&'a (), T)>);

impl<'de: 'a, 'a, T: Deserialize<'de>> Visitor<'de> for StrOrVisitor<'a, T> {
    type Value = StrOr<'a, T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string, an array or an object")
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(StrOr::Str(CowStr(Cow::Borrowed(v))))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(StrOr::Str(CowStr(Cow::Owned(v.to_owned()))))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(StrOr::Str(CowStr(Cow::Owned(v))))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        T::deserialize(de::value::SeqAccessDeserializer::new(seq)).map(StrOr::Other)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        T::deserialize(de::value::MapAccessDeserializer::new(map)).map(StrOr::Other)
    }
}

// === functions ===

/// Appends `s` as a JSON string literal.
pub(crate) fn write_str(out: &mut Vec<u8>, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.reserve(s.len() + 2);
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let short: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0..=0x1f => b"",
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        if short.is_empty() {
            out.extend_from_slice(b"\\u00");
            out.push(HEX[usize::from(b >> 4)]);
            out.push(HEX[usize::from(b & 0xf)]);
        } else {
            out.extend_from_slice(short);
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

/// Appends valid JSON text `raw` to `out` without insignificant whitespace (OpenAI `arguments` are compact).
pub(crate) fn compact(raw: &str, out: &mut String) {
    let bytes = raw.as_bytes();
    let (mut in_string, mut escaped) = (false, false);
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
        } else if b == b'"' {
            in_string = true;
        } else if matches!(b, b' ' | b'\t' | b'\n' | b'\r') {
            // ASCII positions are always char boundaries.
            out.push_str(&raw[start..i]);
            start = i + 1;
        }
    }
    out.push_str(&raw[start..]);
}

/// A constant JSON text as a `RawValue`; the text is written in this crate, so failure is an internal bug.
pub(crate) fn static_raw(json: &'static str) -> Result<&'static RawValue, LlmError> {
    serde_json::from_str(json).map_err(|_| LlmError::Internal {
        detail: "constant JSON did not parse",
    })
}

/// `s[start..end]` keeping the borrow when there is one.
pub(crate) fn sub_cow(s: Cow<'_, str>, start: usize, end: usize) -> Cow<'_, str> {
    match s {
        Cow::Borrowed(b) => Cow::Borrowed(b.get(start..end).unwrap_or_default()),
        Cow::Owned(o) => Cow::Owned(o.get(start..end).unwrap_or_default().to_owned()),
    }
}

/// Cuts `s` to at most `max` bytes on a char boundary, marking the cut with `…`.
pub(crate) fn truncate(s: &str, max: usize) -> Cow<'_, str> {
    if s.len() <= max {
        return Cow::Borrowed(s);
    }
    let mut cut = max;
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    Cow::Owned(format!("{}…", &s[..cut]))
}

#[cfg(test)]
mod tests;

// === top-level request keys (both request readers: OpenAI chat in, Anthropic Messages in) ===

/// At most this many unknown top-level keys are reported, each cut to [`MAX_UNKNOWN_KEY_BYTES`].
pub(crate) const MAX_UNKNOWN_KEYS: usize = 16;
/// Longest unknown key reported, in bytes.
pub(crate) const MAX_UNKNOWN_KEY_BYTES: usize = 64;

/// Records an unknown top-level key by name, once, within the bounds above (a hostile body cannot grow the report).
pub(crate) fn record_unknown(unknown: &mut Vec<String>, key: &str) {
    if unknown.len() < MAX_UNKNOWN_KEYS && !unknown.iter().any(|k| k == key) {
        unknown.push(truncate(key, MAX_UNKNOWN_KEY_BYTES).into_owned());
    }
}

/// Reads a value only to learn whether it is present and not `null`; records `name` if so.
pub(crate) fn present<'de, A: MapAccess<'de>>(
    map: &mut A,
    list: &mut Vec<&'static str>,
    name: &'static str,
) -> Result<(), A::Error> {
    if list.contains(&name) {
        return Err(de::Error::duplicate_field(name));
    }
    if map.next_value::<Option<IgnoredAny>>()?.is_some() {
        list.push(name);
    }
    Ok(())
}
