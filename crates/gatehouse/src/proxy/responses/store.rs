//! The response store as the translated `/v1/responses` path uses it: whose conversation it is, the stored
//! history a `previous_response_id` names, and the conversation kept once a response is finished — in this
//! process ([`ResponseStore`]) or, with `responses.store.backend: redis`, in the shared Redis.

use std::sync::Arc;

use bytes::Bytes;
use serde_json::Value;
use tokio::time::Instant;

use super::super::ClientRequest;
use crate::context::RequestContext;
use crate::error::GatewayError;
use crate::policy::RedisBackend;
use crate::response_store::{ResponseStore, ResponseStoreSettings};

/// The store a request reads and writes, with the bounds of its snapshot.
#[derive(Clone)]
pub(in crate::proxy) struct Stores {
    memory: Arc<ResponseStore>,
    /// Set when the backend is Redis (and `redis:` is configured).
    redis: Option<Arc<RedisBackend>>,
    settings: ResponseStoreSettings,
}

/// A conversation to store once the response it ends with is known.
pub(in crate::proxy) struct Pending {
    stores: Stores,
    id: String,
    owner: String,
    /// The stored history (if any) followed by this request's input items.
    prefix: Vec<Value>,
}

/// The principal a stored response belongs to: the authenticated key or token subject, or `anonymous` when the
/// LLM routes are open (then every caller shares one scope: docs/responses.md).
pub(super) fn owner(ctx: &RequestContext) -> String {
    ctx.identity
        .as_deref()
        .map_or_else(|| "anonymous".to_string(), |i| i.name.clone())
}

/// The conversation `previous_response_id` names, for `owner`: `None` without one, a 404 when the store has no
/// such response for this caller (never stored, `store: false`, expired, evicted, or someone else's).
pub(super) async fn history(req: &ClientRequest<'_>, owner: &str) -> Result<Option<Vec<Value>>, GatewayError> {
    let Some(raw) = req.parsed.get("previous_response_id") else {
        return Ok(None);
    };
    let id = match serde_json::from_str::<Option<String>>(raw.get()) {
        Ok(None) => return Ok(None),
        Ok(Some(id)) => id,
        Err(_) => {
            return Err(GatewayError::InvalidRequest(
                "`previous_response_id` must be a string".into(),
            ));
        }
    };
    let not_found = || GatewayError::ResponseNotFound(id.chars().take(64).collect());
    let stored = req.responses.get(&id, owner).await?.ok_or_else(not_found)?;
    let items: Vec<Value> = serde_json::from_slice(&stored).map_err(|_| not_found())?;
    Ok(Some(items))
}

// === impl Stores ===

impl Stores {
    /// The store for one request: Redis when the snapshot says so and `redis:` is configured, else memory.
    pub(in crate::proxy) fn new(
        memory: Arc<ResponseStore>,
        redis: Option<Arc<RedisBackend>>,
        settings: ResponseStoreSettings,
    ) -> Self {
        Self {
            memory,
            redis: redis.filter(|_| settings.redis),
            settings,
        }
    }

    /// The Redis key of `id` for `owner`. Only ids shaped like ours (`resp_` + alphanumerics) are looked up, so
    /// the id part has no `:` and `{id}:{owner}` can never name another owner's entry.
    fn key(id: &str, owner: &str) -> Option<String> {
        let ok =
            id.len() <= 64 && id.starts_with("resp_") && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        ok.then(|| format!("gatehouse:responses:{id}:{owner}"))
    }

    async fn get(&self, id: &str, owner: &str) -> Result<Option<Bytes>, GatewayError> {
        let Some(redis) = &self.redis else {
            return Ok(self.memory.get(id, owner, Instant::now(), &self.settings));
        };
        let Some(key) = Self::key(id, owner) else {
            return Ok(None);
        };
        match redis.limiter.get_bytes(&key).await {
            Ok(v) => Ok(v.map(Bytes::from)),
            Err(e) => {
                tracing::warn!(error = %e, "response store (Redis) unavailable");
                Err(GatewayError::StoreUnavailable)
            }
        }
    }

    async fn put(&self, id: &str, owner: &str, items: Bytes, request_id: &str) {
        if self.settings.max_entries == 0 || items.len() > self.settings.max_bytes {
            return;
        }
        let Some(redis) = &self.redis else {
            self.memory.put(id, owner, items, Instant::now(), &self.settings);
            return;
        };
        let Some(key) = Self::key(id, owner) else { return };
        if let Err(e) = redis.limiter.set_bytes(&key, &items, self.settings.ttl).await {
            tracing::warn!(request_id = %request_id, error = %e, "response not stored: Redis unavailable");
        }
    }
}

// === impl Pending ===

impl Pending {
    /// The conversation so far: `history` then the request's input items.
    pub(super) fn new(
        req: &ClientRequest<'_>,
        id: &str,
        owner: String,
        history: Option<Vec<Value>>,
    ) -> Result<Self, GatewayError> {
        let mut prefix = history.unwrap_or_default();
        prefix.extend(gatehouse_llm::responses::input_items(req.bytes)?);
        Ok(Self {
            stores: req.responses.clone(),
            id: id.to_string(),
            owner,
            prefix,
        })
    }

    /// Stores the conversation ended by a stream's `output`, from inside the stream (no `await` there): at once in
    /// memory, or by a spawned write to Redis that completes on its own.
    pub(super) fn finish_from_stream(self, output: Vec<Value>, request_id: &str) {
        if self.stores.redis.is_none() {
            let mut items = self.prefix;
            items.extend(output);
            if let Ok(bytes) = serde_json::to_vec(&items) {
                let s = &self.stores;
                if s.settings.max_entries > 0 && bytes.len() <= s.settings.max_bytes {
                    s.memory
                        .put(&self.id, &self.owner, bytes.into(), Instant::now(), &s.settings);
                }
            }
            return;
        }
        let request_id = request_id.to_string();
        tokio::spawn(async move { self.finish(output, &request_id).await });
    }

    /// Stores the conversation ended by `output`.
    pub(super) async fn finish(self, output: Vec<Value>, request_id: &str) {
        let mut items = self.prefix;
        items.extend(output);
        match serde_json::to_vec(&items) {
            Ok(bytes) => self.stores.put(&self.id, &self.owner, bytes.into(), request_id).await,
            Err(e) => tracing::warn!(request_id = %request_id, error = %e, "response not stored"),
        }
    }
}
