//! Tasks (2025-11-25, SEP-1686) across upstreams: a task-augmented `tools/call` is routed like any call and its
//! `CreateTaskResult` comes back with the task id namespaced (`{upstream}+{id}`, `gatehouse_mcp::task`); `tasks/get`,
//! `tasks/result` and `tasks/cancel` are routed by that id to the upstream that owns the task, with its own id;
//! `tasks/list` asks every upstream and merges, with a composite cursor like the other lists. Status notifications and
//! related-task references are mapped by the relay (`Mapper`). The stateless era has no tasks (they left the core
//! protocol in 2026-07-28).

use futures_util::future::join_all;
use gatehouse_mcp::cursor::Cursor;
use gatehouse_mcp::envelope::{self, Message, Params};
use gatehouse_mcp::session::SessionClaims;
use gatehouse_mcp::task;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::error::McpFailure;
use super::methods::{Answer, Mapper};
use super::settings::McpSettings;
use super::upstream;

/// `tasks/get`, `tasks/result`, `tasks/cancel`: to the upstream owning the task, with the upstream's own id. Returns
/// the answer and the upstream's name.
pub async fn routed(
    settings: &McpSettings,
    claims: &SessionClaims,
    method: &str,
    id: &RawValue,
    params: Option<&RawValue>,
) -> Result<(Answer, String), McpFailure> {
    #[derive(serde::Deserialize)]
    struct P {
        #[serde(rename = "taskId")]
        task_id: String,
    }
    let bad = || McpFailure::from(gatehouse_mcp::McpError::InvalidParams("`taskId` is required".into()));
    let params = params.ok_or_else(bad)?;
    let exposed = serde_json::from_str::<P>(params.get()).map_err(|_| bad())?.task_id;
    let (idx, original) =
        task::resolve(&settings.ns, &exposed).ok_or_else(|| gatehouse_mcp::McpError::UnknownName {
            kind: "task",
            name: exposed.clone(),
        })?;
    let rewritten = envelope::replace_param(params, "taskId", original)?;
    let rx = upstream::request(settings, claims, idx, id, method, Some(&rewritten)).await?;
    let target = settings.upstreams.get(idx).map_or("?", |u| u.name.as_str()).to_string();
    Ok((
        Answer::Stream {
            rx,
            mapper: Mapper {
                target: idx,
                method: method.to_string(),
                client_id: None,
            },
        },
        target,
    ))
}

/// `tasks/list`: every upstream's tasks (ids namespaced), one merged page; upstreams without tasks (an error answer)
/// are left out. The `nextCursor` carries each upstream's own cursor, so a next page asks exactly those upstreams.
pub async fn list(
    settings: &McpSettings,
    claims: &SessionClaims,
    id: &RawValue,
    params: Option<&RawValue>,
) -> Result<Answer, McpFailure> {
    let p = Params::read(params)?;
    let wanted: Vec<(usize, Option<String>)> = match p.cursor.as_deref() {
        Some(c) => Cursor::decode(c)?
            .0
            .into_iter()
            .map(|(t, c)| {
                settings
                    .ns
                    .target_index(&t)
                    .map(|i| (i, Some(c)))
                    .ok_or(gatehouse_mcp::McpError::InvalidCursor)
            })
            .collect::<Result<_, _>>()?,
        None => (0..settings.upstreams.len()).map(|i| (i, None)).collect(),
    };
    let calls = wanted.iter().map(|(idx, cursor)| async move {
        let params = match cursor {
            Some(c) => Some(envelope::to_raw(&serde_json::json!({ "cursor": c }))?),
            None => None,
        };
        let name = settings.upstreams.get(*idx).map_or("?", |u| u.name.as_str());
        let rx = upstream::request(settings, claims, *idx, id, "tasks/list", params.as_deref()).await?;
        let msg = upstream::final_response(name, rx, settings.request_timeout).await?;
        Ok::<_, McpFailure>((*idx, msg))
    });
    let mut tasks = Vec::new();
    let mut next = Cursor::default();
    for res in join_all(calls).await {
        let (idx, body) = match res {
            Ok(b) => b,
            Err(e) => {
                tracing::warn!(error = %e, "MCP upstream left out of tasks/list");
                continue;
            }
        };
        let Ok(Message::Response {
            outcome: Ok(result), ..
        }) = envelope::parse_one(&body)
        else {
            continue;
        };
        let exposed = task::expose_in(&settings.ns, idx, result)?;
        let page: Map<String, Value> = serde_json::from_str(exposed.as_deref().unwrap_or(result).get())
            .map_err(|e| gatehouse_mcp::McpError::InvalidMessage(e.to_string()))?;
        if let Some(Value::Array(items)) = page.get("tasks") {
            tasks.extend(items.iter().cloned());
        }
        if let (Some(Value::String(c)), Some(up)) = (page.get("nextCursor"), settings.upstreams.get(idx)) {
            next.0.push((up.name.clone(), c.clone()));
        }
    }
    let mut result = Map::new();
    result.insert("tasks".into(), Value::Array(tasks));
    if !next.is_empty() {
        result.insert("nextCursor".into(), Value::String(next.encode()));
    }
    Ok(Answer::Json {
        body: envelope::result(id, &envelope::to_raw(&result)?),
        session: None,
    })
}
