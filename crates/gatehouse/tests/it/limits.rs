//! Every limit crossed gets the right status and code, and nothing bad reaches the upstream.

use serde_json::json;
use testkit::{MockOpenAi, Reply};

use crate::support::TestGateway;

async fn setup(extra: &str, reply: Reply) -> (MockOpenAi, TestGateway) {
    let mock = MockOpenAi::builder().reply(reply).start().await;
    let gw = TestGateway::start(&format!(
        "providers:\n  up: {{ kind: openai_compatible, base_url: \"{}\", timeouts: {{ first_byte: 500ms, total: 2s }} }}\nmodels:\n  - {{ name: m, targets: [{{ provider: up }}] }}\n{extra}",
        mock.base_url()
    ))
    .await;
    (mock, gw)
}

#[tokio::test]
async fn body_too_large_is_413() {
    let (mock, gw) = setup("server: { max_body_bytes: 1KiB }\n", Reply::chat("x")).await;
    let big = "a".repeat(2048);
    let r = gw
        .chat(json!({"model": "m", "messages": [{"role": "user", "content": big}]}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 413);
    assert_eq!(
        r.json::<serde_json::Value>().await.expect("json")["error"]["code"],
        "body_too_large"
    );
    assert!(mock.requests().is_empty());
}

#[tokio::test]
async fn bad_json_is_400_and_never_reaches_upstream() {
    let (mock, gw) = setup("", Reply::chat("x")).await;
    for body in [
        "{not json",
        "[1,2]",
        "",
        "{\"model\": 5}",
        "{\"model\":\"m\",\"stream\":\"yes\"}",
        "{\"model\":\"m\",\"model\":\"m\"}",
    ] {
        let r = gw
            .http
            .post(gw.url("/v1/chat/completions"))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("send");
        assert_eq!(r.status(), 400, "body {body:?}");
        let v: serde_json::Value = r.json().await.expect("error is JSON");
        let code = v["error"]["code"].as_str().expect("code").to_string();
        assert!(code == "invalid_json" || code == "invalid_request", "{body:?} → {code}");
    }
    assert!(mock.requests().is_empty());
}

#[tokio::test]
async fn header_too_large_and_too_many_headers_are_431() {
    let (mock, gw) = setup(
        "server: { max_header_bytes: 8KiB, max_headers: 20 }\n",
        Reply::chat("x"),
    )
    .await;
    let r = gw
        .chat(json!({"model": "m", "messages": []}))
        .header("x-big", "b".repeat(10_000))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 431);
    let mut req = gw.chat(json!({"model": "m", "messages": []}));
    for i in 0..30 {
        req = req.header(format!("x-h{i}"), "v");
    }
    let r = req.send().await.expect("send");
    assert_eq!(r.status(), 431);
    assert!(mock.requests().is_empty());
}

#[tokio::test]
async fn upstream_unreachable_is_502() {
    // A port that was just free: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let gw = TestGateway::start(&format!(
        "providers:\n  up: {{ kind: openai_compatible, base_url: \"http://127.0.0.1:{port}\" }}\nmodels:\n  - {{ name: m, targets: [{{ provider: up }}] }}\n"
    ))
    .await;
    let r = gw
        .chat(json!({"model": "m", "messages": []}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 502);
    assert_eq!(
        r.json::<serde_json::Value>().await.expect("json")["error"]["code"],
        "upstream_unreachable"
    );
    assert_eq!(gw.next_log().await["error_code"], "upstream_unreachable");
    assert!(
        gw.metrics()
            .await
            .contains("gatehouse_upstream_errors_total{target=\"up\",code=\"upstream_unreachable\"} 1")
    );
}

#[tokio::test]
async fn upstream_first_byte_timeout_is_504() {
    let (mock, gw) = setup("failover: { max_attempts: 1 }\n", Reply::hang()).await;
    let r = gw
        .chat(json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 504);
    let v: serde_json::Value = r.json().await.expect("json");
    assert_eq!(v["error"]["code"], "upstream_timeout");
    assert!(v["error"]["message"].as_str().expect("msg").contains("first_byte"));
    assert_eq!(mock.requests().len(), 1);
}

#[tokio::test]
async fn unknown_route_and_method_are_openai_errors() {
    let (_mock, gw) = setup("", Reply::chat("x")).await;
    let r = gw.http.post(gw.url("/v1/nope")).send().await.expect("send");
    assert_eq!(r.status(), 404);
    assert_eq!(
        r.json::<serde_json::Value>().await.expect("json")["error"]["code"],
        "route_not_found"
    );
    let r = gw.http.get(gw.url("/v1/chat/completions")).send().await.expect("send");
    assert_eq!(r.status(), 405);
    assert_eq!(
        r.json::<serde_json::Value>().await.expect("json")["error"]["code"],
        "method_not_allowed"
    );
}

#[tokio::test]
async fn slow_client_body_is_408() {
    let (mock, gw) = setup("server: { body_read_timeout: 300ms }\n", Reply::chat("x")).await;
    // Announce a body and send only part of it.
    use tokio::io::AsyncWriteExt;
    let mut s = tokio::net::TcpStream::connect(gw.gw.data_addr).await.expect("connect");
    s.write_all(b"POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{\"model\":").await.expect("write");
    let mut buf = vec![0u8; 4096];
    use tokio::io::AsyncReadExt;
    let n = tokio::time::timeout(std::time::Duration::from_secs(10), s.read(&mut buf))
        .await
        .expect("answer")
        .expect("read");
    let head = String::from_utf8_lossy(&buf[..n]);
    assert!(head.starts_with("HTTP/1.1 408"), "{head}");
    assert!(head.contains("client_timeout"), "{head}");
    assert!(mock.requests().is_empty());
}

#[tokio::test]
async fn connection_cap_closes_extra_connections() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (_mock, gw) = setup("server: { max_connections: 2 }\n", Reply::chat("x")).await;
    // Two connections that have been served once each stay open (keep-alive) and hold both permits.
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut s = tokio::net::TcpStream::connect(gw.gw.data_addr).await.expect("connect");
        s.write_all(b"GET /v1/models HTTP/1.1\r\nhost: x\r\n\r\n")
            .await
            .expect("write");
        let mut buf = vec![0u8; 8192];
        let n = s.read(&mut buf).await.expect("read");
        assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
        held.push(s);
    }
    let mut third = tokio::net::TcpStream::connect(gw.gw.data_addr).await.expect("connect");
    let _ = third.write_all(b"GET /v1/models HTTP/1.1\r\nhost: x\r\n\r\n").await;
    let mut buf = vec![0u8; 1024];
    let n = tokio::time::timeout(std::time::Duration::from_secs(10), third.read(&mut buf))
        .await
        .expect("closed promptly")
        .unwrap_or(0);
    assert_eq!(n, 0, "the third connection is closed without an answer");
    // Freeing a permit lets a new connection in.
    drop(held.pop());
    let r = reqwest::Client::new()
        .get(gw.url("/v1/models"))
        .send()
        .await
        .expect("served after a permit frees");
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn slow_request_head_is_cut_off() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (_mock, gw) = setup("server: { header_read_timeout: 300ms }\n", Reply::chat("x")).await;
    let mut s = tokio::net::TcpStream::connect(gw.gw.data_addr).await.expect("connect");
    s.write_all(b"POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\n")
        .await
        .expect("write");
    let mut buf = vec![0u8; 1024];
    let n = tokio::time::timeout(std::time::Duration::from_secs(10), s.read(&mut buf))
        .await
        .expect("closed promptly")
        .unwrap_or(0);
    let answer = String::from_utf8_lossy(&buf[..n]);
    assert!(n == 0 || answer.starts_with("HTTP/1.1 408"), "{answer}");
}
