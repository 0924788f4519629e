//! Any bytes: the MCP JSON-RPC envelope parser, param reader, and the codecs a client can feed (cursor, ids,
//! session claims, names) must not panic; whatever parses must re-serialize into something that parses again.
#![no_main]

use gatehouse_mcp::envelope::{self, Message, Params, Parsed};
use gatehouse_mcp::name::{Mode, Namespace};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let messages = match envelope::parse(data) {
        Ok(Parsed::Single(m)) => vec![m],
        Ok(Parsed::Batch(v)) => v,
        Err(_) => Vec::new(),
    };
    for m in messages {
        let rebuilt = match m {
            Message::Request { id, method, params } => envelope::request(id, method, params),
            Message::Notification { method, params } => envelope::notification(method, params),
            Message::Response { id, outcome: Ok(r) } => match id {
                Some(id) => envelope::result(id, r),
                None => continue,
            },
            Message::Response { id, outcome: Err(e) } => envelope::error(id, -1, "x", Some(e)),
        };
        assert!(envelope::parse_one(rebuilt.as_bytes()).is_ok(), "rebuilt message must parse: {rebuilt}");
        if let Ok(p) = Params::read(m.params()) {
            let _ = p.progress_token();
            let ns = Namespace::new(vec!["a".into(), "b-2".into()], Mode::Prefix);
            if let Some(name) = p.name.as_deref() {
                let _ = ns.resolve(name);
            }
            if let Some(uri) = p.uri.as_deref() {
                let _ = gatehouse_mcp::uri::resolve(&ns, uri);
            }
            if let Some(c) = p.cursor.as_deref() {
                let _ = gatehouse_mcp::cursor::Cursor::decode(c);
            }
        }
        if let Some(params) = m.params() {
            let _ = envelope::replace_param(params, "name", "x");
        }
        if let Some(id) = m.id() {
            let _ = gatehouse_mcp::idmap::decode(id);
        }
    }
    let _ = gatehouse_mcp::session::SessionClaims::from_bytes(data);
});
