//! Test harness: a real gateway started in-process on 127.0.0.1:0 from a YAML config, plus the spawned
//! binary for tests that need signals or the CLI.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};

use gatehouse::{Gateway, StartOptions};
use tokio::io::{AsyncBufReadExt, BufReader};

/// A gateway running in this process.
pub struct TestGateway {
    pub gw: Gateway,
    pub dir: tempfile::TempDir,
    log_rx: tokio::sync::Mutex<tokio::sync::mpsc::UnboundedReceiver<String>>,
    pub http: reqwest::Client,
}

impl TestGateway {
    /// Starts with `yaml` (listen/admin/access_log are filled in when absent).
    pub async fn start(yaml: &str) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("gatehouse.yaml");
        std::fs::write(&path, with_defaults(yaml)).expect("write config");
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let gw = Gateway::start(StartOptions {
            config: path,
            capture_access_log: Some(tx),
        })
        .await
        .unwrap_or_else(|e| panic!("gateway failed to start: {e}"));
        Self {
            gw,
            dir,
            log_rx: tokio::sync::Mutex::new(rx),
            http: reqwest::Client::new(),
        }
    }

    pub fn config_path(&self) -> PathBuf {
        self.dir.path().join("gatehouse.yaml")
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.gw.data_addr)
    }

    pub fn admin(&self, path: &str) -> String {
        format!("http://{}{path}", self.gw.admin_addr)
    }

    pub fn chat(&self, body: serde_json::Value) -> reqwest::RequestBuilder {
        self.http.post(self.url("/v1/chat/completions")).json(&body)
    }

    /// The next access-log line (written when a request's context drops), waiting up to 10 s.
    pub async fn next_log(&self) -> serde_json::Value {
        let mut rx = self.log_rx.lock().await;
        let line = tokio::time::timeout(std::time::Duration::from_secs(10), rx.recv())
            .await
            .expect("no access log line within 10s")
            .expect("access log channel closed");
        serde_json::from_str(&line).expect("access log line is JSON")
    }

    pub async fn metrics(&self) -> String {
        self.http
            .get(self.admin("/metrics"))
            .send()
            .await
            .expect("metrics")
            .text()
            .await
            .expect("text")
    }
}

/// Adds loopback listeners and silences the stdout access log unless the test set them.
pub fn with_defaults(yaml: &str) -> String {
    let mut out = String::new();
    if !yaml.contains("\nlisten:") && !yaml.starts_with("listen:") {
        out.push_str("listen: 127.0.0.1:0\n");
    }
    if !yaml.contains("\nadmin:") && !yaml.starts_with("admin:") {
        out.push_str("admin: 127.0.0.1:0\n");
    }
    if !yaml.contains("telemetry:") {
        out.push_str("telemetry: { access_log: off }\n");
    }
    out.push_str(yaml);
    out
}

/// A gatehouse child process (for signals and the CLI).
pub struct ChildGateway {
    pub child: tokio::process::Child,
    pub data: String,
    pub admin: String,
    pub stdout: Arc<Mutex<Vec<String>>>,
    pub stderr: Arc<Mutex<Vec<String>>>,
    readers: Vec<tokio::task::JoinHandle<()>>,
}

pub fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_gatehouse")
}

impl ChildGateway {
    /// Spawns `gatehouse --config path` and waits for its "listening" line.
    pub async fn spawn(config: &Path) -> Self {
        Self::spawn_with_log(config, "info").await
    }

    /// Like [`ChildGateway::spawn`] with a log filter.
    pub async fn spawn_with_log(config: &Path, filter: &str) -> Self {
        Self::spawn_with_env(config, filter, &[]).await
    }

    /// Like [`ChildGateway::spawn_with_log`] with extra environment variables (`OTEL_*`).
    pub async fn spawn_with_env(config: &Path, filter: &str, env: &[(&str, &str)]) -> Self {
        let mut child = tokio::process::Command::new(binary())
            .arg("--config")
            .arg(config)
            .env("GATEHOUSE_LOG", filter)
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("spawn gatehouse");
        let stdout = Arc::new(Mutex::new(Vec::new()));
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let out = child.stdout.take().expect("stdout");
        let err = child.stderr.take().expect("stderr");
        let so = stdout.clone();
        let out_reader = tokio::spawn(async move {
            let mut lines = BufReader::new(out).lines();
            while let Ok(Some(l)) = lines.next_line().await {
                so.lock().expect("lock").push(l);
            }
        });
        let (tx, rx) = tokio::sync::oneshot::channel::<(String, String)>();
        let se = stderr.clone();
        let err_reader = tokio::spawn(async move {
            let mut tx = Some(tx);
            let mut lines = BufReader::new(err).lines();
            while let Ok(Some(l)) = lines.next_line().await {
                if l.contains("listening")
                    && let (Some(d), Some(a)) = (field(&l, "data="), field(&l, "admin="))
                    && let Some(tx) = tx.take()
                {
                    let _ = tx.send((d, a));
                }
                se.lock().expect("lock").push(l);
            }
        });
        let (data, admin) = tokio::time::timeout(std::time::Duration::from_secs(30), rx)
            .await
            .expect("gatehouse did not start in 30s")
            .expect("gatehouse exited before listening");
        Self {
            child,
            data,
            admin,
            stdout,
            stderr,
            readers: vec![out_reader, err_reader],
        }
    }

    /// Waits for the process to exit and for its output to be fully read.
    pub async fn wait_exit(&mut self) -> std::process::ExitStatus {
        let status = tokio::time::timeout(std::time::Duration::from_secs(20), self.child.wait())
            .await
            .expect("exited within 20s")
            .expect("status");
        for r in self.readers.drain(..) {
            let _ = r.await;
        }
        status
    }

    pub fn signal(&self, sig: &str) {
        let pid = self.child.id().expect("pid");
        let ok = std::process::Command::new("kill")
            .arg(format!("-{sig}"))
            .arg(pid.to_string())
            .status()
            .expect("kill");
        assert!(ok.success());
    }
}

fn field(line: &str, key: &str) -> Option<String> {
    let start = line.find(key)? + key.len();
    let rest = &line[start..];
    let end = rest.find(|c: char| c.is_whitespace()).unwrap_or(rest.len());
    Some(rest[..end].trim_matches('"').to_string())
}
