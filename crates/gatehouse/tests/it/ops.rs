//! Operations under load: a hot reload while several clients keep sending fails no request and is visible at once,
//! and SIGTERM on the real binary turns `/readyz` unready first, then refuses new connections, lets open streams
//! finish (or cuts them at the drain deadline) and exits 0.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;
use testkit::{MockOpenAi, Reply};

use crate::support::{ChildGateway, TestGateway, with_defaults};

/// Concurrent clients of the bounded load.
const CLIENTS: usize = 8;
/// Requests each client sends.
const PER_CLIENT: usize = 40;

fn config(base: &str, extra_model: &str) -> String {
    with_defaults(&format!(
        "providers:\n  up: {{ kind: openai_compatible, base_url: \"{base}\" }}\nmodels:\n  - {{ name: m, targets: [{{ provider: up }}] }}\n{extra_model}"
    ))
}

/// One finished request of the load: whether it started after the test saw the reload, its status and content.
struct Outcome {
    after_reload: bool,
    status: u16,
    content: String,
}

async fn one_request(http: &reqwest::Client, url: &str) -> (u16, String) {
    let r = match http
        .post(url)
        .json(&json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
    {
        Ok(r) => r,
        Err(e) => return (0, format!("transport error: {e}")),
    };
    let status = r.status().as_u16();
    let body: serde_json::Value = r.json().await.unwrap_or_default();
    let content = body["choices"][0]["message"]["content"]
        .as_str()
        .map_or_else(|| body.to_string(), str::to_string);
    (status, content)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reload_under_load_fails_no_request_and_is_visible_at_once() {
    let old = MockOpenAi::builder().reply(Reply::chat("old")).start().await;
    let new = MockOpenAi::builder().reply(Reply::chat("new")).start().await;
    let gw = TestGateway::start(&config(&old.base_url(), "")).await;
    let mut gen_rx = gw.gw.state.generation.subscribe();
    let url = gw.url("/v1/chat/completions");
    let reloaded = Arc::new(AtomicBool::new(false));

    let workers: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let url = url.clone();
            let reloaded = reloaded.clone();
            tokio::spawn(async move {
                let http = reqwest::Client::new();
                let mut out = Vec::with_capacity(PER_CLIENT);
                for _ in 0..PER_CLIENT {
                    let after_reload = reloaded.load(Ordering::SeqCst);
                    let (status, content) = one_request(&http, &url).await;
                    out.push(Outcome {
                        after_reload,
                        status,
                        content,
                    });
                }
                out
            })
        })
        .collect();

    // Reload once the load is running: the model now routes to the other upstream and a second model appears.
    old.wait_for_requests(CLIENTS * 2).await;
    testkit::write_file_atomically(
        gw.config_path(),
        config(&new.base_url(), "  - { name: added, targets: [{ provider: up }] }\n").as_bytes(),
    );
    tokio::time::timeout(Duration::from_secs(10), gen_rx.changed())
        .await
        .expect("no reload within 10s")
        .expect("state");
    reloaded.store(true, Ordering::SeqCst);
    // Visible immediately: the very next request for the new model is served by the new upstream.
    let r = gw
        .chat(json!({"model": "added", "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .expect("send");
    assert_eq!(
        r.status(),
        200,
        "the added model is live as soon as the reload is reported"
    );

    // A broken push during the same load is rejected and changes nothing.
    let before_bad = new.requests().len();
    testkit::write_file_atomically(gw.config_path(), b"models: 7\n");
    tokio::time::timeout(Duration::from_secs(10), gen_rx.changed())
        .await
        .expect("no reload attempt within 10s")
        .expect("state");
    // The load may already be over on a fast machine: a request after the rejected push shows the config it kept.
    let (status, content) = one_request(&reqwest::Client::new(), &url).await;
    assert_eq!(
        (status, content.as_str()),
        (200, "new"),
        "the rejected push changed nothing"
    );

    let mut outcomes = Vec::new();
    for w in workers {
        outcomes.extend(w.await.expect("worker"));
    }
    assert_eq!(outcomes.len(), CLIENTS * PER_CLIENT);
    let failed: Vec<_> = outcomes
        .iter()
        .filter(|o| o.status != 200)
        .map(|o| (o.status, o.content.clone()))
        .collect();
    assert!(failed.is_empty(), "failed requests during reload: {failed:?}");
    let stale: Vec<_> = outcomes
        .iter()
        .filter(|o| o.after_reload && o.content != "new")
        .map(|o| o.content.clone())
        .collect();
    assert!(
        stale.is_empty(),
        "requests started after the reload saw the old config: {stale:?}"
    );
    let on_old = outcomes.iter().filter(|o| o.content == "old").count();
    let on_new = outcomes.iter().filter(|o| o.content == "new").count();
    assert_eq!(on_old + on_new, outcomes.len());
    assert!(on_old >= CLIENTS * 2, "the load ran before the reload ({on_old} old)");
    assert!(
        new.requests().len() > before_bad,
        "requests kept reaching the new upstream after the rejected push"
    );
    let m = gw.metrics().await;
    assert!(
        m.contains("gatehouse_config_reloads_total{result=\"success\"} 1"),
        "{m}"
    );
    assert!(m.contains("gatehouse_config_reloads_total{result=\"error\"} 1"), "{m}");
}

/// Polls `/readyz` and a fresh data-plane connection every 20 ms until the data port refuses (bounded), returning
/// (when `/readyz` first said `draining`, whether the data port still served after that, when it first refused).
async fn watch_drain(child: &ChildGateway, started: Instant) -> (Duration, bool, Duration) {
    let mut unready_at = None;
    let mut served_while_unready = false;
    let deadline = started + Duration::from_secs(15);
    while Instant::now() < deadline {
        // A fresh client each time: a new connection, as a load balancer's next request would open.
        let fresh = reqwest::Client::builder()
            .pool_max_idle_per_host(0)
            .build()
            .expect("client");
        if unready_at.is_none()
            && let Ok(r) = fresh.get(format!("http://{}/readyz", child.admin)).send().await
            && r.status() == 503
        {
            assert_eq!(r.text().await.expect("text"), "draining\n");
            unready_at = Some(started.elapsed());
        }
        match fresh.get(format!("http://{}/v1/models", child.data)).send().await {
            Ok(r) => {
                assert_eq!(r.status(), 200, "a connection accepted during the delay is served");
                if unready_at.is_some() {
                    served_while_unready = true;
                }
            }
            Err(e) => {
                assert!(e.is_connect(), "refused, not reset mid-request: {e}");
                let unready = unready_at.expect("the data port refused before /readyz turned unready");
                return (unready, served_while_unready, started.elapsed());
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the data port still accepted 15s after SIGTERM");
}

fn stream_body() -> serde_json::Value {
    json!({"model": "m", "stream": true, "messages": [{"role": "user", "content": "hi"}]})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_on_the_binary_unready_first_then_refuses_and_open_streams_finish() {
    let (reply, gate) = Reply::gated_stream(&["still", "streaming"]);
    let mock = MockOpenAi::builder().reply(reply).start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("gw.yaml");
    std::fs::write(
        &path,
        format!(
            "server: {{ shutdown_delay: 1500ms, drain_timeout: 20s }}\n{}",
            config(&mock.base_url(), "")
        ),
    )
    .expect("write");
    let mut child = ChildGateway::spawn(&path).await;
    let http = reqwest::Client::new();
    let url = format!("http://{}/v1/chat/completions", child.data);
    let mut streams = Vec::new();
    for _ in 0..3 {
        let r = http.post(&url).json(&stream_body()).send().await.expect("send");
        assert_eq!(r.status(), 200);
        streams.push(r);
    }
    mock.wait_for_requests(3).await;
    gate.release(1);
    // Each stream has its first chunk before the signal: they are open streams, not pending requests.
    for s in &mut streams {
        let first = tokio::time::timeout(Duration::from_secs(10), s.chunk())
            .await
            .expect("first chunk in 10s")
            .expect("chunk")
            .expect("not the end");
        assert!(String::from_utf8_lossy(&first).contains("still"), "{first:?}");
    }

    let started = Instant::now();
    child.signal("TERM");
    let (unready, served_while_unready, refused) = watch_drain(&child, started).await;
    assert!(unready < refused, "unready at {unready:?}, refused at {refused:?}");
    assert!(
        served_while_unready,
        "new connections were still served between unready and the listener closing"
    );
    assert!(
        refused >= Duration::from_millis(1500),
        "the listener closed only after the shutdown delay ({refused:?})"
    );
    assert!(
        child.child.try_wait().expect("try_wait").is_none(),
        "still draining the open streams"
    );

    gate.finish();
    for s in streams {
        let text = tokio::time::timeout(Duration::from_secs(10), s.text())
            .await
            .expect("stream ends in 10s")
            .expect("the open stream completes");
        assert!(text.contains("streaming") && text.contains("[DONE]"), "{text}");
    }
    let status = child.wait_exit().await;
    assert_eq!(status.code(), Some(0), "{status:?}");
    let stderr = child.stderr.lock().expect("lock").join("\n");
    assert!(stderr.contains("drained; bye"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_cuts_a_stream_that_outlives_the_drain_deadline_and_still_exits_zero() {
    let (reply, _gate) = Reply::gated_stream(&["never", "finishes"]);
    let mock = MockOpenAi::builder().reply(reply).start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("gw.yaml");
    std::fs::write(
        &path,
        format!("server: {{ drain_timeout: 1s }}\n{}", config(&mock.base_url(), "")),
    )
    .expect("write");
    let mut child = ChildGateway::spawn(&path).await;
    let r = reqwest::Client::new()
        .post(format!("http://{}/v1/chat/completions", child.data))
        .json(&stream_body())
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    mock.wait_for_requests(1).await;
    let started = Instant::now();
    child.signal("TERM");
    let status = child.wait_exit().await;
    assert_eq!(status.code(), Some(0), "{status:?}");
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "waited for the drain deadline"
    );
    let stderr = child.stderr.lock().expect("lock").join("\n");
    assert!(stderr.contains("drain deadline reached"), "{stderr}");
    let body = tokio::time::timeout(Duration::from_secs(10), r.text())
        .await
        .expect("the client sees the end in 10s");
    let complete = body.as_ref().is_ok_and(|t| t.contains("[DONE]"));
    assert!(
        !complete,
        "a stream cut at the deadline does not end as complete: {body:?}"
    );
}

#[tokio::test]
async fn drain_serves_a_connection_that_sends_its_request_after_the_signal() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mock = MockOpenAi::builder().reply(Reply::chat("ok")).start().await;
    let gw = TestGateway::start(&config(&mock.base_url(), "")).await;
    // Connected (the kernel completed the handshake) but nothing sent yet: what a load balancer's fresh connection
    // looks like at the instant a SIGTERM lands.
    let mut conn = tokio::net::TcpStream::connect(gw.gw.data_addr).await.expect("connect");
    gw.gw.shutdown();
    conn.write_all(b"GET /v1/models HTTP/1.1\r\nhost: gatehouse\r\n\r\n")
        .await
        .expect("write");
    let mut reply = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), conn.read_to_end(&mut reply))
        .await
        .expect("answered and closed within 10s")
        .expect("read");
    let reply = String::from_utf8_lossy(&reply);
    assert!(
        reply.starts_with("HTTP/1.1 200"),
        "served, not closed unread: {reply:?}"
    );
    assert!(reply.contains("\"object\":\"list\""), "{reply}");
    let TestGateway { gw, .. } = gw;
    assert!(
        tokio::time::timeout(Duration::from_secs(10), gw.wait())
            .await
            .expect("stopped"),
        "drained within the deadline"
    );
}

#[tokio::test]
async fn a_configmap_style_symlink_swap_reloads_the_config() {
    // Mounted the way deploy/kubernetes/deployment.yaml mounts the ConfigMap: gatehouse.yaml -> ..data/gatehouse.yaml,
    // updated by the kubelet's `..data` symlink swap; the file path itself never changes.
    let old = MockOpenAi::builder().reply(Reply::chat("old")).start().await;
    let new = MockOpenAi::builder().reply(Reply::chat("new")).start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    testkit::swap_k8s_secret_dir(dir.path(), "gatehouse.yaml", config(&old.base_url(), ""));
    let gw = gatehouse::Gateway::start(gatehouse::StartOptions {
        config: dir.path().join("gatehouse.yaml"),
        capture_access_log: None,
    })
    .await
    .expect("start");
    let mut gen_rx = gw.state.generation.subscribe();
    let http = reqwest::Client::new();
    let url = format!("http://{}/v1/chat/completions", gw.data_addr);
    assert_eq!(one_request(&http, &url).await, (200, "old".to_string()));

    testkit::swap_k8s_secret_dir(dir.path(), "gatehouse.yaml", config(&new.base_url(), ""));
    tokio::time::timeout(Duration::from_secs(10), gen_rx.changed())
        .await
        .expect("no reload within 10s")
        .expect("state");
    assert_eq!(one_request(&http, &url).await, (200, "new".to_string()));
    gw.shutdown();
    assert!(gw.wait().await);
}
