//! Any bytes as the params of `subscriptions/listen` and as a notification's params: reading the filter and tagging
//! a notification must not panic; a filter read back from its wire form is the same filter; a tagged notification is
//! JSON whose `_meta` carries the subscription id.
#![no_main]

use gatehouse_mcp::listen::{self, Filter};
use libfuzzer_sys::fuzz_target;
use serde_json::value::RawValue;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(params) = RawValue::from_string(text.to_string()) else {
        return;
    };
    if let Ok(f) = Filter::read(Some(&params)) {
        let wire = serde_json::json!({ "notifications": f.to_value() }).to_string();
        let wire = RawValue::from_string(wire).expect("JSON");
        assert_eq!(Filter::read(Some(&wire)).as_ref(), Ok(&f));
        let id = RawValue::from_string("\"s\"".into()).expect("id");
        let ack = listen::acknowledged(&f, &id).expect("ack");
        assert!(serde_json::from_str::<&RawValue>(&ack).is_ok());
    }
    let id = RawValue::from_string("7".into()).expect("id");
    if let Ok(n) = listen::tag("notifications/resources/updated", Some(&params), &id) {
        let v: std::collections::BTreeMap<String, &RawValue> = serde_json::from_str(&n).expect("an object");
        let p: std::collections::BTreeMap<String, &RawValue> =
            serde_json::from_str(v["params"].get()).expect("params object");
        let meta: std::collections::BTreeMap<String, &RawValue> =
            serde_json::from_str(p["_meta"].get()).expect("_meta object");
        assert_eq!(meta[listen::SUBSCRIPTION_ID_KEY].get(), "7");
    }
});
