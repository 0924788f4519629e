//! A YAML document as a tree of located nodes, and a serde `Deserializer` over it.
//!
//! serde stops at the first error, but `gatehouse check` must report every problem with its line and
//! column. So the file is parsed once (by serde-saphyr) into this tree, where each node remembers where it
//! was written; `${VAR}` interpolation rewrites string nodes in place; then each config section and each
//! list item is deserialized separately from the tree, and every error carries the location and field
//! path of the node it happened at.
//!
//! Strings that look like numbers or booleans are accepted where a number or boolean is expected,
//! because interpolated values (`port: ${PORT}`) are always strings.

use std::fmt;

use serde::de::{
    self, DeserializeSeed, Deserializer, EnumAccess, IntoDeserializer, MapAccess, SeqAccess, VariantAccess, Visitor,
};
use serde::{Deserialize, forward_to_deserialize_any};
use serde_saphyr::Spanned;

/// A line and column in the config file (1-based; 0 means unknown).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Loc {
    /// 1-based line.
    pub line: u64,
    /// 1-based column.
    pub col: u64,
}

/// One YAML value with where it was written.
#[derive(Debug, Clone)]
pub struct Node {
    /// The value.
    pub kind: NodeKind,
    /// Where the value starts.
    pub loc: Loc,
}

/// The shape of a YAML value.
#[derive(Debug, Clone)]
pub enum NodeKind {
    /// `~`, `null` or nothing.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// A string scalar.
    Str(String),
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping, in file order; keys keep their own location.
    Map(Vec<(Key, Node)>),
}

/// A mapping key with where it was written.
#[derive(Debug, Clone)]
pub struct Key {
    /// The key text.
    pub name: String,
    /// Where the key starts.
    pub loc: Loc,
}

/// An error while deserializing from the tree: a message, where, and the field path inside the node
/// it was deserialized from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeError {
    /// What is wrong.
    pub message: String,
    /// Where, once known.
    pub loc: Option<Loc>,
    /// Field path segments, outermost first.
    pub path: Vec<String>,
}

/// The serde deserializer over one node.
pub struct NodeDe<'a>(pub &'a Node);

// === impl Node ===

impl Node {
    /// Parses YAML text into a located tree. Duplicate keys and over-budget documents are errors.
    pub fn parse(text: &str) -> Result<Node, DeError> {
        // YAML 1.2 booleans only: `off`, `no` and `on` stay strings (`access_log: off`, a model named `no`).
        let mut opts = serde_saphyr::Options::default();
        opts.strict_booleans = true;
        let raw: Spanned<RawNode> = serde_saphyr::from_str_with_options(text, opts).map_err(|e| {
            let loc = e.location().map(|l| Loc {
                line: l.line(),
                col: l.column(),
            });
            let rendered = e.without_snippet().to_string();
            // serde-saphyr prefixes the location itself; keep the message part only.
            let message = rendered.lines().next().unwrap_or("invalid YAML").to_string();
            DeError {
                message,
                loc,
                path: Vec::new(),
            }
        })?;
        Ok(raw.into())
    }

    /// Finds the node at a field path (map keys and sequence indexes), for locating semantic errors.
    #[must_use]
    pub fn locate(&self, path: &[String]) -> Loc {
        let mut node = self;
        let mut loc = self.loc;
        for seg in path {
            let next = match &node.kind {
                NodeKind::Map(entries) => entries.iter().find(|(k, _)| &k.name == seg).map(|(_, v)| v),
                NodeKind::Seq(items) => seg.parse::<usize>().ok().and_then(|i| items.get(i)),
                _ => None,
            };
            match next {
                Some(n) => {
                    node = n;
                    loc = n.loc;
                }
                None => break,
            }
        }
        loc
    }

    /// A short name for the node's type, for error messages.
    fn describe(&self) -> &'static str {
        match self.kind {
            NodeKind::Null => "null",
            NodeKind::Bool(_) => "a boolean",
            NodeKind::Int(_) => "an integer",
            NodeKind::Float(_) => "a float",
            NodeKind::Str(_) => "a string",
            NodeKind::Seq(_) => "a sequence",
            NodeKind::Map(_) => "a mapping",
        }
    }
}

// === impl DeError ===

impl DeError {
    /// Sets the location unless an inner node already set a more precise one.
    #[must_use]
    pub fn at(mut self, loc: Loc) -> Self {
        if self.loc.is_none() {
            self.loc = Some(loc);
        }
        self
    }

    /// Prepends a field path segment.
    #[must_use]
    pub fn in_field(mut self, seg: impl Into<String>) -> Self {
        self.path.insert(0, seg.into());
        self
    }
}

impl fmt::Display for DeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for DeError {}

impl de::Error for DeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Self {
            message: msg.to_string(),
            loc: None,
            path: Vec::new(),
        }
    }

    fn unknown_field(field: &str, expected: &'static [&'static str]) -> Self {
        let mut message = format!("unknown field `{field}`");
        if let Some(best) = super::suggest::closest(field, expected.iter().copied()) {
            message.push_str(&format!(", did you mean `{best}`?"));
        } else if !expected.is_empty() {
            message.push_str(&format!("; expected one of: {}", expected.join(", ")));
        }
        Self::custom(message)
    }

    fn unknown_variant(variant: &str, expected: &'static [&'static str]) -> Self {
        let mut message = format!("unknown value `{variant}`");
        if let Some(best) = super::suggest::closest(variant, expected.iter().copied()) {
            message.push_str(&format!(", did you mean `{best}`?"));
        }
        message.push_str(&format!(" (expected one of: {})", expected.join(", ")));
        Self::custom(message)
    }
}

// === impl NodeDe ===

macro_rules! coerce_number {
    ($($method:ident => $ty:ty, $visit:ident;)*) => {
        $(
            fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
                if let NodeKind::Str(s) = &self.0.kind {
                    return match s.trim().parse::<$ty>() {
                        Ok(v) => visitor.$visit(v).map_err(|e: DeError| e.at(self.0.loc)),
                        Err(_) => Err(<DeError as de::Error>::custom(format!(
                            "expected a number, found the string `{s}`"
                        ))
                        .at(self.0.loc)),
                    };
                }
                self.deserialize_any(visitor)
            }
        )*
    };
}

impl<'de> Deserializer<'de> for NodeDe<'_> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let loc = self.0.loc;
        let out = match &self.0.kind {
            NodeKind::Null => visitor.visit_unit(),
            NodeKind::Bool(b) => visitor.visit_bool(*b),
            NodeKind::Int(i) => visitor.visit_i64(*i),
            NodeKind::Float(f) => visitor.visit_f64(*f),
            NodeKind::Str(s) => visitor.visit_str(s),
            NodeKind::Seq(items) => visitor.visit_seq(NodeSeq {
                iter: items.iter(),
                index: 0,
            }),
            NodeKind::Map(entries) => visitor.visit_map(NodeMap {
                iter: entries.iter(),
                value: None,
            }),
        };
        out.map_err(|e| e.at(loc))
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.0.kind {
            NodeKind::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        if let NodeKind::Str(s) = &self.0.kind {
            return match s.trim() {
                "true" => visitor.visit_bool(true),
                "false" => visitor.visit_bool(false),
                _ => Err(<DeError as de::Error>::custom(format!(
                    "expected a boolean, found the string `{s}`"
                ))),
            }
            .map_err(|e: DeError| e.at(self.0.loc));
        }
        self.deserialize_any(visitor)
    }

    coerce_number! {
        deserialize_u8 => u8, visit_u8;
        deserialize_u16 => u16, visit_u16;
        deserialize_u32 => u32, visit_u32;
        deserialize_u64 => u64, visit_u64;
        deserialize_i8 => i8, visit_i8;
        deserialize_i16 => i16, visit_i16;
        deserialize_i32 => i32, visit_i32;
        deserialize_i64 => i64, visit_i64;
        deserialize_f32 => f32, visit_f32;
        deserialize_f64 => f64, visit_f64;
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        let loc = self.0.loc;
        let out = match &self.0.kind {
            NodeKind::Str(s) => visitor.visit_enum(s.as_str().into_deserializer()),
            NodeKind::Map(entries) if entries.len() == 1 => {
                let (key, value) = &entries[0];
                visitor.visit_enum(NodeEnum { key, value })
            }
            _ => Err(<DeError as de::Error>::custom(format!(
                "expected a name or a mapping with one key, found {}",
                self.0.describe()
            ))),
        };
        out.map_err(|e| e.at(loc))
    }

    forward_to_deserialize_any! {
        i128 u128 char str string bytes byte_buf unit unit_struct newtype_struct seq tuple
        tuple_struct map struct identifier ignored_any
    }
}

/// Sequence access that adds the index to the path of an element's error.
struct NodeSeq<'a> {
    iter: std::slice::Iter<'a, Node>,
    index: usize,
}

impl<'de> SeqAccess<'de> for NodeSeq<'_> {
    type Error = DeError;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>, DeError> {
        let Some(node) = self.iter.next() else {
            return Ok(None);
        };
        let i = self.index;
        self.index += 1;
        seed.deserialize(NodeDe(node))
            .map(Some)
            .map_err(|e| e.at(node.loc).in_field(i.to_string()))
    }
}

/// Map access that adds the key to the path of a value's error.
struct NodeMap<'a> {
    iter: std::slice::Iter<'a, (Key, Node)>,
    value: Option<(&'a Key, &'a Node)>,
}

impl<'de> MapAccess<'de> for NodeMap<'_> {
    type Error = DeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, DeError> {
        let Some((key, value)) = self.iter.next() else {
            return Ok(None);
        };
        self.value = Some((key, value));
        seed.deserialize(key.name.as_str().into_deserializer())
            .map(Some)
            .map_err(|e: DeError| e.at(key.loc).in_field(key.name.clone()))
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, DeError> {
        let Some((key, value)) = self.value.take() else {
            return Err(<DeError as de::Error>::custom("value requested before key"));
        };
        seed.deserialize(NodeDe(value))
            .map_err(|e| e.at(value.loc).in_field(key.name.clone()))
    }
}

/// Externally tagged enum access: `{ variant: value }`.
struct NodeEnum<'a> {
    key: &'a Key,
    value: &'a Node,
}

impl<'de, 'a> EnumAccess<'de> for NodeEnum<'a> {
    type Error = DeError;
    type Variant = NodeDe<'a>;

    fn variant_seed<V: DeserializeSeed<'de>>(self, seed: V) -> Result<(V::Value, NodeDe<'a>), DeError> {
        let v = seed
            .deserialize(self.key.name.as_str().into_deserializer())
            .map_err(|e: DeError| e.at(self.key.loc))?;
        Ok((v, NodeDe(self.value)))
    }
}

impl<'de> VariantAccess<'de> for NodeDe<'_> {
    type Error = DeError;

    fn unit_variant(self) -> Result<(), DeError> {
        match self.0.kind {
            NodeKind::Null => Ok(()),
            _ => Err(<DeError as de::Error>::custom("this variant takes no value").at(self.0.loc)),
        }
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, DeError> {
        seed.deserialize(self)
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_any(visitor)
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_any(visitor)
    }
}

/// What serde-saphyr deserializes into: a value whose children carry spans.
enum RawNode {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Spanned<RawNode>>),
    Map(Vec<(Spanned<RawKey>, Spanned<RawNode>)>),
}

/// A mapping key; scalars of any type are accepted and kept as text.
struct RawKey(String);

impl<'de> Deserialize<'de> for RawNode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(RawNodeVisitor)
    }
}

struct RawNodeVisitor;

impl<'de> Visitor<'de> for RawNodeVisitor {
    type Value = RawNode;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_unit<E>(self) -> Result<RawNode, E> {
        Ok(RawNode::Null)
    }
    fn visit_none<E>(self) -> Result<RawNode, E> {
        Ok(RawNode::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<RawNode, D::Error> {
        RawNode::deserialize(d)
    }
    fn visit_bool<E>(self, v: bool) -> Result<RawNode, E> {
        Ok(RawNode::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<RawNode, E> {
        Ok(RawNode::Int(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawNode, E> {
        i64::try_from(v)
            .map(RawNode::Int)
            .map_err(|_| E::custom("integer too large"))
    }
    fn visit_f64<E>(self, v: f64) -> Result<RawNode, E> {
        Ok(RawNode::Float(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<RawNode, E> {
        Ok(RawNode::Str(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<RawNode, E> {
        Ok(RawNode::Str(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RawNode, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(RawNode::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawNode, A::Error> {
        let mut entries = Vec::new();
        while let Some(entry) = map.next_entry()? {
            entries.push(entry);
        }
        Ok(RawNode::Map(entries))
    }
}

impl<'de> Deserialize<'de> for RawKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match RawNode::deserialize(d)? {
            RawNode::Str(s) => Ok(RawKey(s)),
            RawNode::Int(i) => Ok(RawKey(i.to_string())),
            RawNode::Bool(b) => Ok(RawKey(b.to_string())),
            RawNode::Float(f) => Ok(RawKey(f.to_string())),
            RawNode::Null => Ok(RawKey(String::new())),
            RawNode::Seq(_) | RawNode::Map(_) => Err(de::Error::custom("mapping keys must be scalars")),
        }
    }
}

fn loc_of<T>(s: &Spanned<T>) -> Loc {
    Loc {
        line: s.referenced.line(),
        col: s.referenced.column(),
    }
}

impl From<Spanned<RawNode>> for Node {
    fn from(raw: Spanned<RawNode>) -> Self {
        let loc = loc_of(&raw);
        let kind = match raw.value {
            RawNode::Null => NodeKind::Null,
            RawNode::Bool(b) => NodeKind::Bool(b),
            RawNode::Int(i) => NodeKind::Int(i),
            RawNode::Float(f) => NodeKind::Float(f),
            RawNode::Str(s) => NodeKind::Str(s),
            RawNode::Seq(items) => NodeKind::Seq(items.into_iter().map(Node::from).collect()),
            RawNode::Map(entries) => NodeKind::Map(
                entries
                    .into_iter()
                    .map(|(k, v)| {
                        (
                            Key {
                                loc: loc_of(&k),
                                name: k.value.0,
                            },
                            Node::from(v),
                        )
                    })
                    .collect(),
            ),
        };
        Node { kind, loc }
    }
}
