//! What the report says when the pull request's timeline kept changing
//! while it was read (`rules::verdict::CutList::TimelineUnsettled`): the
//! verdict was reached from the issue events and reviews lists, and no
//! approval by comment was counted.

/// The note for a hotfix whose timeline kept changing while it was read
/// (`GET /issues/{n}/timeline` changed at every one of the client's tries:
/// anyone can delete their own comment while it is read). Fixed text: the
/// engine adds it to `Verdict::notes` when the gather read the timeline
/// like a cut one for that reason.
pub fn unsettled_timeline_note() -> String {
    "The timeline kept changing while it was read; approvals by comment could not be counted — \
     approve by review. Who set each label, and the reviews, were read from their own lists."
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_why_and_what_to_do() {
        insta::assert_snapshot!(
            unsettled_timeline_note(),
            @"The timeline kept changing while it was read; approvals by comment could not be counted — approve by review. Who set each label, and the reviews, were read from their own lists."
        );
    }
}
