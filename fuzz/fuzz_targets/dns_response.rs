//! The DNS reply parser never panics, and every address it returns came from a whole record inside the message.
#![no_main]

use gatehouse_picker::dns::parse_response;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let id = u16::from_be_bytes([data[0], data[1]]);
    if let Ok(a) = parse_response(id, data) {
        // Each address needs at least a 1-byte (root) name, 10 bytes of record header and 4 bytes of data.
        assert!(a.addrs.len() * 15 <= data.len());
    }
});
