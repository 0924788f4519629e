//! Writing Responses stream events: `event: <type>\ndata: {"type":"<type>","sequence_number":N,...}\n\n`.
//!
//! Every event carries its `type` and the next `sequence_number` (monotonic from 0); the members after those are
//! written by the caller's closure. JSON text never contains a raw line break, so each event is one `data:` line.

use std::io::Write as _;

use serde_json::Value;

use crate::anthropic::json::write_str;

/// Writes one event and advances `seq`.
pub(super) fn event(out: &mut Vec<u8>, seq: &mut u64, kind: &str, members: impl FnOnce(&mut Vec<u8>)) {
    out.extend_from_slice(b"event: ");
    out.extend_from_slice(kind.as_bytes());
    out.extend_from_slice(b"\ndata: {\"type\":\"");
    out.extend_from_slice(kind.as_bytes());
    // Writing into a Vec cannot fail.
    let _ = write!(out, "\",\"sequence_number\":{seq},");
    members(out);
    out.extend_from_slice(b"}\n\n");
    *seq += 1;
}

/// `"item_id":…,"output_index":N`.
pub(super) fn position(out: &mut Vec<u8>, item_id: &str, output_index: usize) {
    out.extend_from_slice(b"\"item_id\":");
    write_str(out, item_id);
    let _ = write!(out, ",\"output_index\":{output_index}");
}

/// `"output_index":N,"item":{…}`.
pub(super) fn item(out: &mut Vec<u8>, output_index: usize, item: &Value) {
    let _ = write!(out, "\"output_index\":{output_index},\"item\":");
    // Serialising a Value into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, item);
}

/// `,"<name>":"<escaped text>"`.
pub(super) fn text(out: &mut Vec<u8>, name: &str, text: &str) {
    out.push(b',');
    out.push(b'"');
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b"\":");
    write_str(out, text);
}

/// `,"part":{…}`.
pub(super) fn part(out: &mut Vec<u8>, part: &Value) {
    out.extend_from_slice(b",\"part\":");
    let _ = serde_json::to_writer(&mut *out, part);
}
