//! One scraper task per replica: `GET <replica><metrics_path>` every `scrape_interval`, bounded in time and size,
//! parsed by `gatehouse-picker`. The task holds a `Weak` to its pool and ends when the pool is dropped.

use std::sync::{Arc, Weak};

use gatehouse_picker::{ParseLimits, parse_metrics};
use tokio::time::MissedTickBehavior;

use super::Pool;

/// Starts the scrapers of `pool` (one per replica) on the current runtime.
pub(super) fn spawn(pool: &Arc<Pool>) {
    let client = match reqwest::Client::builder()
        .timeout(pool.settings.scrape_timeout)
        .connect_timeout(pool.settings.scrape_timeout)
        .pool_max_idle_per_host(1)
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(pool = %pool.name, error = %e, "cannot build the metrics client; replicas stay unscraped");
            return;
        }
    };
    for i in 0..pool.urls.len() {
        let url = format!("{}{}", pool.urls[i], pool.settings.metrics_path);
        tokio::spawn(run(Arc::downgrade(pool), i, url, client.clone()));
    }
}

async fn run(pool: Weak<Pool>, i: usize, url: String, client: reqwest::Client) {
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
        pool.scraped(i, result);
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
