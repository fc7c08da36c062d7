//! Which items a page of a list holds, by identity, and whether a page read
//! again still holds what its first read held (`Core::pages_unchanged`).
//!
//! GitHub's pages are numbered, not a snapshot: an item removed (or moved)
//! before another after the other's page was read shifts it onto a page
//! already read, hiding it. Only the identity and order of items can do
//! that; an item edited in place (a comment's body, its reactions, its
//! `updated_at`, a review dismissed) hides nothing, and neither does an item
//! appended at the end of the list (a later fact, with its own delivery).

use serde_json::Value;

/// Who a list item is, from the fields GitHub gives it that never change:
///
/// - `node_id` (GraphQL global id) where the item has one: comments,
///   reviews, issue events, `committed` timeline items;
/// - else `id`, with the timeline `event` kind (ids of different kinds come
///   from different tables);
/// - else a changed-files entry (`GET /pulls/{n}/files`): `filename` and the
///   blob `sha`;
/// - else `sha` (a commit);
/// - else a `cross-referenced` timeline event, which has no id of its own
///   (GitHub's "Timeline Cross Referenced Event": `event`, `actor`,
///   `created_at`, `updated_at`, `source`): the referencing issue's
///   `node_id` (or `id`) and the event's `created_at`, since the embedded
///   issue (its body, comment count, `updated_at`) changes as it is edited;
/// - else the whole item, as JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ItemIdentity {
    Node(String),
    Id { event: String, id: String },
    File { filename: String, sha: String },
    Sha(String),
    CrossReference { source: String, created_at: String },
    Whole(String),
}

/// The identity of one list item (see [`ItemIdentity`]).
pub(crate) fn item_identity(item: &Value) -> ItemIdentity {
    let text = |v: &Value, key: &str| v.get(key).and_then(Value::as_str).map(str::to_string);
    if let Some(node) = text(item, "node_id").filter(|n| !n.is_empty()) {
        return ItemIdentity::Node(node);
    }
    if let Some(id) = item.get("id").filter(|v| v.is_number() || v.is_string()) {
        return ItemIdentity::Id {
            event: text(item, "event").unwrap_or_default(),
            id: id.to_string(),
        };
    }
    if let Some(filename) = text(item, "filename") {
        return ItemIdentity::File {
            filename,
            sha: text(item, "sha").unwrap_or_default(),
        };
    }
    if let Some(sha) = text(item, "sha") {
        return ItemIdentity::Sha(sha);
    }
    if text(item, "event").as_deref() == Some("cross-referenced")
        && let Some(issue) = item.get("source").and_then(|s| s.get("issue"))
        && let Some(source) = text(issue, "node_id").or_else(|| {
            issue
                .get("id")
                .filter(|v| v.is_number())
                .map(Value::to_string)
        })
    {
        return ItemIdentity::CrossReference {
            source,
            created_at: text(item, "created_at").unwrap_or_default(),
        };
    }
    ItemIdentity::Whole(item.to_string())
}

/// The identities of a page's items, in order; `None` when `body` is not a
/// JSON array (then only identical bytes count as the same page).
pub(crate) fn page_identities(body: &str) -> Option<Vec<ItemIdentity>> {
    let items: Vec<Value> = serde_json::from_str(body).ok()?;
    Some(items.iter().map(item_identity).collect())
}

/// Whether a page read again (`again`) still holds what its first read
/// (`first`) held: the same items in the same order, edits allowed. The
/// list's last page (`last`) may also have gained items after them
/// (appended since; a page then named after it is not read). Anything else
/// (an item gone, one inserted before an existing one, the order changed)
/// is a change.
pub(crate) fn page_still_holds(first: &str, again: &str, last: bool) -> bool {
    if first == again {
        return true;
    }
    let (Some(first), Some(again)) = (page_identities(first), page_identities(again)) else {
        return false;
    };
    if last {
        again.starts_with(&first)
    } else {
        again == first
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn each_kind_of_item_has_a_lasting_identity() {
        let comment = json!({"id": 7, "node_id": "IC_7", "event": "commented", "body": "a"});
        assert_eq!(item_identity(&comment), ItemIdentity::Node("IC_7".into()));
        let no_node = json!({"id": 7, "event": "labeled"});
        assert_eq!(
            item_identity(&no_node),
            ItemIdentity::Id {
                event: "labeled".into(),
                id: "7".into()
            }
        );
        // The same id in another table is another item.
        assert_ne!(
            item_identity(&no_node),
            item_identity(&json!({"id": 7, "event": "commented"}))
        );
        let file = json!({"filename": "src/a.rs", "sha": "b1", "status": "modified"});
        assert_eq!(
            item_identity(&file),
            ItemIdentity::File {
                filename: "src/a.rs".into(),
                sha: "b1".into()
            }
        );
        let committed = json!({"event": "committed", "sha": "c0ffee", "message": "m"});
        assert_eq!(
            item_identity(&committed),
            ItemIdentity::Sha("c0ffee".into())
        );
    }

    #[test]
    fn a_cross_reference_is_its_source_issue_and_time_whatever_the_issue_says_now() {
        let at = |body: &str, updated: &str| {
            json!({
                "event": "cross-referenced",
                "created_at": "2026-01-01T00:00:00Z",
                "updated_at": updated,
                "source": {"type": "issue", "issue": {"id": 9, "node_id": "I_9", "body": body}}
            })
        };
        let first = at("a", "2026-01-01T00:00:00Z");
        let edited = at("b", "2026-01-02T00:00:00Z");
        assert_eq!(item_identity(&first), item_identity(&edited));
        assert_eq!(
            item_identity(&first),
            ItemIdentity::CrossReference {
                source: "I_9".into(),
                created_at: "2026-01-01T00:00:00Z".into()
            }
        );
        // Without a source issue: the whole item.
        let bare = json!({"event": "cross-referenced", "created_at": "x"});
        assert!(matches!(item_identity(&bare), ItemIdentity::Whole(_)));
    }

    #[test]
    fn a_page_that_is_not_a_list_is_the_same_only_byte_for_byte() {
        assert!(page_still_holds("{\"a\":1}", "{\"a\":1}", true));
        assert!(!page_still_holds("{\"a\":1}", "{\"a\":2}", true));
        assert!(!page_still_holds("[]", "not json", true));
    }
}
