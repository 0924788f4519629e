//! `subscriptions/listen` (2026-07-28) with no I/O: the client's filter, the acknowledgement, and the subscription
//! tag on every notification of the stream.
//!
//! A stateless client opts in to change notifications by sending `subscriptions/listen` with
//! `params.notifications = {toolsListChanged?, promptsListChanged?, resourcesListChanged?, resourceSubscriptions?}`;
//! the answer is a long-lived SSE stream whose first message is `notifications/subscriptions/acknowledged` carrying
//! the subset the server honours, and every message carries the listen request's id in
//! `_meta["io.modelcontextprotocol/subscriptionId"]`. The server must not send kinds the client did not ask for.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::McpError;
use crate::envelope::{notification, to_raw};

/// `_meta` key naming the subscription a notification belongs to (the listen request's JSON-RPC id).
pub const SUBSCRIPTION_ID_KEY: &str = "io.modelcontextprotocol/subscriptionId";
/// The acknowledgement, first on the stream.
pub const ACKNOWLEDGED: &str = "notifications/subscriptions/acknowledged";
/// Most resource URIs one listen may subscribe to.
pub const MAX_RESOURCE_SUBSCRIPTIONS: usize = 64;

/// What a listen asks for (or, as the acknowledgement's `notifications`, what is honoured).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// `toolsListChanged`.
    pub tools: bool,
    /// `promptsListChanged`.
    pub prompts: bool,
    /// `resourcesListChanged`.
    pub resources: bool,
    /// `resourceSubscriptions`: resource URIs whose `notifications/resources/updated` are wanted.
    pub uris: Vec<String>,
}

// === impl Filter ===

impl Filter {
    /// Reads `params.notifications` (required, an object). Flags are booleans (absent or `null` = false);
    /// `resourceSubscriptions` is an array of at most [`MAX_RESOURCE_SUBSCRIPTIONS`] strings (duplicates dropped).
    /// Unknown keys (extensions) are ignored: they are not honoured, so they are left out of the acknowledgement.
    pub fn read(params: Option<&RawValue>) -> Result<Self, McpError> {
        #[derive(Deserialize)]
        struct P<'a> {
            #[serde(borrow)]
            notifications: Option<&'a RawValue>,
        }
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct N {
            #[serde(default)]
            tools_list_changed: Option<bool>,
            #[serde(default)]
            prompts_list_changed: Option<bool>,
            #[serde(default)]
            resources_list_changed: Option<bool>,
            #[serde(default)]
            resource_subscriptions: Option<Vec<String>>,
        }
        let bad = |m: &str| McpError::InvalidParams(m.to_string());
        let p: P<'_> = match params {
            Some(p) => serde_json::from_str(p.get()).map_err(|_| bad("params must be an object"))?,
            None => return Err(bad("`notifications` is required")),
        };
        let n = p.notifications.ok_or_else(|| bad("`notifications` is required"))?;
        let n: N = serde_json::from_str(n.get()).map_err(|_| {
            bad("`notifications` must be an object of boolean flags and a `resourceSubscriptions` array of strings")
        })?;
        let mut uris = n.resource_subscriptions.unwrap_or_default();
        if uris.len() > MAX_RESOURCE_SUBSCRIPTIONS {
            return Err(bad(&format!(
                "`resourceSubscriptions` may list at most {MAX_RESOURCE_SUBSCRIPTIONS} URIs"
            )));
        }
        let mut seen = std::collections::BTreeSet::new();
        uris.retain(|u| seen.insert(u.clone()));
        Ok(Self {
            tools: n.tools_list_changed == Some(true),
            prompts: n.prompts_list_changed == Some(true),
            resources: n.resources_list_changed == Some(true),
            uris,
        })
    }

    /// The wire form: only `true` flags, `resourceSubscriptions` only when not empty.
    #[must_use]
    pub fn to_value(&self) -> Value {
        let mut m = Map::new();
        for (flag, key) in [
            (self.tools, "toolsListChanged"),
            (self.prompts, "promptsListChanged"),
            (self.resources, "resourcesListChanged"),
        ] {
            if flag {
                m.insert(key.into(), Value::Bool(true));
            }
        }
        if !self.uris.is_empty() {
            m.insert(
                "resourceSubscriptions".into(),
                Value::Array(self.uris.iter().cloned().map(Value::String).collect()),
            );
        }
        Value::Object(m)
    }

    /// Whether a notification (`uri` for `notifications/resources/updated`, in the client's namespace) is wanted.
    #[must_use]
    pub fn wants(&self, method: &str, uri: Option<&str>) -> bool {
        match method {
            "notifications/tools/list_changed" => self.tools,
            "notifications/prompts/list_changed" => self.prompts,
            "notifications/resources/list_changed" => self.resources,
            "notifications/resources/updated" => uri.is_some_and(|u| self.uris.iter().any(|s| s == u)),
            _ => false,
        }
    }
}

/// The acknowledgement: `notifications/subscriptions/acknowledged` with the honoured filter, tagged with `id`.
pub fn acknowledged(honoured: &Filter, id: &RawValue) -> Result<String, McpError> {
    let params = serde_json::json!({ "notifications": honoured.to_value() });
    let params = to_raw(&params)?;
    tag(ACKNOWLEDGED, Some(&params), id)
}

/// A notification of the stream: `params._meta[subscriptionId] = id` added (other params and `_meta` keys keep their
/// bytes; an upstream's own subscription id is replaced).
pub fn tag(method: &str, params: Option<&RawValue>, id: &RawValue) -> Result<String, McpError> {
    let mut map: BTreeMap<Cow<'_, str>, &RawValue> = match params {
        Some(p) => {
            serde_json::from_str(p.get()).map_err(|_| McpError::InvalidParams("params must be an object".into()))?
        }
        None => BTreeMap::new(),
    };
    let mut meta: BTreeMap<Cow<'_, str>, &RawValue> = match map.get("_meta") {
        Some(m) => {
            serde_json::from_str(m.get()).map_err(|_| McpError::InvalidParams("_meta must be an object".into()))?
        }
        None => BTreeMap::new(),
    };
    meta.insert(Cow::Borrowed(SUBSCRIPTION_ID_KEY), id);
    let meta = to_raw(&meta)?;
    map.insert(Cow::Borrowed("_meta"), &meta);
    Ok(notification(method, Some(&to_raw(&map)?)))
}

#[cfg(test)]
mod tests;
