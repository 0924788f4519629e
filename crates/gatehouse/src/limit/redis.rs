//! The shared limiter backend: the GCRA of `gcra.rs` run in one Lua script inside Redis, on Redis's clock, so every
//! gatehouse replica talking to the same Redis shares one bucket per key.
//!
//! Lua numbers are doubles, so times are nanoseconds since 2020-09-13 (Unix 1 600 000 000): today that is ~2·10^17,
//! exact to 32 ns — finer than any rate the config accepts. Values are stored and returned as integer strings
//! (`%.0f`), never through Lua's `tostring` (which would print `1e+17`). A test can pass `now` explicitly (the same
//! vectors as the pure implementation); the gateway never does. The connection is the `redis` crate's
//! `ConnectionManager` (reconnects on its own), created on first use so a Redis that is down at startup is handled
//! like one that fails later.

use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use super::gcra::{Decision, Gcra};

/// The GCRA decision as a Lua script. KEYS[1]: the bucket. ARGV: emission_ns, tolerance_ns, cost, [now_ns].
const SCRIPT: &str = r"
local emission = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local n = tonumber(ARGV[3])
local now
if ARGV[4] and ARGV[4] ~= '' then
  now = tonumber(ARGV[4])
else
  local t = redis.call('TIME')
  now = (tonumber(t[1]) - 1600000000) * 1000000000 + tonumber(t[2]) * 1000
end
local stored = redis.call('GET', KEYS[1])
local tat = now
if stored then tat = math.max(tonumber(stored), now) end
local ahead = tat - now
local capacity = tolerance + emission
local cost = emission * n
local need = math.min(cost, capacity)
if ahead + need > capacity then
  return {0, string.format('%.0f', ahead + need - capacity)}
end
local new_tat = tat + cost
local ttl_ms = math.ceil((new_tat - now) / 1000000) + 1000
redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX', string.format('%.0f', ttl_ms))
local left = capacity - (new_tat - now)
if left < 0 then left = 0 end
return {1, string.format('%.0f', math.floor(left / emission))}
";

/// A Redis-backed GCRA store.
pub struct RedisLimiter {
    client: redis::Client,
    conn: tokio::sync::OnceCell<ConnectionManager>,
    script: redis::Script,
    timeout: Duration,
}

impl std::fmt::Debug for RedisLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisLimiter").finish_non_exhaustive()
    }
}

// === impl RedisLimiter ===

impl RedisLimiter {
    /// A limiter for `url` (`redis://host:port/db`); nothing is connected until the first check.
    pub fn new(url: &str, timeout: Duration) -> Result<Self, String> {
        let client = redis::Client::open(url).map_err(|e| format!("invalid Redis URL: {e}"))?;
        Ok(Self {
            client,
            conn: tokio::sync::OnceCell::new(),
            script: redis::Script::new(SCRIPT),
            timeout,
        })
    }

    async fn conn(&self) -> Result<ConnectionManager, String> {
        let cfg = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(self.timeout))
            .set_response_timeout(Some(self.timeout))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(500));
        self.conn
            .get_or_try_init(|| async {
                tokio::time::timeout(
                    self.timeout,
                    ConnectionManager::new_with_config(self.client.clone(), cfg),
                )
                .await
                .map_err(|_| "connect timed out".to_string())?
                .map_err(|e| e.to_string())
            })
            .await
            .cloned()
    }

    /// Decides a request costing `n` cells for `key` on Redis's clock (or `now_ns`, for tests).
    pub async fn check_n(&self, key: &str, gcra: Gcra, n: u64, now_ns: Option<u64>) -> Result<Decision, String> {
        let span = crate::trace::redis_span("rate_limit");
        crate::trace::record_result(&span, self.check_n_untraced(key, gcra, n, now_ns).await, "redis_error")
    }

    async fn check_n_untraced(&self, key: &str, gcra: Gcra, n: u64, now_ns: Option<u64>) -> Result<Decision, String> {
        let mut conn = self.conn().await?;
        let mut inv = self.script.key(key);
        inv.arg(gcra.emission_ns)
            .arg(gcra.tolerance_ns)
            .arg(n)
            .arg(now_ns.map(|t| t.to_string()).unwrap_or_default());
        let reply: (i64, String) = tokio::time::timeout(self.timeout, inv.invoke_async(&mut conn))
            .await
            .map_err(|_| "Redis timed out".to_string())?
            .map_err(|e| e.to_string())?;
        let v: u64 = reply
            .1
            .parse()
            .map_err(|_| format!("unexpected script reply {reply:?}"))?;
        Ok(if reply.0 == 1 {
            Decision::Allow { remaining: v }
        } else {
            Decision::Deny {
                retry_after: Duration::from_nanos(v),
            }
        })
    }
}

/// Budget admission. KEYS: spent, reserved. ARGV: limit, estimate, ttl seconds. Returns {admitted, spent}.
const BUDGET_ADMIT: &str = r"
local spent = tonumber(redis.call('GET', KEYS[1]) or '0')
local reserved = tonumber(redis.call('GET', KEYS[2]) or '0')
if spent + reserved >= tonumber(ARGV[1]) then
  return {0, tostring(spent)}
end
redis.call('INCRBYFLOAT', KEYS[2], ARGV[2])
redis.call('EXPIRE', KEYS[2], ARGV[3])
return {1, tostring(spent)}
";

/// Budget settlement. KEYS: spent, reserved. ARGV: cost, estimate, ttl seconds. Returns the new spend.
const BUDGET_SETTLE: &str = r"
local spent = redis.call('INCRBYFLOAT', KEYS[1], ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[3])
local reserved = tonumber(redis.call('INCRBYFLOAT', KEYS[2], '-' .. ARGV[2]))
if reserved < 0 then redis.call('SET', KEYS[2], '0', 'EX', ARGV[3]) end
return tostring(spent)
";

impl RedisLimiter {
    async fn run(&self, script: &str, keys: [&str; 2], args: [String; 3]) -> Result<redis::Value, String> {
        let span = crate::trace::redis_span("budget");
        crate::trace::record_result(&span, self.run_untraced(script, keys, args).await, "redis_error")
    }

    async fn run_untraced(&self, script: &str, keys: [&str; 2], args: [String; 3]) -> Result<redis::Value, String> {
        let mut conn = self.conn().await?;
        let script = redis::Script::new(script);
        let mut inv = script.key(keys[0]);
        inv.key(keys[1]);
        for a in args {
            inv.arg(a);
        }
        tokio::time::timeout(self.timeout, inv.invoke_async(&mut conn))
            .await
            .map_err(|_| "Redis timed out".to_string())?
            .map_err(|e| e.to_string())
    }

    /// Reserves `estimate` in the budget account `prefix` unless `spent + reserved ≥ limit`; `(admitted, spent)`.
    pub async fn budget_admit(
        &self,
        prefix: &str,
        limit: f64,
        estimate: f64,
        ttl_secs: u64,
    ) -> Result<(bool, f64), String> {
        let v = self
            .run(
                BUDGET_ADMIT,
                [&format!("{prefix}:spent"), &format!("{prefix}:reserved")],
                [limit.to_string(), estimate.to_string(), ttl_secs.to_string()],
            )
            .await?;
        let (ok, spent): (i64, String) = redis::FromRedisValue::from_redis_value(v).map_err(|e| e.to_string())?;
        Ok((ok == 1, spent.parse().unwrap_or(0.0)))
    }

    /// Replaces a reservation of `estimate` with `cost`; the new spend.
    pub async fn budget_settle(&self, prefix: &str, cost: f64, estimate: f64, ttl_secs: u64) -> Result<f64, String> {
        let v = self
            .run(
                BUDGET_SETTLE,
                [&format!("{prefix}:spent"), &format!("{prefix}:reserved")],
                [cost.to_string(), estimate.to_string(), ttl_secs.to_string()],
            )
            .await?;
        let spent: String = redis::FromRedisValue::from_redis_value(v).map_err(|e| e.to_string())?;
        Ok(spent.parse().unwrap_or(0.0))
    }
}

/// Settles a cost after the fact (see `Gcra::adjust`). KEYS[1]: the bucket. ARGV: emission_ns, delta cells (signed).
const ADJUST: &str = r"
local emission = tonumber(ARGV[1])
local delta = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = (tonumber(t[1]) - 1600000000) * 1000000000 + tonumber(t[2]) * 1000
local stored = redis.call('GET', KEYS[1])
local tat = now
if stored then tat = math.max(tonumber(stored), now) end
if delta >= 0 then tat = tat + emission * delta else tat = math.max(tat + emission * delta, now) end
local ttl_ms = math.ceil((tat - now) / 1000000) + 1000
redis.call('SET', KEYS[1], string.format('%.0f', tat), 'PX', string.format('%.0f', ttl_ms))
return 1
";

impl RedisLimiter {
    /// Charges (`delta > 0`, debt allowed) or refunds `delta` cells of `key` on Redis's clock.
    pub async fn adjust(&self, key: &str, gcra: Gcra, delta: i64) -> Result<(), String> {
        let mut conn = self.conn().await?;
        let script = redis::Script::new(ADJUST);
        let mut inv = script.key(key);
        inv.arg(gcra.emission_ns).arg(delta);
        let _: i64 = tokio::time::timeout(self.timeout, inv.invoke_async(&mut conn))
            .await
            .map_err(|_| "Redis timed out".to_string())?
            .map_err(|e| e.to_string())?;
        Ok(())
    }
}

/// Concurrency lease. KEYS[1]: a sorted set of leases scored by expiry (ms). ARGV: max, lease id, lease ms.
/// Expired leases (a replica that died mid-request) are dropped first. Returns 1 when the lease was taken.
const LEASE: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[2])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]))
return 1
";

impl RedisLimiter {
    /// Takes one of `max` concurrency slots of `key` for at most `lease` (a crashed holder's slot frees then).
    pub async fn acquire(&self, key: &str, max: u32, id: &str, lease: Duration) -> Result<bool, String> {
        let mut conn = self.conn().await?;
        let script = redis::Script::new(LEASE);
        let mut inv = script.key(key);
        inv.arg(max)
            .arg(id)
            .arg(u64::try_from(lease.as_millis()).unwrap_or(u64::MAX));
        let got: i64 = tokio::time::timeout(self.timeout, inv.invoke_async(&mut conn))
            .await
            .map_err(|_| "Redis timed out".to_string())?
            .map_err(|e| e.to_string())?;
        Ok(got == 1)
    }

    /// Gives a slot back.
    pub async fn release(&self, key: &str, id: &str) -> Result<(), String> {
        let mut conn = self.conn().await?;
        let _: i64 = tokio::time::timeout(self.timeout, redis::cmd("ZREM").arg(key).arg(id).query_async(&mut conn))
            .await
            .map_err(|_| "Redis timed out".to_string())?
            .map_err(|e| e.to_string())?;
        Ok(())
    }
}

impl RedisLimiter {
    /// The bytes stored under `key`, if any (the Responses API store shares this connection: docs/responses.md).
    pub async fn get_bytes(&self, key: &str) -> Result<Option<Vec<u8>>, String> {
        let mut conn = self.conn().await?;
        tokio::time::timeout(self.timeout, redis::cmd("GET").arg(key).query_async(&mut conn))
            .await
            .map_err(|_| "Redis timed out".to_string())?
            .map_err(|e| e.to_string())
    }

    /// Stores `value` under `key`, expiring after `ttl`.
    pub async fn set_bytes(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), String> {
        let mut conn = self.conn().await?;
        let ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
        let _: () = tokio::time::timeout(
            self.timeout,
            redis::cmd("SET")
                .arg(key)
                .arg(value)
                .arg("PX")
                .arg(ms)
                .query_async(&mut conn),
        )
        .await
        .map_err(|_| "Redis timed out".to_string())?
        .map_err(|e| e.to_string())?;
        Ok(())
    }
}
