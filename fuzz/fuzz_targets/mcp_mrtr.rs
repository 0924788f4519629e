//! Any bytes as the params of a multi-round-trip retry (`inputResponses`, `requestState`) and as a `requestState`
//! plaintext: splitting the retry fields, the binding and the state claims must not panic; what the split leaves is
//! JSON without the retry fields, and splitting it again changes nothing; claims that decode re-encode to claims
//! that decode the same.
#![no_main]

use gatehouse_mcp::mrtr;
use libfuzzer_sys::fuzz_target;
use serde_json::value::RawValue;

fuzz_target!(|data: &[u8]| {
    if let Ok(c) = mrtr::StateClaims::from_bytes(data) {
        let again = c.to_bytes().expect("decoded claims re-encode");
        assert_eq!(mrtr::StateClaims::from_bytes(&again).as_ref(), Ok(&c));
        let _ = c.check("p", "tools/call", "b", 0);
    }
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(params) = RawValue::from_string(text.to_string()) else {
        return;
    };
    let _ = mrtr::binding("tools/call", Some(&params));
    if let Ok((rest, fields)) = mrtr::split_retry(&params) {
        let v: std::collections::BTreeMap<String, &RawValue> = serde_json::from_str(rest.get()).expect("an object");
        assert!(!v.contains_key(mrtr::INPUT_RESPONSES_KEY) && !v.contains_key(mrtr::REQUEST_STATE_KEY));
        let (same, none) = mrtr::split_retry(&rest).expect("split again");
        assert_eq!(same.get(), rest.get());
        assert!(none.request_state.is_none() && none.input_responses.is_empty());
        let requests: Vec<(String, Box<RawValue>)> = fields.input_responses.into_iter().collect();
        if let Ok(r) = mrtr::input_required_result(&requests, fields.request_state.as_deref().unwrap_or("")) {
            assert!(serde_json::from_str::<&RawValue>(r.get()).is_ok());
        }
    }
});
