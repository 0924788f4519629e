//! Deserialisation helpers shared by the hand-written request visitors (OpenAI chat, Anthropic Messages, OpenAI
//! Responses), so each reads its optional fields by the same rule.

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
