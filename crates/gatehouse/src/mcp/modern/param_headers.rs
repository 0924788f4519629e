//! `Mcp-Param-*` headers of a stateless `tools/call`, checked against the called tool's `x-mcp-header` annotations
//! (`gatehouse_mcp::modern::params`). The schema is the one the gateway exposes for this caller: taken from the
//! key's tools listing, fetched through the gateway's own merged `tools/list` (same names, same authorization) when
//! the key has none or does not know the tool, and kept for the key's lifetime.

use std::collections::HashMap;
use std::sync::Arc;

use gatehouse_mcp::envelope;
use gatehouse_mcp::merge::ListKind;
use gatehouse_mcp::modern::{Rejection, params};
use gatehouse_mcp::session::SessionClaims;
use http::HeaderMap;
use serde_json::value::RawValue;
use serde_json::{Value, json};

use super::super::error::McpFailure;
use super::super::methods::{self, Allow, Answer};
use super::super::settings::McpSettings;
use super::gateway_id;
use super::held::Held;

/// Most `tools/list` pages read to find a tool's schema.
const MAX_PAGES: usize = 16;

/// `Ok(Err(rejection))` when the headers disagree with the body; `Ok(Ok(()))` when they agree or the tool is not
/// known (routing then answers for it).
pub async fn check(
    settings: &McpSettings,
    claims: &SessionClaims,
    held: &Held,
    headers: &HeaderMap,
    params: Option<&RawValue>,
    allow: Allow<'_>,
) -> Result<Result<(), Rejection>, McpFailure> {
    #[derive(serde::Deserialize)]
    struct Call {
        #[serde(default)]
        name: Option<String>,
        #[serde(default)]
        arguments: Option<Value>,
    }
    let Some(call) = params.and_then(|p| serde_json::from_str::<Call>(p.get()).ok()) else {
        return Ok(Ok(()));
    };
    let Some(name) = call.name else { return Ok(Ok(())) };
    let schema = match held.tool_schema(&name) {
        Some(s) => s,
        None => {
            held.remember_schemas(list_schemas(settings, claims, allow).await?);
            match held.tool_schema(&name) {
                Some(s) => s,
                None => return Ok(Ok(())),
            }
        }
    };
    let arguments = call.arguments.unwrap_or_else(|| json!({}));
    let lines = headers.iter().map(|(n, v)| (n.as_str(), v.as_bytes()));
    Ok(params::check(&schema, &arguments, lines))
}

/// Every tool this caller sees, by exposed name, with its input schema.
async fn list_schemas(
    settings: &McpSettings,
    claims: &SessionClaims,
    allow: Allow<'_>,
) -> Result<HashMap<String, Arc<Value>>, McpFailure> {
    #[derive(serde::Deserialize)]
    struct Page {
        #[serde(default)]
        result: Option<Tools>,
    }
    #[derive(serde::Deserialize)]
    struct Tools {
        #[serde(default)]
        tools: Vec<Tool>,
        #[serde(default, rename = "nextCursor")]
        next: Option<String>,
    }
    #[derive(serde::Deserialize)]
    struct Tool {
        name: String,
        #[serde(default, rename = "inputSchema")]
        schema: Value,
    }
    let mut out = HashMap::new();
    let mut cursor: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let id = gateway_id()?;
        let p = envelope::to_raw(&cursor.as_ref().map_or_else(|| json!({}), |c| json!({"cursor": c})))?;
        let Answer::Json { body, .. } = methods::list(settings, claims, ListKind::Tools, &id, Some(&p), allow).await?
        else {
            break;
        };
        let Some(page) = serde_json::from_str::<Page>(&body).ok().and_then(|p| p.result) else {
            break;
        };
        out.extend(page.tools.into_iter().map(|t| (t.name, Arc::new(t.schema))));
        match page.next {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    Ok(out)
}
