//! The mock's signature checks over real HTTP: unsigned, correctly signed, tampered after signing, wrong scope.

use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{PayloadChecksumKind, SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use serde_json::json;

use super::*;

const MODEL_PATH: &str = "/model/anthropic.claude-3-5-haiku-20241022-v1%3A0/converse";

/// Sends `body` signed for `region` with `secret`; `tamper` replaces the body after signing.
async fn send(
    mock: &MockBedrock,
    region: &str,
    secret: &str,
    body: &str,
    tamper: Option<&str>,
) -> (u16, Option<String>) {
    let url = format!("{}{MODEL_PATH}", mock.base_url());
    let identity = Credentials::new("AKID", secret, None, None, "test").into();
    let mut settings = SigningSettings::default();
    settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name("bedrock")
        .time(SystemTime::now())
        .settings(settings)
        .build()
        .expect("params")
        .into();
    let headers = [("content-type", "application/json")];
    let signable = SignableRequest::new("POST", &url, headers.into_iter(), SignableBody::Bytes(body.as_bytes()))
        .expect("signable");
    let (instructions, _) = sign(signable, &params).expect("sign").into_parts();
    let mut req = http::Request::post(&url)
        .header("content-type", "application/json")
        .body(())
        .expect("request");
    instructions.apply_to_request_http1x(&mut req);
    let mut builder = reqwest::Client::new()
        .post(&url)
        .body(tamper.unwrap_or(body).to_string());
    for (k, v) in req.headers() {
        builder = builder.header(k.as_str(), v.as_bytes());
    }
    let r = builder.send().await.expect("send");
    let status = r.status().as_u16();
    let kind = r
        .headers()
        .get("x-amzn-errortype")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    (status, kind)
}

#[tokio::test]
async fn signatures_are_verified() {
    let mock = MockBedrock::builder("us-east-1", "AKID", "secret").start().await;
    let body = json!({"messages": [{"role": "user", "content": [{"text": "hi"}]}]}).to_string();
    assert_eq!(send(&mock, "us-east-1", "secret", &body, None).await, (200, None));
    let tampered = json!({"messages": [{"role": "user", "content": [{"text": "HI"}]}]}).to_string();
    assert_eq!(
        send(&mock, "us-east-1", "secret", &body, Some(&tampered)).await,
        (403, Some("InvalidSignatureException".into()))
    );
    assert_eq!(
        send(&mock, "us-east-1", "other", &body, None).await,
        (403, Some("InvalidSignatureException".into()))
    );
    assert_eq!(
        send(&mock, "eu-west-1", "secret", &body, None).await,
        (403, Some("InvalidSignatureException".into()))
    );
    let r = reqwest::Client::new()
        .post(format!("{}{MODEL_PATH}", mock.base_url()))
        .body(body.clone())
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 403);
    assert_eq!(r.headers()["x-amzn-errortype"], "MissingAuthenticationTokenException");
    // A signed request is still held to the Converse rules.
    let bad = json!({"messages": [{"role": "assistant", "content": [{"text": "hi"}]}]}).to_string();
    assert_eq!(
        send(&mock, "us-east-1", "secret", &bad, None).await,
        (400, Some("ValidationException".into()))
    );
}
