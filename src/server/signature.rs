//! GitHub's webhook signature: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256
//! of the raw body>`, keyed with the webhook secret. Several secrets may be
//! configured at once so that a secret can be rotated without dropping
//! deliveries signed with the old one.

use std::sync::Arc;

use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// The configured webhook secrets, newest first. Shared, not copied: the
/// router's state is cloned for every request.
#[derive(Clone)]
pub struct WebhookSecrets(Arc<[SecretString]>);

impl WebhookSecrets {
    /// Parses `GITHUB_WEBHOOK_SECRET`: one secret, or several separated by
    /// commas. Blank entries are dropped; `None` when nothing remains.
    pub fn parse(list: &str) -> Option<WebhookSecrets> {
        let secrets: Vec<SecretString> = list
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| SecretString::from(s.to_string()))
            .collect();
        (!secrets.is_empty()).then(|| WebhookSecrets(secrets.into()))
    }

    /// True when `header` (the value of `X-Hub-Signature-256`) is a valid
    /// signature of `body` under any configured secret. The comparison is
    /// constant-time (`Mac::verify_slice`). Kept hand-written: a few lines
    /// over `hmac`, and it takes several secrets while one is rotated.
    pub fn verify(&self, header: Option<&[u8]>, body: &[u8]) -> bool {
        let Some(expected) = header.and_then(decode_header) else {
            return false;
        };
        self.0.iter().any(|secret| {
            // HMAC accepts keys of any length, so this cannot fail.
            let Ok(mut mac) = HmacSha256::new_from_slice(secret.expose_secret().as_bytes()) else {
                return false;
            };
            mac.update(body);
            mac.verify_slice(&expected).is_ok()
        })
    }
}

impl std::fmt::Debug for WebhookSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "WebhookSecrets({} configured)", self.0.len())
    }
}

/// `sha256=<64 hex digits>` → the 32 bytes; anything else → `None`.
fn decode_header(header: &[u8]) -> Option<[u8; 32]> {
    let hex_digits = header.strip_prefix(b"sha256=")?;
    let mut out = [0u8; 32];
    hex::decode_to_slice(hex_digits, &mut out).ok()?;
    Some(out)
}

/// `sha256=<hex>` for `body` under `secret`: what GitHub would send. Used by
/// the benchmark, `simulate`-style tooling and tests.
pub fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac = match HmacSha256::new_from_slice(secret.as_bytes()) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC takes keys of any length"),
    };
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    // GitHub's documented test vector:
    // https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries
    const SECRET: &str = "It's a Secret to Everybody";
    const PAYLOAD: &[u8] = b"Hello, World!";
    const SIGNATURE: &str =
        "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";

    fn secrets(list: &str) -> WebhookSecrets {
        WebhookSecrets::parse(list).expect("non-empty secret list")
    }

    #[test]
    fn accepts_githubs_documented_vector() {
        assert!(secrets(SECRET).verify(Some(SIGNATURE.as_bytes()), PAYLOAD));
        assert_eq!(sign(SECRET, PAYLOAD), SIGNATURE);
    }

    #[test]
    fn rejects_a_changed_body_or_secret() {
        assert!(!secrets(SECRET).verify(Some(SIGNATURE.as_bytes()), b"Hello, World?"));
        assert!(!secrets("another secret").verify(Some(SIGNATURE.as_bytes()), PAYLOAD));
    }

    #[test]
    fn rejects_missing_or_malformed_headers() {
        let s = secrets(SECRET);
        assert!(!s.verify(None, PAYLOAD));
        assert!(!s.verify(Some(b""), PAYLOAD));
        // The hex alone, without the algorithm prefix.
        assert!(!s.verify(Some(&SIGNATURE.as_bytes()[7..]), PAYLOAD));
        // A SHA-1 style header is not enough.
        assert!(!s.verify(
            Some(b"sha1=01dc10d0c83e72ed246219cdd91669667fe2ca59"),
            PAYLOAD
        ));
        // Truncated and non-hex digests.
        assert!(!s.verify(Some(&SIGNATURE.as_bytes()[..40]), PAYLOAD));
        assert!(!s.verify(Some(SIGNATURE.replace('7', "z").as_bytes()), PAYLOAD));
        // Upper-case prefix is not what GitHub sends.
        assert!(!s.verify(
            Some(SIGNATURE.replace("sha256", "SHA256").as_bytes()),
            PAYLOAD
        ));
    }

    #[test]
    fn any_of_several_secrets_verifies_during_rotation() {
        let s = secrets(" new-secret , It's a Secret to Everybody ,");
        assert!(s.verify(Some(SIGNATURE.as_bytes()), PAYLOAD));
        assert!(s.verify(Some(sign("new-secret", PAYLOAD).as_bytes()), PAYLOAD));
    }

    #[test]
    fn an_empty_list_configures_nothing() {
        assert!(WebhookSecrets::parse("").is_none());
        assert!(WebhookSecrets::parse(" , ,").is_none());
    }
}
