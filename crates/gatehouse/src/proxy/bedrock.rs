//! Bedrock targets: the OpenAI chat-completions body is translated to a Converse request (in `gatehouse-llm`),
//! sent to `{base}/model/{modelId}/converse` (or `/converse-stream`) signed with AWS SigV4 (service `bedrock`,
//! the provider's region and credentials, `x-amz-content-sha256`, `x-amz-security-token` for temporary
//! credentials), and the reply — JSON, binary event stream or error — is translated back to OpenAI's shape.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{PayloadChecksumKind, SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use axum::response::Response;
use bytes::Bytes;
use gatehouse_llm::bedrock::{RequestOptions, ResponseContext, translate_error, translate_request, translate_response};
use http::{HeaderName, HeaderValue, header};
use http_body_util::Full;
use tokio::time::Instant;

use super::translated;
use super::{ClientRequest, Mode, Prepared};
use crate::body::BedrockToOpenAi;
use crate::context::Dialect;
use crate::context::{RequestContext, Route};
use crate::error::GatewayError;
use crate::snapshot::{BedrockSettings, Provider};
use crate::upstream::UpstreamBody;

/// The client-visible facts a translated reply needs.
pub(super) struct Reply {
    stream: bool,
    ctx: ResponseContext,
}

/// Bedrock's content type for ConverseStream.
const EVENT_STREAM: &str = "application/vnd.amazon.eventstream";

/// Translates the request, signs it and builds the upstream call.
pub(super) fn prepare(
    req: &ClientRequest<'_>,
    endpoint: &str,
    ctx: &RequestContext,
    extra: &mut Vec<(HeaderName, HeaderValue)>,
) -> Result<Prepared, GatewayError> {
    let provider = &req.target.provider;
    if req.route != Route::ChatCompletions {
        return Err(GatewayError::RouteNotSupported {
            route: req.route.upstream_path(),
            target: provider.name.clone(),
        });
    }
    let translated = translate_request(
        req.bytes,
        &RequestOptions {
            drop_unsupported: req.target.rules.drop_unsupported,
        },
    )?;
    super::report_dropped(
        &translated.dropped,
        &translated.dropped_unknown,
        &provider.name,
        ctx,
        extra,
    );
    // Checked at load time to be `[A-Za-z0-9._:-]`; `:` is percent-encoded as the AWS SDKs do.
    let model = req.upstream_model.replace(':', "%3A");
    let op = if translated.stream {
        "converse-stream"
    } else {
        "converse"
    };
    let uri = format!("{endpoint}/model/{model}/{op}");
    let body = Bytes::from(translated.body);
    let mut upstream = http::Request::post(&uri)
        .header(header::CONTENT_TYPE, "application/json")
        .header(
            header::ACCEPT,
            if translated.stream {
                EVENT_STREAM
            } else {
                "application/json"
            },
        )
        .body(Full::new(body.clone()))
        .map_err(|e| invalid(provider, format!("cannot build the upstream request: {e}")))?;
    sign_request(&mut upstream, &body, provider, req.model)?;
    let created = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    Ok(Prepared {
        req: upstream,
        mode: Mode::Bedrock(Reply {
            stream: translated.stream,
            ctx: ResponseContext {
                created,
                model: req.asked.to_string(),
                fallback_id: format!("chatcmpl-{}", ctx.id),
                include_usage: true, // usage is always returned (docs/usage.md)
            },
        }),
    })
}

/// Adds the SigV4 headers (`authorization`, `x-amz-date`, `x-amz-content-sha256`, `x-amz-security-token`).
fn sign_request(
    req: &mut http::Request<UpstreamBody>,
    body: &[u8],
    provider: &Provider,
    model: &crate::snapshot::Model,
) -> Result<(), GatewayError> {
    let settings: &BedrockSettings = provider
        .bedrock
        .as_ref()
        .ok_or_else(|| invalid(provider, "provider has no Bedrock settings".into()))?;
    let disabled = |reason: String| GatewayError::NoTargetAvailable {
        model: model.name.clone(),
        reason,
    };
    let access = settings.access_key_id.get().map_err(&disabled)?;
    let secret = settings.secret_access_key.get().map_err(&disabled)?;
    let token = match &settings.session_token {
        Some(t) => Some(t.get().map_err(&disabled)?.to_string()),
        None => None,
    };
    let identity = Credentials::new(access.as_ref(), secret.as_ref(), token, None, "gatehouse-config").into();
    let mut signing = SigningSettings::default();
    signing.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(&settings.region)
        .name("bedrock")
        .time(SystemTime::now())
        .settings(signing)
        .build()
        .map_err(|e| invalid(provider, format!("SigV4 parameters: {e}")))?
        .into();
    let uri = req.uri().to_string();
    let headers: Vec<(&str, &str)> = req
        .headers()
        .iter()
        .filter_map(|(k, v)| v.to_str().ok().map(|v| (k.as_str(), v)))
        .collect();
    let signable = SignableRequest::new("POST", &uri, headers.into_iter(), SignableBody::Bytes(body))
        .map_err(|e| invalid(provider, format!("SigV4 request: {e}")))?;
    let (instructions, _signature) = sign(signable, &params)
        .map_err(|e| invalid(provider, format!("SigV4 signing failed: {e}")))?
        .into_parts();
    instructions.apply_to_request_http1x(req);
    for name in [header::AUTHORIZATION, HeaderName::from_static("x-amz-security-token")] {
        if let Some(v) = req.headers_mut().get_mut(&name) {
            v.set_sensitive(true);
        }
    }
    Ok(())
}

fn invalid(provider: &Provider, detail: String) -> GatewayError {
    GatewayError::UpstreamInvalid {
        target: provider.name.clone(),
        detail,
    }
}

/// Translates the reply back: the binary event stream incrementally, a Converse response whole, an error into
/// OpenAI error JSON.
pub(super) async fn relay(
    resp: http::Response<crate::body::Upstream>,
    deadline: Instant,
    idle: Duration,
    target: String,
    reply: Reply,
    mut ctx: RequestContext,
) -> Response {
    let dialect = Dialect::OpenAi;
    let (status, retry_after, headers, bytes) =
        match translated::read(resp, reply.stream, EVENT_STREAM, deadline, &target, dialect, &mut ctx).await {
            Err(out) => return out,
            Ok(translated::Reply::Stream(resp)) => {
                return super::stream_response(resp, BedrockToOpenAi::new(reply.ctx), ctx, idle, deadline);
            }
            Ok(translated::Reply::Body {
                status,
                retry_after,
                headers,
                bytes,
            }) => (status, retry_after, headers, bytes),
        };
    if !status.is_success() {
        let error_type = headers.get("x-amzn-errortype").and_then(|v| v.to_str().ok());
        let te = translate_error(status.as_u16(), error_type, &bytes);
        if te.code == "upstream_auth_failed" {
            tracing::error!(request_id = %ctx.id, target = %target, status = status.as_u16(), "Bedrock rejected the gateway's AWS credentials or signature; check the provider's aws settings");
        }
        return translated::error(te, retry_after, &mut ctx);
    }
    let result = translate_response(&bytes, &reply.ctx).map(|t| {
        if let Some(reason) = &t.unknown_stop_reason {
            tracing::warn!(request_id = %ctx.id, stop_reason = %reason, "unknown Bedrock stopReason reported as `stop`");
        }
        (t.body, t.usage)
    });
    translated::success(result, target, dialect, &mut ctx)
}
