//! Deserialisation helpers shared by the hand-written request visitors (OpenAI chat, Anthropic Messages, OpenAI
//! Responses), so each reads its optional fields by the same rule.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};

use crate::anthropic::json::CowStr;

/// Reads the value of the optional field `$r.$name` from `$map` (a serde `MapAccess` whose error type is `$err`):
/// a second occurrence of the key is a duplicate-field error, and a value of the wrong shape is an error naming the
/// field, so a client sees which parameter was wrong.
macro_rules! once_field {
    ($map:ident, $r:ident, $err:ty, $name:ident) => {{
        if $r.$name.is_some() {
            return Err(de::Error::duplicate_field(stringify!($name)));
        }
        $r.$name = $map
            .next_value()
            .map_err(|e: $err| de::Error::custom(format_args!("`{}`: {e}", stringify!($name))))?;
    }};
}
pub(crate) use once_field;

/// Implements `Deserialize` for the request type `$ty<'a>` through its [`RequestFields`] (a blanket impl over the
/// trait is not allowed for a foreign trait).
macro_rules! request_deserialize {
    ($ty:ident) => {
        impl<'de: 'a, 'a> serde::Deserialize<'de> for $ty<'a> {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                crate::de::deserialize_request(deserializer)
            }
        }
    };
}
pub(crate) use request_deserialize;

/// A request object read key by key by [`deserialize_request`]: the three request dialects share the reading
/// loop and the keys that are accepted once and otherwise ignored (`model`: the route decides it), and differ only
/// in their fields.
pub(crate) trait RequestFields<'de>: Default {
    /// What serde's error messages say was expected ("a chat completions request object").
    const EXPECTING: &'static str;
    /// Keys whose value is skipped, each allowed at most once.
    const IGNORED_ONCE: &'static [&'static str] = &["model"];

    /// Reads the value of `key` (any key but those in [`IGNORED_ONCE`](Self::IGNORED_ONCE)) from `map`.
    fn field<A: MapAccess<'de>>(&mut self, key: &str, map: A) -> Result<(), A::Error>;
}

/// Deserialises a request object through its [`RequestFields`].
pub(crate) fn deserialize_request<'de, D: Deserializer<'de>, R: RequestFields<'de>>(
    deserializer: D,
) -> Result<R, D::Error> {
    deserializer.deserialize_map(RequestVisitor(PhantomData))
}

struct RequestVisitor<R>(PhantomData<R>);

// === impl RequestVisitor ===

impl<'de, R: RequestFields<'de>> Visitor<'de> for RequestVisitor<R> {
    type Value = R;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(R::EXPECTING)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut r = R::default();
        let mut seen = vec![false; R::IGNORED_ONCE.len()];
        while let Some(key) = map.next_key::<CowStr<'de>>()? {
            let ignored = R::IGNORED_ONCE.iter().zip(seen.iter_mut()).find(|(k, _)| **k == &*key);
            match ignored {
                Some((name, seen)) => {
                    if std::mem::replace(seen, true) {
                        return Err(de::Error::duplicate_field(name));
                    }
                    map.next_value::<IgnoredAny>()?;
                }
                None => r.field(&key, &mut map)?,
            }
        }
        Ok(r)
    }
}
