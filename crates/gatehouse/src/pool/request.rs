//! What a request asks of its target: the upstream model (a weighted split picks one per request) and, for a
//! `vllm_pool`, the replica — with its lease stored in the request context and the optional replica header.

use std::borrow::Cow;
use std::hash::{BuildHasher, RandomState};

use gatehouse_llm::RequestBody;
use http::{HeaderMap, HeaderName, HeaderValue};

use crate::context::RequestContext;
use crate::error::GatewayError;
use crate::snapshot::Provider;

// === impl Target ===

impl crate::snapshot::Target {
    /// The upstream model for one request: the target's, or a weighted pick of its split (all weights 0 → uniform).
    #[must_use]
    pub fn pick_model(&self) -> &str {
        if self.split.is_empty() {
            return &self.upstream_model;
        }
        let total: u64 = self.split.iter().map(|(_, w)| u64::from(*w)).sum();
        let r = RandomState::new().hash_one(self.split.len());
        if total == 0 {
            let i = usize::try_from(r % self.split.len() as u64).unwrap_or(0);
            return self.split.get(i).map_or(&self.upstream_model, |(m, _)| m);
        }
        let mut x = r % total;
        for (m, w) in &self.split {
            if x < u64::from(*w) {
                return m;
            }
            x -= u64::from(*w);
        }
        &self.upstream_model
    }
}

// === impl Provider ===

impl Provider {
    /// The endpoint for this request: the pool's pick for a `vllm_pool` (the lease goes into `ctx`, the optional
    /// replica header into `headers`), the provider's only URL otherwise.
    ///
    /// # Errors
    ///
    /// [`GatewayError::Shed`] when a saturated pool sheds the request.
    pub fn pick_endpoint(
        &self,
        client_headers: &HeaderMap,
        parsed: &RequestBody<'_>,
        upstream_model: &str,
        ctx: &mut RequestContext,
        headers: &mut Vec<(HeaderName, HeaderValue)>,
    ) -> Result<Cow<'_, str>, GatewayError> {
        let Some(pool) = &self.pool else {
            return Ok(Cow::Borrowed(self.next_endpoint()));
        };
        // The bytes GIE hashes: chat → `messages` JSON, completions → `prompt`, embeddings → `input`.
        let prompt = ["messages", "prompt", "input"]
            .iter()
            .find_map(|k| parsed.get(k))
            .map_or(&b""[..], |raw| raw.get().as_bytes());
        let (url, lease) = pool.pick(upstream_model, prompt, pool.priority(client_headers))?;
        if let Some(name) = &pool.settings.replica_header
            && let Ok(v) = HeaderValue::from_str(lease.replica())
        {
            headers.push((name.clone(), v));
        }
        ctx.pool_lease = Some(lease);
        Ok(Cow::Owned(url))
    }
}
