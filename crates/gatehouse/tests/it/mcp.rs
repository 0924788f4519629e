//! The MCP gateway through the real server, against real `server-everything` upstreams (one Streamable HTTP, one
//! stdio child), driven by a raw wire-level client so statuses, headers and exact messages can be asserted.

use serde_json::json;

use crate::mcp_support::{RawClient, everything};
use crate::support::TestGateway;

pub const KEY: &str = "8f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0";

pub fn config(http_url: &str, stdio_command: &str) -> String {
    format!(
        "mcp:\n  session_key: {{ value: \"{KEY}\" }}\n  upstreams:\n    everything: {{ url: \"{http_url}\" }}\n    local: {{ command: {stdio_command} }}\n"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mcp_lists_and_routes_across_http_and_stdio_upstreams() {
    let Some(ev) = everything() else { return };
    let up = ev.start_http(None).await;
    let gw = TestGateway::start(&config(&up.url(), &ev.stdio_command())).await;
    let mut c = RawClient::new(gw.url("/mcp"));
    let init = c.initialize(json!({})).await;
    let result = init.result();
    assert_eq!(result["protocolVersion"], "2025-11-25");
    assert_eq!(result["serverInfo"]["name"], "gatehouse");
    assert!(result["capabilities"]["tools"].is_object());
    let instructions = result["instructions"].as_str().expect("instructions");
    assert!(instructions.contains("[everything]") && instructions.contains("[local]"));
    // The token is a sealed blob (visible ASCII), not an upstream session id.
    let token = c.session.clone().expect("token");
    assert!(token.len() > 100 && token.bytes().all(|b| (0x21..=0x7e).contains(&b)));

    let names = c.tool_names().await;
    for n in [
        "everything_echo",
        "everything_get-sum",
        "local_echo",
        "local_get-sum",
        "local_trigger-long-running-operation",
    ] {
        assert!(names.contains(&n.to_string()), "{n} missing from {names:?}");
    }
    assert!(
        names
            .iter()
            .all(|n| n.starts_with("everything_") || n.starts_with("local_"))
    );
    // Stripped client capabilities: no sampling-only tools are offered upstream.
    assert!(!names.iter().any(|n| n.ends_with("trigger-sampling-request")));

    let echo = c
        .call(
            "tools/call",
            json!({"name": "everything_echo", "arguments": {"message": "hi"}}),
        )
        .await;
    assert_eq!(echo.status, 200);
    assert_eq!(echo.result()["content"][0]["text"], "Echo: hi");
    assert_eq!(echo.last()["id"], 3, "the client's own id comes back");
    let sum = c
        .call(
            "tools/call",
            json!({"name": "local_get-sum", "arguments": {"a": 2, "b": 3}}),
        )
        .await;
    assert!(
        sum.result()["content"][0]["text"].as_str().expect("text").contains('5'),
        "{:?}",
        sum.last()
    );

    // Prompts and resources, namespaced.
    let prompts = c.call("prompts/list", json!({})).await;
    let pnames: Vec<&str> = prompts.result()["prompts"]
        .as_array()
        .expect("prompts")
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert!(
        pnames.contains(&"everything_simple-prompt") && pnames.contains(&"local_args-prompt"),
        "{pnames:?}"
    );
    let prompt = c
        .call(
            "prompts/get",
            json!({"name": "local_args-prompt", "arguments": {"city": "Paris"}}),
        )
        .await;
    assert!(
        prompt.result()["messages"][0]["content"]["text"]
            .as_str()
            .expect("text")
            .contains("Paris")
    );

    let resources = c.call("resources/list", json!({})).await;
    let uris: Vec<&str> = resources.result()["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .filter_map(|r| r["uri"].as_str())
        .collect();
    let uri = "everything+demo://resource/static/document/architecture.md";
    assert!(uris.contains(&uri), "{uris:?}");
    assert!(uris.iter().any(|u| u.starts_with("local+demo://")));
    let read = c.call("resources/read", json!({"uri": uri})).await;
    let contents = &read.result()["contents"][0];
    assert_eq!(contents["uri"], uri, "read result URIs are in the client's namespace");
    assert!(!contents["text"].as_str().expect("text").is_empty());
    let templates = c.call("resources/templates/list", json!({})).await;
    assert!(
        templates.result()["resourceTemplates"]
            .as_array()
            .expect("templates")
            .iter()
            .any(|t| t["uriTemplate"] == "local+demo://resource/dynamic/text/{resourceId}")
    );

    // Unknown names are JSON-RPC errors, not HTTP failures.
    let unknown = c
        .call("tools/call", json!({"name": "nope_echo", "arguments": {}}))
        .await;
    assert_eq!(unknown.status, 200);
    assert_eq!(unknown.last()["error"]["code"], -32602);
    // An unknown tool of a known upstream reaches it: server-everything answers with an `isError` result, counted as a
    // tool error (not a protocol error).
    let tool_err = c
        .call("tools/call", json!({"name": "everything_nope", "arguments": {}}))
        .await;
    assert_eq!(tool_err.result()["isError"], true);
    let metrics = gw.metrics().await;
    assert!(
        metrics.contains(r#"mcp_server_operation_duration_seconds_count{mcp_method_name="tools/call",target="everything",error_type="tool_error"} 1"#),
        "{metrics}"
    );
    // Subscriptions are routed by URI (updates: `mcp_resource_subscriptions_are_routed_and_updates_reach_the_get_stream`).
    assert_eq!(result["capabilities"]["resources"]["subscribe"], true);
    let m = c.call("resources/subscribe", json!({"uri": uri})).await;
    assert_eq!(m.result(), &json!({}), "{m:?}");
    // Completions route by their reference, like the prompt itself.
    assert!(result["capabilities"]["completions"].is_object());
    for prompt in ["everything_completable-prompt", "local_completable-prompt"] {
        let done = c
            .call(
                "completion/complete",
                json!({"ref": {"type": "ref/prompt", "name": prompt}, "argument": {"name": "department", "value": "En"}}),
            )
            .await;
        assert_eq!(
            done.result()["completion"]["values"],
            json!(["Engineering"]),
            "{prompt}"
        );
    }
    let bad = c
        .call(
            "completion/complete",
            json!({"ref": {"type": "ref/prompt", "name": "nope_x"}, "argument": {"name": "a", "value": ""}}),
        )
        .await;
    assert_eq!(bad.last()["error"]["data"]["code"], "mcp_unknown_name");

    let del = c.request_builder().build().expect("req");
    let resp = c
        .http
        .delete(del.url().clone())
        .header("mcp-session-id", c.session.clone().expect("s"))
        .send()
        .await
        .expect("delete");
    assert_eq!(resp.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mcp_progress_notifications_are_relayed_on_sse() {
    let Some(ev) = everything() else { return };
    let up = ev.start_http(None).await;
    let gw = TestGateway::start(&config(&up.url(), &ev.stdio_command())).await;
    let mut c = RawClient::new(gw.url("/mcp"));
    c.initialize(json!({})).await;
    for tool in [
        "everything_trigger-long-running-operation",
        "local_trigger-long-running-operation",
    ] {
        let r = c
            .call(
                "tools/call",
                json!({"name": tool, "arguments": {"duration": 0.3, "steps": 3}, "_meta": {"progressToken": "tok-1"}}),
            )
            .await;
        assert!(r.sse, "{tool}: answered as SSE");
        let progress: Vec<_> = r
            .messages
            .iter()
            .filter(|m| m["method"] == "notifications/progress")
            .collect();
        assert_eq!(progress.len(), 3, "{tool}: {:?}", r.messages);
        assert!(progress.iter().all(|p| p["params"]["progressToken"] == "tok-1"));
        assert!(
            r.result()["content"][0]["text"]
                .as_str()
                .expect("text")
                .contains("completed"),
            "{tool}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mcp_sessions_are_sealed_and_checked() {
    let Some(ev) = everything() else { return };
    let up = ev.start_http(None).await;
    let gw = TestGateway::start(&config(&up.url(), &ev.stdio_command())).await;
    let mut c = RawClient::new(gw.url("/mcp"));
    // Initialize params too large to keep in the session token: a JSON-RPC invalid-params error, not a 500.
    let huge = json!({"jsonrpc":"2.0","id":9,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{"experimental":{"pad":"x".repeat(7000)}},"clientInfo":{"name":"t","version":"1"}}}).to_string();
    let r = c.send_raw(huge).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.last()["error"]["code"], -32602);
    // No session: 400.
    let r = c.call("tools/list", json!({})).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.last()["error"]["data"]["code"], "mcp_no_session");
    c.initialize(json!({})).await;
    let good = c.session.clone().expect("token");
    // Tampered or foreign tokens: 404 (the client must re-initialise).
    let mut bad = good.clone().into_bytes();
    bad[10] = if bad[10] == b'A' { b'B' } else { b'A' };
    c.session = Some(String::from_utf8(bad).expect("ascii"));
    let r = c.call("tools/list", json!({})).await;
    assert_eq!(r.status, 404);
    c.session = Some("not-a-token".into());
    assert_eq!(c.call("tools/list", json!({})).await.status, 404);
    c.session = Some(good);
    assert_eq!(c.call("tools/list", json!({})).await.status, 200);
    // Access log: principal, method, target, item.
    let _ = c
        .call(
            "tools/call",
            json!({"name": "everything_echo", "arguments": {"message": "x"}}),
        )
        .await;
    let mut found = false;
    for _ in 0..10 {
        let line = gw.next_log().await;
        if line["mcp_method"] == "tools/call" {
            assert_eq!(line["route"], "mcp");
            assert_eq!(line["target"], "everything");
            assert_eq!(line["item"], "everything_echo");
            assert_eq!(line["principal"], "anonymous");
            assert_eq!(line["outcome"], "complete");
            found = true;
            break;
        }
    }
    assert!(found, "tools/call was logged");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mcp_transport_checks() {
    let Some(ev) = everything() else { return };
    let up = ev.start_http(None).await;
    let gw = TestGateway::start(&format!(
        "mcp:\n  max_message_bytes: 2KiB\n  allowed_origins: [\"https://app.example\"]\n  upstreams:\n    everything: {{ url: \"{}\" }}\n",
        up.url()
    ))
    .await;
    let c = RawClient::new(gw.url("/mcp"));
    let init = json!({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}).to_string();
    // Bad Origin → 403; loopback and allowed origins pass.
    let r = c
        .request_builder()
        .header("origin", "http://evil.example")
        .body(init.clone())
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 403);
    for ok in ["http://localhost:6274", "https://app.example"] {
        let r = c
            .request_builder()
            .header("origin", ok)
            .body(init.clone())
            .send()
            .await
            .expect("send");
        assert_eq!(r.status(), 200, "{ok}");
    }
    // Oversized message → 413 before parsing.
    let big = json!({"jsonrpc":"2.0","id":1,"method":"ping","params":{"pad":"x".repeat(4096)}}).to_string();
    assert_eq!(c.send_raw(big).await.status, 413);
    // Batches are refused (removed in 2025-06-18).
    let batch = format!("[{init}]");
    let r = c.send_raw(batch).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.last()["error"]["code"], -32600);
    // Wrong Accept / Content-Type / version.
    let r = c
        .http
        .post(&c.url)
        .header("content-type", "application/json")
        .header("accept", "application/json")
        .body(init.clone())
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 406);
    let r = c
        .http
        .post(&c.url)
        .header("content-type", "text/plain")
        .header("accept", "application/json, text/event-stream")
        .body(init.clone())
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 415);
    let r = c
        .request_builder()
        .header("mcp-protocol-version", "1999-01-01")
        .body(init.clone())
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 400);
    // Not JSON → 400 with an id-less JSON-RPC error.
    let r = c.send_raw("{nope".into()).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.last()["id"], serde_json::Value::Null);
    // The GET notification stream needs a session and an SSE Accept.
    assert_eq!(
        c.http
            .get(&c.url)
            .header("accept", "text/event-stream")
            .send()
            .await
            .expect("get")
            .status(),
        400
    );
    assert_eq!(
        c.http
            .get(&c.url)
            .header("accept", "application/json")
            .send()
            .await
            .expect("get")
            .status(),
        406
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mcp_failing_upstream_degrades_only_its_tools() {
    let Some(ev) = everything() else { return };
    // An HTTP upstream nobody listens on, next to a working stdio child.
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let gw = TestGateway::start(&config(&format!("http://127.0.0.1:{dead}/mcp"), &ev.stdio_command())).await;
    let mut c = RawClient::new(gw.url("/mcp"));
    c.initialize(json!({})).await;
    let names = c.tool_names().await;
    assert!(names.contains(&"local_echo".to_string()));
    assert!(!names.iter().any(|n| n.starts_with("everything_")));
    let r = c
        .call(
            "tools/call",
            json!({"name": "everything_echo", "arguments": {"message": "hi"}}),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.last()["error"]["code"], -32000);
    assert_eq!(r.last()["error"]["data"]["code"], "mcp_upstream_unavailable");
    let ok = c
        .call(
            "tools/call",
            json!({"name": "local_echo", "arguments": {"message": "still"}}),
        )
        .await;
    assert_eq!(ok.result()["content"][0]["text"], "Echo: still");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mcp_upstream_restart_mid_session_is_reinitialised() {
    let Some(ev) = everything() else { return };
    let mut up = ev.start_http(None).await;
    let port = up.port;
    // A marker argument (ignored by server-everything) tells this test's child from other tests' children.
    let marker = format!("restart-test-{port}");
    let command = format!("[\"{}\", \"{}\", \"stdio\", \"{marker}\"]", ev.node, ev.script);
    let gw = TestGateway::start(&config(&up.url(), &command)).await;
    let mut c = RawClient::new(gw.url("/mcp"));
    c.initialize(json!({})).await;
    let r = c
        .call(
            "tools/call",
            json!({"name": "everything_echo", "arguments": {"message": "one"}}),
        )
        .await;
    assert_eq!(r.result()["content"][0]["text"], "Echo: one");
    // Restart the HTTP upstream: it forgets every session and answers 400 to the old id.
    up.child.kill().await.expect("kill");
    let _up2 = ev.start_http(Some(port)).await;
    let r = c
        .call(
            "tools/call",
            json!({"name": "everything_echo", "arguments": {"message": "two"}}),
        )
        .await;
    assert_eq!(r.result()["content"][0]["text"], "Echo: two");
    // The stdio child of this session dies: the next call starts and initialises a new one.
    let r = c
        .call(
            "tools/call",
            json!({"name": "local_echo", "arguments": {"message": "three"}}),
        )
        .await;
    assert_eq!(r.result()["content"][0]["text"], "Echo: three");
    let children = stdio_children_of_this_process(&marker);
    assert_eq!(children.len(), 1, "one stdio child for the one session: {children:?}");
    assert!(
        std::process::Command::new("kill")
            .arg("-9")
            .arg(children[0].to_string())
            .status()
            .expect("kill")
            .success()
    );
    let mut text = String::new();
    for _ in 0..50 {
        // The first call may still race the exit (then it is a JSON-RPC error); a later one must succeed.
        let r = c
            .call(
                "tools/call",
                json!({"name": "local_echo", "arguments": {"message": "four"}}),
            )
            .await;
        if let Some(t) = r.last()["result"]["content"][0]["text"].as_str() {
            text = t.to_string();
            break;
        }
        tokio::task::yield_now().await;
    }
    assert_eq!(text, "Echo: four");
    let now = stdio_children_of_this_process(&marker);
    assert_eq!(now.len(), 1);
    assert_ne!(now, children, "a new child replaced the killed one");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mcp_two_gateways_with_one_key_share_sessions() {
    let Some(ev) = everything() else { return };
    let up = ev.start_http(None).await;
    let a = TestGateway::start(&config(&up.url(), &ev.stdio_command())).await;
    let b = TestGateway::start(&config(&up.url(), &ev.stdio_command())).await;
    let mut c = RawClient::new(a.url("/mcp"));
    c.initialize(json!({})).await;
    c.url = b.url("/mcp");
    let r = c
        .call(
            "tools/call",
            json!({"name": "everything_echo", "arguments": {"message": "via b"}}),
        )
        .await;
    assert_eq!(r.result()["content"][0]["text"], "Echo: via b");
    // The stdio upstream has no child for this session on b yet: b starts and initialises one.
    let r = c
        .call(
            "tools/call",
            json!({"name": "local_get-sum", "arguments": {"a": 1, "b": 41}}),
        )
        .await;
    assert!(r.result()["content"][0]["text"].as_str().expect("text").contains("42"));
    // A gateway with another key does not know the session.
    let other = TestGateway::start(&config(&up.url(), &ev.stdio_command()).replace(KEY, &"ab".repeat(32))).await;
    c.url = other.url("/mcp");
    assert_eq!(c.call("tools/list", json!({})).await.status, 404);
}

#[test]
fn mcp_config_is_validated() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("g.yaml");
    std::fs::write(
        &path,
        "mcp:\n  session_key: { value: \"short\" }\n  names: passthrough\n  upstreams:\n    bad_name: { url: \"http://127.0.0.1:1/mcp\" }\n    both: { url: \"http://x/mcp\", command: [a] }\n    none: {}\n    web: { url: \"ftp://x\" }\n",
    )
    .expect("write");
    let errs = gatehouse::config::load_with_env(&path, &|_| None).expect_err("invalid");
    let text = errs.to_string();
    for needle in [
        "mcp.upstreams.bad_name: upstream name",
        "mcp.upstreams.both: set either",
        "mcp.upstreams.none: an upstream needs",
        "mcp.upstreams.web.url: invalid URL",
        "mcp.names: `passthrough` needs exactly one upstream",
        "mcp.session_key: the session key must be 32 bytes",
    ] {
        assert!(text.contains(needle), "missing `{needle}` in:\n{text}");
    }
    assert!(text.contains(":5:"), "errors carry lines: {text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mcp_legacy_sse_upstream() {
    let Some(ev) = everything() else { return };
    let legacy = ev.start_sse().await;
    let gw = TestGateway::start(&format!(
        "mcp:\n  upstreams:\n    legacy: {{ url: \"{}\", transport: sse }}\n    local: {{ command: {} }}\n",
        legacy.sse_url(),
        ev.stdio_command()
    ))
    .await;
    let mut c = RawClient::new(gw.url("/mcp"));
    c.initialize(json!({})).await;
    let names = c.tool_names().await;
    assert!(
        names.contains(&"legacy_echo".to_string()) && names.contains(&"local_echo".to_string()),
        "{names:?}"
    );
    let r = c
        .call(
            "tools/call",
            json!({"name": "legacy_echo", "arguments": {"message": "old"}}),
        )
        .await;
    assert_eq!(r.result()["content"][0]["text"], "Echo: old");
    let r = c
        .call(
            "tools/call",
            json!({"name": "legacy_trigger-long-running-operation", "arguments": {"duration": 0.3, "steps": 3}, "_meta": {"progressToken": 7}}),
        )
        .await;
    assert_eq!(
        r.messages
            .iter()
            .filter(|m| m["method"] == "notifications/progress")
            .count(),
        3
    );
    let read = c
        .call(
            "resources/read",
            json!({"uri": "legacy+demo://resource/static/document/features.md"}),
        )
        .await;
    assert!(!read.result()["contents"][0]["text"].as_str().expect("text").is_empty());
}

/// PIDs of this test process's server-everything stdio children started with `marker` (the gateway runs in-process).
fn stdio_children_of_this_process(marker: &str) -> Vec<u32> {
    let me = std::process::id().to_string();
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").expect("proc").flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // Fields after the parenthesised command name: state, ppid, ...
        let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r.to_string()) else {
            continue;
        };
        let mut fields = rest.split_whitespace();
        let state = fields.next().unwrap_or_default();
        let ppid = fields.next().unwrap_or_default();
        if matches!(state, "Z" | "X") {
            continue; // exited, not yet reaped
        }
        let cmdline = std::fs::read_to_string(entry.path().join("cmdline")).unwrap_or_default();
        if ppid == me && cmdline.contains("server-everything") && cmdline.contains(marker) {
            out.push(pid);
        }
    }
    out.sort_unstable();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mcp_secrets_are_redacted_on_config() {
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let gw = TestGateway::start(&format!(
        "mcp:\n  session_key: {{ value: \"{KEY}\" }}\n  upstreams:\n    web: {{ url: \"http://127.0.0.1:{dead}/mcp\", headers: {{ Authorization: {{ value: \"Bearer up-secret\" }} }} }}\n    child: {{ command: [\"/bin/true\"], env: {{ API_TOKEN: child-secret }} }}\n"
    ))
    .await;
    let config = gw
        .http
        .get(gw.admin("/config"))
        .send()
        .await
        .expect("config")
        .text()
        .await
        .expect("text");
    for secret in [KEY, "up-secret", "child-secret"] {
        assert!(!config.contains(secret), "{secret} leaked on /config: {config}");
    }
    assert!(config.contains("API_TOKEN"), "{config}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mcp_idle_pipes_are_evicted_at_the_cap() {
    let Some(ev) = everything() else { return };
    let marker = format!("cap-test-{}", std::process::id());
    let gw = TestGateway::start(&format!(
        "mcp:\n  names: passthrough\n  max_pipes_per_upstream: 1\n  upstreams:\n    local: {{ command: [\"{}\", \"{}\", \"stdio\", \"{marker}\"] }}\n",
        ev.node, ev.script
    ))
    .await;
    let mut a = RawClient::new(gw.url("/mcp"));
    a.initialize(json!({})).await;
    let first = stdio_children_of_this_process(&marker);
    assert_eq!(first.len(), 1);
    // A second session needs a child: the first session's idle one is stopped to make room.
    let mut b = RawClient::new(gw.url("/mcp"));
    b.initialize(json!({})).await;
    let r = b
        .call("tools/call", json!({"name": "echo", "arguments": {"message": "b"}}))
        .await;
    assert_eq!(
        r.result()["content"][0]["text"],
        "Echo: b",
        "single upstream: names pass through unchanged"
    );
    // The first session still works: its child is re-created (evicting b's idle one).
    let r = a
        .call("tools/call", json!({"name": "echo", "arguments": {"message": "a"}}))
        .await;
    assert_eq!(r.result()["content"][0]["text"], "Echo: a");
    let now = stdio_children_of_this_process(&marker);
    assert!(
        !now.contains(&first[0]),
        "the first idle child was stopped: {first:?} {now:?}"
    );
    assert!(!now.is_empty(), "a's child was re-created");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mcp_get_stream_relays_notifications_outside_calls() {
    let Some(ev) = everything() else { return };
    let up = ev.start_http(None).await;
    let gw = TestGateway::start(&config(&up.url(), &ev.stdio_command())).await;
    let mut c = RawClient::new(gw.url("/mcp"));
    let init = c.initialize(json!({})).await;
    assert_eq!(init.result()["capabilities"]["tools"]["listChanged"], true);
    let mut stream = c
        .http
        .get(&c.url)
        .header("accept", "text/event-stream")
        .header("mcp-session-id", c.session.clone().expect("session"))
        .header("mcp-protocol-version", "2025-11-25")
        .send()
        .await
        .expect("get");
    assert_eq!(stream.status(), 200);
    // Simulated logging sends one message at once, outside the call that turns it on, on each upstream.
    for tool in ["everything_toggle-simulated-logging", "local_toggle-simulated-logging"] {
        let r = c.call("tools/call", json!({"name": tool, "arguments": {}})).await;
        assert!(
            r.result()["content"][0]["text"]
                .as_str()
                .expect("text")
                .contains("Started"),
            "{tool}"
        );
    }
    let mut text = String::new();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    while text.matches("notifications/message").count() < 2 {
        let chunk = tokio::time::timeout_at(deadline, stream.chunk())
            .await
            .unwrap_or_else(|_| panic!("two log notifications within 20s, got: {text}"))
            .expect("chunk")
            .expect("stream open");
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
    // The HTTP upstream's messages name its session; the stdio child's do not: both upstreams were heard.
    let events: Vec<serde_json::Value> = text
        .split("\n\n")
        .filter_map(|e| e.lines().find_map(|l| l.strip_prefix("data: ")))
        .filter_map(|d| serde_json::from_str(d).ok())
        .filter(|m: &serde_json::Value| m["method"] == "notifications/message")
        .collect();
    assert!(
        events
            .iter()
            .any(|m| m["params"]["data"].as_str().is_some_and(|d| d.contains("SessionId"))),
        "{text}"
    );
    assert!(
        events
            .iter()
            .any(|m| m["params"]["data"].as_str().is_some_and(|d| !d.contains("SessionId"))),
        "{text}"
    );
}
