//! `/mcp` authentication: JWT validation against an in-test OpenID provider (discovery + JWKS), the negative matrix,
//! unknown-kid refetch, RFC 9728 metadata, and sessions bound to their principal. The upstream is unreachable on
//! purpose (initialize still succeeds, degraded), so these tests need no MCP server.

use serde_json::json;

use crate::jwt_support::{Idp, SigningKey, claims, hs256_with_public_key, now, unsigned_token};
use crate::mcp_support::RawClient;
use crate::support::TestGateway;

const RESOURCE: &str = "https://gw.test/mcp";
const METADATA: &str = "https://gw.test/.well-known/oauth-protected-resource/mcp";

fn config(issuer: &str, extra: &str) -> String {
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    format!(
        "mcp:\n  auth:\n    resource: \"{RESOURCE}\"\n    scopes_supported: [mcp]\n    jwt: {{ issuer: \"{issuer}\", audiences: [\"{RESOURCE}\"]{extra} }}\n  upstreams:\n    everything: {{ url: \"http://127.0.0.1:{dead}/mcp\" }}\n"
    )
}

async fn status_with(gw: &TestGateway, token: Option<&str>) -> (u16, Option<String>) {
    let mut c = RawClient::new(gw.url("/mcp"));
    c.bearer = token.map(str::to_string);
    let r = c
        .call(
            "initialize",
            json!({"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}),
        )
        .await;
    let www = r
        .headers
        .get("www-authenticate")
        .map(|v| v.to_str().expect("ascii").to_string());
    (r.status, www)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mcp_jwt_negative_matrix() {
    let key = SigningKey::generate("k1");
    let idp = Idp::start(vec![key.jwk.clone()]).await;
    let gw = TestGateway::start(&config(&idp.issuer, "")).await;
    let iss = idp.issuer.as_str();

    // A valid token passes (keys found through OIDC discovery).
    let good = key.sign(&claims(iss, RESOURCE, "alice"));
    assert_eq!(status_with(&gw, Some(&good)).await.0, 200);

    // No token: 401 pointing at the metadata, no error code.
    let (s, www) = status_with(&gw, None).await;
    assert_eq!(s, 401);
    assert_eq!(
        www.as_deref(),
        Some(format!("Bearer resource_metadata=\"{METADATA}\"").as_str())
    );

    let other = SigningKey::generate("k1"); // same kid, different key
    let mut expired = claims(iss, RESOURCE, "alice");
    expired["exp"] = json!(now() - 3600);
    let mut future = claims(iss, RESOURCE, "alice");
    future["nbf"] = json!(now() + 3600);
    let mut no_sub = claims(iss, RESOURCE, "alice");
    no_sub.as_object_mut().expect("obj").remove("sub");
    let cases = [
        // jsonwebtoken has no `none` algorithm at all: such a header does not even parse.
        (
            "alg none",
            unsigned_token("k1", &claims(iss, RESOURCE, "alice")),
            "malformed",
        ),
        (
            "HS256 with the public key",
            hs256_with_public_key(&key, &claims(iss, RESOURCE, "alice")),
            "algorithm_not_allowed",
        ),
        ("wrong key", other.sign(&claims(iss, RESOURCE, "alice")), "signature"),
        ("expired", key.sign(&expired), "expired"),
        ("not yet valid", key.sign(&future), "not_yet_valid"),
        (
            "wrong issuer",
            key.sign(&claims("https://evil.example", RESOURCE, "alice")),
            "issuer",
        ),
        (
            "wrong audience",
            key.sign(&claims(iss, "https://other.example/mcp", "alice")),
            "audience",
        ),
        ("no sub", key.sign(&no_sub), "missing_claim"),
        ("garbage", "not.a.jwt".to_string(), "malformed"),
    ];
    for (name, token, reason) in cases {
        let (s, www) = status_with(&gw, Some(&token)).await;
        assert_eq!(s, 401, "{name}");
        let www = www.unwrap_or_else(|| panic!("{name}: WWW-Authenticate"));
        assert!(www.contains("error=\"invalid_token\""), "{name}: {www}");
        assert!(
            www.contains(&format!("error_description=\"{reason}\"")),
            "{name}: {www}"
        );
        assert!(www.contains(METADATA), "{name}");
    }
    // The bad tokens never caused a refetch storm: one discovery-driven fetch plus at most one for the bad kid.
    assert!(idp.fetches() <= 2, "fetches: {}", idp.fetches());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mcp_jwt_unknown_kid_refetches_once() {
    let k1 = SigningKey::generate("k1");
    let k2 = SigningKey::generate("k2");
    let idp = Idp::start(vec![k1.jwk.clone()]).await;
    let jwks = format!(", jwks_url: \"{}/jwks\"", idp.issuer);
    let gw = TestGateway::start(&config(&idp.issuer, &jwks)).await;
    let iss = idp.issuer.clone();
    assert_eq!(
        status_with(&gw, Some(&k1.sign(&claims(&iss, RESOURCE, "a")))).await.0,
        200
    );
    assert_eq!(idp.fetches(), 1);
    // The IdP rotates in k2: the first token with the new kid triggers one refetch and passes.
    idp.keys.lock().expect("lock").push(k2.jwk.clone());
    assert_eq!(
        status_with(&gw, Some(&k2.sign(&claims(&iss, RESOURCE, "a")))).await.0,
        200
    );
    assert_eq!(idp.fetches(), 2);
    // A kid nobody has: refetching is rate-limited, so it costs no further fetch within the interval.
    let k3 = SigningKey::generate("k3");
    for _ in 0..3 {
        let (s, www) = status_with(&gw, Some(&k3.sign(&claims(&iss, RESOURCE, "a")))).await;
        assert_eq!(s, 401);
        assert!(www.expect("www").contains("unknown_kid"));
    }
    assert_eq!(idp.fetches(), 2);
    // Known keys keep working.
    assert_eq!(
        status_with(&gw, Some(&k1.sign(&claims(&iss, RESOURCE, "a")))).await.0,
        200
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mcp_protected_resource_metadata() {
    let key = SigningKey::generate("k1");
    let idp = Idp::start(vec![key.jwk]).await;
    let gw = TestGateway::start(&config(&idp.issuer, "")).await;
    for path in [
        "/.well-known/oauth-protected-resource/mcp",
        "/.well-known/oauth-protected-resource",
    ] {
        let r = gw.http.get(gw.url(path)).send().await.expect("get");
        assert_eq!(r.status(), 200, "{path}");
        let doc: serde_json::Value = r.json().await.expect("json");
        assert_eq!(doc["resource"], RESOURCE);
        assert_eq!(doc["authorization_servers"], json!([idp.issuer]));
        assert_eq!(doc["bearer_methods_supported"], json!(["header"]));
        assert_eq!(doc["scopes_supported"], json!(["mcp"]));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mcp_session_of_another_principal_is_refused() {
    let key = SigningKey::generate("k1");
    let idp = Idp::start(vec![key.jwk.clone()]).await;
    let gw = TestGateway::start(&config(&idp.issuer, "")).await;
    let alice = key.sign(&claims(&idp.issuer, RESOURCE, "alice"));
    let bob = key.sign(&claims(&idp.issuer, RESOURCE, "bob"));
    let mut c = RawClient::new(gw.url("/mcp"));
    c.bearer = Some(alice);
    c.initialize(json!({})).await;
    assert_eq!(c.call("ping", json!({})).await.status, 200);
    c.bearer = Some(bob);
    let r = c.call("ping", json!({})).await;
    assert_eq!(r.status, 403);
    assert_eq!(r.last()["error"]["data"]["code"], "mcp_foreign_session");
    // A session is never authentication: without a token the session alone gets 401.
    c.bearer = None;
    assert_eq!(c.call("ping", json!({})).await.status, 401);
}

#[test]
fn mcp_auth_config_is_validated() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("g.yaml");
    std::fs::write(
        &path,
        "mcp:\n  auth:\n    resource: \"not a url\"\n    jwt: { issuer: \"http://idp.example\", audiences: [], algorithms: [HS256, none], jwks_url: \"http://idp.example/keys\" }\n  upstreams:\n    a: { url: \"http://127.0.0.1:1/mcp\" }\n",
    )
    .expect("write");
    let text = gatehouse::config::load_with_env(&path, &|_| None)
        .expect_err("invalid")
        .to_string();
    for needle in [
        "mcp.auth.resource",
        "mcp.auth.jwt.audiences",
        "mcp.auth.jwt.algorithms[0]: `HS256` is not accepted",
        "mcp.auth.jwt.algorithms[1]: `none` is not accepted",
        "mcp.auth.jwt.jwks_url: refusing to fetch keys from `http://idp.example/keys`: https is required",
    ] {
        assert!(text.contains(needle), "missing `{needle}` in:\n{text}");
    }
}
