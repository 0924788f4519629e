//! Rewriting the ids of server→client requests so ids of different upstreams never collide.
//!
//! Every upstream numbers its own requests from 0 or 1 per session (server-everything does), so two upstreams'
//! `sampling/createMessage` both arrive as `id: 1`. Before such a request goes to the client its id becomes the string
//! `gh_{target}_{n|s}_{original}` (`n` = the original was a number, `s` = a string); the client's response carries
//! that id back, [`decode`] names the upstream and restores the original id exactly (same JSON type), and the response
//! goes to that upstream only. Target names contain no `_` (see [`crate::name::valid_target`]).

use serde_json::value::RawValue;

/// The downstream id for `original` (a raw JSON string or integer) of upstream `target`.
#[must_use]
pub fn encode(target: &str, original: &RawValue) -> String {
    let raw = original.get();
    match serde_json::from_str::<String>(raw) {
        Ok(s) => format!("gh_{target}_s_{s}"),
        Err(_) => format!("gh_{target}_n_{raw}"),
    }
}

/// The upstream and original raw id behind a downstream id; `None` for ids we did not issue.
#[must_use]
pub fn decode(id: &RawValue) -> Option<(String, Box<RawValue>)> {
    let s: String = serde_json::from_str(id.get()).ok()?;
    let rest = s.strip_prefix("gh_")?;
    let (target, rest) = rest.split_once('_')?;
    if !crate::name::valid_target(target) {
        return None;
    }
    let original = if let Some(v) = rest.strip_prefix("s_") {
        serde_json::value::to_raw_value(v).ok()?
    } else {
        let n = rest.strip_prefix("n_")?;
        let valid = !n.is_empty() && n.trim_start_matches('-').bytes().all(|b| b.is_ascii_digit());
        if !valid {
            return None;
        }
        RawValue::from_string(n.to_string()).ok()?
    };
    Some((target.to_string(), original))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn raw(s: &str) -> Box<RawValue> {
        RawValue::from_string(s.to_string()).expect("raw")
    }

    #[test]
    fn same_original_ids_of_two_upstreams_differ() {
        let a = encode("everything", &raw("1"));
        let b = encode("local", &raw("1"));
        assert_ne!(a, b);
        assert_eq!(a, "gh_everything_n_1");
        let (t, id) = decode(&raw(&format!("\"{b}\""))).expect("decode");
        assert_eq!((t.as_str(), id.get()), ("local", "1"));
    }

    #[test]
    fn string_ids_keep_their_type() {
        let e = encode("a", &raw("\"1\""));
        assert_eq!(e, "gh_a_s_1");
        let (_, id) = decode(&raw(&format!("\"{e}\""))).expect("decode");
        assert_eq!(id.get(), "\"1\"");
    }

    #[test]
    fn foreign_ids_are_none() {
        for s in [
            "1",
            "\"x\"",
            "\"gh_a_q_1\"",
            "\"gh_a_n_1.5\"",
            "\"gh_a_n_\"",
            "\"gh_bad+t_n_1\"",
            "null",
        ] {
            assert!(decode(&raw(s)).is_none(), "{s}");
        }
    }

    proptest! {
        #[test]
        fn round_trip_numbers(t in "[a-z0-9-]{1,12}", n in any::<i64>()) {
            let orig = raw(&n.to_string());
            let e = encode(&t, &orig);
            let (dt, did) = decode(&raw(&serde_json::to_string(&e).expect("json"))).expect("decode");
            prop_assert_eq!(dt, t);
            prop_assert_eq!(did.get(), orig.get());
        }

        #[test]
        fn round_trip_strings(t in "[a-z0-9-]{1,12}", s in "\\PC{0,30}") {
            let orig = serde_json::value::to_raw_value(&s).expect("raw");
            let e = encode(&t, &orig);
            let (dt, did) = decode(&raw(&serde_json::to_string(&e).expect("json"))).expect("decode");
            prop_assert_eq!(dt, t);
            prop_assert_eq!(serde_json::from_str::<String>(did.get()).expect("string"), s);
        }

        #[test]
        fn ids_of_distinct_upstreams_never_collide(a in "[a-z0-9-]{1,8}", b in "[a-z0-9-]{1,8}", n in any::<i64>(), m in any::<i64>()) {
            prop_assume!(a != b);
            prop_assert_ne!(encode(&a, &raw(&n.to_string())), encode(&b, &raw(&m.to_string())));
        }
    }
}
