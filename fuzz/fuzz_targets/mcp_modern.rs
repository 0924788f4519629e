//! Any bytes as a 2026-07-28 request: the first line gives the routing headers (`version|method|name`), the rest is
//! the body. The ladder, the header decoder, the task-id codec and the rewrites towards upstreams and clients must not
//! panic; an accepted request's headers mirror its body; whatever the rewrites produce is JSON again.
#![no_main]

use gatehouse_mcp::envelope::{self, Message};
use gatehouse_mcp::name::{Mode, Namespace};
use gatehouse_mcp::{modern, task};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (head, body) = match data.iter().position(|b| *b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &data[..0]),
    };
    let head = String::from_utf8_lossy(head);
    let mut parts = head.splitn(3, '|');
    let lines: Vec<(&str, &[u8])> = ["mcp-protocol-version", "mcp-method", "mcp-name"]
        .into_iter()
        .zip(parts.by_ref())
        .map(|(n, v)| (n, v.as_bytes()))
        .collect();
    let _ = modern::decode_header_value(&head);
    let Ok(headers) = modern::RoutingHeaders::collect(lines.iter().copied()) else {
        return;
    };
    let Ok(Message::Request { method, params, .. }) = envelope::parse_one(body) else {
        return;
    };
    let _ = modern::is_modern(headers.protocol, params);
    if let Ok(env) = modern::classify(method, params, &headers, &["2026-07-28", "2025-11-25"]) {
        assert_eq!(headers.method, Some(method));
        assert_eq!(headers.protocol, Some(env.protocol.as_str()));
        let init = modern::upstream_init(&env, "2025-11-25");
        if let Ok(i) = init {
            assert!(serde_json::from_str::<serde_json::Value>(i.get()).is_ok());
        }
    }
    if let Some(p) = params {
        if let Ok(s) = modern::strip_envelope(p) {
            assert!(serde_json::from_str::<serde_json::Value>(s.get()).is_ok());
        }
        if let Ok(s) = modern::stamp_result(p, true) {
            assert!(serde_json::from_str::<serde_json::Value>(s.get()).is_ok());
        }
        let ns = Namespace::new(vec!["a".into(), "b-2".into()], Mode::Prefix);
        if let Ok(Some(s)) = task::expose_in(&ns, 1, p) {
            assert!(serde_json::from_str::<serde_json::Value>(s.get()).is_ok());
        }
        if let Some((idx, id)) = task::resolve(&ns, &head) {
            assert_eq!(task::expose(&ns, idx, id).as_deref(), Some(head.as_ref()));
        }
    }
});
