//! Task ids (2025-11-25 tasks, SEP-1686) across upstreams: an upstream's task `abc` is `{target}+abc` to the client,
//! so `tasks/get`, `tasks/result` and `tasks/cancel` find their upstream from the id alone (no state) and two
//! upstreams' ids never collide; `Passthrough` leaves ids unchanged. Target names cannot contain `+`, so the first `+`
//! ends the prefix.
//!
//! [`expose_in`] rewrites the places a task id appears in what an upstream sends: a `CreateTaskResult`
//! (`task.taskId`), a task (`taskId`: `tasks/get`, `tasks/cancel`, `notifications/tasks/status`), a list
//! (`tasks[].taskId`) and a related-task reference (`_meta["io.modelcontextprotocol/related-task"].taskId`). Every
//! other field keeps its value.

use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::McpError;
use crate::name::{Mode, Namespace};

/// `_meta` key relating a message to a task.
pub const RELATED_TASK_KEY: &str = "io.modelcontextprotocol/related-task";

/// The id a client sees for task `id` of upstream `target`.
#[must_use]
pub fn expose(ns: &Namespace, target: usize, id: &str) -> Option<String> {
    match ns.mode() {
        Mode::Passthrough => Some(id.to_string()),
        Mode::Prefix => Some(format!("{}+{id}", ns.targets().get(target)?)),
    }
}

/// The owning upstream and the upstream's own id for a task id a client used.
#[must_use]
pub fn resolve<'i>(ns: &Namespace, exposed: &'i str) -> Option<(usize, &'i str)> {
    match ns.mode() {
        Mode::Passthrough => (!exposed.is_empty()).then_some((0, exposed)),
        Mode::Prefix => {
            let (target, rest) = exposed.split_once('+')?;
            let idx = ns.target_index(target)?;
            (!rest.is_empty()).then_some((idx, rest))
        }
    }
}

/// An upstream's result or notification params with every task id it carries exposed. `None` when there is none
/// (the caller keeps the original bytes).
pub fn expose_in(ns: &Namespace, target: usize, value: &RawValue) -> Result<Option<Box<RawValue>>, McpError> {
    if !value.get().contains("taskId") {
        return Ok(None);
    }
    let Ok(mut v) = serde_json::from_str::<Map<String, Value>>(value.get()) else {
        return Ok(None);
    };
    let mut changed = rewrite_id(ns, target, &mut v);
    if let Some(Value::Object(task)) = v.get_mut("task") {
        changed |= rewrite_id(ns, target, task);
    }
    if let Some(Value::Array(tasks)) = v.get_mut("tasks") {
        for t in tasks.iter_mut().filter_map(Value::as_object_mut) {
            changed |= rewrite_id(ns, target, t);
        }
    }
    if let Some(Value::Object(meta)) = v.get_mut("_meta")
        && let Some(Value::Object(related)) = meta.get_mut(RELATED_TASK_KEY)
    {
        changed |= rewrite_id(ns, target, related);
    }
    if !changed {
        return Ok(None);
    }
    serde_json::value::to_raw_value(&v)
        .map(Some)
        .map_err(|e| McpError::InvalidMessage(e.to_string()))
}

/// A server→client request's params with only a related-task reference exposed. A server→client `tasks/get`,
/// `tasks/result`, `tasks/cancel` or `tasks/list` is about a task the *client* runs (a task-augmented sampling or
/// elicitation request), so its `taskId`s are the client's own and must reach it unchanged; only
/// `_meta["io.modelcontextprotocol/related-task"]` names the upstream's task (e.g. an elicitation sent from inside an
/// upstream task). `None` when there is nothing to rewrite.
pub fn expose_related_in(ns: &Namespace, target: usize, value: &RawValue) -> Result<Option<Box<RawValue>>, McpError> {
    if !value.get().contains(RELATED_TASK_KEY) {
        return Ok(None);
    }
    let Ok(mut v) = serde_json::from_str::<Map<String, Value>>(value.get()) else {
        return Ok(None);
    };
    let changed = match v.get_mut("_meta") {
        Some(Value::Object(meta)) => match meta.get_mut(RELATED_TASK_KEY) {
            Some(Value::Object(related)) => rewrite_id(ns, target, related),
            _ => false,
        },
        _ => false,
    };
    if !changed {
        return Ok(None);
    }
    serde_json::value::to_raw_value(&v)
        .map(Some)
        .map_err(|e| McpError::InvalidMessage(e.to_string()))
}

fn rewrite_id(ns: &Namespace, target: usize, obj: &mut Map<String, Value>) -> bool {
    let Some(Value::String(id)) = obj.get_mut("taskId") else {
        return false;
    };
    match expose(ns, target, id) {
        Some(e) => {
            *id = e;
            true
        }
        None => false,
    }
}

#[cfg(test)]
mod tests;
