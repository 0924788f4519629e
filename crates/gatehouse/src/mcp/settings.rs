//! The validated runtime form of the `mcp:` section, plus the per-replica session cache it owns.
//!
//! Built by `config/validate/mcp.rs`; swapped with the rest of the snapshot on reload. A reload therefore starts a
//! fresh [`McpRuntime`]: stdio children of the old config are killed when the old snapshot is dropped, and sessions
//! continue on the new one through re-initialisation.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use gatehouse_mcp::name::Namespace;

use super::stdio::StdioSession;
use super::token::SessionKey;
use crate::secret::Secret;
use crate::upstream::UpstreamClient;

/// The MCP gateway's settings.
#[derive(Debug)]
pub struct McpSettings {
    /// Seals and opens session tokens.
    pub key: SessionKey,
    /// Whether the key was configured (false: random per process).
    pub key_configured: bool,
    /// How names are exposed.
    pub ns: Namespace,
    /// Upstreams in config order (index = namespace index).
    pub upstreams: Vec<Arc<UpstreamDef>>,
    /// Largest client message.
    pub max_message_bytes: usize,
    /// Allowed `Origin` values besides loopback ones.
    pub allowed_origins: Vec<String>,
    /// Allowed `Host` values; empty = any.
    pub allowed_hosts: Vec<String>,
    /// Longest wait for an upstream.
    pub request_timeout: Duration,
    /// Most pipes (stdio children, legacy SSE connections) per upstream on this replica.
    pub max_pipes_per_upstream: usize,
    /// Bounds on upstream sessions held for stateless clients.
    pub stateless: StatelessBounds,
    /// Caller authentication; `None` = everyone is `anonymous`.
    pub auth: Option<McpAuth>,
    /// Authorization rules.
    pub policy: super::policy::Policy,
    /// Per-caller rate limit.
    pub rate_limit: Option<super::policy::RateLimit>,
    /// Per-replica caches.
    pub runtime: McpRuntime,
}

/// Authentication of `/mcp` and its protected-resource metadata.
#[derive(Debug)]
pub struct McpAuth {
    /// The validator.
    pub jwt: crate::auth::JwtAuthenticator,
    /// The metadata URL announced in `WWW-Authenticate` (path-inserted form).
    pub metadata_url: String,
    /// The RFC 9728 metadata document, serialized once.
    pub metadata: String,
}

/// One upstream.
#[derive(Debug)]
pub struct UpstreamDef {
    /// Its name (the prefix).
    pub name: String,
    /// How it is reached.
    pub transport: Transport,
}

/// How an upstream is reached.
#[derive(Debug)]
pub enum Transport {
    /// Streamable HTTP.
    Http {
        /// Endpoint URL.
        url: http::Uri,
        /// Static headers (values are secrets, resolved per request).
        headers: Vec<(http::HeaderName, Arc<Secret>)>,
        /// Pooled client (boxed: it is large next to the stdio variant).
        client: Box<UpstreamClient>,
    },
    /// A legacy HTTP+SSE server (2024-11-05): one SSE connection per client session.
    LegacySse {
        /// The SSE URL (e.g. `http://host:3001/sse`).
        url: http::Uri,
        /// Static headers on the GET and every POST.
        headers: Vec<(http::HeaderName, Arc<Secret>)>,
        /// Pooled client (boxed like the HTTP one).
        client: Box<UpstreamClient>,
    },
    /// A stdio child process per client session.
    Stdio {
        /// Program.
        program: String,
        /// Arguments.
        args: Vec<String>,
        /// Environment (besides `PATH` and `HOME`).
        env: Vec<(String, String)>,
    },
}

/// What this replica remembers about sessions: only what can be rebuilt from the token.
#[derive(Debug, Default)]
pub struct McpRuntime {
    /// Upstream sessions re-created on this replica, by (session id, upstream): `(upstream session, protocol)`.
    pub overlay: Mutex<HashMap<SessionKeyPair, (Option<String>, String)>>,
    /// stdio children, by (session id, upstream).
    pub children: Mutex<HashMap<(String, String), Arc<StdioSession>>>,
    /// Restart backoff per stdio upstream: consecutive failures and the earliest next attempt.
    pub backoff: Mutex<HashMap<String, (u32, Instant)>>,
    /// Upstream sessions held for stateless (2026-07-28) clients.
    pub modern: super::modern::ModernSessions,
    /// Stateless clients' calls waiting for their `input_required` retry.
    pub parked: super::modern::ParkedCalls,
}

/// Bounds on the upstream sessions a replica holds for stateless (2026-07-28) clients: sets beyond `max` or unused for
/// `idle_ttl` are ended upstream, so a stream of distinct callers cannot pile up sessions on the upstreams.
#[derive(Debug, Clone, Copy)]
pub struct StatelessBounds {
    /// Most (principal, capabilities) keys held at once.
    pub max: usize,
    /// Longest idle time before a key's upstream sessions are ended.
    pub idle_ttl: Duration,
    /// How long a call that answered `input_required` waits for the client's retry.
    pub input_timeout: Duration,
    /// Most calls waiting for a retry on one replica.
    pub max_parked: usize,
}

impl Default for StatelessBounds {
    fn default() -> Self {
        Self {
            max: 1024,
            idle_ttl: Duration::from_secs(600),
            input_timeout: Duration::from_secs(60),
            max_parked: 256,
        }
    }
}

/// (client session id, upstream name).
pub type SessionKeyPair = (String, String);

/// Most cached overlay entries and stdio children per replica; beyond this the oldest are dropped / refused.
pub const MAX_CACHED_SESSIONS: usize = 4096;
/// Default most stdio children / legacy SSE connections per upstream on one replica.
pub const MAX_CHILDREN_PER_UPSTREAM: usize = 64;

// === impl McpSettings ===

impl McpSettings {
    /// Per configured upstream, the sessions whose state lives on this replica (stdio children and HTTP sessions
    /// re-created here); `/status` and `gatehouse_mcp_local_sessions` show it.
    #[must_use]
    pub fn local_sessions(&self) -> Vec<(String, usize)> {
        let mut counts: Vec<(String, usize)> = self.upstreams.iter().map(|u| (u.name.clone(), 0)).collect();
        let mut bump = |name: &str| {
            if let Some(c) = counts.iter_mut().find(|(n, _)| n == name) {
                c.1 += 1;
            }
        };
        if let Ok(o) = self.runtime.overlay.lock() {
            o.keys().for_each(|(_, up)| bump(up));
        }
        if let Ok(c) = self.runtime.children.lock() {
            c.keys().for_each(|(_, up)| bump(up));
        }
        counts
    }
}

// === impl McpRuntime ===

impl McpRuntime {
    /// Forgets everything about a session (DELETE), returning its stdio children so the caller can stop them.
    pub fn forget(&self, sid: &str) -> Vec<Arc<StdioSession>> {
        if let Ok(mut o) = self.overlay.lock() {
            o.retain(|(s, _), _| s != sid);
        }
        let mut out = Vec::new();
        if let Ok(mut c) = self.children.lock() {
            let keys: Vec<_> = c.keys().filter(|(s, _)| s == sid).cloned().collect();
            for k in keys {
                if let Some(child) = c.remove(&k) {
                    out.push(child);
                }
            }
        }
        out
    }

    /// Makes room for one more pipe of `target`: below `max` there is room; at `max`, the least recently used idle
    /// pipe (no call in progress) is stopped — its session re-creates it on its next request. False when every pipe
    /// is busy.
    pub fn make_room(&self, target: &str, max: usize) -> bool {
        let Ok(mut children) = self.children.lock() else {
            return false;
        };
        children.retain(|_, c| c.is_alive());
        let mine: Vec<_> = children.iter().filter(|((_, t), _)| t == target).collect();
        if mine.len() < max {
            return true;
        }
        let victim = mine
            .iter()
            .filter(|(_, c)| c.in_flight() == 0)
            .min_by_key(|(_, c)| c.last_used())
            .map(|(k, _)| (*k).clone());
        match victim {
            Some(key) => {
                if let Some(child) = children.remove(&key) {
                    tracing::info!(upstream = target, session = %key.0, "idle MCP pipe stopped to make room");
                    child.stop();
                }
                true
            }
            None => false,
        }
    }

    /// The upstream session this replica re-created, if any.
    #[must_use]
    pub fn overlay(&self, sid: &str, target: &str) -> Option<(Option<String>, String)> {
        self.overlay
            .lock()
            .ok()?
            .get(&(sid.to_string(), target.to_string()))
            .cloned()
    }

    /// Remembers a re-created upstream session.
    pub fn set_overlay(&self, sid: &str, target: &str, session: Option<String>, protocol: String) {
        if let Ok(mut o) = self.overlay.lock() {
            if o.len() >= MAX_CACHED_SESSIONS {
                o.clear();
            }
            o.insert((sid.to_string(), target.to_string()), (session, protocol));
        }
    }

    /// Whether a new stdio child of `target` may be started now (restart backoff).
    #[must_use]
    pub fn may_spawn(&self, target: &str, now: Instant) -> bool {
        self.backoff
            .lock()
            .ok()
            .and_then(|b| b.get(target).map(|(_, next)| now >= *next))
            .unwrap_or(true)
    }

    /// Records a failed start or a death of a pipe (stdio child, legacy SSE stream): the first restart is immediate,
    /// consecutive failures then wait 0.5 s, 1 s, 2 s … ≤ 30 s.
    pub fn spawn_failed(&self, target: &str, now: Instant) {
        if let Ok(mut b) = self.backoff.lock() {
            let e = b.entry(target.to_string()).or_insert((0, now));
            e.0 = e.0.saturating_add(1);
            e.1 = now + backoff_delay(e.0);
        }
    }

    /// Records a successful start.
    pub fn spawn_succeeded(&self, target: &str) {
        if let Ok(mut b) = self.backoff.lock() {
            b.remove(target);
        }
    }
}

/// The restart delay after `failures` consecutive failures (none after the first).
#[must_use]
pub fn backoff_delay(failures: u32) -> Duration {
    if failures <= 1 {
        return Duration::ZERO;
    }
    let ms = 500u64.saturating_mul(1u64 << (failures - 2).min(6));
    Duration::from_millis(ms.min(30_000))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_caps() {
        assert_eq!(backoff_delay(1), Duration::ZERO);
        assert_eq!(backoff_delay(2), Duration::from_millis(500));
        assert_eq!(backoff_delay(3), Duration::from_secs(1));
        assert_eq!(backoff_delay(4), Duration::from_secs(2));
        assert_eq!(backoff_delay(40), Duration::from_secs(30));
    }

    #[test]
    fn spawn_backoff_window() {
        let rt = McpRuntime::default();
        let t0 = Instant::now();
        assert!(rt.may_spawn("a", t0));
        rt.spawn_failed("a", t0);
        assert!(rt.may_spawn("a", t0), "the first restart is immediate");
        rt.spawn_failed("a", t0);
        assert!(!rt.may_spawn("a", t0 + Duration::from_millis(100)));
        assert!(rt.may_spawn("a", t0 + Duration::from_millis(500)));
        rt.spawn_failed("a", t0);
        assert!(!rt.may_spawn("a", t0 + Duration::from_millis(900)));
        assert!(rt.may_spawn("b", t0));
        rt.spawn_succeeded("a");
        assert!(rt.may_spawn("a", t0));
    }
}
