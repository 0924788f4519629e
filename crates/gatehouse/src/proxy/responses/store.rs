//! The response store as the translated `/v1/responses` path uses it: whose conversation it is, the stored
//! history a `previous_response_id` names, and the conversation kept once a response is finished.

use std::sync::Arc;

use serde_json::Value;
use tokio::time::Instant;

use super::super::ClientRequest;
use crate::context::RequestContext;
use crate::error::GatewayError;
use crate::response_store::{ResponseStore, ResponseStoreSettings};

/// A conversation to store once the response it ends with is known.
pub(in crate::proxy) struct Pending {
    store: Arc<ResponseStore>,
    settings: ResponseStoreSettings,
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
pub(super) fn history(
    req: &ClientRequest<'_>,
    owner: &str,
    settings: &ResponseStoreSettings,
) -> Result<Option<(String, Vec<Value>)>, GatewayError> {
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
    let stored = req
        .responses
        .get(&id, owner, Instant::now(), settings)
        .ok_or_else(|| GatewayError::ResponseNotFound(id.chars().take(64).collect()))?;
    let items: Vec<Value> = serde_json::from_slice(&stored).map_err(|_| GatewayError::ResponseNotFound(id.clone()))?;
    Ok(Some((id, items)))
}

// === impl Pending ===

impl Pending {
    /// The conversation so far: `history` then the request's input items.
    pub(super) fn new(
        req: &ClientRequest<'_>,
        id: &str,
        owner: String,
        history: Option<Vec<Value>>,
        settings: ResponseStoreSettings,
    ) -> Result<Self, GatewayError> {
        let mut prefix = history.unwrap_or_default();
        prefix.extend(gatehouse_llm::responses::input_items(req.bytes)?);
        Ok(Self {
            store: req.responses.clone(),
            settings,
            id: id.to_string(),
            owner,
            prefix,
        })
    }

    /// Stores the conversation ended by `output`.
    pub(super) fn finish(self, output: Vec<Value>, ctx: &RequestContext) {
        let mut items = self.prefix;
        items.extend(output);
        match serde_json::to_vec(&items) {
            Ok(bytes) => {
                self.store
                    .put(&self.id, &self.owner, bytes.into(), Instant::now(), &self.settings);
            }
            Err(e) => tracing::warn!(request_id = %ctx.id, error = %e, "response not stored"),
        }
    }
}
