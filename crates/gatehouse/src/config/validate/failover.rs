//! `failover:` → [`FailoverSettings`]: defaults filled in, ranges checked (every error collected).

use std::time::Duration;

use super::super::spec::FailoverSpec;
use super::Errors;
use crate::snapshot::FailoverSettings;

/// Most attempts a request may make: more only multiplies load during an outage.
const MAX_ATTEMPTS_LIMIT: u32 = 10;

/// Builds the failover settings, reporting every out-of-range field.
pub(super) fn build(errs: &mut Errors<'_>, spec: &FailoverSpec) -> FailoverSettings {
    let d = FailoverSettings::default();
    let dur = |v: Option<super::super::units::HumanDuration>, default: Duration| v.map_or(default, |h| h.0);
    let out = FailoverSettings {
        max_attempts: spec.max_attempts.unwrap_or(d.max_attempts),
        retry_budget_ratio: spec.retry_budget.unwrap_or(d.retry_budget_ratio),
        retry_budget_min_per_sec: spec.retry_budget_min_per_sec.unwrap_or(d.retry_budget_min_per_sec),
        backoff_base: dur(spec.backoff_base, d.backoff_base),
        backoff_max: dur(spec.backoff_max, d.backoff_max),
        retry_after_cap: dur(spec.retry_after_cap, d.retry_after_cap),
        ejection_threshold: spec.ejection_threshold.unwrap_or(d.ejection_threshold),
        ejection_base: dur(spec.ejection_base, d.ejection_base),
        ejection_max: dur(spec.ejection_max, d.ejection_max),
        first_event_wait: dur(spec.first_event_wait, d.first_event_wait),
    };
    if !(1..=MAX_ATTEMPTS_LIMIT).contains(&out.max_attempts) {
        errs.push(
            &["failover", "max_attempts"],
            format!("must be between 1 and {MAX_ATTEMPTS_LIMIT}"),
        );
    }
    if !(0.0..=1.0).contains(&out.retry_budget_ratio) {
        errs.push(&["failover", "retry_budget"], "must be a fraction between 0 and 1");
    }
    if out.ejection_threshold == 0 {
        errs.push(&["failover", "ejection_threshold"], "must be greater than zero");
    }
    if out.backoff_max < out.backoff_base {
        errs.push(&["failover", "backoff_max"], "must not be less than `backoff_base`");
    }
    if out.ejection_base.is_zero() {
        errs.push(&["failover", "ejection_base"], "must be greater than zero");
    }
    if out.ejection_max < out.ejection_base {
        errs.push(&["failover", "ejection_max"], "must not be less than `ejection_base`");
    }
    out
}
