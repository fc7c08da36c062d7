//! GitHub App authentication as GitHub checks it: an RS256 JWT signed with
//! the app's private key for `/app/**`, and an installation token the fake
//! issued itself for everything else.

use chrono::Utc;
use jsonwebtoken::{Algorithm, DecodingKey, Validation, errors::ErrorKind};
use serde::Deserialize;
use serde_json::Value;

use super::state::State;

/// Why a request was refused: the message GitHub puts in the 401 body.
pub(super) struct Refused(pub &'static str);

const UNDECODABLE: &str = "A JSON web token could not be decoded";
const BAD_CREDENTIALS: &str = "Bad credentials";

#[derive(Deserialize)]
struct Claims {
    /// octocrab sends the app id as a number, other clients as a string.
    iss: Value,
    iat: Option<i64>,
    exp: i64,
}

/// `Authorization: Bearer <jwt>` or `token <x>` → the credential, if any.
pub(super) fn credential(header: Option<&str>) -> Option<&str> {
    let header = header?.trim();
    let (scheme, value) = header.split_once(' ')?;
    if scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("token") {
        Some(value.trim())
    } else {
        None
    }
}

pub(super) fn verify_app_jwt(
    key: &DecodingKey,
    app_id: u64,
    header: Option<&str>,
) -> Result<(), Refused> {
    let jwt = credential(header).ok_or(Refused(UNDECODABLE))?;
    let mut validation = Validation::new(Algorithm::RS256);
    // `iss` is checked below: jsonwebtoken only parses string issuers.
    validation.set_required_spec_claims(&["exp"]);
    // GitHub tolerates a little clock drift, not minutes of it.
    validation.leeway = 30;
    validation.validate_aud = false;
    let claims = jsonwebtoken::decode::<Claims>(jwt, key, &validation)
        .map_err(|e| match e.kind() {
            ErrorKind::ExpiredSignature => Refused(
                "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires",
            ),
            _ => Refused(UNDECODABLE),
        })?
        .claims;
    let issuer_ok = match &claims.iss {
        Value::String(s) => s == &app_id.to_string(),
        Value::Number(n) => n.as_u64() == Some(app_id),
        _ => false,
    };
    if !issuer_ok {
        return Err(Refused(UNDECODABLE));
    }
    let now = Utc::now().timestamp();
    if claims.iat.is_some_and(|iat| iat > now + 60) {
        return Err(Refused(
            "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued",
        ));
    }
    // GitHub refuses JWTs that live longer than ten minutes.
    if claims.exp > now + 10 * 60 + 60 {
        return Err(Refused(
            "'Expiration time' claim ('exp') is too far in the future",
        ));
    }
    Ok(())
}

pub(super) fn verify_installation_token(
    state: &State,
    header: Option<&str>,
) -> Result<(), Refused> {
    let token = credential(header).ok_or(Refused(BAD_CREDENTIALS))?;
    match state.tokens.get(token) {
        Some(rec) if rec.expires_at > Utc::now() => Ok(()),
        _ => Err(Refused(BAD_CREDENTIALS)),
    }
}

/// `ghs_` and 36 characters, like GitHub's installation tokens.
pub(super) fn mint_token(state: &mut State) -> String {
    let id = state.next_id();
    let nanos = Utc::now().timestamp_nanos_opt().unwrap_or_default();
    let seed = format!("{id}:{nanos}:{:p}", state);
    let digest = super::shapes::sha256_hex(seed.as_bytes());
    format!("ghs_{}", &digest[..36])
}
