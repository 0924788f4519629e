//! The mock refuses what OpenAI refuses, with OpenAI's error shape, and records the refusal.

use super::*;

fn assert_error(body: &Value, code: &str) {
    let error = &body["error"];
    assert_eq!(error["code"], code, "{body}");
    assert_eq!(error["type"], "invalid_request_error", "{body}");
    assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
    assert!(error.get("param").is_some(), "param is always present: {body}");
}

#[tokio::test]
async fn rejects_a_body_that_is_not_declared_json() {
    let mock = MockOpenAi::builder().start().await;
    let r = reqwest::Client::new()
        .post(url(&mock, "/v1/chat/completions"))
        .header("content-type", "text/plain")
        .body(hi().to_string())
        .send()
        .await
        .expect("send");
    let (status, body) = status_json(r).await;
    assert_eq!(status, 400);
    assert_error(&body, "invalid_content_type");
    let recorded = mock.requests();
    assert_eq!(recorded.len(), 1, "refused requests are recorded too");
    assert_eq!(recorded[0].rejection, Some(Rejection::InvalidContentType));

    // Parameters after the media type are fine.
    let r = reqwest::Client::new()
        .post(url(&mock, "/v1/chat/completions"))
        .header("content-type", "application/json; charset=utf-8")
        .body(hi().to_string())
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn rejects_missing_or_mistyped_fields() {
    let mock = MockOpenAi::builder().start().await;
    let cases = [
        (
            "/v1/chat/completions",
            json!({"messages": [{"role": "user", "content": "x"}]}),
            "missing_required_parameter",
            Some("model"),
        ),
        (
            "/v1/chat/completions",
            json!({"model": 5, "messages": [{"role": "user", "content": "x"}]}),
            "invalid_type",
            Some("model"),
        ),
        (
            "/v1/chat/completions",
            json!({"model": "m"}),
            "missing_required_parameter",
            Some("messages"),
        ),
        (
            "/v1/chat/completions",
            json!({"model": "m", "messages": []}),
            "empty_array",
            Some("messages"),
        ),
        (
            "/v1/chat/completions",
            json!({"model": "m", "messages": "hi"}),
            "invalid_type",
            Some("messages"),
        ),
        (
            "/v1/chat/completions",
            json!({"model": "m", "stream": "yes", "messages": [{"role": "user", "content": "x"}]}),
            "invalid_type",
            Some("stream"),
        ),
        (
            "/v1/chat/completions",
            json!({"model": "m", "stream_options": {"include_usage": true}, "messages": [{"role": "user", "content": "x"}]}),
            "invalid_value",
            Some("stream_options"),
        ),
        (
            "/v1/completions",
            json!({"model": "m"}),
            "missing_required_parameter",
            Some("prompt"),
        ),
        (
            "/v1/embeddings",
            json!({"model": "m"}),
            "missing_required_parameter",
            Some("input"),
        ),
        ("/v1/chat/completions", json!([1, 2]), "invalid_json", None),
    ];
    let refused = cases.len() + 1;
    for (path, body, code, param) in cases {
        let (status, err) = status_json(post(&mock, path, body.clone()).await).await;
        assert_eq!(status, 400, "{path} {body}");
        assert_error(&err, code);
        assert_eq!(err["error"]["param"].as_str(), param, "{path} {body}");
    }
    let r = reqwest::Client::new()
        .post(url(&mock, "/v1/chat/completions"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .expect("send");
    assert_error(&status_json(r).await.1, "invalid_json");
    let recorded = mock.requests();
    assert_eq!(recorded.len(), refused);
    assert!(recorded.iter().all(Recorded::is_rejected));
    assert_eq!(recorded[0].rejection, Some(Rejection::MissingParameter("model")));
}

#[tokio::test]
async fn requires_the_exact_bearer_key() {
    let mock = MockOpenAi::builder().api_key("sk-upstream").start().await;
    let client = reqwest::Client::new();
    let send = |auth: Option<&'static str>| {
        let mut req = client.post(url(&mock, "/v1/chat/completions")).json(&hi());
        if let Some(auth) = auth {
            req = req.header("authorization", auth);
        }
        req.send()
    };
    for auth in [
        None,
        Some("Bearer sk-wrong"),
        Some("sk-upstream"),
        Some("Bearer sk-upstream2"),
    ] {
        let (status, body) = status_json(send(auth).await.expect("send")).await;
        assert_eq!(status, 401, "{auth:?}");
        assert_error(&body, "invalid_api_key");
        assert!(!body.to_string().contains("sk-"), "the key is never echoed: {body}");
    }
    assert_eq!(send(Some("Bearer sk-upstream")).await.expect("send").status(), 200);
    let models = client.get(url(&mock, "/v1/models")).send().await.expect("send");
    assert_eq!(models.status(), 401, "models needs the key too");
    let rejections: Vec<_> = mock.requests().into_iter().map(|r| r.rejection).collect();
    assert_eq!(rejections[..4], [const { Some(Rejection::InvalidApiKey) }; 4]);
    assert_eq!(rejections[4], None);
}

#[tokio::test]
async fn unknown_routes_and_methods_are_404() {
    let mock = MockOpenAi::builder().api_key("k").start().await;
    let client = reqwest::Client::new();
    for (method, path) in [
        (reqwest::Method::GET, "/v1/chat/completions"),
        (reqwest::Method::POST, "/v1/models"),
        (reqwest::Method::POST, "/v1/chat/completion"),
        (reqwest::Method::POST, "/chat/completions"),
    ] {
        let r = client
            .request(method.clone(), url(&mock, path))
            .json(&hi())
            .send()
            .await
            .expect("send");
        let (status, body) = status_json(r).await;
        assert_eq!(status, 404, "{method} {path}");
        assert_error(&body, "unknown_url");
        assert_eq!(body["error"]["message"], format!("Invalid URL ({method} {path})"));
    }
}

#[tokio::test]
async fn models_lists_the_configured_ids_without_consuming_replies() {
    let mock = MockOpenAi::builder()
        .models(&["a", "b"])
        .push_reply(Reply::chat("queued"))
        .start()
        .await;
    let r = reqwest::get(url(&mock, "/v1/models")).await.expect("send");
    let (status, body) = status_json(r).await;
    assert_eq!(status, 200);
    assert_eq!(body["object"], "list");
    let ids: Vec<_> = body["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|m| m["id"].clone())
        .collect();
    assert_eq!(ids, [json!("a"), json!("b")]);
    let (_, body) = status_json(chat(&mock, hi()).await).await;
    assert_eq!(body["choices"][0]["message"]["content"], "queued");
}

#[tokio::test]
async fn records_what_it_received_byte_for_byte() {
    let mock = MockOpenAi::builder().start().await;
    let raw = "{ \"model\" : \"m\",\"messages\":[{\"role\":\"user\",\"content\":\"caf\\u00e9\"}], \"x\": 1.50 }";
    let before = std::time::Instant::now();
    let r = reqwest::Client::new()
        .post(url(&mock, "/v1/chat/completions?api-version=1"))
        .header("content-type", "application/json")
        .header("x-request-id", "req-1")
        .body(raw)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    let recorded = tokio::time::timeout(WITHIN, mock.wait_for_requests(1))
        .await
        .expect("recorded");
    let req = &recorded[0];
    assert_eq!(req.method, http::Method::POST);
    assert_eq!(req.path, "/v1/chat/completions");
    assert_eq!(req.query.as_deref(), Some("api-version=1"));
    assert_eq!(req.header("x-request-id"), Some("req-1"));
    assert_eq!(req.body, raw.as_bytes());
    assert_eq!(req.json()["messages"][0]["content"], "café");
    assert!(req.received_at >= before);
    assert!(!req.is_rejected());
}
