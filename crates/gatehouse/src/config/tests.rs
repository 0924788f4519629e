use std::path::Path;

use super::*;

fn env(name: &str) -> Option<String> {
    match name {
        "VLLM_HOST" => Some("127.0.0.1".into()),
        "PORT" => Some("9000".into()),
        "KEY" => Some("sk-test".into()),
        "AWS_ACCESS_KEY_ID" => Some("AKIDENV".into()),
        "AWS_SECRET_ACCESS_KEY" => Some("env-secret".into()),
        _ => None,
    }
}

fn load_str(text: &str) -> Result<Snapshot, ConfigErrors> {
    let (spec, root) = parse(text, Path::new("gw.yaml"), &env)?;
    validate::build(spec, &root, Path::new("gw.yaml"), &env)
}

const GOOD: &str = r#"
listen: 127.0.0.1:0
admin: 127.0.0.1:0
providers:
  pool:
    kind: vllm_pool
    endpoints: ["http://${VLLM_HOST}:8001", "http://${VLLM_HOST}:8002/"]
  openai:
    kind: openai_compatible
    base_url: https://api.openai.com/v1/
    api_key: { env: KEY }
    timeouts: { connect: 2s, first_byte: 30s }
models:
  - name: llama
    aliases: [l3]
    targets: [{ provider: pool, model: meta-llama/Llama-3.1-8B-Instruct }]
  - name: gpt
    targets: [{ provider: openai }]
server:
  max_body_bytes: 1MiB
  max_headers: "${PORT}"
"#;

#[test]
fn good_config_builds_runtime_snapshot() {
    let snap = load_str(GOOD).expect("valid config");
    assert_eq!(snap.models.len(), 2);
    assert!(snap.model("l3").is_some());
    let pool = &snap.providers["pool"];
    assert_eq!(pool.endpoints, vec!["http://127.0.0.1:8001", "http://127.0.0.1:8002"]);
    assert_eq!(snap.server.max_body_bytes, 1 << 20);
    assert_eq!(snap.server.max_headers, 9000, "interpolated string coerced to a number");
    assert_eq!(
        snap.providers["openai"].timeouts.connect,
        std::time::Duration::from_secs(2)
    );
    assert_eq!(
        snap.model("gpt").map(|m| m.targets[0].upstream_model.as_str()),
        Some("gpt")
    );
}

#[test]
fn every_error_is_reported_with_location_and_path() {
    let text = r#"providers:
  pool:
    kind: vllm_pool
    endpoints: [http://a:1]
    base_ur: x
  other:
    kind: openai_compatible
    base_url: http://b
    timeouts: { connect: 5 }
models:
  - name: m
    targets: [{ provider: poool }]
  - name: m
    targets: [{ provider: pool }]
server:
  drain_timeout: soon
lisen: 1
"#;
    let errs = load_str(text).expect_err("invalid").to_string();
    let lines: Vec<&str> = errs.lines().collect();
    assert!(
        lines
            .iter()
            .any(|l| l
                .starts_with("gw.yaml:5:5: providers.pool.base_ur: unknown field `base_ur`, did you mean `base_url`?")),
        "{errs}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("gw.yaml:9:26: providers.other.timeouts.connect: invalid duration `5`")),
        "{errs}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("gw.yaml:16:18: server.drain_timeout: invalid duration `soon`")),
        "{errs}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("gw.yaml:17:1: lisen: unknown field `lisen`, did you mean `listen`?")),
        "{errs}"
    );
    // Structural errors stop before semantic checks, so fix them and look again.
    let text2 = "providers:\n  pool: { kind: vllm_pool, endpoints: [http://a:1] }\nmodels:\n  - name: m\n    targets: [{ provider: poool }]\n  - name: m\n    targets: [{ provider: pool }]\n";
    let errs = load_str(text2).expect_err("invalid").to_string();
    assert!(errs.contains("gw.yaml:5:27: models[0].targets[0].provider: target points at provider `poool`, which does not exist, did you mean `pool`?"), "{errs}");
    assert!(
        errs.contains("gw.yaml:6:11: models[1].name: the model name `m` is already used"),
        "{errs}"
    );
}

#[test]
fn unset_variable_is_named() {
    let errs = load_str("listen: ${NOT_SET_ANYWHERE}\n")
        .expect_err("unset")
        .to_string();
    assert!(
        errs.contains("gw.yaml:1:9: listen: environment variable `NOT_SET_ANYWHERE` is not set"),
        "{errs}"
    );
}

#[test]
fn yaml_syntax_and_duplicate_keys_are_errors() {
    assert!(load_str("listen: [unclosed\n").is_err());
    let errs = load_str("listen: 127.0.0.1:1\nlisten: 127.0.0.1:2\n")
        .expect_err("dup")
        .to_string();
    assert!(errs.contains("gw.yaml:2:"), "{errs}");
}

#[test]
fn missing_credential_disables_unless_required() {
    let text = "providers:\n  o: { kind: openai_compatible, base_url: 'http://x', api_key: { env: NO_SUCH_KEY } }\nmodels:\n  - { name: m, targets: [{ provider: o }] }\n";
    let snap = load_str(text).expect("disabled, not an error");
    assert!(
        matches!(snap.providers["o"].state(), crate::snapshot::TargetState::Disabled(r) if r.contains("NO_SUCH_KEY"))
    );
    let required = text.replace("name: m,", "name: m, required: true,");
    let errs = load_str(&required).expect_err("required").to_string();
    assert!(
        errs.contains("models[0].targets[0].provider: model is `required`"),
        "{errs}"
    );
}

#[test]
fn kind_specific_fields_are_checked() {
    let text = "providers:\n  o: { kind: openai_compatible, endpoints: ['http://x'] }\n  p: { kind: vllm_pool, endpoints: ['ftp://x'] }\n";
    let errs = load_str(text).expect_err("invalid").to_string();
    assert!(
        errs.contains("providers.o.kind: an `openai_compatible` provider needs `base_url`"),
        "{errs}"
    );
    assert!(
        errs.contains("providers.o.endpoints: `endpoints` is only valid"),
        "{errs}"
    );
    assert!(
        errs.contains("providers.p.endpoints[0]: invalid URL `ftp://x`"),
        "{errs}"
    );
}

#[test]
fn redacted_dump_never_contains_inline_secret() {
    let text = "providers:\n  o: { kind: openai_compatible, base_url: 'http://x', api_key: { value: '${KEY}' } }\n";
    let snap = load_str(text).expect("valid");
    let dump = snap.redacted.to_string();
    assert!(!dump.contains("sk-test"), "{dump}");
    assert!(dump.contains("<redacted>"), "{dump}");
}

#[test]
fn schema_describes_top_level_fields() {
    let schema = json_schema();
    for f in spec::TOP_LEVEL_FIELDS {
        assert!(schema["properties"].get(f).is_some(), "schema lacks {f}");
    }
}

#[test]
fn anthropic_provider_gets_defaults_and_target_rules() {
    use gatehouse_llm::anthropic::{ModelRules, Sampling};
    let text = "providers:\n  claude: { kind: anthropic, api_key: { env: KEY }, allowed_betas: [prompt-caching-2024-07-31] }\nmodels:\n  - name: haiku\n    targets:\n      - { provider: claude, model: claude-haiku-4-5, max_tokens_default: 8192, sampling: none, drop_unsupported: true }\n  - name: sonnet\n    targets: [{ provider: claude }]\n";
    let snap = load_str(text).expect("valid");
    let p = &snap.providers["claude"];
    assert_eq!(p.endpoints, vec!["https://api.anthropic.com"]);
    let a = p.anthropic.as_ref().expect("anthropic settings");
    assert_eq!(a.version, "2023-06-01");
    assert_eq!(a.allowed_betas, vec!["prompt-caching-2024-07-31"]);
    let haiku = &snap.model("haiku").expect("haiku").targets[0];
    assert_eq!(haiku.upstream_model, "claude-haiku-4-5");
    assert_eq!(
        haiku.rules,
        ModelRules {
            max_tokens_default: 8192,
            sampling: Sampling::None,
            drop_unsupported: true
        }
    );
    assert_eq!(
        snap.model("sonnet").expect("sonnet").targets[0].rules,
        ModelRules::default()
    );
}

#[test]
fn anthropic_fields_are_checked_where_they_apply() {
    let text = "providers:\n  o: { kind: openai_compatible, base_url: 'http://x', anthropic_version: '2023-06-01' }\n  c: { kind: anthropic, allowed_betas: ['bad beta'], anthropic_version: '', endpoints: ['http://y'] }\nmodels:\n  - name: m\n    targets: [{ provider: o, max_tokens_default: 10, sampling: both }]\n  - name: n\n    targets: [{ provider: c, max_tokens_default: 0 }]\n";
    let errs = load_str(text).expect_err("invalid").to_string();
    for want in [
        "providers.o.anthropic_version: `anthropic_version` is only valid for `kind: anthropic`",
        "providers.c.allowed_betas[0]: `bad beta` is not a beta name",
        "providers.c.anthropic_version: `` is not a valid header value",
        "providers.c.endpoints: `endpoints` is only valid for `kind: vllm_pool`",
    ] {
        assert!(errs.contains(want), "missing {want:?} in:\n{errs}");
    }
    // Target knobs are checked once their providers are valid.
    let text = "providers:\n  o: { kind: openai_compatible, base_url: 'http://x' }\n  c: { kind: anthropic }\nmodels:\n  - name: m\n    targets: [{ provider: o, max_tokens_default: 10, sampling: both }]\n  - name: n\n    targets: [{ provider: c, max_tokens_default: 0 }]\n";
    let errs = load_str(text).expect_err("invalid").to_string();
    for want in [
        "models[0].targets[0].max_tokens_default: `max_tokens_default` only applies to translated providers",
        "models[0].targets[0].sampling: `sampling` only applies",
        "models[1].targets[0].max_tokens_default: must be greater than zero",
    ] {
        assert!(errs.contains(want), "missing {want:?} in:\n{errs}");
    }
}

#[test]
fn hosted_kinds_get_their_urls_and_wire_settings() {
    let text = "providers:\n  oai: { kind: openai, api_key: { env: KEY } }\n  az: { kind: azure_openai, base_url: 'https://res.openai.azure.com/', api_key: { env: KEY } }\n  az2: { kind: azure_openai, base_url: 'https://res2.openai.azure.com', api_version: 2025-04-01-preview }\n  di: { kind: openai_compatible, preset: deepinfra, api_key: { env: KEY } }\n  ol: { kind: openai_compatible, preset: ollama }\n";
    let snap = load_str(text).expect("valid");
    let p = |n: &str| snap.providers[n].clone();
    assert_eq!(p("oai").endpoints, vec!["https://api.openai.com"]);
    assert_eq!(p("oai").wire.api_prefix, "/v1");
    assert_eq!(p("az").endpoints, vec!["https://res.openai.azure.com"]);
    assert_eq!(p("az").wire.api_version.as_deref(), Some("2024-10-21"));
    assert_eq!(p("az2").wire.api_version.as_deref(), Some("2025-04-01-preview"));
    assert_eq!(p("di").endpoints, vec!["https://api.deepinfra.com"]);
    assert_eq!(p("di").wire.api_prefix, "/v1/openai");
    assert_eq!(p("ol").endpoints, vec!["http://localhost:11434"]);
}

#[test]
fn hosted_kind_fields_are_checked() {
    let text = "providers:\n  az: { kind: azure_openai, api_version: 'bad version' }\n  g: { kind: openai_compatible, preset: grok }\n  t: { kind: openai_compatible, preset: together }\n  o: { kind: openai, preset: groq, api_version: '2024-10-21' }\nmodels:\n  - name: m\n    targets: [{ provider: o, model: 'a/b' }]\n";
    let errs = load_str(text).expect_err("invalid").to_string();
    for want in [
        "providers.az.kind: an `azure_openai` provider needs `base_url`",
        "providers.az.api_version: `bad version` is not an api-version",
        "providers.g.preset: unknown preset `grok`, did you mean `groq`?",
        "providers.t.api_key: preset `together` needs `api_key`",
        "providers.o.preset: `preset` is only valid for `kind: openai_compatible`",
        "providers.o.api_version: `api_version` is only valid for `kind: azure_openai`",
    ] {
        assert!(errs.contains(want), "missing {want:?} in:\n{errs}");
    }
    let text = "providers:\n  az: { kind: azure_openai, base_url: 'https://r.openai.azure.com' }\nmodels:\n  - name: m\n    targets: [{ provider: az, model: '../admin' }]\n";
    let errs = load_str(text).expect_err("invalid").to_string();
    assert!(
        errs.contains("models[0].targets[0].model: `../admin` is not a valid deployment name"),
        "{errs}"
    );
}

#[test]
fn gemini_provider_gets_its_url_and_checks_its_targets() {
    let text = "providers:\n  g: { kind: gemini, api_key: { env: KEY } }\nmodels:\n  - name: flash\n    targets: [{ provider: g, model: models/gemini-2.5-flash, drop_unsupported: true }]\n";
    let snap = load_str(text).expect("valid");
    let p = &snap.providers["g"];
    assert_eq!(p.endpoints, vec!["https://generativelanguage.googleapis.com"]);
    assert_eq!(p.wire.api_prefix, "/v1beta");
    assert!(snap.model("flash").expect("flash").targets[0].rules.drop_unsupported);
    let text = "providers:\n  g: { kind: gemini }\nmodels:\n  - name: m\n    targets: [{ provider: g, model: 'gemini:x?y', max_tokens_default: 5, sampling: both }]\n";
    let errs = load_str(text).expect_err("invalid").to_string();
    for want in [
        "models[0].targets[0].model: `gemini:x?y` is not a valid Gemini model name",
        "models[0].targets[0].max_tokens_default: `max_tokens_default` only applies to `kind: anthropic` targets",
        "models[0].targets[0].sampling: `sampling` only applies to `kind: anthropic` targets",
    ] {
        assert!(errs.contains(want), "missing {want:?} in:\n{errs}");
    }
}

#[test]
fn bedrock_provider_takes_region_and_credentials() {
    use crate::snapshot::TargetState;
    let text = "providers:\n  b: { kind: bedrock, region: eu-central-1 }\n  s: { kind: bedrock, region: us-east-1, base_url: 'http://127.0.0.1:9', aws: { access_key_id: { value: AKID }, secret_access_key: { env: KEY }, session_token: { env: MISSING } } }\nmodels:\n  - name: claude\n    targets: [{ provider: b, model: 'anthropic.claude-3-5-haiku-20241022-v1:0' }]\n";
    let snap = load_str(text).expect("valid");
    let b = &snap.providers["b"];
    assert_eq!(b.endpoints, vec!["https://bedrock-runtime.eu-central-1.amazonaws.com"]);
    let settings = b.bedrock.as_ref().expect("bedrock settings");
    assert_eq!(settings.region, "eu-central-1");
    assert_eq!(
        &*settings.access_key_id.get().expect("from AWS_ACCESS_KEY_ID"),
        "AKIDENV"
    );
    assert!(settings.session_token.is_none(), "AWS_SESSION_TOKEN unset: no token");
    assert_eq!(b.state(), TargetState::Enabled);
    // A configured session token that cannot be resolved disables the provider (not a crash).
    assert!(
        matches!(snap.providers["s"].state(), TargetState::Disabled(r) if r.contains("AWS credential unavailable"))
    );
    assert!(
        !snap.redacted.to_string().contains("AKID\""),
        "inline values are redacted"
    );

    let text = "providers:\n  b: { kind: bedrock, api_key: { env: KEY } }\n  c: { kind: bedrock, region: 'US East' }\n  o: { kind: openai, region: us-east-1 }\n";
    let errs = load_str(text).expect_err("invalid").to_string();
    for want in [
        "providers.b.kind: a `bedrock` provider needs `region`",
        "providers.b.api_key: `bedrock` signs requests with AWS credentials",
        "providers.c.region: `US East` is not an AWS region",
        "providers.o.region: `region` is only valid for `kind: bedrock`",
    ] {
        assert!(errs.contains(want), "missing {want:?} in:\n{errs}");
    }
}
