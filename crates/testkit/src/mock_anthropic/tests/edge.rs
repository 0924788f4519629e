//! The edge of the mock: routes, `x-api-key`, `anthropic-version`, content type, and what gets recorded.

use super::*;

#[tokio::test]
async fn requires_the_exact_x_api_key() {
    let mock = mock_with(AnthropicReply::message("ok")).await;
    let client = reqwest::Client::new();
    let attempt = |headers: &[(&'static str, &'static str)]| {
        let mut req = client
            .post(url(&mock))
            .header("anthropic-version", "2023-06-01")
            .json(&hi());
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        req.send()
    };
    let cases: [(&[(&str, &str)], AnthropicRejection); 4] = [
        (&[], AnthropicRejection::MissingApiKey),
        (
            &[("authorization", "Bearer sk-ant-upstream")],
            AnthropicRejection::MissingApiKey,
        ),
        (&[("x-api-key", "sk-ant-wrong")], AnthropicRejection::InvalidApiKey),
        (
            &[("x-api-key", "Bearer sk-ant-upstream")],
            AnthropicRejection::InvalidApiKey,
        ),
    ];
    for (headers, expected) in cases {
        let r = attempt(headers).await.expect("send");
        let (status, response_headers) = (r.status().as_u16(), r.headers().clone());
        let body = r.json::<Value>().await.expect("JSON");
        assert_error(status, &response_headers, &body, &expected);
        assert!(!body.to_string().contains("sk-ant"), "the key is never echoed: {body}");
    }
    assert_eq!(attempt(&[("x-api-key", KEY)]).await.expect("send").status(), 200);
    assert_eq!(
        mock.requests()[1].header("authorization"),
        Some("Bearer sk-ant-upstream")
    );
}

#[tokio::test]
async fn requires_a_known_anthropic_version() {
    let mock = MockAnthropic::builder()
        .anthropic_versions(&["2023-06-01"])
        .start()
        .await;
    let client = reqwest::Client::new();
    let r = client.post(url(&mock)).json(&hi()).send().await.expect("send");
    let (status, headers) = (r.status().as_u16(), r.headers().clone());
    assert_error(
        status,
        &headers,
        &r.json().await.expect("JSON"),
        &AnthropicRejection::MissingVersion,
    );
    for version in ["2026-10-21", "latest"] {
        let r = client
            .post(url(&mock))
            .header("anthropic-version", version)
            .json(&hi())
            .send()
            .await
            .expect("send");
        let (status, headers) = (r.status().as_u16(), r.headers().clone());
        let expected = AnthropicRejection::InvalidVersion(version.into());
        assert_error(status, &headers, &r.json().await.expect("JSON"), &expected);
    }
    assert_eq!(send(&mock, &hi()).await.status(), 200);
}

#[tokio::test]
async fn rejects_bodies_that_are_not_json_objects() {
    let mock = MockAnthropic::builder().start().await;
    let client = reqwest::Client::new();
    let cases = [
        ("text/plain", hi().to_string(), AnthropicRejection::InvalidContentType),
        (
            "application/json",
            "{not json".to_string(),
            AnthropicRejection::InvalidJson,
        ),
        (
            "application/json",
            "[1, 2]".to_string(),
            AnthropicRejection::InvalidJson,
        ),
    ];
    for (content_type, body, expected) in cases {
        let r = client
            .post(url(&mock))
            .header("anthropic-version", "2023-06-01")
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .expect("send");
        let (status, headers) = (r.status().as_u16(), r.headers().clone());
        assert_error(status, &headers, &r.json().await.expect("JSON"), &expected);
    }
}

#[tokio::test]
async fn unknown_routes_and_methods_are_404() {
    let mock = MockAnthropic::builder().start().await;
    let client = reqwest::Client::new();
    for (method, path) in [
        (reqwest::Method::GET, "/v1/messages"),
        (reqwest::Method::POST, "/v1/complete"),
        (reqwest::Method::POST, "/v1/chat/completions"),
        (reqwest::Method::POST, "/messages"),
    ] {
        let r = client
            .request(method.clone(), format!("{}{path}", mock.base_url()))
            .header("anthropic-version", "2023-06-01")
            .json(&hi())
            .send()
            .await
            .expect("send");
        let (status, headers) = (r.status().as_u16(), r.headers().clone());
        assert_error(
            status,
            &headers,
            &r.json().await.expect("JSON"),
            &AnthropicRejection::NotFound,
        );
    }
}

#[tokio::test]
async fn records_what_it_received_byte_for_byte() {
    let mock = mock_with(AnthropicReply::message("ok")).await;
    let raw = "{ \"model\":\"m\", \"max_tokens\": 10, \"messages\":[{\"role\":\"user\",\"content\":\"caf\\u00e9\"}] }";
    let before = std::time::Instant::now();
    let r = reqwest::Client::new()
        .post(format!("{}?beta=true", url(&mock)))
        .header("x-api-key", KEY)
        .header("anthropic-version", "2023-06-01")
        .header("anthropic-beta", "prompt-caching-2024-07-31")
        .header("content-type", "application/json")
        .body(raw)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    let refused = send(&mock, &without(hi(), "model")).await;
    assert_eq!(refused.status(), 400);
    let recorded = tokio::time::timeout(WITHIN, mock.wait_for_requests(2))
        .await
        .expect("recorded");
    let req = &recorded[0];
    assert_eq!(req.method, http::Method::POST);
    assert_eq!(req.path, "/v1/messages");
    assert_eq!(req.query.as_deref(), Some("beta=true"));
    assert_eq!(req.header("x-api-key"), Some(KEY));
    assert_eq!(req.header("anthropic-beta"), Some("prompt-caching-2024-07-31"));
    assert_eq!(req.body, raw.as_bytes());
    assert_eq!(req.json()["messages"][0]["content"], "café");
    assert!(req.received_at >= before);
    assert!(!req.is_rejected());
    let refused = &recorded[1];
    assert_eq!(
        refused.rejection,
        Some(AnthropicRejection::MissingField("model".into()))
    );
    assert_eq!(refused.try_json().map(|b| b["max_tokens"].clone()), Some(json!(256)));
}

#[tokio::test]
async fn count_tokens_answers_without_consuming_a_reply_and_is_strict() {
    let mock = mock_with(AnthropicReply::message("unused")).await;
    let r = reqwest::Client::new()
        .post(format!("{}/v1/messages/count_tokens", mock.base_url()))
        .header("x-api-key", KEY)
        .header("anthropic-version", "2023-06-01")
        .json(&json!({"model": "claude-haiku-4-5", "system": "be brief",
            "messages": [{"role": "user", "content": "count these four words"}]}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.expect("json");
    assert_eq!(v, json!({"input_tokens": 6}));
    // Generation controls are not part of count_tokens.
    let r = reqwest::Client::new()
        .post(format!("{}/v1/messages/count_tokens", mock.base_url()))
        .header("x-api-key", KEY)
        .header("anthropic-version", "2023-06-01")
        .json(&json!({"model": "m", "max_tokens": 10, "messages": [{"role": "user", "content": "x"}]}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 400);
    let reqs = mock.requests();
    assert!(reqs[0].rejection.is_none());
    assert!(matches!(reqs[1].rejection, Some(AnthropicRejection::UnknownField(ref f)) if f == "max_tokens"));
    // The default reply was not consumed: /v1/messages still answers with it.
    let v: Value = send(
        &mock,
        &json!({"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": "x"}]}),
    )
    .await
    .json()
    .await
    .expect("json");
    assert_eq!(v["content"][0]["text"], "unused");
}
