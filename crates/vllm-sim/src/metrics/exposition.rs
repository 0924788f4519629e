//! Prometheus text exposition in the exact form Python's `prometheus_client` (and therefore vLLM) writes it.
//!
//! Samples are floats formatted like `floatToGoString` (`14.0`, `0.4173211`, `1.284e+06`, `+Inf`); label values
//! are escaped (`\\`, `\"`, `\n`); callers pass labels already sorted by name, as vLLM's output shows them.

use std::fmt::Write as _;

/// Formats a sample value as `prometheus_client.utils.floatToGoString` does.
pub(crate) fn go_float(value: f64) -> String {
    if value.is_nan() {
        return "NaN".to_owned();
    }
    if value.is_infinite() {
        return if value > 0.0 { "+Inf" } else { "-Inf" }.to_owned();
    }
    let repr = python_repr(value);
    // Go switches to exponent notation sooner than Python: for positive values with 7+ integer digits.
    match repr.find('.') {
        Some(dot) if value > 0.0 && dot > 6 => {
            let digits: String = repr.chars().filter(|c| *c != '.').collect();
            let (first, rest) = digits.split_at(1);
            let mantissa = format!("{first}.{rest}");
            let mantissa = mantissa.trim_end_matches(['0', '.']);
            format!("{mantissa}e+0{}", dot - 1)
        }
        _ => repr,
    }
}

/// Python's `repr(float)`: shortest round-trip digits, `.0` on integral values, exponent outside `[1e-4, 1e16)`.
fn python_repr(value: f64) -> String {
    // Rust's `Debug` uses the same shortest digits and the same thresholds; only the exponent is spelled
    // differently (`1e16`, `1.5e-5` vs Python's `1e+16`, `1.5e-05`).
    let s = format!("{value:?}");
    let Some((mantissa, exp)) = s.split_once('e') else {
        return s;
    };
    let (sign, digits) = match exp.strip_prefix('-') {
        Some(d) => ('-', d),
        None => ('+', exp),
    };
    format!("{mantissa}e{sign}{digits:0>2}")
}

/// Writes one metric family header.
pub(crate) fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// Writes one sample line: `name{k="v",...} value`.
pub(crate) fn sample(out: &mut String, name: &str, labels: &[(&str, &str)], value: f64) {
    out.push_str(name);
    if !labels.is_empty() {
        out.push('{');
        for (i, (k, v)) in labels.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(k);
            out.push_str("=\"");
            escape_into(out, v);
            out.push('"');
        }
        out.push('}');
    }
    out.push(' ');
    out.push_str(&go_float(value));
    out.push('\n');
}

fn escape_into(out: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}
