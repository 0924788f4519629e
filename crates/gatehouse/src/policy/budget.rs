//! Spend budgets per key or team and calendar period (UTC), in process.
//!
//! Admission reserves the request's estimated cost (prompt estimate at the input price + output bound at the output
//! price); a request is admitted while `spent + reserved < limit`. When the request's context finishes the
//! reservation is replaced by the real cost. So the spend can pass the limit by at most the estimate of the one
//! request admitted just below it, plus however much real costs exceed their estimates — concurrent requests cannot
//! each slip through on the same remaining budget, because each one's reservation counts against the next.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Serialize;

use super::Identity;
use crate::config::spec::governance::{BudgetPeriod, BudgetScope, BudgetSpec};
use crate::error::GatewayError;
use crate::metering::metrics::BudgetLabels;
use crate::policy::RedisBackend;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;

/// One budget with its accounts.
#[derive(Debug)]
pub struct Budget {
    /// Its definition (state is kept across reloads while it is unchanged).
    pub spec: BudgetSpec,
    accounts: Mutex<HashMap<String, Account>>,
}

#[derive(Debug, Default, Clone, Copy)]
struct Account {
    period: u64,
    spent: f64,
    reserved: f64,
    soft_reported: bool,
}

/// A request's reservations, replaced by its real cost when its context finishes.
#[derive(Debug, Default)]
pub struct Reservation {
    held: Vec<(Arc<Budget>, String, f64)>,
    /// Reservations held in Redis: (budget, account, estimate, key prefix, TTL seconds).
    shared: Vec<(Arc<Budget>, String, f64, String, u64)>,
    redis: Option<Arc<RedisBackend>>,
}

/// One account on `/status`.
#[derive(Debug, Serialize)]
pub struct AccountStatus {
    /// Budget name.
    pub budget: String,
    /// Key name or team.
    pub account: String,
    /// `day` or `month`.
    pub period: &'static str,
    /// Start of the current period (Unix seconds, UTC).
    pub period_start: u64,
    /// Spend settled this period, USD.
    pub spent_usd: f64,
    /// Estimates held by requests in flight, USD.
    pub reserved_usd: f64,
    /// The hard limit, USD.
    pub limit_usd: f64,
    /// The soft threshold, USD.
    pub soft_usd: Option<f64>,
}

fn now_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// Days since 1970-01-01 → (year, month 1..=12). Howard Hinnant's `civil_from_days`.
fn civil(days: i64) -> (i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m)
}

/// Year and month → days since 1970-01-01 of its first day (`days_from_civil`).
fn days_from_civil(y: i64, m: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The period containing `secs` as (start, end) in Unix seconds.
#[must_use]
pub fn period_bounds(period: BudgetPeriod, secs: u64) -> (u64, u64) {
    let days = i64::try_from(secs / 86_400).unwrap_or(i64::MAX / 2);
    let (start, end) = match period {
        BudgetPeriod::Day => (days, days + 1),
        BudgetPeriod::Month => {
            let (y, m) = civil(days);
            let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
            (days_from_civil(y, m), days_from_civil(ny, nm))
        }
    };
    let s = |d: i64| u64::try_from(d).unwrap_or(0) * 86_400;
    (s(start), s(end))
}

// === impl Budget ===

impl Budget {
    /// A budget with no spend yet.
    #[must_use]
    pub fn new(spec: BudgetSpec) -> Self {
        Self {
            spec,
            accounts: Mutex::new(HashMap::new()),
        }
    }

    fn account_of(&self, identity: Option<&Identity>) -> Option<String> {
        match self.spec.scope {
            BudgetScope::Key => Some(identity.map_or("anonymous", |i| i.name.as_str()).to_string()),
            BudgetScope::Team => identity.and_then(|i| i.team.clone()),
        }
    }

    /// The account's state for the current period (reset when a new period began).
    fn current<'a>(&self, map: &'a mut HashMap<String, Account>, account: &str, now: u64) -> &'a mut Account {
        let (start, _) = period_bounds(self.spec.period, now);
        let a = map.entry(account.to_string()).or_default();
        if a.period != start {
            *a = Account {
                period: start,
                reserved: a.reserved,
                ..Account::default()
            };
        }
        a
    }

    /// Records the spend last read from the shared store, for `/status`.
    fn observe(&self, account: &str, spent: f64) {
        if let Ok(mut map) = self.accounts.lock() {
            self.current(&mut map, account, now_secs()).spent = spent;
        }
    }

    /// Current accounts for `/status`.
    #[must_use]
    pub fn status(&self) -> Vec<AccountStatus> {
        let now = now_secs();
        let Ok(mut map) = self.accounts.lock() else {
            return Vec::new();
        };
        let names: Vec<String> = map.keys().cloned().collect();
        let mut out: Vec<AccountStatus> = names
            .into_iter()
            .map(|name| {
                let a = *self.current(&mut map, &name, now);
                AccountStatus {
                    budget: self.spec.name.clone(),
                    account: name,
                    period: match self.spec.period {
                        BudgetPeriod::Day => "day",
                        BudgetPeriod::Month => "month",
                    },
                    period_start: a.period,
                    spent_usd: a.spent,
                    reserved_usd: a.reserved,
                    limit_usd: self.spec.limit_usd,
                    soft_usd: self.spec.soft_usd,
                }
            })
            .collect();
        out.sort_by(|a, b| a.account.cmp(&b.account));
        out
    }
}

// === impl Reservation ===

impl Reservation {
    /// Replaces every reservation with the real cost (`None`: unpriced, counts 0); a soft threshold crossed is logged
    /// and counted in `soft`. Shared (Redis) accounts are settled by a background task.
    pub fn settle(&mut self, cost: Option<f64>, soft: &Family<BudgetLabels, Counter>) {
        let report = |budget: String, account: String| {
            tracing::warn!(%budget, %account, "budget soft threshold crossed");
            soft.get_or_create(&BudgetLabels { budget, account }).inc();
        };
        for (budget, account) in self.settle_local(cost) {
            report(budget, account);
        }
        let shared = std::mem::take(&mut self.shared);
        let (Some(redis), false) = (self.redis.clone(), shared.is_empty()) else {
            return;
        };
        let Ok(rt) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let soft = soft.clone();
        let cost = cost.unwrap_or(0.0);
        rt.spawn(async move {
            for (budget, account, estimate, prefix, ttl) in shared {
                match redis.limiter.budget_settle(&prefix, cost, estimate, ttl).await {
                    Ok(spent) => {
                        budget.observe(&account, spent);
                        if let Some(s) = budget.spec.soft_usd
                            && spent >= s
                            && spent - cost < s
                        {
                            tracing::warn!(budget = %budget.spec.name, %account, "budget soft threshold crossed");
                            soft.get_or_create(&BudgetLabels {
                                budget: budget.spec.name.clone(),
                                account,
                            })
                            .inc();
                        }
                    }
                    Err(error) => {
                        tracing::warn!(budget = %budget.spec.name, %error, "budget settlement in Redis failed");
                    }
                }
            }
        });
    }

    fn settle_local(&mut self, cost: Option<f64>) -> Vec<(String, String)> {
        let now = now_secs();
        let mut crossed = Vec::new();
        for (budget, account, estimate) in self.held.drain(..) {
            let Ok(mut map) = budget.accounts.lock() else {
                continue;
            };
            let a = budget.current(&mut map, &account, now);
            a.reserved = (a.reserved - estimate).max(0.0);
            a.spent += cost.unwrap_or(0.0);
            if let Some(soft) = budget.spec.soft_usd
                && !a.soft_reported
                && a.spent >= soft
            {
                a.soft_reported = true;
                crossed.push((budget.spec.name.clone(), account.clone()));
            }
        }
        crossed
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        // Not settled (refused by a later policy, or never metered): release the reservations.
        let shared = std::mem::take(&mut self.shared);
        if let (Some(redis), false, Ok(rt)) = (
            self.redis.clone(),
            shared.is_empty(),
            tokio::runtime::Handle::try_current(),
        ) {
            rt.spawn(async move {
                for (_, _, estimate, prefix, ttl) in shared {
                    let _ = redis.limiter.budget_settle(&prefix, 0.0, estimate, ttl).await;
                }
            });
        }
        let now = now_secs();
        for (budget, account, estimate) in self.held.drain(..) {
            if let Ok(mut map) = budget.accounts.lock() {
                let a = budget.current(&mut map, &account, now);
                a.reserved = (a.reserved - estimate).max(0.0);
            }
        }
    }
}

/// Admits the request against every budget that applies, reserving `estimate_usd` in each (in Redis when given).
pub async fn admit(
    budgets: &[Arc<Budget>],
    redis: Option<&Arc<RedisBackend>>,
    identity: Option<&Identity>,
    estimate_usd: f64,
) -> Result<Reservation, GatewayError> {
    let now = now_secs();
    let mut r = Reservation::default();
    r.redis = redis.cloned();
    for b in budgets {
        let Some(account) = b.account_of(identity) else {
            continue;
        };
        if let Some(backend) = redis {
            let (start, end) = period_bounds(b.spec.period, now);
            let prefix = format!("gatehouse:budget:{}:{account}:{start}", b.spec.name);
            let ttl = end.saturating_sub(now) + 86_400;
            match backend
                .limiter
                .budget_admit(&prefix, b.spec.limit_usd, estimate_usd, ttl)
                .await
            {
                Ok((true, spent)) => {
                    b.observe(&account, spent);
                    r.shared.push((b.clone(), account, estimate_usd, prefix, ttl));
                    continue;
                }
                Ok((false, spent)) => {
                    b.observe(&account, spent);
                    return Err(GatewayError::BudgetExceeded {
                        budget: b.spec.name.clone(),
                        retry_after: Duration::from_secs(end.saturating_sub(now).max(1)),
                    });
                }
                Err(error) => {
                    tracing::warn!(budget = %b.spec.name, %error, fail_open = backend.fail_open, "Redis budget store unavailable");
                    if backend.fail_open {
                        continue;
                    }
                    return Err(GatewayError::LimiterUnavailable {
                        limit: b.spec.name.clone(),
                    });
                }
            }
        }
        let Ok(mut map) = b.accounts.lock() else {
            continue;
        };
        let a = b.current(&mut map, &account, now);
        if a.spent + a.reserved >= b.spec.limit_usd {
            let (_, end) = period_bounds(b.spec.period, now);
            return Err(GatewayError::BudgetExceeded {
                budget: b.spec.name.clone(),
                retry_after: Duration::from_secs(end.saturating_sub(now).max(1)),
            });
        }
        a.reserved += estimate_usd;
        r.held.push((b.clone(), account, estimate_usd));
    }
    Ok(r)
}
