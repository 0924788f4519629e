//! `auth:` → the runtime [`Policy`]: keys checked (names and hashes unique, hashes well formed), the key file read
//! once now so a bad file is a load error, the JWT authenticator built like `/mcp`'s.

use super::Errors;
use crate::config::spec::governance::{ApiKeysSpec, AuthSpec};
use crate::policy::keys::{self, KeyStore};
use crate::policy::{Authn, Policy};

/// Builds the LLM-route policies; problems are pushed to `errs`.
pub(super) fn build(errs: &mut Errors<'_>, auth: Option<&AuthSpec>) -> Policy {
    Policy {
        auth: auth.and_then(|a| authn(errs, a)),
    }
}

fn authn(errs: &mut Errors<'_>, spec: &AuthSpec) -> Option<Authn> {
    let before = errs.list.len();
    if spec.api_keys.is_none() && spec.jwt.is_none() && !spec.anonymous {
        errs.push(
            &["auth"],
            "`auth` needs `api_keys`, `jwt` or `anonymous: true` (remove the section to leave the gateway open)",
        );
    }
    let keys = match &spec.api_keys {
        None => None,
        Some(ApiKeysSpec::Inline(list)) => {
            for p in keys::check(list) {
                errs.push(&["auth", "api_keys", &p.index.to_string(), p.field], p.message);
            }
            Some(KeyStore::new(list, None))
        }
        Some(ApiKeysSpec::File { file }) => match keys::read_file(file) {
            Ok(list) => Some(KeyStore::new(&list, Some(file.clone()))),
            Err(message) => {
                errs.push(&["auth", "api_keys", "file"], message);
                None
            }
        },
    };
    let jwt = spec
        .jwt
        .as_ref()
        .and_then(|j| super::auth::jwt(errs, &["auth", "jwt"], j));
    if errs.list.len() > before {
        return None;
    }
    let claims = spec.jwt_claims.clone().unwrap_or_default();
    Some(Authn {
        keys,
        jwt,
        team_claim: claims.team,
        user_claim: claims.user,
        anonymous: spec.anonymous,
    })
}
