//! Resource subscriptions in the session era: `resources/subscribe` and `resources/unsubscribe` are routed by URI to
//! the owning upstream (its own URI), `subscribe` is advertised, and the upstream's `notifications/resources/updated`
//! reach the client's GET stream with the URI in the client's namespace (real server-everything).

use std::time::Duration;

use serde_json::{Value, json};

use crate::mcp_support::{RawClient, everything};
use crate::support::TestGateway;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mcp_resource_subscriptions_are_routed_and_updates_reach_the_get_stream() {
    let Some(ev) = everything() else { return };
    let up = ev.start_http(None).await;
    let gw = TestGateway::start(&crate::mcp::config(&up.url(), &ev.stdio_command())).await;
    let mut c = RawClient::new(gw.url("/mcp"));
    let init = c.initialize(json!({})).await;
    assert_eq!(init.result()["capabilities"]["resources"]["subscribe"], true);

    let mut stream = c
        .http
        .get(&c.url)
        .header("accept", "text/event-stream")
        .header("mcp-session-id", c.session.clone().expect("session"))
        .header("mcp-protocol-version", "2025-11-25")
        .send()
        .await
        .expect("GET");
    assert_eq!(stream.status(), 200);

    let uri = "everything+demo://resource/static/document/architecture.md";
    let sub = c.call("resources/subscribe", json!({"uri": uri})).await;
    assert_eq!(sub.result(), &json!({}), "{sub:?}");
    let unknown = c.call("resources/subscribe", json!({"uri": "nobody+x://y"})).await;
    assert_eq!(
        unknown.last()["error"]["data"]["code"],
        "mcp_unknown_name",
        "{unknown:?}"
    );
    let on = c
        .call(
            "tools/call",
            json!({"name": "everything_toggle-subscriber-updates", "arguments": {}}),
        )
        .await;
    assert_eq!(on.status, 200);

    let mut buf = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    let update = 'found: loop {
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
            if msg["method"] == "notifications/resources/updated" {
                break 'found msg;
            }
        }
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        match tokio::time::timeout(left, stream.chunk()).await {
            Ok(Ok(Some(chunk))) => buf.push_str(&String::from_utf8_lossy(&chunk)),
            other => panic!("no resources/updated on the GET stream ({other:?})"),
        }
    };
    assert_eq!(update["params"]["uri"], uri, "{update}");

    let unsub = c.call("resources/unsubscribe", json!({"uri": uri})).await;
    assert_eq!(unsub.result(), &json!({}), "{unsub:?}");
}
