//! Writing Anthropic stream events: `event: <type>\ndata: <JSON>\n\n`.
//!
//! Every event has its `event:` line (the Anthropic SDKs skip nameless events; earendil-works/pi #1983) and its
//! JSON begins with the same `type`. Events are written directly as bytes, with escaped strings, in the field
//! order of Anthropic's documented examples. JSON text never contains a raw line break, so `data:` is one line.

use std::io::Write as _;

use super::super::tokens::write_delta_usage;
use crate::Usage;
use crate::anthropic::json::write_str;

/// Writes one event; `body` appends the members after `"type"` (each starting with a comma).
fn event(out: &mut Vec<u8>, kind: &str, body: impl FnOnce(&mut Vec<u8>)) {
    out.extend_from_slice(b"event: ");
    out.extend_from_slice(kind.as_bytes());
    out.extend_from_slice(b"\ndata: {\"type\":\"");
    out.extend_from_slice(kind.as_bytes());
    out.push(b'"');
    body(out);
    out.extend_from_slice(b"}\n\n");
}

/// `message_start`: the message envelope with no content and the estimated input.
pub(super) fn message_start(out: &mut Vec<u8>, id: &str, model: &str, input_tokens: u64) {
    event(out, "message_start", |o| {
        o.extend_from_slice(b",\"message\":{\"id\":");
        write_str(o, id);
        o.extend_from_slice(b",\"type\":\"message\",\"role\":\"assistant\",\"content\":[],\"model\":");
        write_str(o, model);
        let _ = write!(
            o,
            ",\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{{\"input_tokens\":{input_tokens},\"output_tokens\":1}}}}"
        );
    });
}

/// The kinds of content block this translator opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Text,
    Thinking,
}

/// `content_block_start` of a text or thinking block.
pub(super) fn block_start(out: &mut Vec<u8>, index: u32, kind: Kind) {
    event(out, "content_block_start", |o| {
        let _ = write!(o, ",\"index\":{index},\"content_block\":");
        o.extend_from_slice(match kind {
            Kind::Text => b"{\"type\":\"text\",\"text\":\"\"}".as_slice(),
            Kind::Thinking => b"{\"type\":\"thinking\",\"thinking\":\"\",\"signature\":\"\"}".as_slice(),
        });
    });
}

/// `content_block_start` of a tool call: `input` is always `{}`, the arguments follow as `input_json_delta`s.
pub(super) fn tool_start(out: &mut Vec<u8>, index: u32, id: &str, name: &str) {
    event(out, "content_block_start", |o| {
        let _ = write!(
            o,
            ",\"index\":{index},\"content_block\":{{\"type\":\"tool_use\",\"id\":"
        );
        write_str(o, id);
        o.extend_from_slice(b",\"name\":");
        write_str(o, name);
        o.extend_from_slice(b",\"input\":{}}");
    });
}

/// `content_block_delta` of a text block.
pub(super) fn text_delta(out: &mut Vec<u8>, index: u32, kind: Kind, text: &str) {
    event(out, "content_block_delta", |o| {
        let _ = write!(o, ",\"index\":{index},\"delta\":");
        o.extend_from_slice(match kind {
            Kind::Text => b"{\"type\":\"text_delta\",\"text\":".as_slice(),
            Kind::Thinking => b"{\"type\":\"thinking_delta\",\"thinking\":".as_slice(),
        });
        write_str(o, text);
        o.push(b'}');
    });
}

/// `content_block_delta` of a tool block: a fragment of the input JSON.
pub(super) fn input_json_delta(out: &mut Vec<u8>, index: u32, fragment: &str) {
    event(out, "content_block_delta", |o| {
        let _ = write!(
            o,
            ",\"index\":{index},\"delta\":{{\"type\":\"input_json_delta\",\"partial_json\":"
        );
        write_str(o, fragment);
        o.push(b'}');
    });
}

pub(super) fn block_stop(out: &mut Vec<u8>, index: u32) {
    event(out, "content_block_stop", |o| {
        let _ = write!(o, ",\"index\":{index}");
    });
}

/// `message_delta` with the stop reason and the final (cumulative) usage. Without upstream usage only
/// `output_tokens: 0` is sent, so a client merging per field keeps `message_start`'s input estimate.
pub(super) fn message_delta(out: &mut Vec<u8>, stop_reason: &str, stop_sequence: Option<&str>, usage: Option<&Usage>) {
    event(out, "message_delta", |o| {
        o.extend_from_slice(b",\"delta\":{\"stop_reason\":");
        write_str(o, stop_reason);
        o.extend_from_slice(b",\"stop_sequence\":");
        match stop_sequence {
            Some(s) => write_str(o, s),
            None => o.extend_from_slice(b"null"),
        }
        o.extend_from_slice(b"},\"usage\":");
        match usage {
            Some(u) => write_delta_usage(u, o),
            None => o.extend_from_slice(b"{\"output_tokens\":0}"),
        }
    });
}

pub(super) fn message_stop(out: &mut Vec<u8>) {
    event(out, "message_stop", |_| {});
}

/// An `error` event with an Anthropic error body.
pub(super) fn error(out: &mut Vec<u8>, kind: &str, message: &str) {
    event(out, "error", |o| {
        o.extend_from_slice(b",\"error\":{\"type\":");
        write_str(o, kind);
        o.extend_from_slice(b",\"message\":");
        write_str(o, message);
        o.push(b'}');
    });
}
