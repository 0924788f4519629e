//! Graceful shutdown: unready first, no new connections, open streams finish, then exit 0.

use std::time::Duration;

use serde_json::json;
use testkit::{MockOpenAi, Reply};

use crate::support::{ChildGateway, TestGateway, with_defaults};

#[tokio::test]
async fn drain_finishes_an_open_stream() {
    let (reply, gate) = Reply::gated_stream(&["still", "streaming"]);
    let mock = MockOpenAi::builder().reply(reply).start().await;
    let gw = TestGateway::start(&format!(
        "providers:\n  up: {{ kind: openai_compatible, base_url: \"{}\" }}\nmodels:\n  - {{ name: m, targets: [{{ provider: up }}] }}\n",
        mock.base_url()
    ))
    .await;
    let r = gw
        .chat(json!({"model": "m", "stream": true, "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .expect("send");
    mock.wait_for_requests(1).await;

    gw.gw.shutdown();
    let ready = gw.http.get(gw.admin("/readyz")).send().await.expect("readyz");
    assert_eq!(ready.status(), 503, "unready while draining");
    assert_eq!(ready.text().await.expect("text"), "draining\n");
    let fresh = reqwest::Client::new();
    assert!(
        fresh.get(gw.url("/v1/models")).send().await.is_err(),
        "no new connections while draining"
    );

    gate.finish();
    let text = r.text().await.expect("the open stream completes");
    assert!(text.contains("streaming") && text.contains("[DONE]"), "{text}");
    let TestGateway { gw, .. } = gw;
    assert!(
        tokio::time::timeout(Duration::from_secs(10), gw.wait())
            .await
            .expect("stopped"),
        "drained within the deadline"
    );
}

#[tokio::test]
async fn sigterm_exits_zero() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("gw.yaml");
    std::fs::write(
        &path,
        with_defaults("providers: {}\n").replace("access_log: off", "access_log: stdout"),
    )
    .expect("write");
    let mut child = ChildGateway::spawn(&path).await;
    let r = reqwest::get(format!("http://{}/v1/models", child.data))
        .await
        .expect("models");
    assert_eq!(r.status(), 200);
    child.signal("TERM");
    let status = child.wait_exit().await;
    assert!(status.success(), "{status:?}");
    assert!(child.stderr.lock().expect("lock").iter().any(|l| l.contains("drained")));
    // The access log went to stdout as one JSON line.
    let out = child.stdout.lock().expect("lock").clone();
    let line: serde_json::Value = serde_json::from_str(out.last().expect("an access log line")).expect("JSON");
    assert_eq!(line["route"], "models");
}
