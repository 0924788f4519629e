//! Writing OpenAI stream frames: `data: <chunk JSON>\n\n`, the usage chunk, error frames.
//!
//! Chunks are written directly as bytes (no intermediate tree): the shared head `{"id":…,"object":
//! "chat.completion.chunk","created":…,"model":…,"choices":` is built once per stream, and each delta appends a
//! few fixed fragments around escaped strings. JSON text never contains a raw line break, so each frame is a
//! single `data:` line.

use std::io::Write as _;

use super::super::json::write_str;
use super::super::tokens::write_openai_usage;
use crate::Usage;

/// The head shared by every chunk of a stream.
pub(crate) fn prefix(id: &str, created: u64, model: &str) -> Vec<u8> {
    let mut p = Vec::with_capacity(id.len() + model.len() + 80);
    p.extend_from_slice(b"{\"id\":");
    write_str(&mut p, id);
    // Writing into a Vec cannot fail.
    let _ = write!(
        p,
        ",\"object\":\"chat.completion.chunk\",\"created\":{created},\"model\":"
    );
    write_str(&mut p, model);
    p.extend_from_slice(b",\"choices\":");
    p
}

/// A chunk with one choice; `body` writes the choice's `delta` and `finish_reason` members (one of the functions
/// below).
pub(crate) fn chunk(out: &mut Vec<u8>, prefix: &[u8], include_usage: bool, body: impl FnOnce(&mut Vec<u8>)) {
    out.extend_from_slice(b"data: ");
    out.extend_from_slice(prefix);
    out.extend_from_slice(b"[{\"index\":0,\"delta\":");
    body(out);
    if include_usage {
        out.extend_from_slice(b"}],\"usage\":null}\n\n");
    } else {
        out.extend_from_slice(b"}]}\n\n");
    }
}

/// The first delta: `{"role":"assistant","content":""}` (OpenAI's own first chunk).
pub(crate) fn role(out: &mut Vec<u8>) {
    out.extend_from_slice(b"{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null");
}

pub(crate) fn content(out: &mut Vec<u8>, text: &str) {
    out.extend_from_slice(b"{\"content\":");
    write_str(out, text);
    out.extend_from_slice(b"},\"finish_reason\":null");
}

pub(crate) fn reasoning(out: &mut Vec<u8>, text: &str) {
    out.extend_from_slice(b"{\"reasoning_content\":");
    write_str(out, text);
    out.extend_from_slice(b"},\"finish_reason\":null");
}

/// A tool call's first delta: index, id, name and empty arguments.
pub(crate) fn tool_start(out: &mut Vec<u8>, index: u32, id: &str, name: &str) {
    let _ = write!(out, "{{\"tool_calls\":[{{\"index\":{index},\"id\":");
    write_str(out, id);
    out.extend_from_slice(b",\"type\":\"function\",\"function\":{\"name\":");
    write_str(out, name);
    out.extend_from_slice(b",\"arguments\":\"\"}}]},\"finish_reason\":null");
}

/// A fragment of a tool call's arguments.
pub(crate) fn tool_args(out: &mut Vec<u8>, index: u32, fragment: &str) {
    let _ = write!(
        out,
        "{{\"tool_calls\":[{{\"index\":{index},\"function\":{{\"arguments\":"
    );
    write_str(out, fragment);
    out.extend_from_slice(b"}}]},\"finish_reason\":null");
}

/// The finish delta: empty, with the reason.
pub(crate) fn finish(out: &mut Vec<u8>, reason: &str) {
    out.extend_from_slice(b"{},\"finish_reason\":");
    write_str(out, reason);
}

/// The usage chunk: no choices, the usage object.
pub(crate) fn usage_chunk(out: &mut Vec<u8>, prefix: &[u8], usage: &Usage) {
    out.extend_from_slice(b"data: ");
    out.extend_from_slice(prefix);
    out.extend_from_slice(b"[],\"usage\":");
    write_openai_usage(usage, out);
    out.extend_from_slice(b"}\n\n");
}

/// An OpenAI error frame: `data: {"error":{"message","type","param":null,"code"}}`.
pub(crate) fn error(out: &mut Vec<u8>, kind: &str, code: &str, message: &str) {
    out.extend_from_slice(b"data: {\"error\":{\"message\":");
    write_str(out, message);
    out.extend_from_slice(b",\"type\":");
    write_str(out, kind);
    out.extend_from_slice(b",\"param\":null,\"code\":");
    write_str(out, code);
    out.extend_from_slice(b"}}\n\n");
}
