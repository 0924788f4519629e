use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use proptest::prelude::*;

use super::*;

/// A reply built by hand from RFC 1035's layout: header, the question echoed, answers with compressed names.
fn reply(id: u16, flags: u16, question: &[u8], answers: &[(u16, &[u8])]) -> Vec<u8> {
    let mut m = Vec::new();
    m.extend_from_slice(&id.to_be_bytes());
    m.extend_from_slice(&flags.to_be_bytes());
    m.extend_from_slice(&1u16.to_be_bytes());
    m.extend_from_slice(&u16::try_from(answers.len()).expect("few").to_be_bytes());
    m.extend_from_slice(&[0, 0, 0, 0]);
    m.extend_from_slice(question);
    for (rtype, data) in answers {
        m.extend_from_slice(&[0xc0, 0x0c]); // pointer to the question's name
        m.extend_from_slice(&rtype.to_be_bytes());
        m.extend_from_slice(&[0, 1, 0, 0, 0, 5]);
        m.extend_from_slice(&u16::try_from(data.len()).expect("short").to_be_bytes());
        m.extend_from_slice(data);
    }
    m
}

/// The question section of a query (after the 12-byte header, up to the OPT record).
fn question(query: &[u8]) -> &[u8] {
    &query[12..query.len() - 11]
}

#[test]
fn query_has_the_rfc_layout() {
    let q = encode_query(0xbeef, "vllm.ns.svc.", RecordType::A).expect("query");
    let want: Vec<u8> = [
        &[0xbe, 0xef, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 1][..],
        b"\x04vllm\x02ns\x03svc\x00",
        &[0, 1, 0, 1],
        &[0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0],
    ]
    .concat();
    assert_eq!(q, want);
    let q6 = encode_query(1, "a", RecordType::Aaaa).expect("query");
    assert_eq!(&q6[12..19], b"\x01a\x00\x00\x1c\x00\x01");
}

#[test]
fn bad_names_are_refused() {
    for name in ["", ".", "a..b", &"x".repeat(64), &["abc"; 70].join(".")] {
        assert_eq!(
            encode_query(1, name, RecordType::A),
            Err(PickerError::DnsName),
            "{name:?}"
        );
    }
    assert!(encode_query(1, &"x".repeat(63), RecordType::A).is_ok());
}

#[test]
fn answers_yield_every_address_and_skip_other_records() {
    let q = encode_query(7, "svc.local", RecordType::A).expect("query");
    let cname = b"\x03foo\xc0\x0c";
    let msg = reply(
        7,
        0x8180,
        question(&q),
        &[(5, cname), (1, &[10, 0, 0, 1]), (1, &[10, 0, 0, 2])],
    );
    let a = parse_response(7, &msg).expect("parse");
    assert_eq!(
        a.addrs,
        vec![
            IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
            IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2))
        ]
    );
    assert!(!a.truncated);
    let q6 = encode_query(8, "svc.local", RecordType::Aaaa).expect("query");
    let v6 = Ipv6Addr::LOCALHOST.octets();
    let msg = reply(8, 0x8180, question(&q6), &[(28, &v6)]);
    assert_eq!(
        parse_response(8, &msg).expect("parse").addrs,
        vec![IpAddr::V6(Ipv6Addr::LOCALHOST)]
    );
    // No records (NODATA) is an empty answer, not an error.
    let msg = reply(9, 0x8180, question(&q), &[]);
    assert!(parse_response(9, &msg).expect("parse").addrs.is_empty());
}

#[test]
fn errors_and_mismatches_are_reported() {
    let q = encode_query(7, "svc.local", RecordType::A).expect("query");
    let ok = reply(7, 0x8180, question(&q), &[(1, &[1, 2, 3, 4])]);
    assert!(
        matches!(parse_response(8, &ok), Err(PickerError::DnsMalformed { .. })),
        "other id"
    );
    let not_reply = reply(7, 0x0100, question(&q), &[]);
    assert!(matches!(
        parse_response(7, &not_reply),
        Err(PickerError::DnsMalformed { .. })
    ));
    let nx = reply(7, 0x8183, question(&q), &[]);
    assert_eq!(parse_response(7, &nx), Err(PickerError::DnsRcode { rcode: 3 }));
    assert_eq!(
        PickerError::DnsRcode { rcode: 3 }.to_string(),
        "DNS error code 3 (NXDOMAIN)"
    );
    let wrong_len = reply(7, 0x8180, question(&q), &[(1, &[1, 2, 3])]);
    assert!(parse_response(7, &wrong_len).is_err());
    for cut in 0..ok.len() {
        assert!(parse_response(7, &ok[..cut]).is_err(), "cut at {cut}");
    }
    let tc = reply(7, 0x8380, question(&q), &[]);
    assert!(parse_response(7, &tc).expect("parse").truncated);
}

proptest! {
    #[test]
    fn parser_never_panics(id in any::<u16>(), msg in proptest::collection::vec(any::<u8>(), 0..600)) {
        if let Ok(a) = parse_response(id, &msg) {
            prop_assert!(a.addrs.len() * 4 <= msg.len());
        }
    }

    #[test]
    fn every_address_round_trips(addrs in proptest::collection::vec(any::<[u8; 4]>(), 0..40)) {
        let q = encode_query(3, "pool.example", RecordType::A).expect("query");
        let answers: Vec<(u16, &[u8])> = addrs.iter().map(|a| (1u16, &a[..])).collect();
        let msg = reply(3, 0x8180, question(&q), &answers);
        let got = parse_response(3, &msg).expect("parse").addrs;
        let want: Vec<IpAddr> = addrs.iter().map(|a| IpAddr::V4(Ipv4Addr::from(*a))).collect();
        prop_assert_eq!(got, want);
    }
}
