//! A bounded parser for the Prometheus text exposition (format 0.0.4, and the OpenMetrics subset vLLM emits),
//! reading only the vLLM families the picker needs.
//!
//! Bounds: the whole text ([`ParseLimits::max_bytes`]) and each line ([`ParseLimits::max_line_bytes`]). Lines of
//! other families are skipped after their name is read, so a replica exporting thousands of histogram series costs
//! one name comparison per line. Comments (`# HELP`, `# TYPE`, `# EOF`) and blank lines are ignored; unknown series
//! (`*_created`, new metrics) are ignored, as vLLM may add any at any time.
//!
//! Several series of one gauge (data-parallel engines, label `engine`): `waiting` and `running` are summed — the
//! replica's total queue — and KV usage takes the highest engine (the one that will preempt first).
//! `vllm:lora_requests_info` keeps the series with the largest value: vLLM sets it to the unix time of each
//! update and old label combinations linger (GIE does the same). Never panics on any input (fuzzed).

use crate::error::PickerError;
use crate::signals::{LoraInfo, Signals};

/// Size bounds for one exposition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParseLimits {
    /// Largest accepted text, in bytes (default 4 MiB; vLLM emits ~30–100 KiB).
    pub max_bytes: usize,
    /// Longest accepted line, in bytes (default 64 KiB).
    pub max_line_bytes: usize,
}

impl Default for ParseLimits {
    fn default() -> Self {
        Self {
            max_bytes: 4 << 20,
            max_line_bytes: 64 << 10,
        }
    }
}

/// The families read, by sample name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    Waiting,
    Running,
    KvUsage,
    LegacyKvUsage,
    Lora,
    CacheConfig,
}

/// Most labels kept from one sample; extra labels are skipped.
const MAX_LABELS: usize = 64;

/// Parses a vLLM `/metrics` body into [`Signals`].
///
/// # Errors
///
/// [`PickerError::TooLarge`] / [`PickerError::LineTooLong`] past the limits, [`PickerError::Malformed`] for a broken
/// sample of a family the picker reads, [`PickerError::NotVllm`] when none of waiting, running or KV usage appear.
pub fn parse_metrics(text: &[u8], limits: &ParseLimits) -> Result<Signals, PickerError> {
    if text.len() > limits.max_bytes {
        return Err(PickerError::TooLarge {
            limit: limits.max_bytes,
        });
    }
    let mut out = Signals::default();
    let mut legacy_kv: Option<f64> = None;
    let mut lora_best: Option<(f64, LoraInfo)> = None;
    for (i, raw) in text.split(|b| *b == b'\n').enumerate() {
        let line_no = i + 1;
        if raw.len() > limits.max_line_bytes {
            return Err(PickerError::LineTooLong {
                line: line_no,
                limit: limits.max_line_bytes,
            });
        }
        let line = trim(raw);
        if line.is_empty() || line[0] == b'#' {
            continue;
        }
        let name_end = line
            .iter()
            .position(|b| *b == b'{' || *b == b' ' || *b == b'\t')
            .unwrap_or(line.len());
        let Some(family) = family(&line[..name_end]) else {
            continue;
        };
        let malformed = |detail| PickerError::Malformed { line: line_no, detail };
        let (labels, rest) = if line.get(name_end) == Some(&b'{') {
            parse_labels(&line[name_end + 1..]).map_err(malformed)?
        } else {
            (Vec::new(), &line[name_end..])
        };
        let value = parse_value(rest).ok_or_else(|| malformed("sample value is not a number"))?;
        if out.model_name.is_none()
            && let Some(m) = label(&labels, "model_name")
        {
            out.model_name = Some(m.to_string());
        }
        match family {
            Family::Waiting => out.waiting = Some(out.waiting.unwrap_or(0.0) + finite(value)),
            Family::Running => out.running = Some(out.running.unwrap_or(0.0) + finite(value)),
            Family::KvUsage => out.kv_usage = Some(out.kv_usage.unwrap_or(0.0).max(finite(value))),
            Family::LegacyKvUsage => legacy_kv = Some(legacy_kv.unwrap_or(0.0).max(finite(value))),
            Family::Lora => {
                let info = LoraInfo {
                    running: split_list(label(&labels, "running_lora_adapters")),
                    waiting: split_list(label(&labels, "waiting_lora_adapters")),
                    max: label(&labels, "max_lora")
                        .and_then(|v| v.trim().parse::<u32>().ok())
                        .ok_or_else(|| malformed("lora_requests_info has no numeric max_lora label"))?,
                };
                if lora_best.as_ref().is_none_or(|(best, _)| value > *best) {
                    lora_best = Some((value, info));
                }
            }
            Family::CacheConfig => {
                out.block_size = out
                    .block_size
                    .or_else(|| label(&labels, "block_size").and_then(|v| v.parse().ok()));
                out.num_gpu_blocks = out
                    .num_gpu_blocks
                    .or_else(|| label(&labels, "num_gpu_blocks").and_then(|v| v.parse().ok()));
            }
        }
    }
    if out.kv_usage.is_none() {
        out.kv_usage = legacy_kv;
    }
    out.lora = lora_best.map(|(_, info)| info);
    if out.waiting.is_none() && out.running.is_none() && out.kv_usage.is_none() {
        return Err(PickerError::NotVllm);
    }
    Ok(out)
}

fn family(name: &[u8]) -> Option<Family> {
    Some(match name {
        b"vllm:num_requests_waiting" => Family::Waiting,
        b"vllm:num_requests_running" => Family::Running,
        b"vllm:kv_cache_usage_perc" => Family::KvUsage,
        b"vllm:gpu_cache_usage_perc" => Family::LegacyKvUsage,
        b"vllm:lora_requests_info" => Family::Lora,
        b"vllm:cache_config_info" => Family::CacheConfig,
        _ => return None,
    })
}

/// NaN and infinities count as 0 for gauges: they carry no load information.
fn finite(v: f64) -> f64 {
    if v.is_finite() { v.max(0.0) } else { 0.0 }
}

fn trim(mut s: &[u8]) -> &[u8] {
    while let [first, rest @ ..] = s
        && first.is_ascii_whitespace()
    {
        s = rest;
    }
    while let [rest @ .., last] = s
        && last.is_ascii_whitespace()
    {
        s = rest;
    }
    s
}

fn label<'a>(labels: &'a [(&[u8], String)], name: &str) -> Option<&'a str> {
    labels
        .iter()
        .find(|(k, _)| *k == name.as_bytes())
        .map(|(_, v)| v.as_str())
}

fn split_list(v: Option<&str>) -> Vec<String> {
    v.map(|s| {
        s.split(',')
            .map(str::trim)
            .filter(|a| !a.is_empty())
            .map(str::to_string)
            .collect()
    })
    .unwrap_or_default()
}

/// Parses `k="v",k2="v2"}` (after the `{`); returns the labels and the text after `}`.
#[allow(clippy::type_complexity)] // a private helper; naming the pair type would not make it clearer
fn parse_labels(mut s: &[u8]) -> Result<(Vec<(&[u8], String)>, &[u8]), &'static str> {
    let mut labels = Vec::new();
    loop {
        s = trim_start(s);
        match s.first() {
            Some(b'}') => return Ok((labels, &s[1..])),
            Some(b',') => {
                s = &s[1..];
                continue;
            }
            Some(_) => {}
            None => return Err("unterminated label set"),
        }
        let eq = s.iter().position(|b| *b == b'=').ok_or("label without `=`")?;
        let key = trim(&s[..eq]);
        if key.is_empty() || !key.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'_') {
            return Err("invalid label name");
        }
        s = trim_start(&s[eq + 1..]);
        if s.first() != Some(&b'"') {
            return Err("label value is not quoted");
        }
        s = &s[1..];
        let mut value = Vec::new();
        let mut closed = false;
        let mut i = 0;
        while i < s.len() {
            match s[i] {
                b'\\' => {
                    match s.get(i + 1) {
                        Some(b'n') => value.push(b'\n'),
                        Some(c) => value.push(*c),
                        None => return Err("dangling escape in label value"),
                    }
                    i += 2;
                }
                b'"' => {
                    closed = true;
                    i += 1;
                    break;
                }
                c => {
                    value.push(c);
                    i += 1;
                }
            }
        }
        if !closed {
            return Err("unterminated label value");
        }
        s = &s[i..];
        if labels.len() < MAX_LABELS {
            let value = String::from_utf8(value).map_err(|_| "label value is not UTF-8")?;
            labels.push((key, value));
        }
    }
}

fn trim_start(mut s: &[u8]) -> &[u8] {
    while let [first, rest @ ..] = s
        && (*first == b' ' || *first == b'\t')
    {
        s = rest;
    }
    s
}

/// The sample value: the first whitespace-separated token (a timestamp may follow).
fn parse_value(rest: &[u8]) -> Option<f64> {
    let rest = trim(rest);
    let end = rest
        .iter()
        .position(|b| *b == b' ' || *b == b'\t')
        .unwrap_or(rest.len());
    let tok = std::str::from_utf8(&rest[..end]).ok()?;
    match tok {
        "+Inf" | "Inf" => Some(f64::INFINITY),
        "-Inf" => Some(f64::NEG_INFINITY),
        "NaN" => Some(f64::NAN),
        _ => tok.parse::<f64>().ok(),
    }
}

#[cfg(test)]
mod tests;
