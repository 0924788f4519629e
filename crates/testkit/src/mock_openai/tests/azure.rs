//! Azure mode: deployment paths, the exact `api-version`, the `api-key` header and no bearer token.

use serde_json::json;

use super::*;

async fn azure_mock() -> MockOpenAi {
    MockOpenAi::builder()
        .api_key("k1")
        .azure("2024-10-21", &["dep"])
        .start()
        .await
}

async fn send(mock: &MockOpenAi, path: &str, headers: &[(&str, &str)]) -> (u16, Value) {
    let mut req = reqwest::Client::new()
        .post(url(mock, path))
        .json(&json!({"messages": [{"role": "user", "content": "hi"}]}));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    status_json(req.send().await.expect("send")).await
}

#[tokio::test]
async fn azure_mode_accepts_only_the_deployment_shape() {
    let mock = azure_mock().await;
    let ok = "/openai/deployments/dep/chat/completions?api-version=2024-10-21";
    let (status, body) = send(&mock, ok, &[("api-key", "k1")]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["model"], "dep",
        "the deployment is echoed when the body has no model"
    );

    for (path, headers, want_status, want_code) in [
        ("/v1/chat/completions", vec![("api-key", "k1")], 404, "unknown_url"),
        (
            "/openai/deployments/dep/chat/completions",
            vec![("api-key", "k1")],
            404,
            "404",
        ),
        (
            "/openai/deployments/dep/chat/completions?api-version=2023-05-15",
            vec![("api-key", "k1")],
            404,
            "404",
        ),
        (ok, vec![("authorization", "Bearer k1")], 401, "invalid_api_key"),
        (
            ok,
            vec![("api-key", "k1"), ("authorization", "Bearer x")],
            401,
            "invalid_api_key",
        ),
        (
            "/openai/deployments/nope/chat/completions?api-version=2024-10-21",
            vec![("api-key", "k1")],
            404,
            "DeploymentNotFound",
        ),
    ] {
        let (status, body) = send(&mock, path, &headers).await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (want_status, Some(want_code)),
            "{path}"
        );
    }
    let recorded = mock.requests();
    assert_eq!(recorded.len(), 7);
    assert_eq!(recorded[0].query.as_deref(), Some("api-version=2024-10-21"));
    assert!(recorded[1..].iter().all(|r| r.rejection.is_some()));
}
