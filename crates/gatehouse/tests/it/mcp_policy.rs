//! `/mcp` authorization on claims (lists filtered, calls refused) and the per-caller rate limit (429 + Retry-After +
//! JSON-RPC body), with JWTs from the in-test OpenID provider.

use serde_json::json;

use crate::jwt_support::{Idp, SigningKey, now};
use crate::mcp_support::{RawClient, everything};
use crate::support::TestGateway;

const RESOURCE: &str = "https://gw.test/mcp";

fn token(key: &SigningKey, issuer: &str, sub: &str, groups: &[&str]) -> String {
    key.sign(&json!({"iss": issuer, "aud": RESOURCE, "sub": sub, "groups": groups, "exp": now() + 600}))
}

fn auth_yaml(issuer: &str) -> String {
    format!("  auth:\n    resource: \"{RESOURCE}\"\n    jwt: {{ issuer: \"{issuer}\", audiences: [\"{RESOURCE}\"] }}\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mcp_authorization_filters_lists_and_refuses_calls() {
    let Some(ev) = everything() else { return };
    let up = ev.start_http(None).await;
    let key = SigningKey::generate("k1");
    let idp = Idp::start(vec![key.jwk.clone()]).await;
    let gw = TestGateway::start(&format!(
        "mcp:\n{}  authorization:\n    - {{ allow: {{ tools: [everything_echo] }}, when: {{ claim: groups, contains: dev }} }}\n    - {{ allow: {{ tools: [\"*_get-env\"], resources: [\"everything+demo://resource/static/*\"] }}, when: {{ claim: sub, equals: admin }} }}\n  upstreams:\n    everything: {{ url: \"{}\" }}\n",
        auth_yaml(&idp.issuer),
        up.url()
    ))
    .await;

    let mut alice = RawClient::new(gw.url("/mcp"));
    alice.bearer = Some(token(&key, &idp.issuer, "alice", &["dev"]));
    alice.initialize(json!({})).await;
    let names = alice.tool_names().await;
    assert!(names.contains(&"everything_echo".to_string()));
    assert!(
        names.contains(&"everything_get-sum".to_string()),
        "uncovered tools stay allowed"
    );
    assert!(!names.contains(&"everything_get-env".to_string()));
    let r = alice
        .call(
            "tools/call",
            json!({"name": "everything_echo", "arguments": {"message": "ok"}}),
        )
        .await;
    assert_eq!(r.result()["content"][0]["text"], "Echo: ok");
    // Resources covered by the admin rule are hidden from alice, and refused when read anyway.
    let res = alice.call("resources/list", json!({})).await;
    assert!(
        !res.result()["resources"]
            .as_array()
            .expect("list")
            .iter()
            .any(|r| r["uri"].as_str().expect("uri").contains("/static/"))
    );
    let read = alice
        .call(
            "resources/read",
            json!({"uri": "everything+demo://resource/static/document/features.md"}),
        )
        .await;
    assert_eq!(read.last()["error"]["data"]["code"], "mcp_denied");

    let mut bob = RawClient::new(gw.url("/mcp"));
    bob.bearer = Some(token(&key, &idp.issuer, "bob", &["ops"]));
    bob.initialize(json!({})).await;
    let names = bob.tool_names().await;
    assert!(!names.contains(&"everything_echo".to_string()));
    let r = bob
        .call(
            "tools/call",
            json!({"name": "everything_echo", "arguments": {"message": "no"}}),
        )
        .await;
    assert_eq!(r.status, 200, "a refused call is a JSON-RPC error, not an HTTP error");
    assert_eq!(r.last()["error"]["code"], -32000);
    assert_eq!(r.last()["error"]["data"]["code"], "mcp_denied");
    assert_eq!(r.last()["id"], 3);

    let mut admin = RawClient::new(gw.url("/mcp"));
    admin.bearer = Some(token(&key, &idp.issuer, "admin", &[]));
    admin.initialize(json!({})).await;
    let names = admin.tool_names().await;
    assert!(names.contains(&"everything_get-env".to_string()) && !names.contains(&"everything_echo".to_string()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mcp_rate_limit_per_caller() {
    let key = SigningKey::generate("k1");
    let idp = Idp::start(vec![key.jwk.clone()]).await;
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    // 0.2/s burst 3: the 4th request in a row is refused for ~5 s, far longer than the test takes.
    let gw = TestGateway::start(&format!(
        "mcp:\n{}  rate_limit: {{ per: caller, requests_per_second: 0.2, burst: 3 }}\n  upstreams:\n    everything: {{ url: \"http://127.0.0.1:{dead}/mcp\" }}\n",
        auth_yaml(&idp.issuer)
    ))
    .await;
    let mut alice = RawClient::new(gw.url("/mcp"));
    alice.bearer = Some(token(&key, &idp.issuer, "alice", &[]));
    let init =
        json!({"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}});
    for i in 0..3 {
        assert_eq!(alice.call("initialize", init.clone()).await.status, 200, "request {i}");
    }
    let r = alice.call("initialize", init.clone()).await;
    assert_eq!(r.status, 429);
    let retry: u64 = r
        .headers
        .get("retry-after")
        .expect("Retry-After")
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!((4..=5).contains(&retry), "retry-after {retry}");
    assert_eq!(r.last()["jsonrpc"], "2.0");
    assert_eq!(r.last()["id"], 4);
    assert_eq!(r.last()["error"]["data"]["code"], "mcp_rate_limited");
    // Another caller has its own bucket.
    let mut bob = RawClient::new(gw.url("/mcp"));
    bob.bearer = Some(token(&key, &idp.issuer, "bob", &[]));
    assert_eq!(bob.call("initialize", init.clone()).await.status, 200);
    // Unauthenticated requests are refused before they can spend anyone's bucket.
    let anon = RawClient::new(gw.url("/mcp"));
    assert_eq!(
        anon.send_raw(json!({"jsonrpc":"2.0","id":1,"method":"ping"}).to_string())
            .await
            .status,
        401
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mcp_rate_limit_keys_on_client_address_without_auth() {
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let gw = TestGateway::start(&format!(
        "mcp:\n  rate_limit: {{ requests_per_second: 0.2, burst: 2 }}\n  upstreams:\n    everything: {{ url: \"http://127.0.0.1:{dead}/mcp\" }}\n"
    ))
    .await;
    let c = RawClient::new(gw.url("/mcp"));
    let ping = json!({"jsonrpc":"2.0","id":1,"method":"ping"}).to_string();
    // Without a session a ping is a 400, but it still counts against 127.0.0.1's bucket.
    assert_eq!(c.send_raw(ping.clone()).await.status, 400);
    assert_eq!(c.send_raw(ping.clone()).await.status, 400);
    assert_eq!(c.send_raw(ping).await.status, 429);
}

#[test]
fn mcp_example_config_is_valid() {
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/mcp.yaml");
    let env = |name: &str| (name == "GATEHOUSE_MCP_SESSION_KEY").then(|| "11".repeat(32));
    let snap = gatehouse::config::load_with_env(std::path::Path::new(example), &env).expect("example is valid");
    let mcp = snap.mcp.as_ref().expect("mcp section");
    assert_eq!(mcp.upstreams.len(), 2);
    assert!(mcp.auth.is_some() && mcp.rate_limit.is_some());
    assert_eq!(mcp.policy.rules.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mcp_rate_limit_per_caller_and_tool() {
    let Some(ev) = everything() else { return };
    let gw = TestGateway::start(&format!(
        "mcp:\n  rate_limit: {{ per: caller_and_tool, requests_per_second: 0.2, burst: 4 }}\n  upstreams:\n    local: {{ command: {} }}\n",
        ev.stdio_command()
    ))
    .await;
    let mut c = RawClient::new(gw.url("/mcp"));
    c.initialize(json!({})).await; // 2 requests (initialize + initialized) from this caller's own bucket
    let echo = json!({"name": "local_echo", "arguments": {"message": "x"}});
    for i in 0..4 {
        assert_eq!(c.call("tools/call", echo.clone()).await.status, 200, "echo {i}");
    }
    let r = c.call("tools/call", echo).await;
    assert_eq!(r.status, 429, "the echo bucket is empty");
    // Another tool has its own bucket, and so do the caller's other methods.
    let sum = c
        .call(
            "tools/call",
            json!({"name": "local_get-sum", "arguments": {"a": 1, "b": 2}}),
        )
        .await;
    assert_eq!(sum.status, 200);
    assert_eq!(c.call("tools/list", json!({})).await.status, 200);
}
