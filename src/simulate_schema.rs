//! The JSON Schema of `simulate`'s input: a recorded pull request, the
//! facts the rules read (`rules::PullRequestFacts`), generated from the same
//! types that read the file so the two cannot drift apart.

use schemars::generate::SchemaSettings;

use crate::rules::PullRequestFacts;

/// The schema's `$id`; a URN, as nothing is published at a URL.
pub const SCHEMA_ID: &str = "urn:hotfix-guard:simulate-input:v1";

/// The JSON Schema (draft 2020-12) of the files `hotfix-guard simulate FILE`
/// reads and `simulate --repo … --pr … --save FILE` writes.
pub fn json_schema() -> serde_json::Value {
    let generator = SchemaSettings::draft2020_12()
        .for_deserialize()
        .into_generator();
    let mut schema = generator.into_root_schema_for::<PullRequestFacts>();
    schema.insert("$id".to_string(), SCHEMA_ID.into());
    schema.insert(
        "title".to_string(),
        "hotfix-guard simulate input: one recorded pull request".into(),
    );
    schema.insert(
        "description".to_string(),
        "What hotfix-guard knows about a pull request when it judges it, as GitHub \
         reported it: labels and who applied them, reviews, approval comments, \
         version files at base and head, permissions and team memberships."
            .into(),
    );
    schema.to_value()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_examples_fit_the_schema_shape() {
        let schema = json_schema();
        assert_eq!(schema["$id"], SCHEMA_ID);
        let required: Vec<&str> = schema["required"]
            .as_array()
            .expect("required")
            .iter()
            .filter_map(|v| v.as_str())
            .collect();
        for key in ["repository", "number", "head_sha", "base_ref", "created_at"] {
            assert!(required.contains(&key), "{key} not required: {required:?}");
        }
        for example in [
            include_str!("../examples/simulate/p0-approved.json"),
            include_str!("../examples/simulate/p0-waiting-for-on-call.json"),
            include_str!("../examples/simulate/p2-version-not-bumped.json"),
        ] {
            let value: serde_json::Value = serde_json::from_str(example).expect("json");
            let object = value.as_object().expect("an object");
            for key in object.keys() {
                assert!(
                    schema["properties"].get(key).is_some(),
                    "{key} is not in the schema"
                );
            }
        }
    }
}
