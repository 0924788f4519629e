//! Reversible namespacing of resource URIs and URI templates.
//!
//! `demo://resource/x` of upstream `everything` is exposed as `everything+demo://resource/x`: the target joins the
//! URI scheme with `+`, which keeps the result a syntactically valid URI (RFC 3986 schemes may contain `+`) and
//! keeps templates' `{var}` parts untouched. Target names cannot contain `+`, so the first `+` ends the prefix. A
//! URI without a scheme gets `{target}+:` in front so it still round-trips. `Passthrough` leaves URIs unchanged.

use crate::name::{Mode, Namespace};

/// The URI a client sees for `uri` of upstream `target`.
#[must_use]
pub fn expose(ns: &Namespace, target: usize, uri: &str) -> Option<String> {
    match ns.mode() {
        Mode::Passthrough => Some(uri.to_string()),
        Mode::Prefix => {
            let t = ns.targets().get(target)?;
            if has_scheme(uri) {
                Some(format!("{t}+{uri}"))
            } else {
                Some(format!("{t}+:{uri}"))
            }
        }
    }
}

/// The owning upstream and the upstream's own URI for a URI a client used.
#[must_use]
pub fn resolve<'u>(ns: &Namespace, exposed: &'u str) -> Option<(usize, &'u str)> {
    match ns.mode() {
        Mode::Passthrough => Some((0, exposed)),
        Mode::Prefix => {
            let (target, rest) = exposed.split_once('+')?;
            let idx = ns.target_index(target)?;
            let rest = rest.strip_prefix(':').unwrap_or(rest);
            (!rest.is_empty()).then_some((idx, rest))
        }
    }
}

/// RFC 3986: `ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":"`.
fn has_scheme(uri: &str) -> bool {
    let Some((scheme, _)) = uri.split_once(':') else {
        return false;
    };
    let mut b = scheme.bytes();
    matches!(b.next(), Some(c) if c.is_ascii_alphabetic())
        && b.all(|c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ns() -> Namespace {
        Namespace::new(vec!["everything".into(), "local".into()], Mode::Prefix)
    }

    #[test]
    fn scheme_uris_round_trip() {
        let n = ns();
        let e = expose(&n, 1, "demo://resource/static/document/architecture.md").expect("expose");
        assert_eq!(e, "local+demo://resource/static/document/architecture.md");
        assert_eq!(
            resolve(&n, &e),
            Some((1, "demo://resource/static/document/architecture.md"))
        );
    }

    #[test]
    fn templates_keep_variables() {
        let n = ns();
        let e = expose(&n, 0, "demo://resource/dynamic/text/{resourceId}").expect("expose");
        assert_eq!(e, "everything+demo://resource/dynamic/text/{resourceId}");
    }

    #[test]
    fn schemeless_uri_round_trips() {
        let n = ns();
        let e = expose(&n, 0, "relative/path").expect("expose");
        assert_eq!(e, "everything+:relative/path");
        assert_eq!(resolve(&n, &e), Some((0, "relative/path")));
        // A scheme-less URI that itself starts with ':' is not produced by expose, but must not panic.
        assert_eq!(resolve(&n, "everything+"), None);
    }

    #[test]
    fn unknown_target_is_none() {
        assert_eq!(resolve(&ns(), "other+demo://x"), None);
        assert_eq!(resolve(&ns(), "demo://x"), None);
    }

    #[test]
    fn passthrough_is_identity() {
        let n = Namespace::new(vec!["only".into()], Mode::Passthrough);
        assert_eq!(expose(&n, 0, "demo://x").as_deref(), Some("demo://x"));
        assert_eq!(resolve(&n, "demo://x"), Some((0, "demo://x")));
    }

    proptest::proptest! {
        #[test]
        fn any_uri_round_trips(t in 0usize..2, uri in "\\PC{1,80}") {
            let n = ns();
            let e = expose(&n, t, &uri).expect("expose");
            proptest::prop_assert_eq!(resolve(&n, &e), Some((t, uri.as_str())));
        }
    }
}
