//! Fetching and caching an identity provider's signing keys (JWKS), directly or through OIDC discovery.
//!
//! Keys are fetched on first use, reused for `ttl`, and refetched early when a token names an unknown `kid` (key
//! rotation) — at most once per `refetch_interval`, so forged kids cannot turn the gateway into a load generator
//! against the IdP. A failed fetch keeps the cached keys and is retried no more often than that interval either.
//! Documents are bounded in size and time. SSRF guard: key URLs must be `https://` (or `http://` to a loopback host
//! for development, or anywhere with `allow_insecure_http`), and a `jwks_uri` learnt from discovery must not point
//! at a loopback, private or link-local address literal unless the issuer itself is such a host.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use jsonwebtoken::jwk::{Jwk, JwkSet};

use super::AuthError;
use crate::upstream::UpstreamClient;

/// Where keys come from.
#[derive(Debug, Clone)]
pub enum KeySource {
    /// A JWKS URL.
    Url(http::Uri),
    /// OIDC discovery from the issuer.
    Discovery(String),
}

/// Cache settings.
#[derive(Debug, Clone, Copy)]
pub struct CachePolicy {
    /// Reuse fetched keys this long.
    pub ttl: Duration,
    /// Shortest interval between refetches for unknown kids.
    pub refetch_interval: Duration,
    /// Largest document.
    pub max_bytes: usize,
    /// Allow `http://` to non-loopback hosts.
    pub allow_insecure_http: bool,
}

/// The cached keys of one issuer.
pub struct JwksCache {
    source: KeySource,
    policy: CachePolicy,
    client: UpstreamClient,
    state: tokio::sync::Mutex<State>,
}

#[derive(Default)]
struct State {
    by_kid: HashMap<String, Jwk>,
    without_kid: Vec<Jwk>,
    fetched: Option<Instant>,
    last_attempt: Option<Instant>,
    last_kid_refetch: Option<Instant>,
    jwks_url: Option<http::Uri>,
}

impl std::fmt::Debug for JwksCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwksCache")
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

/// Time allowed for one key or discovery fetch.
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);

// === impl JwksCache ===

impl JwksCache {
    /// A cache that fetches nothing until first used.
    #[must_use]
    pub fn new(source: KeySource, policy: CachePolicy, client: UpstreamClient) -> Self {
        Self {
            source,
            policy,
            client,
            state: tokio::sync::Mutex::new(State::default()),
        }
    }

    /// The key for `kid` (or, without a kid, the candidate keys), fetching or refetching as the policy allows.
    pub async fn keys_for(&self, kid: Option<&str>) -> Result<Vec<Jwk>, AuthError> {
        let mut st = self.state.lock().await;
        let now = Instant::now();
        let stale = st.fetched.is_none_or(|t| now.duration_since(t) >= self.policy.ttl);
        if stale && self.may_attempt(&st, now) {
            self.refresh(&mut st, now).await;
        }
        if st.fetched.is_none() {
            return Err(AuthError::KeysUnavailable);
        }
        if let Some(found) = lookup(&st, kid) {
            return Ok(found);
        }
        let kid_refetch_due = st
            .last_kid_refetch
            .is_none_or(|t| now.duration_since(t) >= self.policy.refetch_interval);
        if kid_refetch_due {
            st.last_kid_refetch = Some(now);
            tracing::info!(kid, "unknown JWT kid; refetching the signing keys");
            self.refresh(&mut st, now).await;
            if let Some(found) = lookup(&st, kid) {
                return Ok(found);
            }
        }
        Err(AuthError::Invalid("unknown_kid"))
    }

    /// A failed fetch is not retried more often than the refetch interval either (an IdP outage must not be hammered).
    fn may_attempt(&self, st: &State, now: Instant) -> bool {
        st.last_attempt
            .is_none_or(|t| now.duration_since(t) >= self.policy.refetch_interval)
    }

    async fn refresh(&self, st: &mut State, now: Instant) {
        st.last_attempt = Some(now);
        match self.fetch(st).await {
            Ok(set) => {
                st.by_kid.clear();
                st.without_kid.clear();
                for k in set.keys {
                    match k.common.key_id.clone() {
                        Some(kid) => {
                            st.by_kid.insert(kid, k);
                        }
                        None => st.without_kid.push(k),
                    }
                }
                st.fetched = Some(now);
                tracing::info!(
                    keys = st.by_kid.len() + st.without_kid.len(),
                    "JWT signing keys fetched"
                );
            }
            Err(reason) => tracing::warn!(%reason, "cannot fetch JWT signing keys; keeping the cached ones"),
        }
    }

    async fn fetch(&self, st: &mut State) -> Result<JwkSet, String> {
        let url = match (&self.source, &st.jwks_url) {
            (KeySource::Url(u), _) => u.clone(),
            (KeySource::Discovery(_), Some(u)) => u.clone(),
            (KeySource::Discovery(issuer), None) => {
                let u = self.discover(issuer).await?;
                st.jwks_url = Some(u.clone());
                u
            }
        };
        let body = self.get(&url).await?;
        serde_json::from_slice(&body).map_err(|e| format!("JWKS is not a key set: {e}"))
    }

    async fn discover(&self, issuer: &str) -> Result<http::Uri, String> {
        #[derive(serde::Deserialize)]
        struct Discovery {
            issuer: String,
            jwks_uri: String,
        }
        let url: http::Uri = format!("{}/.well-known/openid-configuration", issuer.trim_end_matches('/'))
            .parse()
            .map_err(|_| "issuer is not a URL".to_string())?;
        let body = self.get(&url).await?;
        let doc: Discovery = serde_json::from_slice(&body).map_err(|e| format!("discovery document: {e}"))?;
        if doc.issuer.trim_end_matches('/') != issuer.trim_end_matches('/') {
            return Err("discovery document names another issuer".into());
        }
        let jwks: http::Uri = doc.jwks_uri.parse().map_err(|_| "jwks_uri is not a URL".to_string())?;
        if internal_literal(&jwks) && jwks.host() != url.host() {
            return Err("jwks_uri points at an internal address".into());
        }
        Ok(jwks)
    }

    /// One traced GET (a CLIENT span under the request that needed the keys).
    async fn get(&self, url: &http::Uri) -> Result<Bytes, String> {
        use opentelemetry::KeyValue;
        let mut attrs = vec![
            KeyValue::new("http.request.method", "GET"),
            // Without user info or query: either could carry a credential.
            KeyValue::new(
                "url.full",
                format!(
                    "{}://{}{}{}",
                    url.scheme_str().unwrap_or("https"),
                    url.host().unwrap_or_default(),
                    url.port_u16().map(|p| format!(":{p}")).unwrap_or_default(),
                    url.path()
                ),
            ),
            KeyValue::new("gatehouse.purpose", "jwks"),
        ];
        attrs.extend(crate::trace::server_attrs(&url.to_string()));
        let span = crate::trace::ChildSpan::start(None, "GET", opentelemetry::trace::SpanKind::Client, attrs);
        crate::trace::record_result(&span, self.get_untraced(url).await, "jwks_fetch_failed")
    }

    async fn get_untraced(&self, url: &http::Uri) -> Result<Bytes, String> {
        check_url(url, self.policy.allow_insecure_http)?;
        let req = http::Request::get(url.clone())
            .header(http::header::ACCEPT, "application/json")
            .body(Full::new(Bytes::new()))
            .map_err(|e| e.to_string())?;
        let resp = tokio::time::timeout(FETCH_TIMEOUT, self.client.send(req))
            .await
            .map_err(|_| "timed out".to_string())?
            .map_err(|e| e.to_string())?;
        if !resp.status().is_success() {
            return Err(format!("HTTP {}", resp.status().as_u16()));
        }
        let body = tokio::time::timeout(
            FETCH_TIMEOUT,
            Limited::new(resp.into_body(), self.policy.max_bytes).collect(),
        )
        .await
        .map_err(|_| "timed out".to_string())?
        .map_err(|_| format!("document exceeds {} bytes", self.policy.max_bytes))?;
        Ok(body.to_bytes())
    }
}

fn lookup(st: &State, kid: Option<&str>) -> Option<Vec<Jwk>> {
    match kid {
        Some(k) => st.by_kid.get(k).map(|j| vec![j.clone()]),
        None if !st.without_kid.is_empty() || st.by_kid.len() == 1 => {
            Some(st.without_kid.iter().chain(st.by_kid.values()).cloned().collect())
        }
        None => None,
    }
}

/// The scheme rule of the SSRF guard.
pub fn check_url(url: &http::Uri, allow_insecure_http: bool) -> Result<(), String> {
    match url.scheme_str() {
        Some("https") => Ok(()),
        Some("http") if allow_insecure_http || loopback_host(url) => Ok(()),
        _ => Err(format!("refusing to fetch keys from `{url}`: https is required")),
    }
}

fn loopback_host(url: &http::Uri) -> bool {
    let host = url
        .host()
        .unwrap_or_default()
        .trim_start_matches('[')
        .trim_end_matches(']');
    host == "localhost" || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

fn internal_literal(url: &http::Uri) -> bool {
    let host = url
        .host()
        .unwrap_or_default()
        .trim_start_matches('[')
        .trim_end_matches(']');
    if host == "localhost" {
        return true;
    }
    match host.parse::<IpAddr>() {
        Ok(IpAddr::V4(v4)) => v4.is_loopback() || v4.is_private() || v4.is_link_local() || v4.is_unspecified(),
        Ok(IpAddr::V6(v6)) => {
            v6.is_loopback()
                || v6.is_unspecified()
                || (v6.segments()[0] & 0xfe00) == 0xfc00
                || (v6.segments()[0] & 0xffc0) == 0xfe80
        }
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ssrf_guard() {
        let u = |s: &str| s.parse::<http::Uri>().expect("uri");
        assert!(check_url(&u("https://idp.example/keys"), false).is_ok());
        assert!(check_url(&u("http://127.0.0.1:5556/keys"), false).is_ok());
        assert!(check_url(&u("http://[::1]:5556/keys"), false).is_ok());
        assert!(check_url(&u("http://idp.example/keys"), false).is_err());
        assert!(check_url(&u("http://idp.example/keys"), true).is_ok());
        assert!(check_url(&u("ftp://idp.example/keys"), true).is_err());
        for internal in [
            "http://10.0.0.1/k",
            "https://192.168.1.1/k",
            "https://169.254.169.254/k",
            "https://[fd00::1]/k",
            "https://[fe80::1]/k",
            "http://localhost/k",
        ] {
            assert!(internal_literal(&u(internal)), "{internal}");
        }
        assert!(!internal_literal(&u("https://8.8.8.8/k")));
        assert!(!internal_literal(&u("https://idp.example/k")));
    }
}
