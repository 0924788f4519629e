//! A tiny authoritative DNS server on loopback UDP for pool-membership tests: it answers every A query with the
//! addresses the test has set (changed at will during the test), AAAA queries with no records, and can be told to
//! fail (SERVFAIL). Written from RFC 1035's layout, independently of gatehouse's own DNS client, and strict: a
//! query that is not a standard single-question query gets FORMERR, and every query is recorded.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};

use tokio::net::UdpSocket;

/// A running test nameserver.
#[derive(Debug)]
pub struct DnsServer {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    task: tokio::task::JoinHandle<()>,
}

/// What the server answers, and what it was asked.
#[derive(Debug, Default)]
struct State {
    a: Vec<Ipv4Addr>,
    fail: bool,
    queries: Vec<(String, u16)>,
}

// === impl DnsServer ===

impl DnsServer {
    /// Starts a server on `127.0.0.1:0` answering A queries with `a`.
    ///
    /// # Panics
    ///
    /// When the socket cannot be bound (a test setup failure).
    pub async fn start(a: &[Ipv4Addr]) -> Self {
        let sock = UdpSocket::bind("127.0.0.1:0").await.expect("bind the test nameserver");
        let addr = sock.local_addr().expect("nameserver address");
        let state = Arc::new(Mutex::new(State {
            a: a.to_vec(),
            ..State::default()
        }));
        let task = tokio::spawn(serve(sock, state.clone()));
        Self { addr, state, task }
    }

    /// `ip:port` to put in a config's `nameserver`.
    #[must_use]
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Answers A queries with `a` from now on (and stops failing).
    pub fn set(&self, a: &[Ipv4Addr]) {
        let mut s = self.lock();
        s.a = a.to_vec();
        s.fail = false;
    }

    /// Answers every query with SERVFAIL from now on (until [`set`](Self::set)).
    pub fn fail(&self) {
        self.lock().fail = true;
    }

    /// The (name, qtype) of every query received so far.
    #[must_use]
    pub fn queries(&self) -> Vec<(String, u16)> {
        self.lock().queries.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Drop for DnsServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(sock: UdpSocket, state: Arc<Mutex<State>>) {
    let mut buf = [0u8; 512];
    loop {
        let Ok((n, peer)) = sock.recv_from(&mut buf).await else {
            return;
        };
        let reply = {
            let mut s = state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            answer(&buf[..n], &mut s)
        };
        if let Some(r) = reply {
            let _ = sock.send_to(&r, peer).await;
        }
    }
}

/// The reply to one query (`None` when it is too short to even carry an id).
fn answer(q: &[u8], s: &mut State) -> Option<Vec<u8>> {
    let id = q.get(..2)?;
    let formerr = |rcode: u8| {
        let mut r = id.to_vec();
        r.extend_from_slice(&[0x81, 0x80 | rcode, 0, 0, 0, 0, 0, 0, 0, 0]);
        r
    };
    // Header: QR=0, opcode 0, exactly one question, no answers.
    if q.len() < 12 || q[2] & 0xf8 != 0 || q[4..8] != [0, 1, 0, 0] {
        return Some(formerr(1));
    }
    let mut at = 12;
    let mut labels = Vec::new();
    loop {
        let len = usize::from(*q.get(at)?);
        at += 1;
        if len == 0 {
            break;
        }
        if len > 63 {
            return Some(formerr(1));
        }
        labels.push(String::from_utf8_lossy(q.get(at..at + len)?).into_owned());
        at += len;
    }
    let qtype = u16::from_be_bytes([*q.get(at)?, *q.get(at + 1)?]);
    let qclass = u16::from_be_bytes([*q.get(at + 2)?, *q.get(at + 3)?]);
    let question = &q[12..at + 4];
    s.queries.push((labels.join("."), qtype));
    if qclass != 1 {
        return Some(formerr(1));
    }
    let rcode = if s.fail { 2 } else { 0 };
    let records: Vec<Ipv4Addr> = if qtype == 1 && !s.fail { s.a.clone() } else { Vec::new() };
    let mut r = id.to_vec();
    r.extend_from_slice(&[0x85, 0x80 | rcode, 0, 1]); // QR, AA, RD; RA
    r.extend_from_slice(&u16::try_from(records.len()).unwrap_or(0).to_be_bytes());
    r.extend_from_slice(&[0, 0, 0, 0]);
    r.extend_from_slice(question);
    for ip in records {
        r.extend_from_slice(&[0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 5, 0, 4]);
        r.extend_from_slice(&ip.octets());
    }
    Some(r)
}
