//! Tasks (2025-11-25) through the gateway, against server-everything's `simulate-research-query` (task support
//! `required`) on a Streamable HTTP upstream and a stdio child: task ids come back namespaced by upstream, and
//! `tasks/get`, `tasks/result`, `tasks/cancel` and `tasks/list` reach the upstream that owns each task.

use serde_json::json;

use crate::mcp_support::{RawClient, everything};
use crate::support::TestGateway;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mcp_tasks_are_routed_to_the_upstream_that_owns_them() {
    let Some(ev) = everything() else { return };
    let up = ev.start_http(None).await;
    let gw = TestGateway::start(&crate::mcp::config(&up.url(), &ev.stdio_command())).await;
    let mut c = RawClient::new(gw.url("/mcp"));
    let init = c.initialize(json!({})).await;
    let tasks_cap = &init.result()["capabilities"]["tasks"];
    assert!(tasks_cap["requests"]["tools"]["call"].is_object(), "{tasks_cap}");
    assert!(
        tasks_cap["list"].is_object() && tasks_cap["cancel"].is_object(),
        "{tasks_cap}"
    );
    let names = c.tool_names().await;
    let mut ids = Vec::new();
    for prefix in ["everything", "local"] {
        let tool = format!("{prefix}_simulate-research-query");
        assert!(names.contains(&tool), "{tool} missing from {names:?}");
        let r = c
            .call(
                "tools/call",
                json!({"name": tool, "arguments": {"topic": format!("cats of {prefix}")}, "task": {"ttl": 60000}}),
            )
            .await;
        let task = &r.result()["task"];
        let id = task["taskId"].as_str().expect("taskId").to_string();
        assert!(id.starts_with(&format!("{prefix}+")), "{id}");
        assert!(
            matches!(task["status"].as_str(), Some("working" | "completed")),
            "{task}"
        );
        ids.push((prefix, id));
    }
    let listed = c.call("tasks/list", json!({})).await;
    let listed: Vec<&str> = listed.result()["tasks"]
        .as_array()
        .expect("tasks")
        .iter()
        .filter_map(|t| t["taskId"].as_str())
        .collect();
    for (_, id) in &ids {
        assert!(listed.contains(&id.as_str()), "{id} missing from {listed:?}");
    }
    for (prefix, id) in &ids {
        let got = c.call("tasks/get", json!({"taskId": id})).await;
        assert_eq!(got.result()["taskId"], id.as_str());
        // tasks/result waits for the task (four one-second stages) and answers with the tool's result.
        let res = c.call("tasks/result", json!({"taskId": id})).await;
        let text = res.result()["content"][0]["text"].as_str().expect("text");
        assert!(text.contains(&format!("Research Report: cats of {prefix}")), "{text}");
        if let Some(related) = res.result()["_meta"].get("io.modelcontextprotocol/related-task") {
            assert_eq!(related["taskId"], id.as_str());
        }
        // The upstream's own refusal comes back unchanged.
        let cancel = c.call("tasks/cancel", json!({"taskId": id})).await;
        let err = &cancel.last()["error"];
        assert!(err["message"].as_str().expect("message").contains("terminal"), "{err}");
    }
    // A working task is cancelled at its upstream.
    let r = c
        .call(
            "tools/call",
            json!({"name": "local_simulate-research-query", "arguments": {"topic": "dogs"}, "task": {"ttl": 60000}}),
        )
        .await;
    let id = r.result()["task"]["taskId"].as_str().expect("taskId").to_string();
    let cancelled = c.call("tasks/cancel", json!({"taskId": id})).await;
    assert_eq!(cancelled.result()["taskId"], id.as_str());
    assert_eq!(cancelled.result()["status"], "cancelled");
    let unknown = c.call("tasks/get", json!({"taskId": "nope+123"})).await;
    assert_eq!(unknown.last()["error"]["code"], -32602);
    assert_eq!(unknown.last()["error"]["data"]["code"], "mcp_unknown_name");
    let no_prefix = c.call("tasks/result", json!({"taskId": "123"})).await;
    assert_eq!(no_prefix.last()["error"]["code"], -32602);
}
