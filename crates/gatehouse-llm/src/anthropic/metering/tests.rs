use super::*;
use crate::{SseDecoder, SseLimits};

#[test]
fn message_usage_counts_cache_classes() {
    let body = br#"{"id":"msg_1","type":"message","usage":{"input_tokens":5,"cache_read_input_tokens":100,"cache_creation_input_tokens":20,"output_tokens":9}}"#;
    let u = usage_from_message(body).expect("usage");
    assert_eq!(u.input_tokens, 125);
    assert_eq!(u.cached_input_tokens, 100);
    assert_eq!(u.cache_write_input_tokens, 20);
    assert_eq!(u.output_tokens, 9);
    assert_eq!(u.total_tokens, 134);
    assert_eq!(usage_from_message(b"not json"), None);
    assert_eq!(usage_from_message(br#"{"type":"message"}"#), None);
}

#[test]
fn stream_usage_is_merged_never_summed() {
    let stream = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"usage\":{\"input_tokens\":10,\"cache_read_input_tokens\":4,\"output_tokens\":1}}}\n\n\
        event: ping\ndata: {\"type\":\"ping\"}\n\n\
        event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"usage\"}}\n\n\
        event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":15}}\n\n\
        event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{},\"usage\":{\"output_tokens\":16}}\n\n";
    let mut dec = SseDecoder::new(SseLimits::default());
    dec.push(stream.as_bytes()).expect("within limits");
    let mut obs = MessageStreamUsage::new();
    assert_eq!(obs.usage(), None);
    while let Some(ev) = dec.next_event() {
        obs.observe(&ev);
    }
    let u = obs.usage().expect("usage");
    assert_eq!(u.input_tokens, 14, "input kept from message_start, cache read included");
    assert_eq!(u.output_tokens, 16, "the last cumulative value, not 1 + 15 + 16");
    assert_eq!(u.cached_input_tokens, 4);
}
