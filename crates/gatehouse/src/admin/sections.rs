//! The parts of `/status` beyond models and pools — overview (version, config generation, last reload), limits and
//! budgets, MCP upstreams, trace export — each as a JSON type plus one small HTML renderer, so sections can be added
//! without touching each other. The page is one self-contained HTML document: inline CSS, no script, no external
//! asset.

use std::fmt::Write;

use serde::Serialize;

use crate::snapshot::Snapshot;
use crate::state::{AppState, ReloadReport};

/// Inline style for the whole page.
pub const CSS: &str = "body{font-family:system-ui,-apple-system,sans-serif;margin:1.5em 2em;color:#1d2430;\
background:#fafbfc}h1{margin:0 0 .2em}h2{margin:1.6em 0 .3em;font-size:1.15em;border-bottom:1px solid #d8dee4;\
padding-bottom:.2em}p.note{color:#57606a;margin:.2em 0 .6em;font-size:.9em}table{border-collapse:collapse;\
background:#fff;margin:.3em 0}td,th{border:1px solid #d0d7de;padding:4px 10px;text-align:left;vertical-align:top}\
th{background:#f0f3f6;font-weight:600}.enabled,.ok,.healthy{color:#116329}.disabled,.error,.unhealthy,.ejected\
{color:#a40e26}.cooling{color:#9a6700}.pill{display:inline-block;padding:1px 8px;border-radius:10px;\
background:#eef1f4;margin-right:.4em}code{background:#eef1f4;padding:0 3px;border-radius:3px}td.num{text-align:right}";

/// Version, config generation and readiness.
#[derive(Serialize)]
pub struct Overview {
    /// The running version.
    pub version: &'static str,
    /// Config generation: 0 at start, +1 for every reload attempt (applied or rejected).
    pub config_generation: u64,
}

/// One configured limit and what it holds now.
#[derive(Serialize)]
pub struct LimitStatus {
    /// Its name.
    pub name: String,
    /// What it counts separately (`key`, `team`, `model`, ...).
    pub scope: String,
    /// The configured rates and caps, as written.
    pub rule: String,
    /// Callers it tracks on this replica (in-process state; with Redis the shared state lives there).
    pub tracked_keys: usize,
}

/// The limits section.
#[derive(Serialize)]
pub struct LimitsStatus {
    /// `in-process`, or `redis (fail open|fail closed)`.
    pub backend: String,
    /// Every limit in evaluation order.
    pub limits: Vec<LimitStatus>,
}

/// One MCP upstream.
#[derive(Serialize)]
pub struct McpUpstreamStatus {
    /// Its name (the tool prefix).
    pub name: String,
    /// `http`, `sse` or `stdio`.
    pub transport: &'static str,
    /// URL or program.
    pub target: String,
    /// Sessions whose state lives on this replica (stdio children, re-created HTTP sessions).
    pub local_sessions: usize,
}

/// Trace export, without credentials.
#[derive(Serialize)]
pub struct TracesStatus {
    /// Whether spans are exported.
    pub exporting: bool,
    /// The OTLP/HTTP URL (scheme, host, path).
    pub endpoint: Option<String>,
    /// Whether prompt/completion content is recorded.
    pub record_content: bool,
}

// === builders ===

/// The overview.
#[must_use]
pub fn overview(state: &AppState) -> Overview {
    Overview {
        version: env!("CARGO_PKG_VERSION"),
        config_generation: *state.generation.borrow(),
    }
}

/// The limits.
#[must_use]
pub fn limits(snap: &Snapshot) -> LimitsStatus {
    let backend = match &snap.policy.redis {
        None => "in-process".to_string(),
        Some(r) if r.fail_open => "redis (fail open)".to_string(),
        Some(_) => "redis (fail closed)".to_string(),
    };
    let limits = snap
        .policy
        .limits
        .iter()
        .map(|l| {
            let s = &l.spec;
            let mut rule = Vec::new();
            if let Some(r) = s.requests_per_second {
                rule.push(format!("{r} req/s"));
            }
            if let Some(r) = s.requests_per_minute {
                rule.push(format!("{r} req/min"));
            }
            if let Some(b) = s.burst {
                rule.push(format!("burst {b}"));
            }
            if let Some(t) = s.tokens_per_minute {
                rule.push(format!("{t} tokens/min"));
            }
            if let Some(c) = s.concurrent {
                rule.push(format!("{c} concurrent"));
            }
            LimitStatus {
                name: s.name.clone(),
                scope: serde_json::to_value(s.scope)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default(),
                rule: rule.join(", "),
                tracked_keys: l.tracked_keys(),
            }
        })
        .collect();
    LimitsStatus { backend, limits }
}

/// The MCP upstreams, `None` when `/mcp` is not configured.
#[must_use]
pub fn mcp(snap: &Snapshot) -> Option<Vec<McpUpstreamStatus>> {
    use crate::mcp::Transport;
    let m = snap.mcp.as_ref()?;
    let sessions = m.local_sessions();
    Some(
        m.upstreams
            .iter()
            .map(|u| {
                let (transport, target) = match &u.transport {
                    Transport::Http { url, .. } => ("http", without_query(url)),
                    Transport::LegacySse { url, .. } => ("sse", without_query(url)),
                    Transport::Stdio { program, .. } => ("stdio", program.clone()),
                };
                McpUpstreamStatus {
                    name: u.name.clone(),
                    transport,
                    target,
                    local_sessions: sessions.iter().find(|(n, _)| *n == u.name).map_or(0, |(_, c)| *c),
                }
            })
            .collect(),
    )
}

/// Trace export as it runs (configured at start; a reload does not change it).
#[must_use]
pub fn traces(traces: &crate::trace::Traces) -> TracesStatus {
    let running = traces.exporting_to();
    TracesStatus {
        exporting: running.is_some(),
        endpoint: running.map(|(e, _)| without_query(e)),
        record_content: running.is_some_and(|(_, c)| c),
    }
}

/// A URL without user info or query (either could hold a credential).
fn without_query(u: &http::Uri) -> String {
    let host = u.host().unwrap_or_default();
    let port = u.port_u16().map(|p| format!(":{p}")).unwrap_or_default();
    format!("{}://{host}{port}{}", u.scheme_str().unwrap_or("http"), u.path())
}

// === HTML ===

/// Escapes text for HTML.
#[must_use]
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The header: version, readiness, config file, generation, last reload (with its errors).
pub fn render_overview(
    h: &mut String,
    o: &Overview,
    config_file: &str,
    ready: bool,
    draining: bool,
    reload: Option<&ReloadReport>,
) {
    let state = match (ready, draining) {
        (_, true) => "<span class=error>draining</span>",
        (true, false) => "<span class=ok>ready</span>",
        (false, false) => "<span class=cooling>starting</span>",
    };
    let _ = write!(
        h,
        "<h1>gatehouse</h1><p><span class=pill>version {}</span><span class=pill>{state}</span>\
         <span class=pill>config generation {}</span> <code>{}</code></p>",
        esc(o.version),
        o.config_generation,
        esc(config_file)
    );
    match reload {
        None => h.push_str("<p class=note>No reload since start: the config in force is the one loaded at start.</p>"),
        Some(r) => {
            let class = if r.result == "success" { "ok" } else { "error" };
            let _ = write!(
                h,
                "<p>Last reload: <span class={class}>{}</span> at {} UTC{}</p>",
                esc(r.result),
                utc(r.at),
                if r.result == "success" {
                    ""
                } else {
                    " — the previous config stays in force"
                }
            );
            for e in &r.errors {
                let _ = write!(h, "<pre class=error>{}</pre>", esc(e));
            }
        }
    }
}

/// The limits table.
pub fn render_limits(h: &mut String, l: &LimitsStatus) {
    if l.limits.is_empty() {
        return;
    }
    let _ = write!(
        h,
        "<h2>Limits</h2><p class=note>Evaluated in this order; counters kept {}. \"Callers tracked\" counts the \
         keys this replica holds state for.</p><table><tr><th>limit</th><th>per</th><th>rule</th>\
         <th>callers tracked</th></tr>",
        if l.backend == "in-process" {
            "in this process (per replica)".to_string()
        } else {
            format!(
                "in Redis, shared by all replicas ({})",
                esc(l.backend.trim_start_matches("redis (").trim_end_matches(')'))
            )
        }
    );
    for x in &l.limits {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td class=num>{}</td></tr>",
            esc(&x.name),
            esc(&x.scope),
            esc(&x.rule),
            x.tracked_keys
        );
    }
    h.push_str("</table>");
}

/// The budgets table: spend per account this period.
pub fn render_budgets(h: &mut String, budgets: &[crate::policy::budget::AccountStatus]) {
    if budgets.is_empty() {
        return;
    }
    h.push_str(
        "<h2>Budgets</h2><p class=note>Spend this period per account; \"reserved\" is held by requests in flight.</p>\
         <table><tr><th>budget</th><th>account</th><th>period</th><th>spent (USD)</th><th>reserved (USD)</th>\
         <th>limit (USD)</th><th>used</th></tr>",
    );
    for b in budgets {
        let used = if b.limit_usd > 0.0 {
            (b.spent_usd + b.reserved_usd) / b.limit_usd * 100.0
        } else {
            0.0
        };
        let class = if used >= 100.0 { "error" } else { "ok" };
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{} from {} UTC</td><td class=num>{}</td><td class=num>{}</td>\
             <td class=num>{}</td><td class=\"num {class}\">{used:.0}%</td></tr>",
            esc(&b.budget),
            esc(&b.account),
            b.period,
            utc(b.period_start),
            usd(b.spent_usd),
            usd(b.reserved_usd),
            usd(b.limit_usd)
        );
    }
    h.push_str("</table>");
}

/// The MCP upstreams table.
pub fn render_mcp(h: &mut String, upstreams: Option<&[McpUpstreamStatus]>) {
    let Some(ups) = upstreams else {
        return;
    };
    h.push_str(
        "<h2>MCP upstreams</h2><p class=note>Tools are exposed as <code>upstream_tool</code>. Client sessions live in \
         their signed token and work on every replica; \"sessions here\" counts those whose upstream state this \
         replica holds.</p><table><tr><th>upstream</th><th>transport</th><th>target</th><th>sessions here</th></tr>",
    );
    for u in ups {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td><code>{}</code></td><td class=num>{}</td></tr>",
            esc(&u.name),
            u.transport,
            esc(&u.target),
            u.local_sessions
        );
    }
    h.push_str("</table>");
}

/// The trace export line.
pub fn render_traces(h: &mut String, t: &TracesStatus) {
    h.push_str("<h2>Telemetry</h2><p>");
    match (&t.endpoint, t.exporting) {
        (Some(e), true) => {
            let _ = write!(
                h,
                "Traces exported over OTLP/HTTP to <code>{}</code>; prompt and completion content {}.",
                esc(e),
                if t.record_content { "<b>recorded</b>" } else { "not recorded" }
            );
        }
        _ => h.push_str("Trace export is off (no <code>telemetry.traces.endpoint</code> or <code>OTEL_EXPORTER_OTLP_ENDPOINT</code>)."),
    }
    h.push_str(" Metrics: <a href=\"/metrics\">/metrics</a> · this page as JSON: <a href=\"/status?format=json\">/status?format=json</a></p>");
}

/// Dollars with cents, or with six decimals for amounts under a cent (a request often costs less than one).
#[must_use]
pub fn usd(x: f64) -> String {
    if x == 0.0 || x >= 0.01 {
        format!("{x:.2}")
    } else {
        format!("{x:.6}")
    }
}

/// `YYYY-MM-DD HH:MM:SS` for a Unix time (UTC), without a date library.
#[must_use]
pub fn utc(secs: u64) -> String {
    let days = secs / 86_400;
    let rem = secs % 86_400;
    // Civil-from-days (Howard Hinnant's algorithm).
    #[allow(clippy::cast_possible_wrap)]
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn utc_formats_known_instants() {
        assert_eq!(super::utc(0), "1970-01-01 00:00:00");
        assert_eq!(super::utc(1_700_000_000), "2023-11-14 22:13:20");
        assert_eq!(super::utc(951_782_400), "2000-02-29 00:00:00");
    }
}
