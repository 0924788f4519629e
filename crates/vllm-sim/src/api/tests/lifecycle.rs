//! Connection and server lifecycle: disconnects, graceful shutdown, several replicas, bad options.

use serde_json::json;
use tokio::net::TcpListener;

use super::{MODEL, Sim, chat_body};
use crate::SimOptions;

#[tokio::test]
async fn client_disconnect_aborts_the_request() {
    // Real time at 1/10 speed: 10_000 tokens would take ~12 s, so the request is still running when dropped.
    let sim = Sim::start(SimOptions {
        time_scale: 0.1,
        ..SimOptions::default()
    })
    .await;
    let body = json!({"prompt": [1, 2, 3], "max_tokens": 8000, "stream": true});
    let mut resp = sim
        .client
        .post(format!("{}/v1/completions", sim.base))
        .json(&body)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let first = resp.chunk().await.unwrap_or_else(|e| panic!("{e}"));
    assert!(first.is_some_and(|c| c.starts_with(b"data: ")));
    drop(resp);
    // The abort happens in the server's connection task; poll /metrics (bounded) until it is visible.
    let aborted =
        format!("vllm:request_success_total{{engine=\"0\",finished_reason=\"abort\",model_name=\"{MODEL}\"}} 1.0");
    let running = format!("vllm:num_requests_running{{engine=\"0\",model_name=\"{MODEL}\"}} 0.0");
    let mut seen = false;
    for _ in 0..500 {
        let (_, text) = sim.get("/metrics").await;
        if text.contains(&aborted) && text.contains(&running) {
            seen = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(seen, "abort not counted within 5 s");
}

#[tokio::test]
async fn several_replicas_in_one_process_are_independent() {
    let a = Sim::fast().await;
    let b = Sim::fast().await;
    a.post_json("/v1/chat/completions", &chat_body(2)).await;
    let (_, text) = b.get("/metrics").await;
    assert!(text.contains(&format!(
        "vllm:generation_tokens_total{{engine=\"0\",model_name=\"{MODEL}\"}} 0.0"
    )));
}

#[tokio::test]
async fn graceful_shutdown_lets_streams_finish() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap_or_else(|e| panic!("{e}"));
    let addr = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let opts = SimOptions {
        time_scale: 0.05,
        ..SimOptions::default()
    };
    let server = tokio::spawn(crate::serve_with_shutdown(listener, opts, async move {
        let _ = stop_rx.await;
    }));
    let client = reqwest::Client::new();
    let body = json!({"prompt": [1, 2, 3], "max_tokens": 20, "stream": true});
    let mut resp = client
        .post(format!("http://{addr}/v1/completions"))
        .json(&body)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(resp.chunk().await.ok().flatten().is_some());
    let _ = stop_tx.send(());
    let mut rest = Vec::new();
    while let Ok(Some(chunk)) = resp.chunk().await {
        rest.extend_from_slice(&chunk);
    }
    assert!(
        rest.ends_with(b"data: [DONE]\n\n"),
        "in-flight stream completes after shutdown starts"
    );
    let result = server.await.unwrap_or_else(|e| panic!("{e}"));
    assert!(result.is_ok());
}

#[tokio::test]
async fn invalid_options_fail_fast() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap_or_else(|e| panic!("{e}"));
    let err = crate::serve(
        listener,
        SimOptions {
            max_num_seqs: 0,
            ..SimOptions::default()
        },
    )
    .await
    .err();
    assert_eq!(err.map(|e| e.kind()), Some(std::io::ErrorKind::InvalidInput));
}
