//! Known OpenAI-compatible hosts: a preset is a base URL, the API path prefix and whether the host needs a key.
//!
//! Every host here speaks OpenAI's chat-completions API with `Authorization: Bearer <key>`; what differs is where
//! the API lives (`/openai/v1` on Groq, `/v1/openai` on DeepInfra, no `/v1` at all on Perplexity). The URLs come
//! from each provider's published OpenAI-compatibility page; `base_url` in the config overrides only the URL
//! (a proxy, a region, a local test server), never the prefix.

/// One known host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Preset {
    /// The name used in `preset:`.
    pub name: &'static str,
    /// Scheme and host (and any path before the API prefix), without a trailing slash.
    pub base_url: &'static str,
    /// Path between the base URL and the route (`/chat/completions`, `/embeddings`, ...).
    pub api_prefix: &'static str,
    /// Whether the host refuses requests without a key (so a preset without `api_key` is a config error).
    pub needs_key: bool,
}

/// The presets, by name.
pub const PRESETS: &[Preset] = &[
    preset("groq", "https://api.groq.com/openai", "/v1", true),
    preset("together", "https://api.together.xyz", "/v1", true),
    preset("fireworks", "https://api.fireworks.ai/inference", "/v1", true),
    preset("deepinfra", "https://api.deepinfra.com", "/v1/openai", true),
    preset("openrouter", "https://openrouter.ai/api", "/v1", true),
    preset("mistral", "https://api.mistral.ai", "/v1", true),
    preset("deepseek", "https://api.deepseek.com", "/v1", true),
    preset("xai", "https://api.x.ai", "/v1", true),
    preset("cerebras", "https://api.cerebras.ai", "/v1", true),
    preset("perplexity", "https://api.perplexity.ai", "", true),
    preset(
        "gemini_openai",
        "https://generativelanguage.googleapis.com",
        "/v1beta/openai",
        true,
    ),
    preset("ollama", "http://localhost:11434", "/v1", false),
    preset("lmstudio", "http://localhost:1234", "/v1", false),
];

const fn preset(name: &'static str, base_url: &'static str, api_prefix: &'static str, needs_key: bool) -> Preset {
    Preset {
        name,
        base_url,
        api_prefix,
        needs_key,
    }
}

/// The preset called `name`.
#[must_use]
pub fn find(name: &str) -> Option<&'static Preset> {
    PRESETS.iter().find(|p| p.name == name)
}
