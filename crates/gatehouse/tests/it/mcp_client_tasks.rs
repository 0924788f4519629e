//! Client-side tasks (2025-11-25) through the gateway: the client's `tasks` capability reaches server-everything
//! (HTTP and stdio), which then offers its `*-async` tools; they send a task-augmented `sampling/createMessage` /
//! `elicitation/create` to the client, poll the client's task with `tasks/get`, and fetch it with `tasks/result` — all
//! on the call's SSE stream. The client (hand-driven here) sees every request with an id naming the upstream and the
//! task id it created unchanged, and its answers reach the asking upstream.

use std::time::Duration;

use serde_json::{Value, json};

use crate::mcp_support::{RawClient, everything};
use crate::support::TestGateway;

const TASK_CAPS: &str = r#"{"sampling": {}, "elicitation": {"form": {}},
    "tasks": {"list": {}, "cancel": {}, "requests": {"sampling": {"createMessage": {}}, "elicitation": {"create": {}}}}}"#;

/// Calls `tool` and plays a client that runs the upstream's request as task `task_id`, answering `final_result`
/// from `tasks/result`. Returns the requests the client saw and the tool's final result.
async fn run_async_tool(
    c: &RawClient,
    tool: &str,
    args: Value,
    task_id: &str,
    final_result: Value,
) -> (Vec<Value>, Value) {
    let body =
        json!({"jsonrpc": "2.0", "id": 100, "method": "tools/call", "params": {"name": tool, "arguments": args}});
    let mut resp = c.request_builder().body(body.to_string()).send().await.expect("send");
    assert_eq!(resp.status(), 200);
    let mut buf = String::new();
    let mut seen = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        while let Some(end) = buf.find("\n\n") {
            let ev: String = buf.drain(..end + 2).collect();
            let data: Vec<&str> = ev
                .lines()
                .filter_map(|l| l.strip_prefix("data:"))
                .map(str::trim_start)
                .collect();
            if data.is_empty() || data.concat().is_empty() {
                continue;
            }
            let msg: Value = serde_json::from_str(&data.join("\n")).expect("event JSON");
            if msg.get("method").is_none() {
                assert_eq!(msg["id"], 100, "{msg}");
                return (seen, msg);
            }
            if msg.get("id").is_none() {
                continue; // a notification
            }
            let now = "2026-11-25T00:00:00Z";
            let task = json!({"taskId": task_id, "status": "completed", "createdAt": now, "lastUpdatedAt": now, "ttl": 300000});
            let result = match msg["method"].as_str() {
                Some("sampling/createMessage" | "elicitation/create") => {
                    json!({"task": {"taskId": task_id, "status": "working", "createdAt": now, "lastUpdatedAt": now, "ttl": 300000, "pollInterval": 100}})
                }
                Some("tasks/get") => task,
                Some("tasks/result") => final_result.clone(),
                other => panic!("unexpected request {other:?}: {msg}"),
            };
            seen.push(msg.clone());
            let answer = c
                .send_raw(json!({"jsonrpc": "2.0", "id": msg["id"], "result": result}).to_string())
                .await;
            assert_eq!(answer.status, 202, "{answer:?}");
        }
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        match tokio::time::timeout(left, resp.chunk()).await {
            Ok(Ok(Some(chunk))) => buf.push_str(&String::from_utf8_lossy(&chunk)),
            other => panic!("the call ended without a result ({other:?}); saw {seen:#?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mcp_client_tasks_reach_upstreams_and_their_polls_reach_the_client() {
    let Some(ev) = everything() else { return };
    let up = ev.start_http(None).await;
    let gw = TestGateway::start(&crate::mcp::config(&up.url(), &ev.stdio_command())).await;
    let mut c = RawClient::new(gw.url("/mcp"));
    c.initialize(serde_json::from_str(TASK_CAPS).expect("caps")).await;
    let names = c.tool_names().await;
    for n in [
        "everything_trigger-sampling-request-async",
        "local_trigger-sampling-request-async",
        "everything_trigger-elicitation-request-async",
    ] {
        assert!(
            names.contains(&n.to_string()),
            "{n} missing from {names:?}: the tasks capability must reach upstreams"
        );
    }

    for (prefix, task_id) in [("everything", "client-task-1"), ("local", "client-task-2")] {
        let sampled = json!({"role": "assistant", "content": {"type": "text", "text": format!("async answer for {prefix}")}, "model": "client-model"});
        let (seen, done) = run_async_tool(
            &c,
            &format!("{prefix}_trigger-sampling-request-async"),
            json!({"prompt": "p", "maxTokens": 5}),
            task_id,
            sampled,
        )
        .await;
        let methods: Vec<&str> = seen.iter().filter_map(|m| m["method"].as_str()).collect();
        assert_eq!(methods.first(), Some(&"sampling/createMessage"), "{seen:#?}");
        assert!(
            seen[0]["params"]["task"]["ttl"].is_number(),
            "the request is task-augmented: {}",
            seen[0]
        );
        assert!(
            methods.contains(&"tasks/get") && methods.last() == Some(&"tasks/result"),
            "{methods:?}"
        );
        for m in &seen[1..] {
            assert_eq!(
                m["params"]["taskId"], task_id,
                "the client's own task id, unchanged: {m}"
            );
        }
        for m in &seen {
            assert!(
                m["id"]
                    .as_str()
                    .is_some_and(|id| id.starts_with(&format!("gh_{prefix}_"))),
                "ids name the upstream: {m}"
            );
        }
        let text = done["result"]["content"][0]["text"].as_str().expect("text");
        assert!(
            text.contains("[COMPLETED]") && text.contains(&format!("async answer for {prefix}")),
            "{text}"
        );
    }

    let (seen, done) = run_async_tool(
        &c,
        "everything_trigger-elicitation-request-async",
        json!({}),
        "client-task-3",
        json!({"action": "accept", "content": {"name": "Lin"}}),
    )
    .await;
    assert_eq!(seen[0]["method"], "elicitation/create");
    assert!(seen[0]["params"]["task"].is_object(), "{}", seen[0]);
    let text = done["result"]["content"]
        .as_array()
        .expect("content")
        .iter()
        .filter_map(|c| c["text"].as_str())
        .collect::<Vec<_>>()
        .join("\n");
    assert!(text.contains("[COMPLETED]") && text.contains("Lin"), "{text}");
}
