//! Writing one SSE event.
//!
//! Used where the gateway produces a stream itself (translated providers, synthetic errors). The output decodes
//! with [`SseDecoder`](super::SseDecoder) to the same event: data is split on every line terminator the decoder
//! recognises, and line breaks in the event type are dropped so it cannot inject fields.

/// Appends one event to `out`: optional `event:` line, one `data:` line per line of `data`, then a blank line.
pub fn encode_event(event: Option<&str>, data: &str, out: &mut Vec<u8>) {
    out.reserve(data.len() + event.map_or(0, str::len) + 16);
    if let Some(event) = event {
        out.extend_from_slice(b"event: ");
        out.extend(event.bytes().filter(|&b| b != b'\r' && b != b'\n'));
        out.push(b'\n');
    }
    let mut rest = data.as_bytes();
    loop {
        out.extend_from_slice(b"data: ");
        match memchr::memchr2(b'\r', b'\n', rest) {
            Some(end) => {
                out.extend_from_slice(&rest[..end]);
                out.push(b'\n');
                let skip = if rest[end..].starts_with(b"\r\n") { 2 } else { 1 };
                rest = &rest[end + skip..];
            }
            None => {
                out.extend_from_slice(rest);
                out.push(b'\n');
                break;
            }
        }
    }
    out.push(b'\n');
}
