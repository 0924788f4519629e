use gatehouse_llm::Usage;

use super::*;

fn usage(input: u64, cached: u64, written: u64, output: u64) -> Usage {
    Usage {
        input_tokens: input,
        output_tokens: output,
        cached_input_tokens: cached,
        cache_write_input_tokens: written,
        total_tokens: input + output,
    }
}

#[test]
fn cost_prices_cached_and_cache_write_tokens_separately() {
    // Claude Sonnet-like prices: $3 in, $15 out, $0.30 cache read, $3.75 cache write per million.
    let p = Price {
        input: 3.0,
        output: 15.0,
        cache_read: 0.3,
        cache_write: 3.75,
    };
    // 10 000 input of which 6 000 read from cache and 2 000 written: 2 000 plain.
    let c = p.cost(&usage(10_000, 6_000, 2_000, 1_000));
    let expected = (2_000.0 * 3.0 + 6_000.0 * 0.3 + 2_000.0 * 3.75 + 1_000.0 * 15.0) / 1e6;
    assert!((c - expected).abs() < 1e-12, "{c} vs {expected}");
    assert!((c - 0.0303).abs() < 1e-12);
    // No caching: plain input and output.
    assert!((p.cost(&usage(1_000_000, 0, 0, 0)) - 3.0).abs() < 1e-12);
    // Inconsistent usage (cached > input) never goes negative.
    assert!(p.cost(&usage(10, 20, 0, 0)) >= 0.0);
}

#[test]
fn price_lookup_prefers_the_upstream_model() {
    let one = Price {
        input: 1.0,
        output: 1.0,
        cache_read: 1.0,
        cache_write: 1.0,
    };
    let two = Price { input: 2.0, ..one };
    let pricing = Pricing {
        prices: [("gpt-4o".to_string(), one), ("fast".to_string(), two)].into(),
        cost_header: false,
    };
    assert_eq!(pricing.price(Some("gpt-4o"), Some("fast")), Some(&one));
    assert_eq!(pricing.price(Some("other"), Some("fast")), Some(&two));
    assert_eq!(pricing.price(Some("other"), Some("none")), None);
}
