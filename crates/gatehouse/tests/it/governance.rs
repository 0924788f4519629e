//! Identities on the LLM routes (`auth:`): virtual keys by hash (inline and from a rotated key file), 401/403 in
//! both dialects, `/v1/models` filtered per key, the principal in the access log, the client credential never
//! forwarded, anonymous mode, and the open gateway when `auth:` is absent.

use std::time::Duration;

use gatehouse::policy::keys::hash_key;
use serde_json::{Value, json};
use testkit::{MockOpenAi, Reply};

use crate::support::TestGateway;

const UPSTREAM_KEY: &str = "sk-upstream-provider";

fn base(mock: &MockOpenAi) -> String {
    format!(
        r#"
providers:
  up: {{ kind: openai_compatible, base_url: "{}", api_key: {{ value: "{UPSTREAM_KEY}" }} }}
models:
  - {{ name: small, aliases: [s], targets: [{{ provider: up }}] }}
  - {{ name: large, targets: [{{ provider: up }}] }}
"#,
        mock.base_url()
    )
}

fn keys_yaml() -> String {
    format!(
        r#"
    - {{ name: alice-dev, sha256: "{}", team: ml, user: alice, tags: [dev] }}
    - {{ name: bob-small, sha256: "{}", team: web, user: bob, models: [s] }}
    - {{ name: old, sha256: "{}", revoked: true }}
"#,
        hash_key("sk-alice"),
        hash_key("sk-bob"),
        hash_key("sk-old")
    )
}

async fn mock() -> MockOpenAi {
    MockOpenAi::builder()
        .api_key(UPSTREAM_KEY)
        .reply(Reply::chat("hi"))
        .start()
        .await
}

fn chat(model: &str) -> Value {
    json!({"model": model, "messages": [{"role": "user", "content": "hello"}]})
}

fn messages(model: &str) -> Value {
    json!({"model": model, "max_tokens": 16, "messages": [{"role": "user", "content": "hello"}]})
}

async fn post(gw: &TestGateway, path: &str, body: &Value, headers: &[(&str, &str)]) -> (u16, Value) {
    let mut req = gw.http.post(gw.url(path)).json(body);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let r = req.send().await.expect("send");
    let status = r.status().as_u16();
    if status == 401 {
        assert_eq!(
            r.headers().get("www-authenticate").and_then(|v| v.to_str().ok()),
            Some("Bearer")
        );
    }
    (status, r.json().await.expect("json body"))
}

#[tokio::test]
async fn llm_keys_401_and_403_in_openai_dialect() {
    let mock = mock().await;
    let gw = TestGateway::start(&format!("{}auth:\n  api_keys:{}", base(&mock), keys_yaml())).await;
    for (headers, code) in [
        (vec![], "missing_api_key"),
        (vec![("authorization", "Bearer sk-wrong")], "invalid_api_key"),
        (vec![("authorization", "Bearer sk-old")], "invalid_api_key"),
        (vec![("x-api-key", "sk-wrong")], "invalid_api_key"),
        (
            vec![("authorization", &*format!("Bearer {}", hash_key("sk-alice")))],
            "invalid_api_key",
        ),
    ] {
        let (status, v) = post(&gw, "/v1/chat/completions", &chat("small"), &headers).await;
        assert_eq!(status, 401, "{headers:?}");
        assert_eq!(v["error"]["code"], code, "{headers:?}: {v}");
        assert_eq!(v["error"]["type"], "authentication_error");
        assert!(!v.to_string().contains("sk-"), "the credential is never echoed: {v}");
    }
    let (status, v) = post(
        &gw,
        "/v1/chat/completions",
        &chat("large"),
        &[("authorization", "Bearer sk-bob")],
    )
    .await;
    assert_eq!(status, 403);
    assert_eq!(v["error"]["code"], "model_not_allowed");
    assert_eq!(v["error"]["type"], "permission_error");
    // Embeddings are governed too.
    let (status, _) = post(
        &gw,
        "/v1/embeddings",
        &json!({"model": "large", "input": "x"}),
        &[("authorization", "Bearer sk-bob")],
    )
    .await;
    assert_eq!(status, 403);
    assert!(mock.requests().is_empty(), "refused requests never reach the upstream");
}

#[tokio::test]
async fn llm_keys_401_and_403_in_anthropic_dialect() {
    let mock = mock().await;
    let gw = TestGateway::start(&format!("{}auth:\n  api_keys:{}", base(&mock), keys_yaml())).await;
    for path in ["/v1/messages", "/v1/messages/count_tokens"] {
        let (status, v) = post(&gw, path, &messages("small"), &[("x-api-key", "sk-wrong")]).await;
        assert_eq!(status, 401, "{path}");
        assert_eq!(v["type"], "error");
        assert_eq!(v["error"]["type"], "authentication_error");
        assert_eq!(v["error"]["code"], "invalid_api_key");
        let (status, v) = post(&gw, path, &messages("large"), &[("x-api-key", "sk-bob")]).await;
        assert_eq!(status, 403, "{path}");
        assert_eq!(v["type"], "error");
        assert_eq!(v["error"]["type"], "permission_error");
        assert_eq!(v["error"]["code"], "model_not_allowed");
    }
    assert!(mock.requests().is_empty());
}

#[tokio::test]
async fn llm_valid_key_is_served_logged_and_never_forwarded() {
    let mock = mock().await;
    let gw = TestGateway::start(&format!("{}auth:\n  api_keys:{}", base(&mock), keys_yaml())).await;
    let (status, _) = post(
        &gw,
        "/v1/chat/completions",
        &chat("small"),
        &[("authorization", "Bearer sk-alice")],
    )
    .await;
    assert_eq!(status, 200);
    let log = gw.next_log().await;
    assert_eq!(log["key"], "alice-dev");
    assert_eq!(log["team"], "ml");
    assert_eq!(log["user"], "alice");
    assert!(!log.to_string().contains("sk-alice"));
    // Anthropic-style client with x-api-key, model named by alias.
    let (status, _) = post(&gw, "/v1/messages", &messages("s"), &[("x-api-key", "sk-bob")]).await;
    assert_eq!(status, 200);
    let log = gw.next_log().await;
    assert_eq!(log["key"], "bob-small");
    let reqs = mock.requests();
    assert_eq!(reqs.len(), 2);
    for r in &reqs {
        assert_eq!(
            r.headers.get("authorization").and_then(|v| v.to_str().ok()),
            Some(&*format!("Bearer {UPSTREAM_KEY}")),
            "the upstream gets the provider key, not the client's"
        );
        assert!(
            r.headers.get("x-api-key").is_none(),
            "the client's x-api-key is not forwarded"
        );
        for (_, v) in &r.headers {
            let v = v.to_str().unwrap_or_default();
            assert!(
                !v.contains("sk-alice") && !v.contains("sk-bob"),
                "client key forwarded: {v}"
            );
        }
    }
}

#[tokio::test]
async fn llm_models_list_is_filtered_per_key() {
    let mock = mock().await;
    let gw = TestGateway::start(&format!("{}auth:\n  api_keys:{}", base(&mock), keys_yaml())).await;
    let ids = |v: Value| -> Vec<String> {
        v["data"]
            .as_array()
            .expect("data")
            .iter()
            .map(|m| m["id"].as_str().expect("id").to_string())
            .collect()
    };
    let get = |key: Option<&'static str>| {
        let mut r = gw.http.get(gw.url("/v1/models"));
        if let Some(k) = key {
            r = r.bearer_auth(k);
        }
        r.send()
    };
    let r = get(None).await.expect("send");
    assert_eq!(r.status(), 401);
    let r = get(Some("sk-alice")).await.expect("send");
    assert_eq!(ids(r.json().await.expect("json")), vec!["small", "large"]);
    let r = get(Some("sk-bob")).await.expect("send");
    assert_eq!(ids(r.json().await.expect("json")), vec!["small"]);
}

#[tokio::test]
async fn llm_keys_from_a_rotated_key_file() {
    let mock = mock().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("keys.yaml");
    let entry = |name: &str, key: &str| format!("- {{ name: {name}, sha256: \"{}\", team: t }}\n", hash_key(key));
    std::fs::write(&file, entry("first", "sk-first")).expect("write keys");
    let gw = TestGateway::start(&format!(
        "{}auth:\n  api_keys: {{ file: \"{}\" }}\n",
        base(&mock),
        file.display()
    ))
    .await;
    let status = |key: &'static str| {
        let gw = &gw;
        async move {
            post(
                gw,
                "/v1/chat/completions",
                &chat("small"),
                &[("authorization", &*format!("Bearer {key}"))],
            )
            .await
            .0
        }
    };
    assert_eq!(status("sk-first").await, 200);
    assert_eq!(status("sk-second").await, 401);
    // Rotate: write a new file and rename it over the old one (how a mounted secret changes).
    let tmp = dir.path().join("keys.yaml.new");
    std::fs::write(&tmp, entry("second", "sk-second")).expect("write keys");
    std::fs::rename(&tmp, &file).expect("rename");
    let mut rotated = false;
    for _ in 0..100 {
        if status("sk-second").await == 200 {
            rotated = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(rotated, "the new key was not picked up");
    assert_eq!(status("sk-first").await, 401, "the rotated-out key is refused");
    // A broken file keeps the current keys.
    std::fs::write(&file, "not: [a list").expect("write keys");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(status("sk-second").await, 200);
}

#[tokio::test]
async fn llm_anonymous_mode_and_open_gateway() {
    let mock = mock().await;
    let gw = TestGateway::start(&format!(
        "{}auth:\n  anonymous: true\n  api_keys:{}",
        base(&mock),
        keys_yaml()
    ))
    .await;
    let (status, _) = post(&gw, "/v1/chat/completions", &chat("large"), &[]).await;
    assert_eq!(status, 200, "no credential passes as anonymous");
    assert_eq!(gw.next_log().await["key"], "anonymous");
    let (status, _) = post(
        &gw,
        "/v1/chat/completions",
        &chat("large"),
        &[("authorization", "Bearer sk-x")],
    )
    .await;
    assert_eq!(status, 401, "a wrong credential is still refused in anonymous mode");
    let _ = gw.next_log().await;

    // Without `auth:` the gateway is open, and the client's credential still never reaches the upstream.
    let open = TestGateway::start(&base(&mock)).await;
    let (status, _) = post(
        &open,
        "/v1/chat/completions",
        &chat("large"),
        &[("authorization", "Bearer sk-client")],
    )
    .await;
    assert_eq!(status, 200);
    assert!(open.next_log().await["key"].is_null());
    let last = mock.requests().pop().expect("request");
    assert_eq!(
        last.headers.get("authorization").and_then(|v| v.to_str().ok()),
        Some(&*format!("Bearer {UPSTREAM_KEY}"))
    );
}

#[tokio::test]
async fn llm_auth_config_errors_are_reported() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("bad.yaml");
    std::fs::write(
        &path,
        "models: []\nauth:\n  api_keys:\n    - { name: a, sha256: \"xyz\" }\n    - { name: a, sha256: \"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\" }\n",
    )
    .expect("write");
    let errs = gatehouse::config::load(&path).expect_err("invalid").to_string();
    assert!(errs.contains("auth.api_keys[0].sha256"), "{errs}");
    assert!(
        errs.contains("auth.api_keys[1].name: the key name `a` is used twice"),
        "{errs}"
    );
}

#[test]
fn keys_hash_cli_reads_stdin() {
    use std::io::Write;
    let mut child = std::process::Command::new(crate::support::binary())
        .args(["keys", "hash"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    child.stdin.take().expect("stdin").write_all(b"abc\n").expect("write");
    let out = child.wait_with_output().expect("wait");
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
}

#[tokio::test]
async fn llm_jwt_callers_map_claims_to_team_and_user() {
    use crate::jwt_support::{Idp, SigningKey, claims};
    let mock = mock().await;
    let key = SigningKey::generate("k1");
    let idp = Idp::start(vec![key.jwk.clone()]).await;
    let gw = TestGateway::start(&format!(
        "{}auth:\n  jwt: {{ issuer: \"{}\", audiences: [gatehouse] }}\n  jwt_claims: {{ team: org, user: email }}\n",
        base(&mock),
        idp.issuer
    ))
    .await;
    let mut c = claims(&idp.issuer, "gatehouse", "user-123");
    c["org"] = json!("research");
    c["email"] = json!("carol@example.com");
    let token = key.sign(&c);
    let (status, _) = post(
        &gw,
        "/v1/chat/completions",
        &chat("large"),
        &[("authorization", &*format!("Bearer {token}"))],
    )
    .await;
    assert_eq!(status, 200);
    let log = gw.next_log().await;
    assert_eq!(log["key"], "jwt:user-123");
    assert_eq!(log["team"], "research");
    assert_eq!(log["user"], "carol@example.com");
    // Wrong audience → 401 invalid_token; the token never reaches the upstream.
    let bad = key.sign(&claims(&idp.issuer, "someone-else", "user-123"));
    let (status, v) = post(
        &gw,
        "/v1/chat/completions",
        &chat("large"),
        &[("authorization", &*format!("Bearer {bad}"))],
    )
    .await;
    assert_eq!(status, 401);
    assert_eq!(v["error"]["code"], "invalid_token");
    for r in mock.requests() {
        let auth = r
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        assert!(!auth.contains(&token), "the client's JWT was forwarded");
    }
}
