//! Any bytes: parsing and every accessor must not panic; a rewrite of a parsed body must be JSON whose model is
//! the one asked for and which reports `include_usage` when forced on a stream.
#![no_main]

use gatehouse_llm::{RequestBody, Rewrite};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(body) = RequestBody::parse(data) else {
        return;
    };
    let _ = body.model();
    let well_formed_options = body.include_usage().is_ok();
    let stream = body.stream();

    let unchanged = body.rewrite(&Rewrite::default());
    assert_eq!(unchanged, data, "no edit must mean no change");

    let model = "up\"stream/ü\n";
    let out = body.rewrite(&Rewrite {
        model: Some(model),
        force_include_usage: true,
    });
    assert!(
        serde_json::from_slice::<serde::de::IgnoredAny>(&out).is_ok(),
        "rewrite produced invalid JSON"
    );
    let again = RequestBody::parse(&out).expect("rewrite output parses");
    assert_eq!(again.model().ok().flatten().as_deref(), Some(model));
    if stream == Ok(true) && well_formed_options {
        assert_eq!(again.include_usage(), Ok(true));
    }
});
