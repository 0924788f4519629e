//! Zero-copy rewrite of an OpenAI-compatible request body on the passthrough path.
//!
//! The gateway must change exactly two things in a client's body: `model` (to the upstream's name for it) and, for
//! streaming requests, `stream_options.include_usage` (forced to `true` so the final chunk carries usage for
//! metering). Every other byte — whitespace, key order, number spelling, unknown fields — must reach the upstream
//! as the client sent it. A `serde_json::Value` round trip would normalise all of that and cost ~3.5× the CPU.
//!
//! How: the top-level object is scanned into `(key, &RawValue)` pairs borrowed from the input; each value's byte
//! span is its pointer offset into the input. [`RequestBody::rewrite`] then copies the input, replacing or inserting
//! only the spans it must.
//!
//! Invariants: the output of [`RequestBody::rewrite`] is valid JSON whenever the input was; bytes outside the edited
//! spans are copied unchanged; with nothing to change the output equals the input.

mod json_string;
mod object;

use std::borrow::Cow;

use serde_json::value::RawValue;

use crate::LlmError;
use object::{Member, Object};

/// A parsed request body that remembers where each top-level value sits, so it can be rewritten by splicing.
#[derive(Debug, Clone)]
pub struct RequestBody<'a> {
    input: &'a str,
    object: Object<'a>,
}

/// The edits the gateway wants applied to a passthrough body.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rewrite<'b> {
    /// Replace (or insert) `model` with this name; `None` leaves the client's model as is.
    pub model: Option<&'b str>,
    /// On a streaming request, make sure `stream_options.include_usage` is `true` so usage can be metered.
    pub force_include_usage: bool,
}

/// One span replacement; an insertion is an empty span.
#[derive(Debug)]
struct Edit {
    start: usize,
    end: usize,
    text: Vec<u8>,
}

// === impl RequestBody ===

impl<'a> RequestBody<'a> {
    /// Scans a client body without copying it.
    ///
    /// # Errors
    ///
    /// [`LlmError::InvalidJson`] for invalid UTF-8 or JSON; [`LlmError::InvalidRequest`] when the body is not an
    /// object or repeats a top-level key (upstreams disagree on which copy wins, so the gateway refuses to guess).
    pub fn parse(input: &'a [u8]) -> Result<Self, LlmError> {
        let input = std::str::from_utf8(input)
            .map_err(|e| LlmError::invalid_json(format!("invalid UTF-8 at byte {}", e.valid_up_to())))?;
        let object = Object::scan(input, input).map_err(|e| match e {
            LlmError::InvalidRequest { .. } => LlmError::invalid_request("request body must be a JSON object"),
            other => other,
        })?;
        if let Some(key) = object.duplicate_key() {
            return Err(LlmError::invalid_request(format!(
                "duplicate top-level key {}",
                quoted_prefix(key)
            )));
        }
        Ok(Self { input, object })
    }

    /// The original body.
    #[must_use]
    pub fn as_bytes(&self) -> &'a [u8] {
        self.input.as_bytes()
    }

    /// The raw JSON text of a top-level member, for callers that need to read another field cheaply.
    #[must_use]
    pub fn get(&self, key: &str) -> Option<&'a RawValue> {
        self.object.get(key).map(|m| m.raw)
    }

    /// The requested model, used for routing.
    ///
    /// # Errors
    ///
    /// [`LlmError::InvalidRequest`] if `model` is present but not a string.
    pub fn model(&self) -> Result<Option<Cow<'a, str>>, LlmError> {
        match self.object.get("model") {
            None => Ok(None),
            Some(m) => object::as_str(m.raw)
                .map(Some)
                .ok_or_else(|| LlmError::invalid_request("`model` must be a string")),
        }
    }

    /// Whether the client asked for a streamed response (absent or `null` means no).
    ///
    /// # Errors
    ///
    /// [`LlmError::InvalidRequest`] if `stream` is neither a boolean nor `null`.
    pub fn stream(&self) -> Result<bool, LlmError> {
        optional_bool(self.object.get("stream").map(|m| m.raw), "`stream`")
    }

    /// Whether the client itself asked for usage in the stream (`stream_options.include_usage`).
    ///
    /// The gateway forces it on upstream; knowing the client's choice lets it decide whether to strip the
    /// usage-only final chunk before it reaches a client that did not ask for it.
    ///
    /// # Errors
    ///
    /// [`LlmError::InvalidRequest`] if `stream_options` is neither an object nor `null`, repeats a key, or its
    /// `include_usage` is neither a boolean nor `null`.
    pub fn include_usage(&self) -> Result<bool, LlmError> {
        let Some(options) = self.object.get("stream_options") else {
            return Ok(false);
        };
        if options.raw.get() == "null" {
            return Ok(false);
        }
        if !options.raw.get().starts_with('{') {
            return Err(LlmError::invalid_request("`stream_options` must be an object"));
        }
        let inner = Object::scan(self.input, options.raw.get())?;
        if inner.duplicate_key().is_some() {
            return Err(LlmError::invalid_request("`stream_options` repeats a key"));
        }
        optional_bool(
            inner.get("include_usage").map(|m| m.raw),
            "`stream_options.include_usage`",
        )
    }

    /// Applies `edit` and copies every other byte of the body unchanged.
    ///
    /// A `stream_options` that is `null` or not an object is replaced by `{"include_usage":true}` when usage is
    /// forced; call [`include_usage`](Self::include_usage) first to reject such bodies instead.
    #[must_use]
    pub fn rewrite(&self, edit: &Rewrite<'_>) -> Vec<u8> {
        self.rewrite_cow(edit).into_owned()
    }

    /// Like [`rewrite`](Self::rewrite), but borrows the input when nothing needs to change.
    #[must_use]
    pub fn rewrite_cow(&self, edit: &Rewrite<'_>) -> Cow<'a, [u8]> {
        let mut edits = Vec::new();
        let mut appended: Vec<Vec<u8>> = Vec::new();
        if let Some(model) = edit.model {
            self.edit_model(model, &mut edits, &mut appended);
        }
        if edit.force_include_usage && self.is_stream() {
            self.edit_include_usage(&mut edits, &mut appended);
        }
        if !appended.is_empty() {
            let (at, comma) = self.object.append_point();
            edits.push(Edit {
                start: at,
                end: at,
                text: join_members(&appended, comma),
            });
        }
        if edits.is_empty() {
            return Cow::Borrowed(self.input.as_bytes());
        }
        Cow::Owned(apply(self.input.as_bytes(), edits))
    }

    /// `stream` is literally `true` (a raw value has no surrounding whitespace).
    fn is_stream(&self) -> bool {
        self.object.get("stream").is_some_and(|m| m.raw.get() == "true")
    }

    fn edit_model(&self, model: &str, edits: &mut Vec<Edit>, appended: &mut Vec<Vec<u8>>) {
        let mut text = Vec::with_capacity(model.len() + 2);
        json_string::write(model, &mut text);
        match self.object.get("model") {
            Some(m) if object::as_str(m.raw).is_some_and(|old| old == model) => {}
            Some(m) => edits.push(replace(m, text)),
            None => {
                let mut member = b"\"model\":".to_vec();
                member.extend_from_slice(&text);
                appended.push(member);
            }
        }
    }

    fn edit_include_usage(&self, edits: &mut Vec<Edit>, appended: &mut Vec<Vec<u8>>) {
        const WHOLE: &[u8] = b"{\"include_usage\":true}";
        let Some(options) = self.object.get("stream_options") else {
            let mut member = b"\"stream_options\":".to_vec();
            member.extend_from_slice(WHOLE);
            appended.push(member);
            return;
        };
        let inner = options
            .raw
            .get()
            .starts_with('{')
            .then(|| Object::scan(self.input, options.raw.get()).ok())
            .flatten();
        let Some(inner) = inner else {
            edits.push(replace(options, WHOLE.to_vec()));
            return;
        };
        let mut found = false;
        for member in inner.members.iter().filter(|m| m.key == "include_usage") {
            found = true;
            if member.raw.get() != "true" {
                edits.push(replace(member, b"true".to_vec()));
            }
        }
        if !found {
            let (at, comma) = inner.append_point();
            edits.push(Edit {
                start: at,
                end: at,
                text: join_members(&[b"\"include_usage\":true".to_vec()], comma),
            });
        }
    }
}

fn replace(member: &Member<'_>, text: Vec<u8>) -> Edit {
    Edit {
        start: member.span.start,
        end: member.span.end,
        text,
    }
}

/// `members` joined with commas, with a leading comma when they follow an existing member.
fn join_members(members: &[Vec<u8>], leading_comma: bool) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, member) in members.iter().enumerate() {
        if i > 0 || leading_comma {
            out.push(b',');
        }
        out.extend_from_slice(member);
    }
    out
}

/// Copies `input`, replacing each edit's span with its text.
fn apply(input: &[u8], mut edits: Vec<Edit>) -> Vec<u8> {
    edits.sort_by_key(|e| (e.start, e.end));
    let extra: usize = edits.iter().map(|e| e.text.len()).sum();
    let mut out = Vec::with_capacity(input.len() + extra);
    let mut cursor = 0;
    for edit in edits {
        let Some(kept) = input.get(cursor..edit.start) else {
            debug_assert!(false, "overlapping splice edits");
            continue;
        };
        out.extend_from_slice(kept);
        out.extend_from_slice(&edit.text);
        cursor = edit.end.max(cursor);
    }
    out.extend_from_slice(input.get(cursor..).unwrap_or_default());
    out
}

/// Interprets an optional raw value as a boolean where `null` means `false`.
fn optional_bool(raw: Option<&RawValue>, what: &str) -> Result<bool, LlmError> {
    match raw.map(RawValue::get) {
        None | Some("null" | "false") => Ok(false),
        Some("true") => Ok(true),
        Some(_) => Err(LlmError::invalid_request(format!("{what} must be a boolean"))),
    }
}

/// A key for an error message, quoted and cut short so the message stays bounded.
fn quoted_prefix(key: &str) -> String {
    const MAX: usize = 40;
    match key.char_indices().nth(MAX) {
        None => format!("`{key}`"),
        Some((cut, _)) => format!("`{}…`", &key[..cut]),
    }
}

#[cfg(test)]
mod tests;
