//! Unit tests written to kill the mutants `cargo mutants` found missed in
//! `src/policy` (see `docs/mutants.md`): each pins a value a mutated
//! operator, arm or return value would change.

use super::limits::{self, MAX_PATTERN_LEN};

#[test]
fn a_pattern_may_be_four_kibibytes_long() {
    assert_eq!(MAX_PATTERN_LEN, 4096);
    // Long but cheap: a literal alternation of 4,096 bytes compiles.
    let longest = "a".repeat(4096);
    assert!(limits::regex(&longest).is_ok());
    let err = limits::regex(&"a".repeat(4097)).expect_err("too long");
    assert_eq!(
        limits::regex_error(&err),
        "the pattern is too large (over 4096 bytes, or over 4096 characters)"
    );
}
