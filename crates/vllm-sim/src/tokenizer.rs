//! A deterministic stand-in for a BPE tokenizer, plus the chat template.
//!
//! Text is split into *pieces*: maximal runs of alphanumeric characters (and `_`), and single punctuation
//! characters; whitespace separates pieces and is not a token. Each piece becomes one token per started 4 bytes
//! (cut on character boundaries), so "tokenization" yields 3 tokens (`toke`, `niza`, `tion`) and "," one. A token
//! id is a stable hash of its bytes, reduced below [`VOCAB_SIZE`], so equal text always gives equal ids and
//! prefix-cache block hashes (which are computed over ids) behave as with a real tokenizer. Special tokens of the
//! chat template use ids at and above `VOCAB_SIZE` and can never collide with text tokens.
//!
//! Invariant: re-tokenizing a reply produced by [`crate::reply`] gives exactly as many tokens as were generated,
//! and the texts of [`pieces`] concatenate back to their input.

use crate::hash;

/// Size of the text vocabulary (Llama 3's regular vocabulary size); text token ids are `< VOCAB_SIZE`.
pub(crate) const VOCAB_SIZE: u32 = 128_000;
/// Beginning of text, prepended to every chat prompt and to text completion prompts.
pub(crate) const BOS: u32 = 128_000;
/// Opens a message header (the role name follows).
pub(crate) const HEADER_START: u32 = 128_006;
/// Closes a message header.
pub(crate) const HEADER_END: u32 = 128_007;
/// Ends a message.
pub(crate) const EOT: u32 = 128_009;

/// Longest token, in bytes.
const MAX_TOKEN_BYTES: usize = 4;

/// One chat message, already reduced to its text.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ChatTurn<'a> {
    /// `system`, `user`, `assistant`, `tool`, ...
    pub(crate) role: &'a str,
    /// Concatenated text parts.
    pub(crate) content: &'a str,
}

/// One token of a text, as a scripted reply emits it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Piece {
    /// The token's text with the whitespace before it (the last piece also takes any trailing whitespace).
    pub(crate) text: String,
    /// Token id of the text without that whitespace.
    pub(crate) id: u32,
}

/// Appends the token ids of `text` to `out`.
pub(crate) fn encode_into(text: &str, out: &mut Vec<u32>) {
    for_each_token(text, |token| out.push(token_id(token)));
}

/// The token ids of `text` (no special tokens).
pub(crate) fn encode(text: &str) -> Vec<u32> {
    let mut out = Vec::with_capacity(text.len() / 3 + 1);
    encode_into(text, &mut out);
    out
}

/// Number of tokens in `text`, without allocating.
#[cfg(test)]
pub(crate) fn count(text: &str) -> usize {
    let mut n = 0;
    for_each_token(text, |_| n += 1);
    n
}

/// The prompt of a chat request: a Llama-3-like template with the generation prompt appended.
///
/// `BOS (HEADER_START role HEADER_END content EOT)* HEADER_START "assistant" HEADER_END`
pub(crate) fn encode_chat(turns: &[ChatTurn<'_>]) -> Vec<u32> {
    let mut out = vec![BOS];
    for turn in turns {
        out.push(HEADER_START);
        encode_into(turn.role, &mut out);
        out.push(HEADER_END);
        encode_into(turn.content, &mut out);
        out.push(EOT);
    }
    out.push(HEADER_START);
    encode_into("assistant", &mut out);
    out.push(HEADER_END);
    out
}

/// The tokens of `text` as pieces that concatenate back to `text` (empty if `text` has no token).
pub(crate) fn pieces(text: &str) -> Vec<Piece> {
    let mut spans = Vec::new();
    for_each_span(text, |start, end| spans.push((start, end)));
    let last = spans.len().saturating_sub(1);
    let mut cursor = 0;
    let mut out = Vec::with_capacity(spans.len());
    for (i, (start, end)) in spans.into_iter().enumerate() {
        let covered = if i == last { text.len() } else { end };
        out.push(Piece {
            text: text[cursor..covered].to_owned(),
            id: token_id(&text[start..end]),
        });
        cursor = covered;
    }
    out
}

/// The id of one token's text.
pub(crate) fn token_id(token: &str) -> u32 {
    (hash::bytes(token.as_bytes()) % u64::from(VOCAB_SIZE)) as u32
}

/// Calls `f` with the text of every token of `text`, in order.
fn for_each_token(text: &str, mut f: impl FnMut(&str)) {
    for_each_span(text, |start, end| f(&text[start..end]));
}

/// Calls `f` with the byte range of every token of `text`, in order.
fn for_each_span(text: &str, mut f: impl FnMut(usize, usize)) {
    let mut word_start: Option<usize> = None;
    for (i, c) in text.char_indices() {
        let is_word = c.is_alphanumeric() || c == '_';
        if is_word {
            word_start.get_or_insert(i);
            continue;
        }
        if let Some(start) = word_start.take() {
            split_word(text, start, i, &mut f);
        }
        if !c.is_whitespace() {
            f(i, i + c.len_utf8());
        }
    }
    if let Some(start) = word_start {
        split_word(text, start, text.len(), &mut f);
    }
}

/// Cuts the word `text[from..to]` into chunks of at most [`MAX_TOKEN_BYTES`] bytes on character boundaries.
fn split_word(text: &str, from: usize, to: usize, f: &mut impl FnMut(usize, usize)) {
    let mut start = from;
    let mut end = from;
    for (i, c) in text[from..to].char_indices() {
        let next = from + i + c.len_utf8();
        if next - start > MAX_TOKEN_BYTES && end > start {
            f(start, end);
            start = end;
        }
        end = next;
    }
    if end > start {
        f(start, end);
    }
}

#[cfg(test)]
mod tests;
