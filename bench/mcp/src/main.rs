//! The MCP benchmark driver: `tools/call` of server-everything's `echo`, sent straight to server-everything and
//! through gatehouse, in one run, as the same session-era client (one `initialize`, then calls carrying the session
//! header; every answer read to its end and checked).
//!
//! - **Paced** (open loop): a call is started every `1/rate` s whatever the previous ones do; latency is measured from
//!   the *scheduled* start (no coordinated omission) to the last byte of the answer. Targets alternate per round, so
//!   drift of a busy machine hits both alike. Added latency = gateway − direct, per round, then the median of rounds.
//! - **Closed loop**: `workers` clients call back to back for `max-duration` s; completed calls per second give the
//!   throughput ratio gateway/direct (server-everything, one node process, is the bottleneck of both).
//!
//! Prints one `MCP_BENCH {json}` line for `bench/mcp/run.sh` to format.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Parser;
use serde_json::{Value, json};

#[derive(Parser, Debug)]
struct Args {
    /// server-everything's Streamable HTTP endpoint.
    #[arg(long)]
    direct: String,
    /// gatehouse's `/mcp`, with the `--direct` server as its upstream.
    #[arg(long)]
    gateway: String,
    /// The echo tool's name through gatehouse (the upstream's name prefixes it).
    #[arg(long, default_value = "everything_echo")]
    gateway_tool: String,
    /// Paced calls per second.
    #[arg(long, default_value_t = 100.0)]
    rate: f64,
    /// Seconds measured per paced run.
    #[arg(long, default_value_t = 10.0)]
    duration: f64,
    /// Seconds of unmeasured calls before each paced run.
    #[arg(long, default_value_t = 2.0)]
    warmup: f64,
    /// Paced rounds (each: direct then gateway, or the reverse on odd rounds).
    #[arg(long, default_value_t = 3)]
    rounds: u32,
    /// Closed-loop clients.
    #[arg(long, default_value_t = 8)]
    workers: u32,
    /// Seconds per closed-loop run.
    #[arg(long, default_value_t = 8.0)]
    max_duration: f64,
}

/// One MCP client session against a target.
struct Session {
    http: reqwest::Client,
    url: String,
    session: String,
    tool: String,
    next: AtomicU64,
}

impl Session {
    async fn open(http: reqwest::Client, url: &str, tool: &str) -> anyhow::Result<Self> {
        let init = json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "mcp-bench", "version": "1"}}});
        let resp = http
            .post(url)
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .body(init.to_string())
            .send()
            .await
            .with_context(|| format!("initialize {url}"))?;
        let session = resp
            .headers()
            .get("mcp-session-id")
            .and_then(|v| v.to_str().ok())
            .context("no mcp-session-id")?
            .to_string();
        let body = resp.text().await?;
        if !body.contains("protocolVersion") {
            bail!("initialize failed at {url}: {body}");
        }
        let s = Self {
            http,
            url: url.to_string(),
            session,
            tool: tool.to_string(),
            next: AtomicU64::new(1),
        };
        s.post(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}).to_string())
            .await?;
        Ok(s)
    }

    async fn post(&self, body: &str) -> anyhow::Result<String> {
        let resp = self
            .http
            .post(&self.url)
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .header("mcp-session-id", &self.session)
            .header("mcp-protocol-version", "2025-11-25")
            .body(body.to_string())
            .send()
            .await?;
        let status = resp.status();
        let text = resp.text().await?;
        if !status.is_success() {
            bail!("HTTP {status}: {text}");
        }
        Ok(text)
    }

    /// One `tools/call` of echo, read to the end and checked.
    async fn echo(&self) -> anyhow::Result<()> {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let body = json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
            "params": {"name": self.tool, "arguments": {"message": "bench"}}});
        let text = self.post(&body.to_string()).await?;
        if !text.contains("Echo: bench") {
            bail!("unexpected answer: {text}");
        }
        Ok(())
    }
}

#[derive(Debug, Default, Clone)]
struct Stats {
    latencies_us: Vec<u64>,
    errors: u64,
    seconds: f64,
}

impl Stats {
    fn pct(&self, p: f64) -> f64 {
        if self.latencies_us.is_empty() {
            return f64::NAN;
        }
        let mut v = self.latencies_us.clone();
        v.sort_unstable();
        let idx = ((p / 100.0) * (v.len() as f64 - 1.0)).round() as usize;
        v[idx.min(v.len() - 1)] as f64 / 1000.0
    }

    fn json(&self) -> Value {
        json!({
            "n": self.latencies_us.len(), "errors": self.errors,
            "p50_ms": self.pct(50.0), "p90_ms": self.pct(90.0), "p99_ms": self.pct(99.0), "max_ms": self.pct(100.0),
            "rps": self.latencies_us.len() as f64 / self.seconds,
        })
    }
}

/// Open loop at `rate` for `secs`: returns latencies from each call's scheduled start.
async fn paced(s: &Arc<Session>, rate: f64, secs: f64) -> Stats {
    let interval = Duration::from_secs_f64(1.0 / rate);
    let total = (rate * secs).round() as u64;
    let start = tokio::time::Instant::now();
    let mut handles = Vec::with_capacity(total as usize);
    for i in 0..total {
        let scheduled = start + interval.mul_f64(i as f64);
        tokio::time::sleep_until(scheduled).await;
        let s = s.clone();
        handles.push(tokio::spawn(async move {
            let r = s.echo().await;
            (scheduled.elapsed(), r.is_ok())
        }));
    }
    let mut st = Stats {
        seconds: secs,
        ..Stats::default()
    };
    for h in handles {
        match h.await {
            Ok((lat, true)) => st.latencies_us.push(lat.as_micros() as u64),
            _ => st.errors += 1,
        }
    }
    st
}

/// Closed loop: `workers` back-to-back callers for `secs`.
async fn closed(s: &Arc<Session>, workers: u32, secs: f64) -> Stats {
    let deadline = Instant::now() + Duration::from_secs_f64(secs);
    let began = Instant::now();
    let tasks: Vec<_> = (0..workers)
        .map(|_| {
            let s = s.clone();
            tokio::spawn(async move {
                let mut st = Stats::default();
                while Instant::now() < deadline {
                    let t = Instant::now();
                    match s.echo().await {
                        Ok(()) => st.latencies_us.push(t.elapsed().as_micros() as u64),
                        Err(_) => st.errors += 1,
                    }
                }
                st
            })
        })
        .collect();
    let mut all = Stats::default();
    for t in tasks {
        if let Ok(st) = t.await {
            all.latencies_us.extend(st.latencies_us);
            all.errors += st.errors;
        }
    }
    all.seconds = began.elapsed().as_secs_f64();
    all
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    if v.is_empty() { f64::NAN } else { v[v.len() / 2] }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let a = Args::parse();
    let http = reqwest::Client::builder().pool_max_idle_per_host(256).build()?;
    let direct = Arc::new(Session::open(http.clone(), &a.direct, "echo").await?);
    let gateway = Arc::new(Session::open(http, &a.gateway, &a.gateway_tool).await?);
    // Both answer before anything is measured.
    direct.echo().await?;
    gateway.echo().await?;

    let mut rounds = Vec::new();
    let (mut add50, mut add99) = (Vec::new(), Vec::new());
    let (mut pooled_d, mut pooled_g) = (Stats::default(), Stats::default());
    for r in 0..a.rounds {
        let order: [(&str, &Arc<Session>); 2] = if r % 2 == 0 {
            [("direct", &direct), ("gateway", &gateway)]
        } else {
            [("gateway", &gateway), ("direct", &direct)]
        };
        let mut got = serde_json::Map::new();
        let (mut d, mut g) = (Stats::default(), Stats::default());
        for (name, s) in order {
            let _ = paced(s, a.rate, a.warmup).await;
            let st = paced(s, a.rate, a.duration).await;
            eprintln!("[mcp-bench] round {r} {name}: {}", st.json());
            got.insert(name.into(), st.json());
            if name == "direct" { d = st } else { g = st }
        }
        add50.push(g.pct(50.0) - d.pct(50.0));
        add99.push(g.pct(99.0) - d.pct(99.0));
        pooled_d.latencies_us.extend(&d.latencies_us);
        pooled_d.errors += d.errors;
        pooled_d.seconds += d.seconds;
        pooled_g.latencies_us.extend(&g.latencies_us);
        pooled_g.errors += g.errors;
        pooled_g.seconds += g.seconds;
        rounds.push(Value::Object(got));
    }
    let td = closed(&direct, a.workers, a.max_duration).await;
    eprintln!("[mcp-bench] closed direct: {}", td.json());
    let tg = closed(&gateway, a.workers, a.max_duration).await;
    eprintln!("[mcp-bench] closed gateway: {}", tg.json());
    let ratio = (tg.latencies_us.len() as f64 / tg.seconds) / (td.latencies_us.len() as f64 / td.seconds);
    let out = json!({
        "args": {"rate": a.rate, "duration": a.duration, "warmup": a.warmup, "rounds": a.rounds, "workers": a.workers, "max_duration": a.max_duration},
        "rounds": rounds,
        "pooled": {"direct": pooled_d.json(), "gateway": pooled_g.json()},
        "added_p50_ms_median_of_rounds": median(add50.clone()),
        "added_p99_ms_median_of_rounds": median(add99.clone()),
        "added_p50_ms_rounds": add50,
        "added_p99_ms_rounds": add99,
        "added_p50_ms_pooled": pooled_g.pct(50.0) - pooled_d.pct(50.0),
        "added_p99_ms_pooled": pooled_g.pct(99.0) - pooled_d.pct(99.0),
        "closed": {"direct": td.json(), "gateway": tg.json(), "throughput_ratio": ratio},
    });
    println!("MCP_BENCH {out}");
    Ok(())
}
