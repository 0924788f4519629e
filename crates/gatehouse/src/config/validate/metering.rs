//! `pricing:` → the runtime [`Pricing`]: files read and merged in order, then the inline table; every price finite
//! and not negative.

use std::collections::BTreeMap;

use super::Errors;
use crate::config::spec::metering::{PriceSpec, PricingSpec};
use crate::metering::{Price, Pricing};

/// Builds the price table; problems are pushed to `errs`.
pub(super) fn build(errs: &mut Errors<'_>, spec: Option<&PricingSpec>) -> Pricing {
    let Some(spec) = spec else {
        return Pricing::default();
    };
    let mut merged: BTreeMap<String, PriceSpec> = BTreeMap::new();
    for (i, file) in spec.files.iter().enumerate() {
        let read = std::fs::read_to_string(file)
            .map_err(|e| format!("cannot read price file `{}`: {e}", file.display()))
            .and_then(|t| {
                serde_saphyr::from_str::<BTreeMap<String, PriceSpec>>(&t).map_err(|e| {
                    format!(
                        "price file `{}` is not a `model: {{input, output, ...}}` map: {e}",
                        file.display()
                    )
                })
            });
        match read {
            Ok(table) => merged.extend(table),
            Err(message) => errs.push(&["pricing", "files", &i.to_string()], message),
        }
    }
    for (model, p) in &spec.models {
        merged.insert(model.clone(), *p);
    }
    let mut prices = std::collections::HashMap::new();
    for (model, p) in merged {
        let values = [Some(p.input), Some(p.output), p.cache_read, p.cache_write];
        if values.iter().flatten().any(|v| !(v.is_finite() && *v >= 0.0)) {
            errs.push(
                &["pricing", "models", &model],
                format!("prices of `{model}` must be finite and not negative"),
            );
            continue;
        }
        prices.insert(
            model,
            Price {
                input: p.input,
                output: p.output,
                cache_read: p.cache_read.unwrap_or(p.input),
                cache_write: p.cache_write.unwrap_or(p.input),
            },
        );
    }
    Pricing {
        prices,
        cost_header: spec.cost_header,
    }
}
