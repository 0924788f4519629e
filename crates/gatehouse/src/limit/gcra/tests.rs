//! Test vectors: the same sequences a shared (Redis) backend must reproduce.

use proptest::prelude::*;

use super::*;

const MS: u64 = 1_000_000;

#[test]
fn five_per_second_burst_ten() {
    let g = Gcra::new(5.0, 10).expect("gcra");
    assert_eq!(g.emission_ns, 200 * MS);
    let mut tat = None;
    let t0 = 1_000_000 * MS;
    for i in 0..10u64 {
        assert_eq!(
            g.check(&mut tat, t0),
            Decision::Allow { remaining: 9 - i },
            "request {i}"
        );
    }
    // The 11th at the same instant waits one emission interval.
    assert_eq!(
        g.check(&mut tat, t0),
        Decision::Deny {
            retry_after: Duration::from_millis(200)
        }
    );
    // Denials do not consume.
    assert_eq!(
        g.check(&mut tat, t0 + 100 * MS),
        Decision::Deny {
            retry_after: Duration::from_millis(100)
        }
    );
    assert_eq!(g.check(&mut tat, t0 + 200 * MS), Decision::Allow { remaining: 0 });
    // After 2 s idle the whole burst is back.
    let later = t0 + 200 * MS + 2_000 * MS;
    assert_eq!(g.check(&mut tat, later), Decision::Allow { remaining: 9 });
}

#[test]
fn burst_of_one_is_a_strict_interval() {
    let g = Gcra::new(2.0, 1).expect("gcra");
    let mut tat = None;
    assert_eq!(g.check(&mut tat, 0), Decision::Allow { remaining: 0 });
    assert_eq!(
        g.check(&mut tat, 499 * MS),
        Decision::Deny {
            retry_after: Duration::from_millis(1)
        }
    );
    assert_eq!(g.check(&mut tat, 500 * MS), Decision::Allow { remaining: 0 });
}

#[test]
fn invalid_settings() {
    assert!(Gcra::new(0.0, 1).is_none());
    assert!(Gcra::new(-1.0, 1).is_none());
    assert!(Gcra::new(f64::NAN, 1).is_none());
    assert!(Gcra::new(1.0, 0).is_none());
    assert!(Gcra::new(1e12, 1).is_none());
    assert!(Gcra::new(0.1, 3).is_some());
}

proptest! {
    /// Over any window, allowed requests never exceed burst + window·rate.
    #[test]
    fn never_exceeds_rate_plus_burst(rate in 1u32..50, burst in 1u32..20, gaps in proptest::collection::vec(0u64..300, 1..200)) {
        let g = Gcra::new(f64::from(rate), burst).expect("gcra");
        let mut tat = None;
        let mut now = 0u64;
        let mut allowed = 0u64;
        for gap in gaps {
            now += gap * MS;
            if matches!(g.check(&mut tat, now), Decision::Allow { .. }) {
                allowed += 1;
            }
        }
        let window_s = now as f64 / 1e9;
        let bound = f64::from(burst) + window_s * f64::from(rate) + 1.0;
        prop_assert!((allowed as f64) <= bound, "allowed {allowed} > {bound}");
    }

    /// A denied request's retry_after is exact: one nanosecond earlier is still denied, at retry_after it is allowed.
    #[test]
    fn retry_after_is_exact(rate in 1u32..20, burst in 1u32..5, n in 1usize..30) {
        let g = Gcra::new(f64::from(rate), burst).expect("gcra");
        let mut tat = None;
        let mut verdict = Decision::Allow { remaining: 0 };
        for _ in 0..n {
            verdict = g.check(&mut tat, 0);
        }
        if let Decision::Deny { retry_after } = verdict {
            let at = u64::try_from(retry_after.as_nanos()).expect("fits");
            let mut probe = tat;
            let early = matches!(g.check(&mut probe, at - 1), Decision::Deny { .. });
            let on_time = matches!(g.check(&mut tat, at), Decision::Allow { .. });
            prop_assert!(early, "one nanosecond early must be denied");
            prop_assert!(on_time, "at retry_after must be allowed");
        }
    }
}

#[test]
fn check_n_charges_the_cost_and_adjust_settles() {
    // 60 cells per minute = 1/s, bucket of 10.
    let g = Gcra::new(1.0, 10).expect("gcra");
    let mut tat = None;
    assert_eq!(g.check_n(&mut tat, 0, 6), Decision::Allow { remaining: 4 });
    assert_eq!(
        g.check_n(&mut tat, 0, 5),
        Decision::Deny {
            retry_after: Duration::from_secs(1)
        }
    );
    // The estimate was 6 but 2 were used: refund 4.
    g.adjust(&mut tat, 0, -4);
    assert_eq!(g.check_n(&mut tat, 0, 5), Decision::Allow { remaining: 3 });
    // Debt: 20 more than estimated; the next cell waits 18 s.
    g.adjust(&mut tat, 0, 20);
    assert_eq!(
        g.check_n(&mut tat, 0, 1),
        Decision::Deny {
            retry_after: Duration::from_secs(18)
        }
    );
    // A refund never leaves a credit beyond a full bucket.
    let mut t2 = None;
    g.adjust(&mut t2, 5, -100);
    assert_eq!(t2, Some(5));
    // A cost larger than the bucket passes only on a full bucket.
    let mut t3 = None;
    assert!(matches!(g.check_n(&mut t3, 0, 50), Decision::Allow { remaining: 0 }));
    assert!(matches!(g.check_n(&mut t3, 0, 50), Decision::Deny { .. }));
    assert_eq!(g.capacity(), 10);
}

proptest! {
    /// `check_n(…, 1)` is `check`.
    #[test]
    fn check_n_of_one_is_check(rate in 1u32..50, burst in 1u32..10, steps in proptest::collection::vec(0u64..300, 1..40)) {
        let g = Gcra::new(f64::from(rate), burst).expect("gcra");
        let (mut a, mut b, mut now) = (None, None, 0u64);
        for s in steps {
            now += s * 1_000_000;
            prop_assert_eq!(g.check(&mut a, now), g.check_n(&mut b, now, 1));
        }
    }
}
