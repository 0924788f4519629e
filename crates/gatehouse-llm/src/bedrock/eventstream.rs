//! The `application/vnd.amazon.eventstream` binary framing, decoded incrementally with a bound.
//!
//! A frame is `[total_len u32 BE][headers_len u32 BE][prelude CRC32][headers][payload][message CRC32]`; the prelude
//! CRC covers the first 8 bytes, the message CRC everything before it. A header is `[name_len u8][name][type u8]`
//! then a value whose size the type gives (7 = string with a u16 length). Bedrock's ConverseStream puts the event
//! name in `:event-type`, `event`/`exception` in `:message-type` and the JSON body in the payload.
//!
//! Invariants: bytes are only consumed once a whole frame is buffered (a frame's length is read from its first four
//! bytes, never trusted beyond [`MAX_FRAME_BYTES`]); a CRC mismatch or malformed header is an error, after which
//! the decoder yields nothing more; output does not depend on how the input was split.

use bytes::{Buf, Bytes, BytesMut};

/// Largest frame accepted (Bedrock's events are a few KiB).
pub const MAX_FRAME_BYTES: usize = 1 << 20;
/// Prelude (12) + message CRC (4).
const OVERHEAD: usize = 16;

/// One decoded frame: its string headers and its payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// String-valued headers (`:event-type`, `:message-type`, `:content-type`, `:exception-type`, ...), in order.
    pub headers: Vec<(String, String)>,
    /// The payload (JSON for Bedrock).
    pub payload: Bytes,
}

/// Why the stream cannot be decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// The declared length is below the minimum or above [`MAX_FRAME_BYTES`].
    #[error("event-stream frame length out of bounds")]
    Length,
    /// A CRC did not match.
    #[error("event-stream frame checksum mismatch")]
    Checksum,
    /// The headers section is malformed.
    #[error("event-stream frame headers are malformed")]
    Headers,
}

/// Incremental decoder: [`push`](Self::push) bytes, then take frames with [`next_frame`](Self::next_frame).
#[derive(Debug, Default)]
pub struct FrameDecoder {
    buf: BytesMut,
    failed: bool,
}

// === impl Frame ===

impl Frame {
    /// The first header called `name`.
    #[must_use]
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

// === impl FrameDecoder ===

impl FrameDecoder {
    /// A decoder with nothing buffered.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Buffers `data`. Never holds more than one frame's worth beyond what is already decodable.
    pub fn push(&mut self, data: &[u8]) {
        if !self.failed {
            self.buf.extend_from_slice(data);
        }
    }

    /// The next whole frame, `Ok(None)` when more bytes are needed.
    ///
    /// # Errors
    ///
    /// [`FrameError`] when the stream is malformed; every later call returns the same kind of error.
    pub fn next_frame(&mut self) -> Result<Option<Frame>, FrameError> {
        if self.failed {
            return Err(FrameError::Headers);
        }
        match self.decode() {
            Err(e) => {
                self.failed = true;
                self.buf.clear();
                Err(e)
            }
            ok => ok,
        }
    }

    /// Bytes buffered but not yet decoded (a partial frame at EOF means the stream was cut).
    #[must_use]
    pub fn pending(&self) -> usize {
        self.buf.len()
    }

    fn decode(&mut self) -> Result<Option<Frame>, FrameError> {
        if self.buf.len() < 12 {
            return Ok(None);
        }
        let total = read_u32(&self.buf[0..4]) as usize;
        let headers_len = read_u32(&self.buf[4..8]) as usize;
        if !(OVERHEAD..=MAX_FRAME_BYTES).contains(&total) || headers_len > total - OVERHEAD {
            return Err(FrameError::Length);
        }
        if read_u32(&self.buf[8..12]) != crc32fast::hash(&self.buf[0..8]) {
            return Err(FrameError::Checksum);
        }
        if self.buf.len() < total {
            return Ok(None);
        }
        let frame = self.buf.split_to(total).freeze();
        if read_u32(&frame[total - 4..]) != crc32fast::hash(&frame[..total - 4]) {
            return Err(FrameError::Checksum);
        }
        let headers = parse_headers(&frame[12..12 + headers_len])?;
        let payload = frame.slice(12 + headers_len..total - 4);
        Ok(Some(Frame { headers, payload }))
    }
}

fn read_u32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

fn parse_headers(mut b: &[u8]) -> Result<Vec<(String, String)>, FrameError> {
    let mut out = Vec::new();
    while b.has_remaining() {
        let name_len = usize::from(b.get_u8());
        if b.remaining() < name_len + 1 {
            return Err(FrameError::Headers);
        }
        let name = std::str::from_utf8(&b[..name_len])
            .map_err(|_| FrameError::Headers)?
            .to_string();
        b.advance(name_len);
        let kind = b.get_u8();
        let fixed = match kind {
            0 | 1 => 0,
            2 => 1,
            3 => 2,
            4 => 4,
            5 | 8 => 8,
            9 => 16,
            6 | 7 => {
                if b.remaining() < 2 {
                    return Err(FrameError::Headers);
                }
                let len = usize::from(b.get_u16());
                if b.remaining() < len {
                    return Err(FrameError::Headers);
                }
                if kind == 7 {
                    let value = std::str::from_utf8(&b[..len]).map_err(|_| FrameError::Headers)?;
                    out.push((name, value.to_string()));
                }
                b.advance(len);
                continue;
            }
            _ => return Err(FrameError::Headers),
        };
        if b.remaining() < fixed {
            return Err(FrameError::Headers);
        }
        b.advance(fixed);
    }
    Ok(out)
}

/// Encodes one frame with string headers (for tests, benchmarks and fuzzing; the gateway only decodes).
#[must_use]
pub fn encode_frame(headers: &[(&str, &str)], payload: &[u8]) -> Vec<u8> {
    let mut h = Vec::new();
    for (name, value) in headers {
        let name = &name.as_bytes()[..name.len().min(255)];
        let value = &value.as_bytes()[..value.len().min(usize::from(u16::MAX))];
        h.push(u8::try_from(name.len()).unwrap_or(u8::MAX));
        h.extend_from_slice(name);
        h.push(7);
        h.extend_from_slice(&u16::try_from(value.len()).unwrap_or(u16::MAX).to_be_bytes());
        h.extend_from_slice(value);
    }
    let total = h.len() + payload.len() + OVERHEAD;
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(&u32::try_from(total).unwrap_or(u32::MAX).to_be_bytes());
    out.extend_from_slice(&u32::try_from(h.len()).unwrap_or(u32::MAX).to_be_bytes());
    let prelude_crc = crc32fast::hash(&out);
    out.extend_from_slice(&prelude_crc.to_be_bytes());
    out.extend_from_slice(&h);
    out.extend_from_slice(payload);
    let crc = crc32fast::hash(&out);
    out.extend_from_slice(&crc.to_be_bytes());
    out
}
