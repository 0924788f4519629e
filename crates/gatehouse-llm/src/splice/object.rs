//! Borrowed scan of one JSON object: its members in document order, each value as a byte span of the original input.
//!
//! Nothing is decoded beyond the member keys; values stay `&RawValue` slices of the input, so the caller can copy
//! them verbatim. Invariant: every span lies inside the input and spans appear in ascending, non-overlapping order.

use std::borrow::Cow;
use std::fmt;
use std::ops::Range;

use serde::Deserialize;
use serde::de::{self, MapAccess, Visitor};
use serde_json::value::RawValue;

use crate::LlmError;

/// One member of a scanned object.
#[derive(Debug, Clone)]
pub(crate) struct Member<'a> {
    /// The decoded key (borrowed unless it contained escapes).
    pub(crate) key: Cow<'a, str>,
    /// The value, exactly as written.
    pub(crate) raw: &'a RawValue,
    /// Where `raw` sits in the top-level input.
    pub(crate) span: Range<usize>,
}

/// A scanned JSON object with the positions needed to splice into it.
#[derive(Debug, Clone)]
pub(crate) struct Object<'a> {
    /// Members in document order.
    pub(crate) members: Vec<Member<'a>>,
    /// Index of the opening `{` in the top-level input.
    pub(crate) open: usize,
}

/// Members as collected by serde, before spans are computed.
struct Members<'a>(Vec<(Cow<'a, str>, &'a RawValue)>);

/// A key or string value that borrows from the input when it has no escapes.
pub(crate) struct CowStr<'a>(pub(crate) Cow<'a, str>);

// === impl Object ===

impl<'a> Object<'a> {
    /// Scans `text`, which must be a sub-slice of `input`, as a JSON object.
    ///
    /// Syntax errors become [`LlmError::InvalidJson`]; well-formed JSON that is not an object becomes
    /// [`LlmError::InvalidRequest`].
    pub(crate) fn scan(input: &'a str, text: &'a str) -> Result<Self, LlmError> {
        match serde_json::from_str(text) {
            Ok(Members(pairs)) => Self::locate(input, text, pairs),
            Err(e) if e.is_data() => Err(LlmError::invalid_request("expected a JSON object")),
            Err(e) => Err(LlmError::invalid_json(e.to_string())),
        }
    }

    /// Turns borrowed values into spans of `input`.
    fn locate(input: &'a str, text: &'a str, pairs: Vec<(Cow<'a, str>, &'a RawValue)>) -> Result<Self, LlmError> {
        const NOT_INSIDE: LlmError = LlmError::Internal {
            detail: "borrowed JSON value does not lie inside the input",
        };
        let open_in_text = text.bytes().position(|b| b == b'{').ok_or(NOT_INSIDE)?;
        let open = offset_of(input, text).ok_or(NOT_INSIDE)? + open_in_text;
        let mut members = Vec::with_capacity(pairs.len());
        let mut cursor = open;
        for (key, raw) in pairs {
            let start = offset_of(input, raw.get()).ok_or(NOT_INSIDE)?;
            if start <= cursor {
                return Err(NOT_INSIDE);
            }
            let span = start..start + raw.get().len();
            cursor = span.end;
            members.push(Member { key, raw, span });
        }
        Ok(Self { members, open })
    }

    /// The member named `key`, if any (the last one, should the object repeat it).
    pub(crate) fn get(&self, key: &str) -> Option<&Member<'a>> {
        self.members.iter().rev().find(|m| m.key == key)
    }

    /// The first key that appears more than once, if any.
    pub(crate) fn duplicate_key(&self) -> Option<&str> {
        let mut keys: Vec<&str> = self.members.iter().map(|m| m.key.as_ref()).collect();
        keys.sort_unstable();
        keys.windows(2).find(|w| w[0] == w[1]).map(|w| w[0])
    }

    /// Where new members go: right after the last value, or right after `{` when the object is empty.
    ///
    /// Returns the position and whether a separating comma is needed.
    pub(crate) fn append_point(&self) -> (usize, bool) {
        match self.members.last() {
            Some(last) => (last.span.end, true),
            None => (self.open + 1, false),
        }
    }
}

/// Byte offset of `part` inside `whole`, if `part` is a sub-slice of it.
///
/// Pointer arithmetic on addresses only (no dereference), so it is safe code.
fn offset_of(whole: &str, part: &str) -> Option<usize> {
    let offset = (part.as_ptr() as usize).checked_sub(whole.as_ptr() as usize)?;
    (offset.checked_add(part.len())? <= whole.len()).then_some(offset)
}

/// Decodes a raw JSON value as a string, borrowing when it has no escapes; `None` if it is not a string.
pub(crate) fn as_str(raw: &RawValue) -> Option<Cow<'_, str>> {
    serde_json::from_str::<CowStr<'_>>(raw.get()).ok().map(|s| s.0)
}

// === impl Members ===

impl<'de> Deserialize<'de> for Members<'de> {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(MembersVisitor)
    }
}

struct MembersVisitor;

impl<'de> Visitor<'de> for MembersVisitor {
    type Value = Members<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut pairs = Vec::with_capacity(map.size_hint().unwrap_or(16));
        while let Some(CowStr(key)) = map.next_key()? {
            let raw: &'de RawValue = map.next_value()?;
            pairs.push((key, raw));
        }
        Ok(Members(pairs))
    }
}

// === impl CowStr ===

impl<'de> Deserialize<'de> for CowStr<'de> {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(CowStrVisitor)
    }
}

struct CowStrVisitor;

impl<'de> Visitor<'de> for CowStrVisitor {
    type Value = CowStr<'de>;

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
