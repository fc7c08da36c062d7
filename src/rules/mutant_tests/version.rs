//! Reading version files: inheritance from a workspace only when the file
//! says `version.workspace = true`, and parse errors on one readable line.

use crate::policy::VersionFile;
use crate::rules::version::extract;

fn cargo() -> VersionFile {
    VersionFile::CargoToml("Cargo.toml".into())
}

#[test]
fn a_package_version_table_without_workspace_true_is_not_inherited() {
    let inherits =
        "[package]\nversion.workspace = true\n[workspace.package]\nversion = \"1.0.1\"\n";
    assert_eq!(extract(&cargo(), inherits), Ok("1.0.1".to_string()));
    for not_inheriting in [
        "[package]\nversion.workspace = false\n[workspace.package]\nversion = \"1.0.1\"\n",
        "[package]\nversion = { path = \"x\" }\n[workspace.package]\nversion = \"1.0.1\"\n",
    ] {
        let err = extract(&cargo(), not_inheriting).expect_err(not_inheriting);
        assert!(
            err.starts_with("inherits its version from the workspace"),
            "{err}"
        );
    }
}

#[test]
fn invalid_toml_is_reported_on_one_non_empty_line() {
    for file in [cargo(), VersionFile::Pyproject("pyproject.toml".into())] {
        let err = extract(&file, "[package\nversion = \"1.0.0\"\n").expect_err("invalid");
        let reason = err
            .strip_prefix("is not valid TOML: ")
            .unwrap_or_else(|| panic!("{err}"));
        assert!(!reason.trim().is_empty(), "{err:?}");
        assert!(!reason.contains('\n'), "{err:?}");
        // The parser's lines, each trimmed, joined by one space.
        assert!(
            reason.starts_with("TOML parse error at line 1, column 9 | 1 | [package | "),
            "{err:?}"
        );
        assert!(reason.ends_with("expected `]`"), "{err:?}");
    }
}
