//! Verifying an AWS SigV4 signature the way Bedrock does: the `Authorization` header's shape
//! (`AWS4-HMAC-SHA256 Credential=<akid>/<yyyymmdd>/<region>/bedrock/aws4_request, SignedHeaders=…, Signature=<64 hex>`),
//! `x-amz-date` (format, agreement with the credential scope, at most 15 minutes of skew), `x-amz-content-sha256`
//! (the body's SHA-256), `x-amz-security-token` for temporary credentials, the signed-header list, and finally the
//! signature itself — recomputed from the request as received with the mock's copy of the secret key.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{PayloadChecksumKind, SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use http::HeaderMap;
use sha2::{Digest, Sha256};

/// The credentials and region the mock expects.
#[derive(Clone, Debug)]
pub(crate) struct Expected {
    pub(crate) access_key_id: String,
    pub(crate) secret_access_key: String,
    pub(crate) session_token: Option<String>,
    pub(crate) region: String,
}

/// Why a signature was refused: `(AWS error type, message)`.
pub(crate) type Refusal = (&'static str, String);

/// Checks the request's signature; `uri` is `http://host/path` as the client addressed it.
pub(crate) fn verify(
    method: &str,
    uri: &str,
    headers: &HeaderMap,
    body: &[u8],
    want: &Expected,
) -> Result<(), Refusal> {
    let auth = header(headers, "authorization").ok_or((
        "MissingAuthenticationTokenException",
        "Missing Authentication Token".to_string(),
    ))?;
    let rest = auth.strip_prefix("AWS4-HMAC-SHA256 ").ok_or((
        "IncompleteSignatureException",
        "Authorization header requires the AWS4-HMAC-SHA256 algorithm".to_string(),
    ))?;
    let mut credential = None;
    let mut signed_headers = None;
    let mut signature = None;
    for part in rest.split(", ") {
        match part.split_once('=') {
            Some(("Credential", v)) => credential = Some(v),
            Some(("SignedHeaders", v)) => signed_headers = Some(v),
            Some(("Signature", v)) => signature = Some(v),
            _ => return Err(incomplete("Authorization header has an unexpected component")),
        }
    }
    let (Some(credential), Some(signed_headers), Some(signature)) = (credential, signed_headers, signature) else {
        return Err(incomplete(
            "Authorization header requires Credential, SignedHeaders and Signature",
        ));
    };
    let scope: Vec<&str> = credential.split('/').collect();
    let [akid, date, region, service, terminator] = scope[..] else {
        return Err(incomplete(
            "Credential must be <akid>/<date>/<region>/<service>/aws4_request",
        ));
    };
    if akid != want.access_key_id {
        return Err((
            "UnrecognizedClientException",
            "The security token included in the request is invalid.".into(),
        ));
    }
    if region != want.region || service != "bedrock" || terminator != "aws4_request" {
        return Err((
            "InvalidSignatureException",
            format!("Credential should be scoped to a valid region and service: {region}/{service}"),
        ));
    }
    if signature.len() != 64
        || !signature
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    {
        return Err(incomplete("Signature must be 64 lower-case hex digits"));
    }
    let amz_date = header(headers, "x-amz-date").ok_or_else(|| incomplete("x-amz-date is required"))?;
    let time = parse_amz_date(amz_date).ok_or_else(|| incomplete("x-amz-date must be YYYYMMDDTHHMMSSZ"))?;
    if !amz_date.starts_with(date) {
        return Err((
            "InvalidSignatureException",
            "Date in Credential scope does not match x-amz-date".into(),
        ));
    }
    let now = SystemTime::now();
    let skew = now
        .duration_since(time)
        .or_else(|_| time.duration_since(now))
        .unwrap_or_default();
    if skew > Duration::from_secs(15 * 60) {
        return Err(("InvalidSignatureException", "Signature expired".into()));
    }
    let digest = hex(&Sha256::digest(body));
    if header(headers, "x-amz-content-sha256") != Some(digest.as_str()) {
        return Err((
            "InvalidSignatureException",
            "x-amz-content-sha256 does not match the request body".into(),
        ));
    }
    let names: Vec<&str> = signed_headers.split(';').collect();
    for required in ["host", "x-amz-date", "x-amz-content-sha256", "content-type"] {
        if !names.contains(&required) {
            return Err((
                "InvalidSignatureException",
                format!("'{required}' must be a signed header"),
            ));
        }
    }
    match (&want.session_token, header(headers, "x-amz-security-token")) {
        (Some(t), Some(got)) if t == got && names.contains(&"x-amz-security-token") => {}
        (None, None) => {}
        _ => {
            return Err((
                "UnrecognizedClientException",
                "The security token included in the request is invalid.".into(),
            ));
        }
    }
    // Recompute with the same inputs: the headers the client signed (minus the ones signing adds itself).
    let identity = Credentials::new(
        &want.access_key_id,
        &want.secret_access_key,
        want.session_token.clone(),
        None,
        "mock",
    )
    .into();
    let mut settings = SigningSettings::default();
    settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(&want.region)
        .name("bedrock")
        .time(time)
        .settings(settings)
        .build()
        .map_err(|e| incomplete(&format!("signing parameters: {e}")))?
        .into();
    let inputs: Vec<(&str, &str)> = names
        .iter()
        .filter(|n| !matches!(**n, "x-amz-date" | "x-amz-content-sha256" | "x-amz-security-token"))
        .filter_map(|n| header(headers, n).map(|v| (*n, v)))
        .collect();
    let signable = SignableRequest::new(method, uri, inputs.into_iter(), SignableBody::Bytes(body))
        .map_err(|e| incomplete(&format!("request: {e}")))?;
    let (_, expected) = sign(signable, &params)
        .map_err(|e| incomplete(&format!("signing: {e}")))?
        .into_parts();
    if expected != signature {
        return Err((
            "InvalidSignatureException",
            "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.".into(),
        ));
    }
    Ok(())
}

fn incomplete(message: &str) -> Refusal {
    ("IncompleteSignatureException", message.to_string())
}

fn header<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    let mut values = headers.get_all(name).iter();
    match (values.next(), values.next()) {
        (Some(v), None) => v.to_str().ok(),
        _ => None,
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `YYYYMMDDTHHMMSSZ` → a time (UTC).
fn parse_amz_date(s: &str) -> Option<SystemTime> {
    let b = s.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let (y, m, d) = (num(0..4)?, num(4..6)?, num(6..8)?);
    let (hh, mm, ss) = (num(9..11)?, num(11..13)?, num(13..15)?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || hh > 23 || mm > 59 || ss > 60 {
        return None;
    }
    // Days from civil (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + hh * 3600 + mm * 60 + ss;
    Some(UNIX_EPOCH + Duration::from_secs(u64::try_from(secs).ok()?))
}
