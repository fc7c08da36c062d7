//! The JSON Schema of the policy file, generated from the `raw` types that
//! also read it, for editors (yaml-language-server) and for the README.

use schemars::generate::SchemaSettings;

use super::raw::RawPolicy;

/// The schema's `$id`. A URN rather than a URL: nothing is published yet;
/// change it when the schema gets a home.
pub const SCHEMA_ID: &str = "urn:hotfix-guard:hotfix-policy:v1";

/// The JSON Schema (draft 2020-12) of `.github/hotfix-policy.yml`.
pub fn json_schema() -> serde_json::Value {
    let generator = SchemaSettings::draft2020_12()
        .for_deserialize()
        .into_generator();
    let mut schema = generator.into_root_schema_for::<RawPolicy>();
    schema.insert("$id".to_string(), SCHEMA_ID.into());
    schema.insert(
        "title".to_string(),
        "hotfix-guard policy (version 1)".into(),
    );
    schema.insert(
        "description".to_string(),
        "The hotfix procedure hotfix-guard enforces on this repository's pull requests: \
         .github/hotfix-policy.yml on the default branch."
            .into(),
    );
    schema.to_value()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_describes_the_file() {
        let schema = json_schema();
        assert_eq!(schema["$id"], SCHEMA_ID);
        assert_eq!(
            schema["$schema"],
            "https://json-schema.org/draft/2020-12/schema"
        );
        assert_eq!(schema["required"], serde_json::json!(["version"]));
        assert_eq!(schema["additionalProperties"], false);
        let top: Vec<&str> = schema["properties"]
            .as_object()
            .map(|properties| properties.keys().map(String::as_str).collect())
            .unwrap_or_default();
        for key in [
            "version",
            "hotfix",
            "workflow",
            "branches",
            "roles",
            "severities",
            "approvals",
            "checks",
            "escalation",
            "release",
        ] {
            assert!(top.contains(&key), "{key} missing from {top:?}");
        }
    }
}
