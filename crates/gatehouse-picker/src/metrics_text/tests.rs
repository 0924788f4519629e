use super::*;

fn fixture(name: &str) -> Signals {
    let path = format!("{}/src/metrics_text/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read(&path).expect("fixture");
    parse_metrics(&text, &ParseLimits::default()).expect("parses")
}

#[test]
fn golden_current_vllm() {
    insta::assert_debug_snapshot!(fixture("vllm_current.prom"));
}

#[test]
fn golden_legacy_kv_name_is_the_fallback() {
    let s = fixture("vllm_legacy.prom");
    assert_eq!(s.kv_usage, Some(0.25));
    insta::assert_debug_snapshot!(s);
}

#[test]
fn golden_data_parallel_engines() {
    let s = fixture("vllm_data_parallel.prom");
    assert_eq!(s.running, Some(10.0));
    assert_eq!(s.waiting, Some(3.0));
    assert_eq!(s.kv_usage, Some(0.7), "current name wins over the legacy one");
    insta::assert_debug_snapshot!(s);
}

#[test]
fn golden_lora_newest_series_wins() {
    let s = fixture("vllm_lora_lingering.prom");
    let lora = s.lora.clone().expect("lora");
    assert_eq!(lora.running, ["sql-lora"]);
    assert_eq!(lora.waiting, ["tweet-lora"]);
    assert_eq!(s.model_name.as_deref(), Some("base \"q\" model"));
    insta::assert_debug_snapshot!(s);
}

#[test]
fn not_vllm_text_is_an_error() {
    let text = b"# TYPE http_requests counter\nhttp_requests_total 3\n";
    assert_eq!(parse_metrics(text, &ParseLimits::default()), Err(PickerError::NotVllm));
    assert_eq!(parse_metrics(b"", &ParseLimits::default()), Err(PickerError::NotVllm));
    assert_eq!(
        parse_metrics(b"<html>404 not found</html>", &ParseLimits::default()),
        Err(PickerError::NotVllm)
    );
}

#[test]
fn bounds_are_enforced() {
    let limits = ParseLimits {
        max_bytes: 64,
        max_line_bytes: 32,
    };
    let big = vec![b'#'; 65];
    assert_eq!(parse_metrics(&big, &limits), Err(PickerError::TooLarge { limit: 64 }));
    let long = b"vllm:num_requests_waiting{model_name=\"aaaaaaaaaaaa\"} 1\n";
    assert_eq!(
        parse_metrics(long, &limits),
        Err(PickerError::LineTooLong { line: 1, limit: 32 })
    );
}

#[test]
fn malformed_samples_of_read_families_are_errors_others_are_skipped() {
    let l = ParseLimits::default();
    for bad in [
        &b"vllm:num_requests_waiting{model_name=\"m\" 1"[..],
        b"vllm:num_requests_waiting{model_name=m} 1",
        b"vllm:num_requests_waiting{model_name=\"m\"} one",
        b"vllm:num_requests_waiting",
        b"vllm:num_requests_waiting{model_name=\"m\\",
        b"vllm:lora_requests_info{max_lora=\"x\"} 1",
    ] {
        let e = parse_metrics(bad, &l).expect_err("malformed");
        assert_eq!(e.code(), "metrics_malformed", "{}", String::from_utf8_lossy(bad));
    }
    // Garbage in a family the picker does not read is ignored.
    let ok = b"other{{{ garbage\nvllm:num_requests_waiting 2\n";
    assert_eq!(parse_metrics(ok, &l).expect("ok").waiting, Some(2.0));
}

#[test]
fn non_finite_and_negative_values_carry_no_load() {
    let t = b"vllm:num_requests_waiting NaN\nvllm:num_requests_running -3\nvllm:kv_cache_usage_perc +Inf\n";
    let s = parse_metrics(t, &ParseLimits::default()).expect("ok");
    assert_eq!((s.waiting, s.running, s.kv_usage), (Some(0.0), Some(0.0), Some(0.0)));
}

#[test]
fn crlf_line_endings_and_spaces_are_tolerated() {
    let t = b"vllm:num_requests_waiting{ model_name = \"m\" , } 4\r\nvllm:num_requests_running\t2\r\n";
    let s = parse_metrics(t, &ParseLimits::default()).expect("ok");
    assert_eq!((s.waiting, s.running), (Some(4.0), Some(2.0)));
    assert_eq!(s.model_name.as_deref(), Some("m"));
}
