//! A tiny authoritative DNS server on loopback UDP for pool-membership tests: it answers every A query with the
//! addresses the test has set (changed at will during the test), AAAA queries with no records, and can be told to
//! fail (SERVFAIL) or to truncate its UDP answers (TC bit, no records) so the client must ask again over TCP, which
//! it also serves on the same port. Written from RFC 1035's layout, independently of gatehouse's own DNS client, and strict: a
//! query that is not a standard single-question query gets FORMERR, and every query is recorded.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, UdpSocket};

/// A running test nameserver.
#[derive(Debug)]
pub struct DnsServer {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    tasks: [tokio::task::JoinHandle<()>; 2],
}

/// What the server answers, and what it was asked.
#[derive(Debug, Default)]
struct State {
    a: Vec<Ipv4Addr>,
    fail: bool,
    truncate: bool,
    queries: Vec<(String, u16)>,
    tcp_queries: usize,
}

// === impl DnsServer ===

impl DnsServer {
    /// Starts a server on `127.0.0.1:0` answering A queries with `a`.
    ///
    /// # Panics
    ///
    /// When the socket cannot be bound (a test setup failure).
    pub async fn start(a: &[Ipv4Addr]) -> Self {
        let (sock, tcp) = loop {
            let sock = UdpSocket::bind("127.0.0.1:0").await.expect("bind the test nameserver");
            let addr = sock.local_addr().expect("nameserver address");
            if let Ok(tcp) = TcpListener::bind(addr).await {
                break (sock, tcp);
            }
        };
        let addr = sock.local_addr().expect("nameserver address");
        let state = Arc::new(Mutex::new(State {
            a: a.to_vec(),
            ..State::default()
        }));
        let tasks = [
            tokio::spawn(serve(sock, state.clone())),
            tokio::spawn(serve_tcp(tcp, state.clone())),
        ];
        Self { addr, state, tasks }
    }

    /// `ip:port` to put in a config's `nameserver`.
    #[must_use]
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Answers A queries with `a` from now on (and stops failing or truncating).
    pub fn set(&self, a: &[Ipv4Addr]) {
        let mut s = self.lock();
        s.a = a.to_vec();
        s.fail = false;
        s.truncate = false;
    }

    /// Answers A queries with `a` over TCP only: UDP answers come back truncated, with no records.
    pub fn set_tcp_only(&self, a: &[Ipv4Addr]) {
        let mut s = self.lock();
        s.a = a.to_vec();
        s.fail = false;
        s.truncate = true;
    }

    /// Queries received over TCP so far.
    #[must_use]
    pub fn tcp_queries(&self) -> usize {
        self.lock().tcp_queries
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
        for t in &self.tasks {
            t.abort();
        }
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
            answer(&buf[..n], &mut s, true)
        };
        if let Some(r) = reply {
            let _ = sock.send_to(&r, peer).await;
        }
    }
}

/// DNS over TCP: each message prefixed by its 2-byte length (RFC 1035 §4.2.2); one query per connection.
async fn serve_tcp(listener: TcpListener, state: Arc<Mutex<State>>) {
    loop {
        let Ok((mut conn, _)) = listener.accept().await else {
            return;
        };
        let state = state.clone();
        tokio::spawn(async move {
            let Ok(len) = conn.read_u16().await else { return };
            let mut q = vec![0u8; usize::from(len)];
            if conn.read_exact(&mut q).await.is_err() {
                return;
            }
            let reply = {
                let mut s = state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                s.tcp_queries += 1;
                answer(&q, &mut s, false)
            };
            if let Some(r) = reply {
                let len = u16::try_from(r.len()).unwrap_or(0).to_be_bytes();
                let _ = conn.write_all(&[&len[..], &r].concat()).await;
            }
        });
    }
}

/// The reply to one query (`None` when it is too short to even carry an id); `udp` replies are truncated when the
/// server is told to.
fn answer(q: &[u8], s: &mut State, udp: bool) -> Option<Vec<u8>> {
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
    let truncated = udp && s.truncate;
    let records: Vec<Ipv4Addr> = if qtype == 1 && !s.fail && !truncated {
        s.a.clone()
    } else {
        Vec::new()
    };
    let mut r = id.to_vec();
    let tc = if truncated { 0x02 } else { 0 };
    r.extend_from_slice(&[0x85 | tc, 0x80 | rcode, 0, 1]); // QR, AA, (TC), RD; RA
    r.extend_from_slice(&u16::try_from(records.len()).unwrap_or(0).to_be_bytes());
    r.extend_from_slice(&[0, 0, 0, 0]);
    r.extend_from_slice(question);
    for ip in records {
        r.extend_from_slice(&[0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 5, 0, 4]);
        r.extend_from_slice(&ip.octets());
    }
    Some(r)
}
