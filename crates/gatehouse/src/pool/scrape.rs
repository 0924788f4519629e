//! One scraper task per replica: `GET <metrics_url>` (the replica's URL + `metrics_path` unless it names its own)
//! every `scrape_interval`, bounded in time and size, parsed by `gatehouse-picker`. The task holds a `Weak` to its
//! pool and ends when the pool is dropped or the replica leaves it (it is also aborted at once then).

use std::sync::{Arc, Weak};

use gatehouse_picker::{ParseLimits, parse_metrics};
use tokio::time::MissedTickBehavior;

use super::Pool;

/// The pool's metrics client: bounded by the scrape timeout, one idle connection per replica.
pub(super) fn client(settings: &super::PoolSettings) -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .timeout(settings.scrape_timeout)
        .connect_timeout(settings.scrape_timeout)
        .pool_max_idle_per_host(1)
        .build()
}

/// Starts the scraper of member `id` on the current runtime (none when the pool has no metrics client).
pub(super) fn spawn(pool: &Arc<Pool>, id: u64, metrics_url: &str) -> Option<tokio::task::AbortHandle> {
    let client = pool.client.get()?.clone();
    let task = tokio::spawn(run(Arc::downgrade(pool), id, metrics_url.to_string(), client));
    Some(task.abort_handle())
}

async fn run(pool: Weak<Pool>, id: u64, url: String, client: reqwest::Client) {
    let Some(period) = pool.upgrade().map(|p| p.settings.scrape_interval) else {
        return;
    };
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let limits = ParseLimits::default();
    loop {
        tick.tick().await;
        let result = scrape(&client, &url, &limits).await;
        let Some(pool) = pool.upgrade() else {
            return;
        };
        if !pool.scraped(id, result) {
            return;
        }
    }
}

/// One scrape; the error is a short reason for `/status` and the log.
async fn scrape(
    client: &reqwest::Client,
    url: &str,
    limits: &ParseLimits,
) -> Result<gatehouse_picker::Signals, String> {
    let mut resp = client.get(url).send().await.map_err(|e| describe(&e))?;
    if !resp.status().is_success() {
        return Err(format!("HTTP {}", resp.status().as_u16()));
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| describe(&e))? {
        if body.len() + chunk.len() > limits.max_bytes {
            return Err(format!("metrics body exceeds {} bytes", limits.max_bytes));
        }
        body.extend_from_slice(&chunk);
    }
    parse_metrics(&body, limits).map_err(|e| e.to_string())
}

fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out".into()
    } else if e.is_connect() {
        "connection refused or unreachable".into()
    } else {
        "request failed".into()
    }
}
