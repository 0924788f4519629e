//! The metrics a finished request adds beyond requests/duration/tokens/TTFT: errors by stable code, GenAI operation
//! duration and time per output token.

use std::time::Duration;

use super::{Outcome, RequestContext, Route};
use crate::metrics::genai::{OperationLabels, TpotLabels};

// === impl RequestContext ===

impl RequestContext {
    /// Records the request's error code, operation duration and time per output token.
    pub(super) fn measure(&self, outcome: Outcome, elapsed: Duration, model: &str, target: &str) {
        let m = &self.telemetry.metrics;
        let code = match outcome {
            Outcome::ClientDisconnected => Some("client_disconnected"),
            _ => self.error_code,
        };
        if let Some(code) = code {
            m.ops.error(self.route.as_str(), code);
        }
        let op = self.route.operation();
        if let Some(start) = self.upstream_start {
            m.genai
                .operation_duration
                .get_or_create(&OperationLabels {
                    gen_ai_operation_name: op,
                    gen_ai_provider_name: target.to_string(),
                    gen_ai_request_model: model.to_string(),
                    error_type: code.unwrap_or(""),
                })
                .observe(start.elapsed().as_secs_f64());
        }
        if let (Some(ttfb), Some(u), None, true) = (self.ttfb, self.usage, code, self.stream)
            && u.output_tokens > 1
            && self.route != Route::Embeddings
        {
            #[allow(clippy::cast_precision_loss)]
            let per = elapsed.saturating_sub(ttfb).as_secs_f64() / (u.output_tokens - 1) as f64;
            m.genai
                .time_per_output_token
                .get_or_create(&TpotLabels {
                    gen_ai_operation_name: op,
                    gen_ai_provider_name: target.to_string(),
                    gen_ai_request_model: model.to_string(),
                })
                .observe(per);
        }
    }
}
