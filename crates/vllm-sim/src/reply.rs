//! Deterministic reply text, one token at a time.
//!
//! A reply is either *sampled* ([`ReplyGen`], a text answer) or *scripted* (a fixed token sequence the API layer
//! decided before submission, such as a tool call's name and arguments). Both go through the same engine steps,
//! so scripted tokens are scheduled, cached and timed exactly like sampled ones.
//!
//! Every sampled token is a word of at most 4 bytes (or a punctuation mark), so each is exactly one token for
//! [`crate::tokenizer`]; words after the first carry a leading space. The sequence is fully determined by the
//! seed, which the engine derives from `--seed`, the model and the prompt: the same request gets the same reply.

use std::borrow::Cow;

use crate::prng::SplitMix64;
use crate::tokenizer::{self, Piece};

/// Words a reply is made of; each is at most 4 bytes so it is one token.
const WORDS: [&str; 64] = [
    "the", "of", "and", "to", "in", "is", "that", "for", "it", "as", "was", "with", "be", "by", "on", "not", "he",
    "this", "are", "or", "his", "from", "at", "but", "have", "an", "they", "one", "you", "all", "were", "her", "can",
    "more", "when", "will", "each", "data", "time", "well", "also", "into", "only", "some", "then", "make", "like",
    "such", "its", "over", "most", "much", "very", "just", "node", "load", "path", "fast", "slow", "hint", "user",
    "list", "what", "rust",
];

/// Where the tokens of one sequence come from.
#[derive(Clone, Debug)]
pub(crate) enum Reply {
    /// Sampled words: a text answer.
    Sampled(ReplyGen),
    /// Fixed tokens, emitted in order. The engine never asks for more tokens than the script holds.
    Scripted(std::vec::IntoIter<Piece>),
}

/// Generates the tokens of one reply.
#[derive(Clone, Debug)]
pub(crate) struct ReplyGen {
    prng: SplitMix64,
    produced: u32,
    since_period: u32,
}

/// One generated token: its text (as it appears in the reply) and its id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Token {
    /// Text to append to the reply, including any leading space.
    pub(crate) text: &'static str,
    /// Token id, as [`tokenizer::token_id`] gives it for the text without the space.
    pub(crate) id: u32,
}

// === impl Reply ===

impl Reply {
    /// The next token's text (as it appears in the reply) and id.
    ///
    /// An exhausted script yields an empty end-of-turn token; the engine clamps `max_tokens` so this never happens.
    pub(crate) fn next_token(&mut self) -> (Cow<'static, str>, u32) {
        match self {
            Self::Sampled(generator) => {
                let token = generator.next_token();
                (Cow::Borrowed(token.text), token.id)
            }
            Self::Scripted(pieces) => match pieces.next() {
                Some(piece) => (Cow::Owned(piece.text), piece.id),
                None => (Cow::Borrowed(""), tokenizer::EOT),
            },
        }
    }
}

// === impl ReplyGen ===

impl ReplyGen {
    /// A generator determined by `seed`.
    pub(crate) fn new(seed: u64) -> Self {
        Self {
            prng: SplitMix64::new(seed),
            produced: 0,
            since_period: 0,
        }
    }

    /// The next token of the reply.
    pub(crate) fn next_token(&mut self) -> Token {
        let first = self.produced == 0;
        self.produced = self.produced.saturating_add(1);
        if !first && self.since_period >= 6 && self.prng.below(5) == 0 {
            self.since_period = 0;
            return Token {
                text: ".",
                id: tokenizer::token_id("."),
            };
        }
        self.since_period += 1;
        let index = self.prng.below(WORDS.len() as u64) as usize;
        let word = WORDS.get(index).copied().unwrap_or("the");
        let text = if first { word } else { spaced(index) };
        Token {
            text,
            id: tokenizer::token_id(word),
        }
    }
}

/// `" " + WORDS[index]` as a static string (no per-token allocation).
fn spaced(index: usize) -> &'static str {
    const SPACED: [&str; 64] = [
        " the", " of", " and", " to", " in", " is", " that", " for", " it", " as", " was", " with", " be", " by",
        " on", " not", " he", " this", " are", " or", " his", " from", " at", " but", " have", " an", " they", " one",
        " you", " all", " were", " her", " can", " more", " when", " will", " each", " data", " time", " well",
        " also", " into", " only", " some", " then", " make", " like", " such", " its", " over", " most", " much",
        " very", " just", " node", " load", " path", " fast", " slow", " hint", " user", " list", " what", " rust",
    ];
    SPACED.get(index).copied().unwrap_or(" the")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spaced_table_matches_words() {
        for (i, word) in WORDS.iter().enumerate() {
            assert_eq!(spaced(i), format!(" {word}"));
            assert!(word.len() <= 4);
        }
    }

    #[test]
    fn reply_is_deterministic_and_retokenizes_to_same_count() {
        let a: Vec<Token> = {
            let mut g = ReplyGen::new(9);
            (0..200).map(|_| g.next_token()).collect()
        };
        let mut g = ReplyGen::new(9);
        let b: Vec<Token> = (0..200).map(|_| g.next_token()).collect();
        assert_eq!(a, b);
        let text: String = a.iter().map(|t| t.text).collect();
        assert_eq!(tokenizer::count(&text), 200);
        let ids: Vec<u32> = a.iter().map(|t| t.id).collect();
        assert_eq!(tokenizer::encode(&text), ids);
        assert!(!text.starts_with(' '));
    }

    #[test]
    fn scripted_reply_emits_its_pieces_then_end_of_turn() {
        let mut reply = Reply::Scripted(tokenizer::pieces("{\"a\":1}").into_iter());
        let texts: Vec<String> = (0..7).map(|_| reply.next_token().0.into_owned()).collect();
        assert_eq!(texts.concat(), "{\"a\":1}");
        assert_eq!(reply.next_token(), (Cow::Borrowed(""), tokenizer::EOT));
    }
}
