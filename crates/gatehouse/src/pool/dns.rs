//! DNS membership: the resolver task of a pool that follows a name (a Kubernetes headless Service), resolving it
//! at activation and then every `refresh_interval`.
//!
//! Without a `nameserver` the system resolver answers (`getaddrinfo`: `/etc/hosts`, search domains, the
//! nameservers of `/etc/resolv.conf` — what a pod expects). With one, A and AAAA queries go straight to it over
//! UDP, again over TCP when a reply is truncated; the wire format is `gatehouse_picker::dns`.
//!
//! A failed resolution — an error, a timeout, or no address at all — changes nothing: the pool keeps its last
//! known replicas (whose own health checks still apply), the failure is logged, counted
//! (`gatehouse_pool_dns_resolutions{result="error"}`) and shown on `/status`. An empty answer is treated as a
//! failure on purpose: a DNS hiccup must not empty a pool that still has live replicas.

use std::collections::BTreeSet;
use std::hash::{BuildHasher, RandomState};
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Weak};
use std::time::Duration;

use gatehouse_picker::dns::{RecordType, encode_query, parse_response};
use serde::Serialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{DnsMembership, Pool, ReplicaAddr};

/// Default period between resolutions: CoreDNS's Kubernetes records live 5 s.
pub const DEFAULT_REFRESH: Duration = Duration::from_secs(5);

/// What the resolutions of a DNS pool have given so far (`/status`).
#[derive(Debug, Clone, Default, Serialize)]
pub struct ResolutionStatus {
    /// Successful resolutions.
    pub resolutions: u64,
    /// Failed resolutions (the replica set was kept).
    pub failures: u64,
    /// Why the last resolution failed, when it did.
    pub last_error: Option<String>,
    /// Addresses of the last successful resolution.
    pub addresses: usize,
}

/// Starts the resolver of `pool`.
pub(super) fn spawn(pool: &Arc<Pool>, d: DnsMembership) {
    tokio::spawn(run(Arc::downgrade(pool), d));
}

async fn run(pool: Weak<Pool>, d: DnsMembership) {
    let seeds = RandomState::new();
    let mut n: u64 = 0;
    loop {
        n += 1;
        let id = u16::try_from(seeds.hash_one(n) & 0xffff).unwrap_or(0);
        let result = match tokio::time::timeout(d.timeout, resolve(&d, id)).await {
            Ok(Ok(addrs)) if addrs.is_empty() => Err("the name has no A or AAAA records".to_string()),
            Ok(r) => r,
            Err(_) => Err(format!("timed out after {} ms", d.timeout.as_millis())),
        };
        let Some(p) = pool.upgrade() else {
            return;
        };
        p.resolved(&d, result);
        drop(p);
        tokio::time::sleep(d.refresh_interval).await;
    }
}

/// The addresses `d` resolves to, sorted and without duplicates.
async fn resolve(d: &DnsMembership, id: u16) -> Result<BTreeSet<IpAddr>, String> {
    match d.nameserver {
        None => tokio::net::lookup_host((d.host.as_str(), d.port))
            .await
            .map(|it| it.map(|a| a.ip()).collect())
            .map_err(|e| format!("lookup failed: {e}")),
        Some(ns) => {
            let mut all = BTreeSet::new();
            for (qtype, qid) in [(RecordType::A, id), (RecordType::Aaaa, id.wrapping_add(1))] {
                all.extend(query(ns, &d.host, qtype, qid).await?);
            }
            Ok(all)
        }
    }
}

/// One query to `ns`: UDP first, TCP when the reply is truncated.
async fn query(ns: SocketAddr, host: &str, qtype: RecordType, id: u16) -> Result<Vec<IpAddr>, String> {
    let msg = encode_query(id, host, qtype).map_err(|e| e.to_string())?;
    let bind: SocketAddr = if ns.is_ipv4() {
        ([0, 0, 0, 0], 0).into()
    } else {
        ([0u16; 8], 0).into()
    };
    let io = |e: std::io::Error| format!("nameserver {ns}: {e}");
    let sock = tokio::net::UdpSocket::bind(bind).await.map_err(io)?;
    sock.connect(ns).await.map_err(io)?;
    sock.send(&msg).await.map_err(io)?;
    let mut buf = vec![0u8; 65_535];
    let n = sock.recv(&mut buf).await.map_err(io)?;
    let answer = parse_response(id, &buf[..n]).map_err(|e| e.to_string())?;
    if !answer.truncated {
        return Ok(answer.addrs);
    }
    let mut tcp = tokio::net::TcpStream::connect(ns).await.map_err(io)?;
    let len = u16::try_from(msg.len()).map_err(|_| "query too long".to_string())?;
    tcp.write_all(&[&len.to_be_bytes()[..], &msg].concat())
        .await
        .map_err(io)?;
    let reply_len = usize::from(tcp.read_u16().await.map_err(io)?);
    buf.truncate(reply_len);
    tcp.read_exact(&mut buf).await.map_err(io)?;
    parse_response(id, &buf).map(|a| a.addrs).map_err(|e| e.to_string())
}

// === impl Pool ===

impl Pool {
    /// Applies one resolution of `d`: the new replica set, or (on failure) nothing but the record of it.
    fn resolved(self: &Arc<Self>, d: &DnsMembership, result: Result<BTreeSet<IpAddr>, String>) {
        let ok = result.is_ok();
        if let Some(t) = self.telemetry.get() {
            t.metrics.pool.resolution(&self.name, ok);
        }
        match result {
            Ok(ips) => {
                let addrs: Vec<ReplicaAddr> = ips
                    .iter()
                    .map(|ip| {
                        let url = format!("http://{}", SocketAddr::new(*ip, d.port));
                        ReplicaAddr {
                            metrics_url: format!("{url}{}", self.settings.metrics_path),
                            url,
                        }
                    })
                    .collect();
                self.apply_resolution(&addrs);
                let mut r = self.resolution_status();
                r.resolutions += 1;
                r.last_error = None;
                r.addresses = addrs.len();
            }
            Err(reason) => {
                tracing::warn!(pool = %self.name, name = %d.target(), reason = %reason, "DNS resolution failed; keeping the last known replicas");
                let mut r = self.resolution_status();
                r.failures += 1;
                r.last_error = Some(reason);
            }
        }
        if let Some(t) = self.telemetry.get() {
            t.metrics.pool.replicas(&self.name, self.lock().members.len());
        }
    }

    pub(super) fn resolution_status(&self) -> std::sync::MutexGuard<'_, ResolutionStatus> {
        self.resolution
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
