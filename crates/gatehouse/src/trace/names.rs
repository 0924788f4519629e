//! Attribute values from the OpenTelemetry GenAI semantic conventions.

use crate::config::spec::ProviderKind;

/// `gen_ai.provider.name` for a provider kind: the convention's well-known value where one exists, otherwise the
/// kind itself (a custom value, as the convention allows).
#[must_use]
pub fn provider_name(kind: ProviderKind) -> &'static str {
    match kind {
        ProviderKind::Anthropic => "anthropic",
        ProviderKind::Openai => "openai",
        ProviderKind::AzureOpenai => "azure.ai.openai",
        ProviderKind::Gemini => "gcp.gemini",
        ProviderKind::Bedrock => "aws.bedrock",
        ProviderKind::OpenaiCompatible => "openai_compatible",
        ProviderKind::VllmPool => "vllm",
    }
}
