//! The DNS wire format, just enough to ask one nameserver for a name's A or AAAA records (RFC 1035 §4, EDNS0 from
//! RFC 6891) — how a pool follows a Kubernetes headless Service when it is told to query a nameserver directly.
//!
//! [`encode_query`] builds a recursive query for one name and type with an EDNS0 OPT record advertising
//! [`UDP_PAYLOAD`] bytes (so a large replica set still fits in one datagram). [`parse_response`] reads the answer
//! section of the reply: every A/AAAA record of class IN is an address (CNAME records are skipped, the addresses
//! they lead to are in the same answer section); everything else is ignored.
//!
//! Bounds: a message is at most 65 535 bytes; names are only skipped, never followed, so compression pointers cannot
//! loop; every read is checked against the message's length. The reply is untrusted input (fuzzed in
//! `fuzz/fuzz_targets/dns_response.rs`).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::error::PickerError;

/// The UDP payload size advertised in the EDNS0 OPT record (the size most resolvers use).
pub const UDP_PAYLOAD: u16 = 1232;

/// Which address records to ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordType {
    /// IPv4 addresses.
    A,
    /// IPv6 addresses.
    Aaaa,
}

/// What a reply said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// Addresses of the answer section, in message order.
    pub addrs: Vec<IpAddr>,
    /// The TC bit: the reply was cut to fit a datagram; ask again over TCP.
    pub truncated: bool,
}

// === impl RecordType ===

impl RecordType {
    fn code(self) -> u16 {
        match self {
            Self::A => 1,
            Self::Aaaa => 28,
        }
    }
}

/// A recursive query for `name` (absolute or not; a trailing dot is allowed) and `qtype`, with message id `id`.
///
/// # Errors
///
/// [`PickerError::DnsName`] when `name` is not a valid DNS name (empty labels, a label over 63 bytes, over 253
/// bytes in all).
pub fn encode_query(id: u16, name: &str, qtype: RecordType) -> Result<Vec<u8>, PickerError> {
    let name = name.strip_suffix('.').unwrap_or(name);
    if name.is_empty() || name.len() > 253 {
        return Err(PickerError::DnsName);
    }
    let mut m = Vec::with_capacity(12 + name.len() + 2 + 4 + 11);
    m.extend_from_slice(&id.to_be_bytes());
    m.extend_from_slice(&[0x01, 0x00]); // RD
    m.extend_from_slice(&[0, 1, 0, 0, 0, 0, 0, 1]); // QD 1, AN 0, NS 0, AR 1 (OPT)
    for label in name.split('.') {
        let len = u8::try_from(label.len()).map_err(|_| PickerError::DnsName)?;
        if len == 0 || len > 63 {
            return Err(PickerError::DnsName);
        }
        m.push(len);
        m.extend_from_slice(label.as_bytes());
    }
    m.push(0);
    m.extend_from_slice(&qtype.code().to_be_bytes());
    m.extend_from_slice(&[0, 1]); // IN
    // OPT: root name, type 41, class = UDP payload size, TTL 0 (extended rcode, version 0, no flags), no data.
    m.push(0);
    m.extend_from_slice(&41u16.to_be_bytes());
    m.extend_from_slice(&UDP_PAYLOAD.to_be_bytes());
    m.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
    Ok(m)
}

/// Reads the reply to the query with id `id`.
///
/// # Errors
///
/// [`PickerError::DnsMalformed`] for a message that is not a well-formed reply to that query,
/// [`PickerError::DnsRcode`] when the server answered with an error (NXDOMAIN, SERVFAIL, ...).
pub fn parse_response(id: u16, msg: &[u8]) -> Result<Answer, PickerError> {
    let bad = |detail| PickerError::DnsMalformed { detail };
    let mut r = Reader { msg, at: 0 };
    if r.u16().ok_or(bad("short header"))? != id {
        return Err(bad("id does not match the query"));
    }
    let flags = r.u16().ok_or(bad("short header"))?;
    if flags & 0x8000 == 0 {
        return Err(bad("not a response"));
    }
    let truncated = flags & 0x0200 != 0;
    let rcode = flags & 0x000f;
    let qd = r.u16().ok_or(bad("short header"))?;
    let an = r.u16().ok_or(bad("short header"))?;
    r.skip(4).ok_or(bad("short header"))?; // NS and AR counts: not read
    if rcode != 0 {
        return Err(PickerError::DnsRcode {
            rcode: u8::try_from(rcode).unwrap_or(u8::MAX),
        });
    }
    for _ in 0..qd {
        r.skip_name().ok_or(bad("bad question name"))?;
        r.skip(4).ok_or(bad("short question"))?;
    }
    let mut addrs = Vec::new();
    for _ in 0..an {
        if r.at == msg.len() && truncated {
            break; // a truncated reply may hold fewer records than it counts
        }
        r.skip_name().ok_or(bad("bad answer name"))?;
        let rtype = r.u16().ok_or(bad("short record"))?;
        let class = r.u16().ok_or(bad("short record"))?;
        r.skip(4).ok_or(bad("short record"))?; // TTL
        let len = usize::from(r.u16().ok_or(bad("short record"))?);
        let data = r.take(len).ok_or(bad("record data past the end"))?;
        match (rtype, class, data.len()) {
            (1, 1, 4) => addrs.push(IpAddr::V4(Ipv4Addr::new(data[0], data[1], data[2], data[3]))),
            (28, 1, 16) => {
                let mut b = [0u8; 16];
                b.copy_from_slice(data);
                addrs.push(IpAddr::V6(Ipv6Addr::from(b)));
            }
            (1 | 28, 1, _) => return Err(bad("address record of the wrong length")),
            _ => {}
        }
    }
    Ok(Answer { addrs, truncated })
}

/// A bounds-checked cursor over a message.
struct Reader<'a> {
    msg: &'a [u8],
    at: usize,
}

// === impl Reader ===

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.at.checked_add(n)?;
        let s = self.msg.get(self.at..end)?;
        self.at = end;
        Some(s)
    }

    fn skip(&mut self, n: usize) -> Option<()> {
        self.take(n).map(|_| ())
    }

    fn u16(&mut self) -> Option<u16> {
        self.take(2).map(|b| u16::from_be_bytes([b[0], b[1]]))
    }

    /// Skips a name: labels up to the root, or up to a compression pointer (which ends the name in place).
    fn skip_name(&mut self) -> Option<()> {
        loop {
            let len = *self.take(1)?.first()?;
            match len & 0xc0 {
                0x00 if len == 0 => return Some(()),
                0x00 => self.skip(usize::from(len))?,
                0xc0 => return self.skip(1),
                _ => return None, // extended label types (RFC 6891 deprecated them)
            }
        }
    }
}

#[cfg(test)]
mod tests;
