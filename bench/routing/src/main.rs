//! Routing benchmark: `--replicas` in-process `vllm-sim` replicas on loopback behind an in-process gatehouse, one
//! seeded Poisson arrival trace per workload replayed identically against every picker strategy.
//!
//! Reported per strategy and stage (in the simulator's *model* time, i.e. real time ÷ `--time-scale`): TTFT
//! p50/p90/p99, mean inter-token latency, output tokens/s, success rate; per replica: requests, waiting-queue
//! mean/max and KV use (sampled from `/metrics` every 100 ms), prefix-cache hit rate (Δhits/Δqueries), preemptions;
//! and the picker's mean decision time from gatehouse's histogram. A markdown section goes to `--out`.

mod workload;

use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use clap::Parser;
use workload::{Item, Workload};

/// Command line.
#[derive(Debug, Parser)]
struct Cli {
    /// Workload: a (prefix-heavy), b (low sharing), c (ShareGPT-like).
    #[arg(long, value_enum)]
    workload: Workload,
    /// Strategies to compare, comma-separated.
    /// `load_only` is `inference` with the prefix weight at 0 (GIE's queue + KV scorers alone); `NAME@500ms` scrapes
    /// every 500 ms instead of 50 ms (staleness bound twice that).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "round_robin,random,least_request,load_only,inference"
    )]
    strategies: Vec<String>,
    /// Stages as `qps:seconds` in model time, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "10:30")]
    stages: Vec<String>,
    /// Simulator time scale (0.5 = twice as fast as the model).
    #[arg(long, default_value_t = 0.5)]
    time_scale: f64,
    /// Replicas.
    #[arg(long, default_value_t = 8)]
    replicas: usize,
    /// KV blocks per replica (16 tokens each).
    #[arg(long, default_value_t = 2400)]
    kv_blocks: usize,
    /// Trace seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Extra `routing:` settings for every strategy, as YAML flow-map entries (e.g. `prefix: { block_chars: 256 }`),
    /// to compare a knob against the defaults on the same trace.
    #[arg(long)]
    routing: Option<String>,
    /// Markdown report; the workload's section is replaced.
    #[arg(long, default_value = "bench/ROUTING.md")]
    out: PathBuf,
}

/// What one request measured (real time).
#[derive(Debug, Clone)]
struct Outcome {
    stage: usize,
    ok: bool,
    start: Instant,
    ttft: Option<Duration>,
    end: Option<Instant>,
    tokens: u32,
    replica: Option<String>,
}

/// Per-replica samples.
#[derive(Debug, Default, Clone)]
struct Samples {
    waiting: Vec<f64>,
    kv: Vec<f64>,
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let stages: Vec<(f64, f64)> = cli
        .stages
        .iter()
        .map(|s| {
            let (q, d) = s.split_once(':').context("stage is qps:seconds")?;
            Ok((q.parse()?, d.parse()?))
        })
        .collect::<anyhow::Result<_>>()?;
    let trace = workload::trace(cli.workload, &stages, cli.time_scale, cli.seed);
    eprintln!(
        "workload {:?}: {} requests, stages {:?}",
        cli.workload,
        trace.len(),
        stages
    );
    let mut section = String::new();
    let cmd: Vec<String> = std::env::args().collect();
    let _ = writeln!(section, "## Workload {:?}\n", cli.workload);
    let _ = writeln!(
        section,
        "Command: `cargo run --release -p bench-routing -- {}`\n",
        cmd[1..].join(" ")
    );
    let _ = writeln!(
        section,
        "{} replicas × {} KV blocks of 16 tokens, max_num_seqs 64, token budget 2048, time scale {}; {} requests; times in model seconds (real ÷ time scale).\n",
        cli.replicas,
        cli.kv_blocks,
        cli.time_scale,
        trace.len()
    );
    let _ = writeln!(
        section,
        "| strategy | stage QPS | ok | TTFT p50 | TTFT p90 | TTFT p99 | ITL mean | out tok/s |\n|---|---|---|---|---|---|---|---|"
    );
    let mut replica_tables = String::new();
    for strategy in &cli.strategies {
        let t = Instant::now();
        let (outcomes, replicas, decision) = run(&cli, strategy, &trace).await?;
        let wall = t.elapsed().as_secs_f64();
        eprintln!("{strategy}: done in {wall:.1}s");
        for (i, (qps, _)) in stages.iter().enumerate() {
            let row = stage_row(&outcomes, i, cli.time_scale);
            let _ = writeln!(section, "| {strategy} | {qps} | {row} |");
        }
        let _ = writeln!(
            replica_tables,
            "\n**{strategy}** (mean decision time {decision}; wall time {wall:.1} s; a wall time much longer than its peers' means the run was starved of CPU by other processes)\n\n| replica | requests | waiting mean / max | KV mean | prefix hit rate | preemptions |\n|---|---|---|---|---|---|"
        );
        for r in replicas {
            let _ = writeln!(replica_tables, "{r}");
        }
    }
    section.push_str(&replica_tables);
    print!("{section}");
    write_section(&cli.out, cli.workload, &section)
}

/// One strategy over the whole trace.
async fn run(cli: &Cli, strategy: &str, trace: &[Item]) -> anyhow::Result<(Vec<Outcome>, Vec<String>, String)> {
    let mut sims = Vec::new();
    let mut urls = Vec::new();
    for i in 0..cli.replicas {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        urls.push(format!("http://{}", listener.local_addr()?));
        let opts = vllm_sim::SimOptions {
            max_num_seqs: 64,
            max_num_batched_tokens: 2048,
            num_gpu_blocks: cli.kv_blocks,
            max_waiting: 100_000,
            time_scale: cli.time_scale,
            seed: i as u64,
            ..vllm_sim::SimOptions::default()
        };
        sims.push(tokio::spawn(vllm_sim::serve(listener, opts)));
    }
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("gatehouse.yaml");
    let list = urls.iter().map(|u| format!("\"{u}\"")).collect::<Vec<_>>().join(", ");
    // `name@PERIOD` scrapes every PERIOD (staleness 2 × PERIOD), to show what stale signals cost.
    let (name, scrape) = match strategy.split_once('@') {
        Some((n, p)) => (n, format!(", scrape_interval: {p}, staleness: {}", double(p))),
        None => (strategy, String::new()),
    };
    let (picker, mut weights) = match name {
        "load_only" => ("inference", format!(", weights: {{ prefix: 0 }}{scrape}")),
        other => (other, scrape),
    };
    if let Some(extra) = &cli.routing {
        weights.push_str(", ");
        weights.push_str(extra);
    }
    std::fs::write(
        &path,
        format!(
            "listen: 127.0.0.1:0\nadmin: 127.0.0.1:0\ntelemetry: {{ access_log: off }}\nserver: {{ max_connections: 100000 }}\n\
             providers:\n  pool:\n    kind: vllm_pool\n    picker: {picker}\n    endpoints: [{list}]\n    timeouts: {{ first_byte: 1h, total: 1h, idle: 1h }}\n\
             \x20   routing: {{ replica_header: x-replica{weights} }}\n\
             models:\n  - {{ name: llama, targets: [{{ provider: pool, model: meta-llama/Llama-3.1-8B-Instruct }}] }}\n"
        ),
    )?;
    let gw = gatehouse::Gateway::start(gatehouse::StartOptions {
        config: path,
        capture_access_log: None,
    })
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let http = reqwest::Client::builder().pool_max_idle_per_host(1024).build()?;
    let before = counters(&http, &urls).await;
    let samples = Arc::new(Mutex::new(vec![Samples::default(); urls.len()]));
    let sampler = tokio::spawn(sample(http.clone(), urls.clone(), samples.clone()));
    let base = format!("http://{}/v1/chat/completions", gw.data_addr);
    let start = Instant::now();
    let mut tasks = Vec::with_capacity(trace.len());
    for item in trace {
        tokio::time::sleep_until((start + item.at).into()).await;
        tasks.push(tokio::spawn(one(http.clone(), base.clone(), item.clone())));
    }
    let mut outcomes = Vec::with_capacity(tasks.len());
    for t in tasks {
        outcomes.push(t.await?);
    }
    sampler.abort();
    let after = counters(&http, &urls).await;
    let m = http
        .get(format!("http://{}/metrics", gw.admin_addr))
        .send()
        .await?
        .text()
        .await?;
    let decision = decision_time(&m);
    gw.shutdown();
    for s in &sims {
        s.abort();
    }
    let samples = samples.lock().map_err(|_| anyhow::anyhow!("poisoned"))?.clone();
    let rows = urls
        .iter()
        .enumerate()
        .map(|(i, u)| {
            let auth = u.trim_start_matches("http://");
            let n = outcomes.iter().filter(|o| o.replica.as_deref() == Some(auth)).count();
            let s = &samples[i];
            let mean = |v: &[f64]| {
                if v.is_empty() {
                    0.0
                } else {
                    v.iter().sum::<f64>() / v.len() as f64
                }
            };
            let max = s.waiting.iter().copied().fold(0.0, f64::max);
            let (q0, h0, p0) = before[i];
            let (q1, h1, p1) = after[i];
            let hit = if q1 > q0 { (h1 - h0) / (q1 - q0) } else { 0.0 };
            format!(
                "| {i} | {n} | {:.1} / {max:.0} | {:.0}% | {:.0}% | {:.0} |",
                mean(&s.waiting),
                mean(&s.kv) * 100.0,
                hit * 100.0,
                p1 - p0
            )
        })
        .collect();
    Ok((outcomes, rows, decision))
}

/// Sends one streamed request and times it.
async fn one(http: reqwest::Client, url: String, item: Item) -> Outcome {
    let mut messages = Vec::new();
    if !item.system.is_empty() {
        messages.push(serde_json::json!({"role": "system", "content": item.system}));
    }
    messages.push(serde_json::json!({"role": "user", "content": item.user}));
    let body =
        serde_json::json!({"model": "llama", "stream": true, "max_tokens": item.max_tokens, "messages": messages});
    let start = Instant::now();
    let mut out = Outcome {
        stage: item.stage,
        ok: false,
        start,
        ttft: None,
        end: None,
        tokens: item.max_tokens,
        replica: None,
    };
    let Ok(mut resp) = http.post(&url).json(&body).send().await else {
        return out;
    };
    out.replica = resp
        .headers()
        .get("x-replica")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    if !resp.status().is_success() {
        return out;
    }
    let mut tail = Vec::new();
    loop {
        match resp.chunk().await {
            Ok(Some(c)) => {
                if out.ttft.is_none() {
                    out.ttft = Some(start.elapsed());
                }
                tail.extend_from_slice(&c);
                if tail.len() > 64 {
                    tail.drain(..tail.len() - 64);
                }
            }
            Ok(None) => break,
            Err(_) => return out,
        }
    }
    out.end = Some(Instant::now());
    out.ok = tail.windows(6).any(|w| w == b"[DONE]");
    out
}

/// One table row for stage `i`: ok, TTFT p50/p90/p99, ITL mean, output tok/s (model time).
fn stage_row(outcomes: &[Outcome], i: usize, scale: f64) -> String {
    let stage: Vec<&Outcome> = outcomes.iter().filter(|o| o.stage == i).collect();
    let ok: Vec<&&Outcome> = stage.iter().filter(|o| o.ok).collect();
    let mut ttft: Vec<f64> = ok
        .iter()
        .filter_map(|o| o.ttft)
        .map(|d| d.as_secs_f64() / scale)
        .collect();
    ttft.sort_by(f64::total_cmp);
    let pct = |p: f64| {
        if ttft.is_empty() {
            f64::NAN
        } else {
            ttft[((ttft.len() - 1) as f64 * p).round() as usize]
        }
    };
    let itl: Vec<f64> = ok
        .iter()
        .filter_map(|o| {
            let first = o.start + o.ttft?;
            let span = o.end?.duration_since(first).as_secs_f64() / scale;
            (o.tokens > 1).then(|| span / f64::from(o.tokens - 1))
        })
        .collect();
    let itl_mean = itl.iter().sum::<f64>() / itl.len().max(1) as f64;
    let first = stage.iter().map(|o| o.start).min();
    let last = ok.iter().filter_map(|o| o.end).max();
    let tokens: u64 = ok.iter().map(|o| u64::from(o.tokens)).sum();
    let tps = match (first, last) {
        (Some(a), Some(b)) if b > a => tokens as f64 / (b.duration_since(a).as_secs_f64() / scale),
        _ => 0.0,
    };
    format!(
        "{:.1}% | {:.2} s | {:.2} s | {:.2} s | {:.1} ms | {:.0}",
        100.0 * ok.len() as f64 / stage.len().max(1) as f64,
        pct(0.5),
        pct(0.9),
        pct(0.99),
        itl_mean * 1000.0,
        tps
    )
}

/// Samples waiting and KV of every replica every 100 ms.
async fn sample(http: reqwest::Client, urls: Vec<String>, out: Arc<Mutex<Vec<Samples>>>) {
    let limits = gatehouse_picker::ParseLimits::default();
    loop {
        for (i, u) in urls.iter().enumerate() {
            if let Ok(r) = http.get(format!("{u}/metrics")).send().await
                && let Ok(b) = r.bytes().await
                && let Ok(s) = gatehouse_picker::parse_metrics(&b, &limits)
                && let Ok(mut g) = out.lock()
            {
                g[i].waiting.push(s.waiting.unwrap_or(0.0));
                g[i].kv.push(s.kv_usage.unwrap_or(0.0));
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// (prefix-cache queries, hits, preemptions) per replica.
async fn counters(http: &reqwest::Client, urls: &[String]) -> Vec<(f64, f64, f64)> {
    let mut out = Vec::new();
    for u in urls {
        let text = match http.get(format!("{u}/metrics")).send().await {
            Ok(r) => r.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        let get = |name: &str| {
            text.lines()
                .find(|l| l.starts_with(name))
                .and_then(|l| l.rsplit(' ').next())
                .and_then(|v| v.parse::<f64>().ok())
                .unwrap_or(0.0)
        };
        out.push((
            get("vllm:prefix_cache_queries_total"),
            get("vllm:prefix_cache_hits_total"),
            get("vllm:num_preemptions_total"),
        ));
    }
    out
}

/// Mean decision time from `gatehouse_pool_decision_seconds`.
fn decision_time(metrics: &str) -> String {
    let get = |suffix: &str| {
        metrics
            .lines()
            .find(|l| l.starts_with(&format!("gatehouse_pool_decision_seconds_{suffix}")))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse::<f64>().ok())
    };
    match (get("sum"), get("count")) {
        (Some(s), Some(c)) if c > 0.0 => format!("{:.1} µs", s / c * 1e6),
        _ => "n/a".into(),
    }
}

/// `500ms` → `1000ms` (the staleness bound paired with a scrape period).
fn double(period: &str) -> String {
    period
        .strip_suffix("ms")
        .and_then(|n| n.parse::<u64>().ok())
        .map_or_else(|| period.to_string(), |n| format!("{}ms", n * 2))
}

/// Replaces (or appends) the workload's section of the report.
fn write_section(path: &PathBuf, w: Workload, section: &str) -> anyhow::Result<()> {
    let begin = format!("<!-- workload {w:?} -->");
    let end = format!("<!-- /workload {w:?} -->");
    let old = std::fs::read_to_string(path).unwrap_or_else(|_| "# Routing benchmark\n\n".into());
    let block = format!("{begin}\n{section}{end}\n");
    let new = match (old.find(&begin), old.find(&end)) {
        (Some(a), Some(b)) if b > a => format!("{}{block}{}", &old[..a], old[b + end.len()..].trim_start_matches('\n')),
        _ => format!("{}\n{block}", old.trim_end()),
    };
    std::fs::write(path, new).with_context(|| format!("writing {}", path.display()))
}
