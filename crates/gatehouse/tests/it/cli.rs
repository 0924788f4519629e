//! The CLI: `check`, `schema`, `--version`, and refusing to start on a bad config.

use std::process::Command;

use crate::support::binary;

#[test]
fn check_reports_every_problem_with_file_line_and_field() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("bad.yaml");
    std::fs::write(
        &path,
        "listen: 127.0.0.1:8080\nproviders:\n  pool:\n    kind: vllm_pool\n    endpoints: [http://127.0.0.1:8001]\n    timeouts: { idle: forever }\n  other:\n    kind: openai_compatible\n    base_ulr: http://x\nmodelz: []\n",
    )
    .expect("write");
    let out = Command::new(binary())
        .arg("check")
        .arg(&path)
        .output()
        .expect("run check");
    assert!(!out.status.success(), "check must fail");
    let err = String::from_utf8_lossy(&out.stderr);
    let file = path.display().to_string();
    assert!(
        err.contains(&format!(
            "{file}:6:23: providers.pool.timeouts.idle: invalid duration `forever`"
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "{file}:9:5: providers.other.base_ulr: unknown field `base_ulr`, did you mean `base_url`?"
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "{file}:10:1: modelz: unknown field `modelz`, did you mean `models`?"
        )),
        "{err}"
    );
    assert!(err.contains("3 problem(s) found"), "{err}");
}

#[test]
fn check_reports_semantic_errors_together() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("bad.yaml");
    std::fs::write(
        &path,
        "providers:\n  pool: { kind: vllm_pool, endpoints: [http://127.0.0.1:8001] }\nmodels:\n  - name: a\n    targets: [{ provider: missing }]\n  - name: b\n    aliases: [a]\n    targets: [{ provider: pool }]\nserver: { max_body_bytes: 0 }\n",
    )
    .expect("write");
    let out = Command::new(binary())
        .arg("check")
        .arg(&path)
        .output()
        .expect("run check");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(":5:27: models[0].targets[0].provider: target points at provider `missing`, which does not exist"),
        "{err}"
    );
    assert!(
        err.contains(":7:15: models[1].aliases[0]: the model name `a` is already used"),
        "{err}"
    );
    assert!(
        err.contains(":9:27: server.max_body_bytes: must be greater than zero"),
        "{err}"
    );
}

#[test]
fn check_accepts_a_good_file_and_the_example() {
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/demo.yaml");
    let out = Command::new(binary())
        .arg("check")
        .arg(example)
        .output()
        .expect("run check");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains(": ok ("));
}

#[test]
fn run_refuses_a_bad_config_with_its_location() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("bad.yaml");
    std::fs::write(&path, "listen: ${GATEHOUSE_TEST_SURELY_UNSET}\n").expect("write");
    let out = Command::new(binary()).arg("--config").arg(&path).output().expect("run");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(":1:9: listen: environment variable `GATEHOUSE_TEST_SURELY_UNSET` is not set"),
        "{err}"
    );
}

#[test]
fn config_from_environment_variable() {
    let out = Command::new(binary())
        .env("GATEHOUSE_CONFIG", "/nonexistent/gatehouse.yaml")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/gatehouse.yaml:0:0: cannot read config file"));
}

#[test]
fn schema_and_version() {
    let out = Command::new(binary()).arg("schema").output().expect("run schema");
    assert!(out.status.success());
    let schema: serde_json::Value = serde_json::from_slice(&out.stdout).expect("schema is JSON");
    assert_eq!(schema["type"], "object");
    assert!(schema["properties"]["providers"].is_object());
    assert_eq!(
        schema["additionalProperties"], false,
        "unknown top-level fields are rejected by editors too"
    );
    let out = Command::new(binary()).arg("--version").output().expect("run version");
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("gatehouse "));
}

/// The design document's example config (`examples/design.yaml`) is accepted as written; only the two files it
/// names are placed in a temporary directory, and the MCP session key comes from the variable it names.
#[test]
fn check_accepts_the_design_example_config() {
    let example = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/design.yaml"))
        .expect("read example");
    let dir = tempfile::tempdir().expect("tempdir");
    let keys = dir.path().join("keys.yaml");
    std::fs::write(
        &keys,
        "- { name: dev, sha256: \"00000000000000000000000000000000000000000000000000000000000000aa\" }\n",
    )
    .expect("write keys");
    let provider_key = dir.path().join("api-key");
    std::fs::write(&provider_key, "sk-ant-test\n").expect("write key");
    let text = example
        .replace("/etc/gatehouse/keys.yaml", &keys.display().to_string())
        .replace(
            "/var/run/secrets/anthropic/api-key",
            &provider_key.display().to_string(),
        );
    let path = dir.path().join("design.yaml");
    std::fs::write(&path, text).expect("write config");
    let out = Command::new(binary())
        .arg("check")
        .arg(&path)
        .env("GATEHOUSE_MCP_SESSION_KEY", "11".repeat(32))
        .env_remove("REDIS_URL")
        .output()
        .expect("run check");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    // `mcp.path` is accepted as `/mcp` only; another path is refused with its location, never silently ignored.
    let moved = std::fs::read_to_string(&path)
        .expect("read")
        .replace("path: /mcp", "path: /tools");
    std::fs::write(&path, moved).expect("write config");
    let out = Command::new(binary())
        .arg("check")
        .arg(&path)
        .env("GATEHOUSE_MCP_SESSION_KEY", "11".repeat(32))
        .output()
        .expect("run check");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(err.contains("mcp.path: `/tools` is not served"), "{err}");
}
