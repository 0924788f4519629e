//! nginx as the plain load balancer of the cluster test: a foreground nginx with its own prefix directory, round robin
//! over the replicas, retrying a refused connection on the next replica.
//!
//! Found through `GATEHOUSE_NGINX`, else /usr/sbin/nginx or /usr/bin/nginx. Without it the caller says so and passes,
//! unless GATEHOUSE_REQUIRE_INTEROP is set (scripts/test.sh installs nginx and sets it).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::redis_limits::free_port;

/// The nginx binary, or `None` (with the reason printed) when it is missing and not required.
pub fn nginx_binary() -> Option<PathBuf> {
    let found = [
        std::env::var("GATEHOUSE_NGINX").ok().map(PathBuf::from),
        Some(PathBuf::from("/usr/sbin/nginx")),
        Some(PathBuf::from("/usr/bin/nginx")),
    ]
    .into_iter()
    .flatten()
    .find(|p| p.is_file());
    if found.is_none() {
        assert!(
            std::env::var("GATEHOUSE_REQUIRE_INTEROP").is_err(),
            "GATEHOUSE_REQUIRE_INTEROP is set but nginx is not installed"
        );
        eprintln!("SKIPPED: the cluster test needs nginx (scripts/test.sh installs it)");
    }
    found
}

/// nginx in the foreground with its own prefix directory; stopped with SIGTERM (a SIGKILL'd master would leave its
/// worker listening).
pub struct Nginx {
    child: std::process::Child,
    port: u16,
    /// nginx's error log (it records every failed upstream connect).
    pub error_log: PathBuf,
}

impl Nginx {
    /// Starts nginx balancing round robin over `replicas` (`host:port`), with its files in `dir`.
    pub async fn start(bin: &Path, dir: &Path, replicas: &[String]) -> Self {
        let port = free_port();
        let servers: String = replicas
            .iter()
            .map(|r| format!("    server {r} max_fails=0;\n"))
            .collect();
        let d = dir.display();
        // As root the worker would switch to `nobody`, who cannot write the private temp dirs.
        let as_root = Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|o| o.stdout.starts_with(b"0\n"));
        let user = if as_root { "user root;\n" } else { "" };
        let conf = format!(
            r#"{user}worker_processes 1;
daemon off;
pid {d}/nginx.pid;
error_log {d}/error.log info;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {d}/body;
  proxy_temp_path {d}/proxy;
  fastcgi_temp_path {d}/fastcgi;
  uwsgi_temp_path {d}/uwsgi;
  scgi_temp_path {d}/scgi;
  upstream gatehouse {{
{servers}  }}
  server {{
    listen 127.0.0.1:{port};
    location / {{
      proxy_pass http://gatehouse;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
      # A replica that refuses the connection is skipped: the request had not reached it, so it is safe to send
      # elsewhere (nginx never retries a non-idempotent request that was already sent).
      proxy_next_upstream error timeout;
      proxy_next_upstream_tries 0;
      proxy_connect_timeout 2s;
      add_header X-Upstream $upstream_addr always;
    }}
  }}
}}
"#
        );
        let conf_path = dir.join("nginx.conf");
        std::fs::write(&conf_path, conf).expect("write nginx.conf");
        let child = Command::new(bin)
            .arg("-p")
            .arg(dir)
            .arg("-c")
            .arg(&conf_path)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn nginx");
        let nginx = Self {
            child,
            port,
            error_log: dir.join("error.log"),
        };
        for _ in 0..250 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
                return nginx;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!(
            "nginx did not listen on {port}: {}",
            std::fs::read_to_string(&nginx.error_log).unwrap_or_default()
        );
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }
}
