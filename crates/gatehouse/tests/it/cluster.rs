//! A local cluster: three `gatehouse` processes (the built binary) behind a plain nginx load balancer, sharing one
//! real `redis-server` and one MCP session key, in front of one mock LLM upstream and one real server-everything.
//!
//! One bounded run checks, in order: a global rate limit holds exactly across the three replicas (the count of 200
//! against 429 is the limit's arithmetic, not three times it); an MCP session created on one replica is used on the
//! others; a config push reaches every replica; and under load, a SIGTERM'd replica loses nothing while a SIGKILL'd
//! one loses only requests that were already running on it — every request that started after the kill succeeds,
//! because nginx retries a refused connection on the next replica (`proxy_next_upstream error`).
//!
//! Needs nginx (`GATEHOUSE_NGINX`, else /usr/sbin/nginx), redis-server and server-everything. Without them it says
//! so and passes, unless GATEHOUSE_REQUIRE_INTEROP is set (scripts/test.sh sets it and installs all three).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;
use testkit::{MockOpenAi, Reply};

use crate::mcp::KEY;
use crate::mcp_support::{RawClient, everything};
use crate::nginx_support::{Nginx, nginx_binary};
use crate::redis_limits::{Redis, free_port, redis_binary};
use crate::support::{ChildGateway, with_defaults};

/// The global limit: a burst of 30 and then one request a minute, so within this test exactly 30 are admitted.
const BURST: usize = 30;
/// Requests sent at the limit (three times the burst: one replica's worth each if they counted locally).
const LIMITED_REQUESTS: usize = 3 * BURST;
/// Concurrent clients of the load.
const CLIENTS: usize = 6;
/// Requests each client sends during the failure phase.
const PER_CLIENT: usize = 60;
/// Requests each client sends at least after the crashed replica is gone.
const AFTER_KILL: usize = 10;

fn config(mock: &str, redis: &str, mcp: &str, limits: &str) -> String {
    with_defaults(&format!(
        r#"server: {{ drain_timeout: 10s }}
redis: {{ url: "{redis}", on_error: fail_closed }}
providers:
  up: {{ kind: openai_compatible, base_url: "{mock}" }}
models:
  - {{ name: m, targets: [{{ provider: up }}] }}
{limits}mcp:
  session_key: {{ value: "{KEY}" }}
  upstreams:
    everything: {{ url: "{mcp}" }}
"#
    ))
}

/// One request through the balancer: when it started and ended, its status (0 = transport error) and which
/// replicas nginx tried (`$upstream_addr`, comma-separated when it retried).
struct Sent {
    start: Instant,
    end: Instant,
    status: u16,
    upstreams: String,
}

async fn chat(http: &reqwest::Client, url: &str) -> Sent {
    let start = Instant::now();
    let r = http
        .post(url)
        .json(&json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await;
    let (status, upstreams) = match r {
        Ok(r) => {
            let upstreams = r
                .headers()
                .get("x-upstream")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string();
            let status = r.status().as_u16();
            let _ = r.bytes().await;
            (status, upstreams)
        }
        Err(_) => (0, String::new()),
    };
    Sent {
        start,
        end: Instant::now(),
        status,
        upstreams,
    }
}

/// Waits until every replica's `/metrics` counts `n` successful reloads.
async fn wait_reloaded(replicas: &[ChildGateway], n: u32) {
    let http = reqwest::Client::new();
    let want = format!("gatehouse_config_reloads_total{{result=\"success\"}} {n}");
    for r in replicas {
        let url = format!("http://{}/metrics", r.admin);
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let m = http
                .get(&url)
                .send()
                .await
                .expect("metrics")
                .text()
                .await
                .expect("text");
            if m.contains(&want) {
                break;
            }
            assert!(Instant::now() < deadline, "replica {} did not reload: {m}", r.data);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_replicas_behind_nginx_share_limits_sessions_and_survive_a_lost_replica() {
    let Some(nginx_bin) = nginx_binary() else { return };
    let Some(redis_bin) = redis_binary() else { return };
    let Some(everything) = everything() else { return };
    let redis = Redis::start(redis_bin, free_port()).await;
    let mcp = everything.start_http(None).await;
    let mock = MockOpenAi::builder()
        .reply(Reply::delay(Duration::from_millis(10), Reply::chat("ok")))
        .start()
        .await;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("gatehouse.yaml");
    let limit = format!("limits:\n  - {{ name: cluster, scope: global, requests_per_minute: 1, burst: {BURST} }}\n");
    std::fs::write(&path, config(&mock.base_url(), &redis.url(), &mcp.url(), &limit)).expect("write");
    // One config file for all three, as a ConfigMap would be: a push reaches every replica.
    let mut replicas = Vec::new();
    for _ in 0..3 {
        replicas.push(ChildGateway::spawn(&path).await);
    }
    let addrs: Vec<String> = replicas.iter().map(|r| r.data.clone()).collect();
    let nginx_dir = tempfile::tempdir().expect("tempdir");
    let nginx = Nginx::start(&nginx_bin, nginx_dir.path(), &addrs).await;
    let url = nginx.url("/v1/chat/completions");

    // --- 1. The global limit holds exactly across the three replicas ---------------------------------------------
    let started = Instant::now();
    let next = Arc::new(AtomicUsize::new(0));
    let workers: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let (url, next) = (url.clone(), next.clone());
            tokio::spawn(async move {
                let http = reqwest::Client::new();
                let mut out = Vec::new();
                while next.fetch_add(1, Ordering::SeqCst) < LIMITED_REQUESTS {
                    out.push(chat(&http, &url).await);
                }
                out
            })
        })
        .collect();
    let mut limited = Vec::new();
    for w in workers {
        limited.extend(w.await.expect("worker"));
    }
    let elapsed = started.elapsed();
    let ok = limited.iter().filter(|s| s.status == 200).count();
    let refused = limited.iter().filter(|s| s.status == 429).count();
    assert_eq!(ok + refused, LIMITED_REQUESTS, "only 200 or 429 at the limit");
    // GCRA: the burst at once, then one more per full minute elapsed.
    let refill = usize::try_from(elapsed.as_secs() / 60).expect("small");
    assert!(
        (BURST..=BURST + refill).contains(&ok),
        "{ok} admitted in {elapsed:?}; the limit allows {BURST} + {refill}"
    );
    for a in &addrs {
        assert!(
            limited.iter().any(|s| s.upstreams == *a && s.status == 200)
                && limited.iter().any(|s| s.upstreams == *a && s.status == 429),
            "replica {a} both admitted and refused: the bucket is shared, not per replica"
        );
    }
    assert_eq!(mock.requests().len(), ok, "only admitted requests reached the upstream");

    // --- 2. An MCP session moves between replicas ------------------------------------------------------------------
    let mut client = RawClient::new(format!("http://{}/mcp", addrs[0]));
    client.initialize(json!({})).await;
    for (i, a) in addrs.iter().enumerate().skip(1) {
        client.url = format!("http://{a}/mcp");
        let echo = client
            .call(
                "tools/call",
                json!({"name": "everything_echo", "arguments": {"message": format!("on replica {i}")}}),
            )
            .await;
        assert_eq!(echo.status, 200, "{echo:?}");
        assert_eq!(echo.result()["content"][0]["text"], format!("Echo: on replica {i}"));
    }
    // And through the balancer, whichever replica it picks.
    client.url = nginx.url("/mcp");
    for _ in 0..3 {
        assert!(client.tool_names().await.iter().any(|n| n == "everything_echo"));
    }

    // --- 3. A config push reaches every replica --------------------------------------------------------------------
    testkit::write_file_atomically(&path, config(&mock.base_url(), &redis.url(), &mcp.url(), "").as_bytes());
    wait_reloaded(&replicas, 1).await;

    // --- 4. Losing replicas under load -----------------------------------------------------------------------------
    let before = mock.requests().len();
    // Each client sends PER_CLIENT requests and goes on until it has sent AFTER_KILL more once the crashed replica
    // is gone (bounded: at most 5 × PER_CLIENT).
    let gone = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let (url, gone) = (url.clone(), gone.clone());
            tokio::spawn(async move {
                let http = reqwest::Client::new();
                let mut out = Vec::with_capacity(PER_CLIENT);
                let mut after = 0;
                while (out.len() < PER_CLIENT || after < AFTER_KILL) && out.len() < 5 * PER_CLIENT {
                    if gone.load(Ordering::SeqCst) {
                        after += 1;
                    }
                    out.push(chat(&http, &url).await);
                }
                out
            })
        })
        .collect();
    // A third of the way in: a graceful stop (what a rolling update does). Its in-flight requests finish.
    mock.wait_for_requests(before + CLIENTS * PER_CLIENT / 3).await;
    let mut drained = replicas.remove(0);
    drained.signal("TERM");
    assert_eq!(drained.wait_exit().await.code(), Some(0));
    // Two thirds in: a crash. Only the requests already running on it may fail.
    mock.wait_for_requests(before + 2 * CLIENTS * PER_CLIENT / 3).await;
    let mut crashed = replicas.remove(0);
    let kill_sent = Instant::now();
    crashed.signal("KILL");
    let _ = crashed.wait_exit().await;
    // Gone for nginx once its port refuses connections (on a busy machine the kernel can take a moment).
    let deadline = Instant::now() + Duration::from_secs(10);
    while tokio::net::TcpStream::connect(crashed.data.as_str()).await.is_ok() {
        assert!(Instant::now() < deadline, "the killed replica's port still accepts");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let killed_at = Instant::now();
    gone.store(true, Ordering::SeqCst);

    let mut load = Vec::new();
    for w in workers {
        load.extend(w.await.expect("worker"));
    }
    assert!(load.len() >= CLIENTS * PER_CLIENT);
    let failed: Vec<_> = load.iter().filter(|s| s.status != 200).collect();
    for f in &failed {
        // Running on it while it died: sent before the process was gone (the kernel still accepted connections
        // for it until then), and not finished when the kill was sent.
        assert!(
            f.start < killed_at && f.end >= kill_sent,
            "a request failed ({}, via {:?}) that was not running on the killed replica ({:?} after the kill)",
            f.status,
            f.upstreams,
            f.start.saturating_duration_since(kill_sent)
        );
        assert!(
            f.upstreams.ends_with(crashed.data.as_str()),
            "a request failed on {:?}, not on the killed replica",
            f.upstreams
        );
        assert_eq!(f.status, 502, "a request cut by the crash is a 502 from nginx");
    }
    let after: Vec<_> = load.iter().filter(|s| s.start > killed_at).collect();
    assert!(
        after.len() >= CLIENTS * AFTER_KILL,
        "the load went on after the kill ({} requests)",
        after.len()
    );
    assert!(
        after.iter().all(|s| s.status == 200),
        "every request started after the kill succeeded"
    );
    let survivor = &replicas[0].data;
    assert!(
        after.iter().all(|s| s.upstreams.ends_with(survivor.as_str())),
        "after the kill the survivor answered everything"
    );
    assert!(
        after
            .iter()
            .any(|s| s.upstreams.contains(&crashed.data) || s.upstreams.contains(&drained.data)),
        "nginx tried a stopped replica and moved on to the survivor"
    );
    let error_log = std::fs::read_to_string(&nginx.error_log).expect("nginx error log");
    assert!(error_log.contains("Connection refused"), "{error_log}");
    eprintln!(
        "cluster: {ok}/{LIMITED_REQUESTS} admitted at the shared limit; {} of {} requests lost to the SIGKILL, all running on it",
        failed.len(),
        load.len()
    );
}
