//! The passthrough provider kinds beyond `openai_compatible`: native `openai`, `azure_openai` (deployment URLs,
//! `api-version`, `api-key`) and `openai_compatible` presets — what the strict mocks receive and what the client
//! gets back.

use serde_json::{Value, json};
use testkit::{MockOpenAi, Reply, sse_data};

use crate::support::TestGateway;

const KEY: &str = "sk-openai-upstream";
const AZURE_KEY: &str = "azure-resource-key-0123";

fn openai_config(mock: &MockOpenAi) -> String {
    format!(
        "providers:\n  oai: {{ kind: openai, base_url: \"{}/v1\", api_key: {{ value: {KEY} }} }}\nmodels:\n  - {{ name: gpt, targets: [{{ provider: oai, model: gpt-4o-mini }}] }}\n",
        mock.base_url()
    )
}

fn azure_config(mock: &MockOpenAi, version: Option<&str>) -> String {
    let version = version.map_or(String::new(), |v| format!(", api_version: \"{v}\""));
    format!(
        "providers:\n  az: {{ kind: azure_openai, base_url: \"{}\", api_key: {{ value: {AZURE_KEY} }}{version} }}\nmodels:\n  - {{ name: gpt, targets: [{{ provider: az, model: prod-gpt4o }}] }}\n  - {{ name: embed, targets: [{{ provider: az, model: prod-embed }}] }}\n",
        mock.base_url()
    )
}

async fn azure(version: &str) -> MockOpenAi {
    MockOpenAi::builder()
        .api_key(AZURE_KEY)
        .azure(version, &["prod-gpt4o", "prod-embed"])
        .reply(Reply::chat("hello from azure"))
        .start()
        .await
}

fn chat_body(stream: bool) -> Value {
    json!({"model": "gpt", "stream": stream, "messages": [{"role": "user", "content": "say hello"}]})
}

#[tokio::test]
async fn openai_kind_sends_bearer_key_and_forces_stream_usage() {
    let mock = MockOpenAi::builder()
        .api_key(KEY)
        .reply(Reply::chat("alpha beta"))
        .start()
        .await;
    let gw = TestGateway::start(&openai_config(&mock)).await;
    let r = gw
        .chat(chat_body(true))
        .header("authorization", "Bearer client-own-key")
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    let data = sse_data(&r.bytes().await.expect("body"));
    assert_eq!(data.last().map(String::as_str), Some("[DONE]"));
    let usage: Value = serde_json::from_str(&data[data.len() - 2]).expect("usage chunk");
    assert_eq!(usage["choices"], json!([]));
    assert_eq!(usage["usage"]["completion_tokens"], 2);

    let req = &mock.requests()[0];
    assert!(req.rejection.is_none(), "{:?}", req.rejection);
    assert_eq!(req.path, "/v1/chat/completions");
    assert_eq!(req.header("authorization"), Some("Bearer sk-openai-upstream"));
    let sent = req.json();
    assert_eq!(sent["model"], "gpt-4o-mini");
    assert_eq!(sent["stream_options"]["include_usage"], true);
    let log = gw.next_log().await;
    assert_eq!(log["target"], "oai");
    assert_eq!(log["output_tokens"], 2);
}

#[tokio::test]
async fn azure_chat_goes_to_the_deployment_with_api_version_and_api_key() {
    let mock = azure("2024-10-21").await;
    let gw = TestGateway::start(&azure_config(&mock, None)).await;
    let r = gw
        .chat(chat_body(false))
        .header("authorization", "Bearer client-own-key")
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.expect("json");
    assert_eq!(v["choices"][0]["message"]["content"], "hello from azure");
    assert_eq!(v["usage"]["completion_tokens"], 3);

    let req = &mock.requests()[0];
    assert!(
        req.rejection.is_none(),
        "the strict Azure mock accepted it: {:?}",
        req.rejection
    );
    assert_eq!(req.path, "/openai/deployments/prod-gpt4o/chat/completions");
    assert_eq!(
        req.query.as_deref(),
        Some("api-version=2024-10-21"),
        "the default GA api-version"
    );
    assert_eq!(req.header("api-key"), Some(AZURE_KEY));
    assert_eq!(
        req.header("authorization"),
        None,
        "no client credential, no bearer token"
    );
    let log = gw.next_log().await;
    assert_eq!(log["outcome"], "complete");
    assert_eq!(log["output_tokens"], 3);
}

#[tokio::test]
async fn azure_stream_and_embeddings_use_the_configured_api_version() {
    let mock = azure("2025-04-01-preview").await;
    let gw = TestGateway::start(&azure_config(&mock, Some("2025-04-01-preview"))).await;
    let r = gw.chat(chat_body(true)).send().await.expect("send");
    assert_eq!(r.status(), 200);
    let data = sse_data(&r.bytes().await.expect("body"));
    let usage: Value = serde_json::from_str(&data[data.len() - 2]).expect("usage chunk");
    assert_eq!(
        usage["usage"]["completion_tokens"], 3,
        "usage forced on the Azure stream too"
    );

    let r = gw
        .http
        .post(gw.url("/v1/embeddings"))
        .json(&json!({"model": "embed", "input": ["one two", "three"]}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.expect("json");
    assert_eq!(v["data"].as_array().map(Vec::len), Some(2));

    let sent = mock.requests();
    assert!(
        sent.iter().all(|r| r.rejection.is_none()),
        "{:?}",
        sent.iter().map(|r| &r.rejection).collect::<Vec<_>>()
    );
    assert_eq!(sent[0].json()["stream_options"]["include_usage"], true);
    assert_eq!(sent[1].path, "/openai/deployments/prod-embed/embeddings");
    assert_eq!(sent[1].query.as_deref(), Some("api-version=2025-04-01-preview"));
}

#[tokio::test]
async fn azure_refusing_the_key_is_an_operator_error_not_relayed() {
    let mock = MockOpenAi::builder()
        .api_key("the-right-key")
        .azure("2024-10-21", &["prod-gpt4o"])
        .start()
        .await;
    let gw = TestGateway::start(&azure_config(&mock, None)).await;
    let r = gw.chat(chat_body(false)).send().await.expect("send");
    assert_eq!(r.status(), 502);
    let v: Value = r.json().await.expect("json");
    assert_eq!(v["error"]["code"], "upstream_auth_failed");
    assert!(!v.to_string().contains(AZURE_KEY));
}

#[tokio::test]
async fn azure_unknown_deployment_is_relayed_as_not_found() {
    let mock = MockOpenAi::builder()
        .api_key(AZURE_KEY)
        .azure("2024-10-21", &["other-deployment"])
        .start()
        .await;
    let gw = TestGateway::start(&azure_config(&mock, None)).await;
    let r = gw.chat(chat_body(false)).send().await.expect("send");
    assert_eq!(r.status(), 404);
    let v: Value = r.json().await.expect("json");
    assert_eq!(v["error"]["code"], "DeploymentNotFound");
}

#[tokio::test]
async fn preset_sends_bearer_key_under_its_prefix() {
    let mock = MockOpenAi::builder()
        .api_key("gsk-groq")
        .reply(Reply::chat("fast"))
        .start()
        .await;
    // `base_url` overrides the preset's host (here: the mock); the prefix and auth convention stay the preset's.
    let yaml = format!(
        "providers:\n  groq: {{ kind: openai_compatible, preset: groq, base_url: \"{}\", api_key: {{ value: gsk-groq }} }}\nmodels:\n  - {{ name: llama, targets: [{{ provider: groq, model: llama-3.1-8b-instant }}] }}\n",
        mock.base_url()
    );
    let gw = TestGateway::start(&yaml).await;
    let r = gw
        .chat(json!({"model": "llama", "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    let req = &mock.requests()[0];
    assert!(req.rejection.is_none(), "{:?}", req.rejection);
    assert_eq!(req.path, "/v1/chat/completions");
    assert_eq!(req.header("authorization"), Some("Bearer gsk-groq"));
    assert_eq!(req.json()["model"], "llama-3.1-8b-instant");
}
