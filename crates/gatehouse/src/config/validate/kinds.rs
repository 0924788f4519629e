//! Checks for the hosted provider kinds (`openai`, `azure_openai`, `gemini`) and for `openai_compatible`
//! presets: default base URLs, the URL shape ([`WireSettings`]) and the fields that only some kinds take.

use gatehouse_llm::anthropic::ModelRules;

use super::super::presets;
use super::super::spec::{ProviderKind, ProviderSpec, TargetSpec};
use super::{Errors, check_url, suggest};
use crate::snapshot::WireSettings;

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

/// A Gemini target's rules: only `drop_unsupported` applies (Gemini needs no `max_tokens` and takes every
/// sampling parameter).
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

/// Whether `s` is a non-empty run of `[A-Za-z0-9._-]` (and not `.` or `..`).
pub(crate) fn is_path_segment(s: &str) -> bool {
    !s.is_empty()
        && s != "."
        && s != ".."
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}
