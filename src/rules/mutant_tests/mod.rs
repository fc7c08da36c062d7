//! Unit tests written to kill the mutants `cargo mutants` found missed in
//! `src/rules` (see `docs/mutants.md`): each asserts the exact value a
//! mutated operator, arm or return value would change.

mod approvals;
mod classify;
mod designation;
mod evidence;
mod facts;
mod hygiene;
mod needs;
mod provenance;
mod verdict;
mod version;
