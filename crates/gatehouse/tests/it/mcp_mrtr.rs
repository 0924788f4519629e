//! Multi-round-trip requests (`input_required`, 2026-07-28) for stateless clients over session-era upstreams: the
//! real server-everything (Streamable HTTP and stdio) asks for sampling and elicitation while a tool runs; gatehouse
//! answers the stateless client with `input_required`, parks the upstream call, and finishes it when the client
//! retries with `inputResponses` and the echoed `requestState`. Plus the retries that must fail, each with its code.

use serde_json::{Value, json};

use crate::jwt_support::{Idp, SigningKey, claims};
use crate::mcp_stateless::Stateless;
use crate::mcp_support::{Reply, everything};
use crate::support::TestGateway;

fn client(url: String) -> Stateless {
    let mut c = Stateless::new(url);
    c.capabilities = json!({"sampling": {}, "elicitation": {"form": {}}});
    c
}

/// The `input_required` result of a first round: its one input request (key, request) and the `requestState`.
fn input_required(r: &Reply) -> (String, Value, String) {
    assert_eq!(r.status, 200, "{r:?}");
    let res = r.result();
    assert_eq!(res["resultType"], "input_required", "{res}");
    let inputs = res["inputRequests"].as_object().expect("inputRequests");
    assert_eq!(inputs.len(), 1, "{res}");
    let (key, req) = inputs.iter().next().expect("one");
    assert!(
        req.get("id").is_none() && req.get("jsonrpc").is_none(),
        "an InputRequest has no JSON-RPC id: {req}"
    );
    let state = res["requestState"].as_str().expect("requestState").to_string();
    (key.clone(), req.clone(), state)
}

fn retry_params(params: &Value, responses: Value, state: &str) -> Value {
    let mut p = params.clone();
    p["inputResponses"] = responses;
    p["requestState"] = json!(state);
    p
}

fn text(r: &Reply) -> String {
    r.result()["content"]
        .as_array()
        .expect("content")
        .iter()
        .filter_map(|c| c["text"].as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mcp_stateless_mrtr_sampling_and_elicitation_through_http_and_stdio_upstreams() {
    let Some(ev) = everything() else { return };
    let up = ev.start_http(None).await;
    let gw = TestGateway::start(&crate::mcp::config(&up.url(), &ev.stdio_command())).await;
    let c = client(gw.url("/mcp"));

    // The back-channel capabilities reach the upstreams, so server-everything offers its tools that need them.
    let tools = c.call(json!(1), "tools/list", json!({})).await;
    let names: Vec<&str> = tools.result()["tools"]
        .as_array()
        .expect("tools")
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    for n in [
        "everything_trigger-sampling-request",
        "everything_trigger-elicitation-request",
        "local_trigger-sampling-request",
    ] {
        assert!(names.contains(&n), "{n} missing from {names:?}");
    }

    for tool in ["everything_trigger-sampling-request", "local_trigger-sampling-request"] {
        let params = json!({"name": tool, "arguments": {"prompt": "pick a colour", "maxTokens": 7}});
        let first = c.call(json!(10), "tools/call", params.clone()).await;
        assert_eq!(first.last()["id"], 10, "the first round answers the first id");
        let (key, req, state) = input_required(&first);
        assert_eq!(req["method"], "sampling/createMessage", "{req}");
        assert_eq!(req["params"]["maxTokens"], 7);
        assert!(
            req["params"]["messages"][0]["content"]["text"]
                .as_str()
                .expect("text")
                .contains("pick a colour"),
            "{req}"
        );
        let sampled = json!({key.clone(): {"role": "assistant", "content": {"type": "text", "text": "teal, from the client"}, "model": "client-model", "stopReason": "endTurn"}});
        let done = c
            .call(json!(11), "tools/call", retry_params(&params, sampled, &state))
            .await;
        assert_eq!(done.last()["id"], 11, "the retry is answered under its own id");
        assert_eq!(done.result()["resultType"], "complete");
        let t = text(&done);
        assert!(
            t.contains("teal, from the client") && t.contains("client-model"),
            "{tool}: {t}"
        );

        // The parked call was consumed: the same requestState again is not held any more.
        let again = c
            .call(
                json!(12),
                "tools/call",
                retry_params(
                    &params,
                    json!({key: {"role": "assistant", "content": {"type": "text", "text": "x"}, "model": "m"}}),
                    &state,
                ),
            )
            .await;
        assert_request_state_error(&again, "mcp_request_state_not_held");
    }

    // Elicitation, declined in one round and accepted in another.
    let params = json!({"name": "everything_trigger-elicitation-request", "arguments": {}});
    let (key, req, state) = input_required(&c.call(json!(20), "tools/call", params.clone()).await);
    assert_eq!(req["method"], "elicitation/create", "{req}");
    assert!(
        req["params"]["requestedSchema"]["properties"]["name"].is_object(),
        "{req}"
    );
    let accepted = c
        .call(
            json!(21),
            "tools/call",
            retry_params(
                &params,
                json!({key: {"action": "accept", "content": {"name": "Ada"}}}),
                &state,
            ),
        )
        .await;
    let t = text(&accepted);
    assert!(
        t.contains("User provided the requested information") && t.contains("Name: Ada"),
        "{t}"
    );
    let (key, _, state) = input_required(&c.call(json!(22), "tools/call", params.clone()).await);
    let declined = c
        .call(
            json!(23),
            "tools/call",
            retry_params(&params, json!({key: {"action": "decline"}}), &state),
        )
        .await;
    assert!(text(&declined).contains("declined"), "{declined:?}");

    // A retry lacking the response to an input request is refused and the call stays parked for a correct retry.
    let params = json!({"name": "everything_trigger-sampling-request", "arguments": {"prompt": "p"}});
    let (key, _, state) = input_required(&c.call(json!(30), "tools/call", params.clone()).await);
    let lacking = c
        .call(json!(31), "tools/call", retry_params(&params, json!({}), &state))
        .await;
    assert_eq!(
        (lacking.status, lacking.last()["error"]["code"].as_i64()),
        (400, Some(-32602)),
        "{lacking:?}"
    );
    let ok = c
        .call(
            json!(32),
            "tools/call",
            retry_params(
                &params,
                json!({key: {"role": "assistant", "content": {"type": "text", "text": "late"}, "model": "m"}}),
                &state,
            ),
        )
        .await;
    assert!(text(&ok).contains("late"), "{ok:?}");

    // Without the capabilities the tools stay hidden, as before.
    let plain = Stateless::new(gw.url("/mcp"));
    let tools = plain.call(json!(1), "tools/list", json!({})).await;
    assert!(
        !tools.result()["tools"]
            .as_array()
            .expect("tools")
            .iter()
            .any(|t| t["name"] == "everything_trigger-sampling-request")
    );
}

fn assert_request_state_error(r: &Reply, code: &str) {
    assert_eq!(r.status, 400, "{r:?}");
    let e = &r.last()["error"];
    assert_eq!(e["code"], -32602, "{r:?}");
    assert_eq!(e["data"]["code"], code, "{r:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mcp_stateless_mrtr_refuses_foreign_forged_mismatched_expired_and_elsewhere_request_states() {
    let Some(ev) = everything() else { return };
    let up = ev.start_http(None).await;
    let key = SigningKey::generate("k1");
    let idp = Idp::start(vec![key.jwk.clone()]).await;
    let resource = "https://gw.test/mcp";
    let cfg = format!(
        "mcp:\n  session_key: {{ value: \"{}\" }}\n  stateless_input_timeout: 2s\n  auth:\n    resource: \"{resource}\"\n    jwt: {{ issuer: \"{}\", audiences: [\"{resource}\"] }}\n  upstreams:\n    everything: {{ url: \"{}\" }}\n",
        crate::mcp::KEY,
        idp.issuer,
        up.url()
    );
    let a = TestGateway::start(&cfg).await;
    let b = TestGateway::start(&cfg).await;
    let mut alice = client(a.url("/mcp"));
    alice.bearer = Some(key.sign(&claims(&idp.issuer, resource, "alice")));
    let mut mallory = client(a.url("/mcp"));
    mallory.bearer = Some(key.sign(&claims(&idp.issuer, resource, "mallory")));
    let mut alice_on_b = client(b.url("/mcp"));
    alice_on_b.bearer = alice.bearer.clone();

    let params = json!({"name": "everything_trigger-sampling-request", "arguments": {"prompt": "p"}});
    let (k, _, state) = input_required(&alice.call(json!(1), "tools/call", params.clone()).await);
    let answer = json!({k: {"role": "assistant", "content": {"type": "text", "text": "from alice"}, "model": "m"}});

    // Not sealed by this deployment (garbage, or a truncated/tampered copy).
    let forged = alice
        .call(json!(2), "tools/call", retry_params(&params, answer.clone(), "AAAA"))
        .await;
    assert_request_state_error(&forged, "mcp_request_state_invalid");
    let tampered = format!("{}A", &state[..state.len() - 1]);
    let tampered = if tampered == state {
        format!("{}B", &state[..state.len() - 1])
    } else {
        tampered
    };
    assert_request_state_error(
        &alice
            .call(json!(3), "tools/call", retry_params(&params, answer.clone(), &tampered))
            .await,
        "mcp_request_state_invalid",
    );
    // Another principal, even with the real state and the same request.
    assert_request_state_error(
        &mallory
            .call(json!(4), "tools/call", retry_params(&params, answer.clone(), &state))
            .await,
        "mcp_request_state_foreign",
    );
    // The same principal retrying a different request with it.
    let other = json!({"name": "everything_trigger-sampling-request", "arguments": {"prompt": "other"}});
    assert_request_state_error(
        &alice
            .call(json!(5), "tools/call", retry_params(&other, answer.clone(), &state))
            .await,
        "mcp_request_state_mismatch",
    );
    // Another replica (same key, so the state opens) does not hold the upstream call.
    assert_request_state_error(
        &alice_on_b
            .call(json!(6), "tools/call", retry_params(&params, answer.clone(), &state))
            .await,
        "mcp_request_state_not_held",
    );
    // None of those consumed the parked call: the right retry on the right replica still finishes it.
    let done = alice
        .call(json!(7), "tools/call", retry_params(&params, answer, &state))
        .await;
    assert!(text(&done).contains("from alice"), "{done:?}");

    // Past `stateless_input_timeout` the state has expired.
    let (k, _, state) = input_required(&alice.call(json!(8), "tools/call", params.clone()).await);
    tokio::time::sleep(std::time::Duration::from_millis(2300)).await;
    let late = json!({k: {"role": "assistant", "content": {"type": "text", "text": "late"}, "model": "m"}});
    assert_request_state_error(
        &alice
            .call(json!(9), "tools/call", retry_params(&params, late, &state))
            .await,
        "mcp_request_state_expired",
    );
}

/// The official MCP Python SDK (2.3) as a stateless client with sampling and elicitation callbacks
/// (tests/interop/mcp_sdk_mrtr.py): its multi-round-trip driver answers gatehouse's `input_required` results and the
/// upstream tools (HTTP and stdio) finish with the callbacks' answers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mcp_python_sdk_stateless_mrtr() {
    let Some(python) = crate::interop::python() else { return };
    let Some(ev) = everything() else { return };
    let up = ev.start_http(None).await;
    let gw = TestGateway::start(&crate::mcp::config(&up.url(), &ev.stdio_command())).await;
    crate::interop::run_script(python, "mcp_sdk_mrtr.py", vec![gw.url("/mcp")]).await;
}

/// At `max_stateless_parked_calls` a replica parks no more calls: a call that needs input then gets a JSON-RPC error
/// (`mcp_upstream_unavailable`) instead of `input_required`, and the calls already parked are unaffected.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mcp_stateless_mrtr_parked_calls_are_bounded() {
    let Some(ev) = everything() else { return };
    let up = ev.start_http(None).await;
    let gw = TestGateway::start(&format!(
        "mcp:\n  max_stateless_parked_calls: 1\n  upstreams:\n    everything: {{ url: \"{}\" }}\n",
        up.url()
    ))
    .await;
    let c = client(gw.url("/mcp"));
    let params = json!({"name": "everything_trigger-sampling-request", "arguments": {"prompt": "one"}});
    let (k, _, state) = input_required(&c.call(json!(1), "tools/call", params.clone()).await);
    let full = c
        .call(
            json!(2),
            "tools/call",
            json!({"name": "everything_trigger-sampling-request", "arguments": {"prompt": "two"}}),
        )
        .await;
    assert_eq!(full.last()["id"], 2);
    assert_eq!(
        full.last()["error"]["data"]["code"],
        "mcp_upstream_unavailable",
        "{full:?}"
    );
    let answer = json!({k: {"role": "assistant", "content": {"type": "text", "text": "still parked"}, "model": "m"}});
    let done = c
        .call(json!(3), "tools/call", retry_params(&params, answer, &state))
        .await;
    assert!(text(&done).contains("still parked"), "{done:?}");
    // Room again once it finished.
    let (_, req, _) = input_required(&c.call(json!(4), "tools/call", params).await);
    assert_eq!(req["method"], "sampling/createMessage");
}

#[test]
fn mcp_stateless_mrtr_bounds_are_validated() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("g.yaml");
    for (yaml, needle) in [
        (
            "  stateless_input_timeout: 0s\n",
            "mcp.stateless_input_timeout: must be greater than zero",
        ),
        (
            "  request_timeout: 30s\n  stateless_input_timeout: 31s\n",
            "mcp.stateless_input_timeout: must not exceed request_timeout (30s)",
        ),
        (
            "  max_stateless_parked_calls: 0\n",
            "mcp.max_stateless_parked_calls: must be greater than zero",
        ),
    ] {
        std::fs::write(
            &path,
            format!("mcp:\n{yaml}  upstreams:\n    mock: {{ url: \"http://127.0.0.1:9/mcp\" }}\n"),
        )
        .expect("write");
        let text = gatehouse::config::load_with_env(&path, &|_| None)
            .expect_err("refused")
            .to_string();
        assert!(text.contains(needle), "missing `{needle}` in:\n{text}");
    }
}

/// A strict session-era upstream whose one tool asks the client twice (sampling with a numeric id, then elicitation
/// with a string id) before it answers; it records every message it gets.
#[derive(Clone, Default)]
struct TwoRounds {
    seen: std::sync::Arc<std::sync::Mutex<Vec<Value>>>,
    waiting: std::sync::Arc<std::sync::Mutex<std::collections::HashMap<String, tokio::sync::oneshot::Sender<Value>>>>,
}

impl TwoRounds {
    async fn ask(&self, tx: &tokio::sync::mpsc::Sender<String>, id: Value, method: &str, params: Value) -> Value {
        let (otx, orx) = tokio::sync::oneshot::channel();
        self.waiting.lock().expect("lock").insert(id.to_string(), otx);
        let req = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        tx.send(format!("event: message\ndata: {req}\n\n"))
            .await
            .expect("stream open");
        orx.await.expect("answered")
    }
}

async fn two_rounds(m: TwoRounds, headers: axum::http::HeaderMap, body: axum::body::Bytes) -> axum::response::Response {
    use axum::response::IntoResponse;
    let msg: Value = serde_json::from_slice(&body).expect("json");
    m.seen.lock().expect("lock").push(msg.clone());
    let json_reply = |v: Value| axum::Json(v).into_response();
    if msg["method"] == "initialize" {
        let mut r = json_reply(
            json!({"jsonrpc": "2.0", "id": msg["id"], "result": {"protocolVersion": "2025-11-25",
            "capabilities": {"tools": {}}, "serverInfo": {"name": "mock", "version": "1"}}}),
        );
        r.headers_mut().insert("mcp-session-id", "s-1".parse().expect("header"));
        return r;
    }
    if headers.get("mcp-session-id").and_then(|v| v.to_str().ok()) != Some("s-1") {
        return (axum::http::StatusCode::NOT_FOUND, "session").into_response();
    }
    if msg.get("method").is_none() {
        // A response to one of our requests: exactly the id we used.
        let Some(waiter) = m.waiting.lock().expect("lock").remove(&msg["id"].to_string()) else {
            return (axum::http::StatusCode::BAD_REQUEST, "unknown response id").into_response();
        };
        let _ = waiter.send(msg["result"].clone());
        return axum::http::StatusCode::ACCEPTED.into_response();
    }
    match msg["method"].as_str() {
        Some("tools/list") => json_reply(json!({"jsonrpc": "2.0", "id": msg["id"], "result": {"tools": [
            {"name": "two-rounds", "inputSchema": {"type": "object", "properties": {"topic": {"type": "string"}}}}]}})),
        Some("tools/call") => {
            let (tx, rx) = tokio::sync::mpsc::channel::<String>(8);
            let call_id = msg["id"].clone();
            let topic = msg["params"]["arguments"]["topic"].clone();
            tokio::spawn(async move {
                let sampled = m
                    .ask(
                        &tx,
                        json!(0),
                        "sampling/createMessage",
                        json!({"messages": [{"role": "user",
                        "content": {"type": "text", "text": format!("about {topic}")}}], "maxTokens": 9}),
                    )
                    .await;
                let elicited = m
                    .ask(
                        &tx,
                        json!("e-1"),
                        "elicitation/create",
                        json!({"message": "your name?",
                        "requestedSchema": {"type": "object", "properties": {"name": {"type": "string"}}}}),
                    )
                    .await;
                let text = format!(
                    "sampled={} name={}",
                    sampled["content"]["text"].as_str().unwrap_or("?"),
                    elicited["content"]["name"].as_str().unwrap_or("?")
                );
                let done =
                    json!({"jsonrpc": "2.0", "id": call_id, "result": {"content": [{"type": "text", "text": text}]}});
                let _ = tx.send(format!("event: message\ndata: {done}\n\n")).await;
            });
            let body = futures_util::stream::unfold(rx, |mut rx| async move {
                let ev = rx.recv().await?;
                Some((Ok::<_, std::convert::Infallible>(ev), rx))
            });
            let mut r = axum::response::Response::new(axum::body::Body::from_stream(body));
            r.headers_mut()
                .insert("content-type", "text/event-stream".parse().expect("header"));
            r
        }
        _ if msg.get("id").is_none() => axum::http::StatusCode::ACCEPTED.into_response(),
        _ => json_reply(json!({"jsonrpc": "2.0", "id": msg["id"], "error": {"code": -32601, "message": "nope"}})),
    }
}

/// Two input rounds in one call: each retry resumes the parked call, which asks again; the upstream gets each answer
/// under its own id (number, then string) and sees one `tools/call` without the retry fields.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mcp_stateless_mrtr_runs_several_rounds_with_the_upstreams_own_ids() {
    let m = TwoRounds::default();
    let mp = m.clone();
    let app = axum::Router::new().route(
        "/mcp",
        axum::routing::post(move |h: axum::http::HeaderMap, b: axum::body::Bytes| two_rounds(mp.clone(), h, b)),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let gw = TestGateway::start(&format!(
        "mcp:\n  upstreams:\n    mock: {{ url: \"http://{addr}/mcp\" }}\n"
    ))
    .await;
    let c = client(gw.url("/mcp"));
    let params = json!({"name": "mock_two-rounds", "arguments": {"topic": "tides"}});

    let (k1, r1, s1) = input_required(&c.call(json!(1), "tools/call", params.clone()).await);
    assert_eq!(r1["method"], "sampling/createMessage");
    assert_eq!(r1["params"]["messages"][0]["content"]["text"], "about \"tides\"");
    let second = c
        .call(
            json!(2),
            "tools/call",
            retry_params(
                &params,
                json!({k1.clone(): {"role": "assistant", "content": {"type": "text", "text": "high"}, "model": "m"}}),
                &s1,
            ),
        )
        .await;
    assert_eq!(second.last()["id"], 2);
    let (k2, r2, s2) = input_required(&second);
    assert_eq!(r2["method"], "elicitation/create");
    assert_ne!(s1, s2, "each round has its own state");
    // The first round's state is spent.
    assert_request_state_error(
        &c.call(json!(3), "tools/call", retry_params(&params, json!({k1: {}}), &s1))
            .await,
        "mcp_request_state_not_held",
    );
    let done = c
        .call(
            json!(4),
            "tools/call",
            retry_params(
                &params,
                json!({k2: {"action": "accept", "content": {"name": "Ada"}}}),
                &s2,
            ),
        )
        .await;
    assert_eq!(done.last()["id"], 4);
    assert_eq!(done.result()["resultType"], "complete");
    assert_eq!(text(&done), "sampled=high name=Ada");

    let seen = m.seen.lock().expect("lock").clone();
    let calls: Vec<&Value> = seen.iter().filter(|s| s["method"] == "tools/call").collect();
    assert_eq!(calls.len(), 1, "one upstream call across the rounds: {seen:#?}");
    assert_eq!(calls[0]["params"]["name"], "two-rounds");
    assert!(calls[0]["params"].get("inputResponses").is_none() && calls[0]["params"].get("requestState").is_none());
    let answers: Vec<&Value> = seen.iter().filter(|s| s.get("method").is_none()).collect();
    assert_eq!(answers.len(), 2, "{seen:#?}");
    assert_eq!(
        (&answers[0]["id"], &answers[1]["id"]),
        (&json!(0), &json!("e-1")),
        "the upstream's own ids"
    );
    assert_eq!(answers[0]["result"]["content"]["text"], "high");
}
