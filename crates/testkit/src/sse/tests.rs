use super::*;

#[test]
fn parses_events_split_anywhere() {
    let body = b"data: {\"a\":1}\n\n: keep-alive comment\n\ndata: [DONE]\n\n";
    for split in 0..body.len() {
        let mut c = SseCollector::new();
        c.push(&body[..split]);
        c.push(&body[split..]);
        assert_eq!(c.finish(), ["{\"a\":1}", "[DONE]"], "split at {split}");
    }
}

#[test]
fn handles_crlf_cr_multiline_and_other_fields() {
    let body = b"event: x\r\ndata:first\r\ndata:  second\r\nid: 7\r\n\r\ndata: cr\r\rdata\n\n";
    assert_eq!(sse_data(body), ["first\n second", "cr", ""]);
}

#[test]
fn a_crlf_split_between_pushes_is_one_line_end() {
    let mut c = SseCollector::new();
    c.push(b"data: a\r");
    c.push(b"\n\r");
    c.push(b"\n");
    assert_eq!(c.events(), ["a"]);
    assert_eq!(c.finish(), ["a"]);
}

#[test]
fn an_event_without_its_blank_line_is_discarded() {
    assert_eq!(sse_data(b"data: done\n\ndata: cut off"), ["done"]);
    assert_eq!(sse_data(b"data: ends on cr\r\r"), ["ends on cr"]);
}

#[test]
fn json_skips_done() {
    let mut c = SseCollector::new();
    c.push(b"data: {\"n\":1}\n\ndata: [DONE]\n\n");
    assert_eq!(c.json(), [serde_json::json!({"n": 1})]);
}

#[tokio::test]
async fn collects_a_byte_stream() {
    let chunks = [
        Ok::<_, std::io::Error>(Bytes::from_static(b"data: x\n")),
        Ok(Bytes::from_static(b"\n")),
    ];
    let data = collect_sse(futures_util::stream::iter(chunks)).await.expect("no error");
    assert_eq!(data, ["x"]);
}
