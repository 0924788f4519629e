//! Checks for the hosted provider kinds (`openai`, `azure_openai`, `gemini`) and for `openai_compatible`
//! presets: default base URLs, the URL shape ([`WireSettings`]) and the fields that only some kinds take.

use gatehouse_llm::anthropic::ModelRules;

use super::super::presets;
use super::super::spec::{ProviderKind, ProviderSpec, TargetSpec};
use super::{Errors, check_url, suggest};
use std::sync::Arc;

use super::super::EnvLookup;
use super::super::spec::SecretSpec;
use crate::secret::{Secret, SecretSource};
use crate::snapshot::{BedrockSettings, WireSettings};

/// OpenAI's public API, used when an `openai` provider sets no `base_url`.
const OPENAI_BASE_URL: &str = "https://api.openai.com";
/// Google's Gemini API (AI Studio keys), used when a `gemini` provider sets no `base_url`.
const GEMINI_BASE_URL: &str = "https://generativelanguage.googleapis.com";
/// The Azure OpenAI data-plane GA version used when `api_version` is not set.
const AZURE_API_VERSION: &str = "2024-10-21";

/// The base URL of an `openai`, `azure_openai` or `gemini` provider.
pub(super) fn hosted_url(errs: &mut Errors<'_>, name: &str, p: &ProviderSpec) -> Vec<String> {
    for (field, set) in [("endpoints", p.endpoints.is_some()), ("picker", p.picker.is_some())] {
        if set {
            errs.push(
                &["providers", name, field],
                format!("`{field}` is only valid for `kind: vllm_pool`"),
            );
        }
    }
    let default = match p.kind {
        ProviderKind::Openai => OPENAI_BASE_URL,
        ProviderKind::Gemini => GEMINI_BASE_URL,
        _ => "",
    };
    if p.kind == ProviderKind::Bedrock && p.base_url.is_none() {
        return match p.region.as_deref().filter(|r| is_region(r)) {
            Some(region) => vec![format!("https://bedrock-runtime.{region}.amazonaws.com")],
            None => Vec::new(), // reported by `bedrock`
        };
    }
    match p.base_url.as_deref() {
        Some(url) => vec![check_url(errs, name, "base_url", None, url)],
        None if !default.is_empty() => vec![default.to_string()],
        None => {
            errs.push(
                &["providers", name, "kind"],
                "an `azure_openai` provider needs `base_url` (https://{resource}.openai.azure.com)",
            );
            Vec::new()
        }
    }
}

/// The URL shape, and the checks of `preset` and `api_version` (each valid for one kind only).
pub(super) fn wire(errs: &mut Errors<'_>, name: &str, p: &ProviderSpec) -> WireSettings {
    let mut wire = WireSettings::default();
    if let Some(preset) = &p.preset {
        if p.kind == ProviderKind::OpenaiCompatible {
            match presets::find(preset) {
                Some(found) => {
                    wire.api_prefix = found.api_prefix.to_string();
                    if found.needs_key && p.api_key.is_none() {
                        errs.push(
                            &["providers", name, "api_key"],
                            format!("preset `{preset}` needs `api_key` (the host refuses requests without one)"),
                        );
                    }
                }
                None => {
                    let mut msg = format!("unknown preset `{preset}`");
                    if let Some(s) = suggest::closest(preset, presets::PRESETS.iter().map(|p| p.name)) {
                        msg.push_str(&format!(", did you mean `{s}`?"));
                    }
                    errs.push(&["providers", name, "preset"], msg);
                }
            }
        } else {
            errs.push(
                &["providers", name, "preset"],
                "`preset` is only valid for `kind: openai_compatible`",
            );
        }
    }
    match (p.kind, &p.api_version) {
        (ProviderKind::AzureOpenai, v) => {
            let v = v.as_deref().unwrap_or(AZURE_API_VERSION);
            let ok = !v.is_empty() && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
            if !ok {
                errs.push(
                    &["providers", name, "api_version"],
                    format!("`{v}` is not an api-version (letters, digits, `-` and `.`, e.g. `2024-10-21`)"),
                );
            }
            wire.api_prefix = "/openai".to_string();
            wire.api_version = Some(v.to_string());
        }
        (_, Some(_)) => errs.push(
            &["providers", name, "api_version"],
            "`api_version` is only valid for `kind: azure_openai`",
        ),
        (_, None) => {}
    }
    if p.kind == ProviderKind::Gemini {
        wire.api_prefix = "/v1beta".to_string();
    }
    wire
}

/// Target checks for kinds whose upstream model name becomes part of the URL path (an Azure deployment, a Gemini
/// model): it must be a plain path segment, so no client or config value can rewrite the path.
pub(super) fn check_target(errs: &mut Errors<'_>, path: &[&str], kind: ProviderKind, model: &str) {
    let what = match kind {
        ProviderKind::AzureOpenai => "deployment name",
        ProviderKind::Gemini => "Gemini model name",
        ProviderKind::Bedrock => "Bedrock model id",
        _ => return,
    };
    if !is_path_segment(model.strip_prefix("models/").unwrap_or(model)) {
        let mut p = path.to_vec();
        p.push("model");
        errs.push(
            &p,
            format!("`{model}` is not a valid {what} (letters, digits, `-`, `_` and `.`)"),
        );
    }
}

/// A Gemini or Bedrock target's rules: only `drop_unsupported` applies (neither needs a `max_tokens` default
/// nor restricts sampling combinations).
pub(super) fn gemini_rules(errs: &mut Errors<'_>, path: &[&str], t: &TargetSpec) -> ModelRules {
    for (field, set) in [
        ("max_tokens_default", t.max_tokens_default.is_some()),
        ("sampling", t.sampling.is_some()),
    ] {
        if set {
            let mut p = path.to_vec();
            p.push(field);
            errs.push(&p, format!("`{field}` only applies to `kind: anthropic` targets"));
        }
    }
    let d = ModelRules::default();
    ModelRules {
        drop_unsupported: t.drop_unsupported.unwrap_or(d.drop_unsupported),
        ..d
    }
}

/// Whether `s` is a non-empty run of `[A-Za-z0-9._-]` (and `:`, which Bedrock model ids contain and which is
/// percent-encoded in the path), and not `.` or `..`.
pub(crate) fn is_path_segment(s: &str) -> bool {
    !s.is_empty()
        && s != "."
        && s != ".."
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

/// An AWS region name such as `us-east-1` or `eu-central-2`.
fn is_region(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 32
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// Bedrock's region and SigV4 credentials; `region` and `aws` are refused on other kinds.
pub(super) fn bedrock(
    errs: &mut Errors<'_>,
    name: &str,
    p: &ProviderSpec,
    env: EnvLookup<'_>,
) -> Option<BedrockSettings> {
    if p.kind != ProviderKind::Bedrock {
        for (field, set) in [("region", p.region.is_some()), ("aws", p.aws.is_some())] {
            if set {
                errs.push(
                    &["providers", name, field],
                    format!("`{field}` is only valid for `kind: bedrock`"),
                );
            }
        }
        return None;
    }
    if p.api_key.is_some() {
        errs.push(
            &["providers", name, "api_key"],
            "`bedrock` signs requests with AWS credentials: use `aws` (or the AWS_* environment variables)",
        );
    }
    let region = match p.region.as_deref() {
        Some(r) if is_region(r) => r.to_string(),
        Some(r) => {
            errs.push(
                &["providers", name, "region"],
                format!("`{r}` is not an AWS region (e.g. `us-east-1`)"),
            );
            return None;
        }
        None => {
            errs.push(&["providers", name, "kind"], "a `bedrock` provider needs `region`");
            return None;
        }
    };
    let resolve = |s: &SecretSpec| Arc::new(super::resolve_secret(s, env));
    let from_env = |var: &str| Arc::new(Secret::resolve(SecretSource::Env(var.to_string()), None, env));
    let (access_key_id, secret_access_key, session_token) = match &p.aws {
        Some(aws) => (
            resolve(&aws.access_key_id),
            resolve(&aws.secret_access_key),
            aws.session_token.as_ref().map(resolve),
        ),
        None => (
            from_env("AWS_ACCESS_KEY_ID"),
            from_env("AWS_SECRET_ACCESS_KEY"),
            env("AWS_SESSION_TOKEN").map(|_| from_env("AWS_SESSION_TOKEN")),
        ),
    };
    Some(BedrockSettings {
        region,
        access_key_id,
        secret_access_key,
        session_token,
    })
}
