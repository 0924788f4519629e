//! `responses:` → [`ResponseStoreSettings`]: defaults filled in, ranges checked.

use super::super::spec::responses::{ResponsesSpec, StoreBackendSpec};
use super::Errors;
use crate::response_store::ResponseStoreSettings;

/// Largest `max_bytes` accepted: the store lives in the gateway's memory.
const MAX_STORE_BYTES: u64 = 4 << 30;

/// Builds the store settings, reporting every out-of-range field.
pub(super) fn build(errs: &mut Errors<'_>, spec: Option<&ResponsesSpec>, has_redis: bool) -> ResponseStoreSettings {
    let d = ResponseStoreSettings::default();
    let Some(spec) = spec else { return d };
    let s = &spec.store;
    let max_bytes = s.max_bytes.map_or(d.max_bytes as u64, |b| b.0);
    if max_bytes > MAX_STORE_BYTES {
        errs.push(&["responses", "store", "max_bytes"], "must be at most 4GiB");
    }
    let ttl = s.ttl.map_or(d.ttl, |t| t.0);
    if ttl.is_zero() {
        errs.push(&["responses", "store", "ttl"], "must be greater than zero");
    }
    let redis = s.backend == Some(StoreBackendSpec::Redis);
    if redis && !has_redis {
        errs.push(
            &["responses", "store", "backend"],
            "`redis` needs the top-level `redis:` section (its connection is shared)",
        );
    }
    ResponseStoreSettings {
        redis,
        max_entries: s.max_entries.unwrap_or(d.max_entries),
        max_bytes: usize::try_from(max_bytes.min(MAX_STORE_BYTES)).unwrap_or(usize::MAX),
        ttl,
    }
}
