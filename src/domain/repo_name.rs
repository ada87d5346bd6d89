//! What a repository name may be. Names become steps of request paths
//! (`/api/repos/lookup/{owner}/{name}`), so a name must never be able to
//! walk out of that path: URL libraries collapse `.` and `..` segments (and
//! their percent-encoded forms) before a request is sent, which would turn
//! `../../users` into `GET /api/users` with the token.

use std::fmt;

/// Why a repo name was refused; `Display` says what is allowed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RepoNameError {
    pub name: String,
    reason: &'static str,
}

impl fmt::Display for RepoNameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:?} is not a repository name ({}); write owner/name, e.g. acme/api",
            self.name.escape_default().to_string(),
            self.reason
        )
    }
}

impl std::error::Error for RepoNameError {}

/// Checks `name` (already trimmed of surrounding whitespace): at least two
/// non-empty `/`-separated segments, none of them `.` or `..`, and no `%`,
/// `?`, `#`, `\` or control characters. `.github` and GitLab's
/// `group/sub/app` are fine.
pub fn check_repo_name(name: &str) -> Result<(), RepoNameError> {
    let refuse = |reason| {
        Err(RepoNameError {
            name: name.chars().take(200).collect(),
            reason,
        })
    };
    if let Some(c) = name
        .chars()
        .find(|c| matches!(c, '%' | '?' | '#' | '\\') || c.is_control())
    {
        return refuse(match c {
            '%' => "it contains %",
            '?' => "it contains ?",
            '#' => "it contains #",
            '\\' => "it contains a backslash",
            _ => "it contains a control character",
        });
    }
    let segments: Vec<&str> = name.split('/').collect();
    if segments.len() < 2 {
        return refuse("it has no owner/ part");
    }
    if segments.iter().any(|s| s.is_empty()) {
        return refuse("it has an empty segment");
    }
    if segments.iter().any(|s| *s == "." || *s == "..") {
        return refuse("a segment is . or ..");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_names_pass() {
        for ok in [
            "acme/api",
            "acme/.github",
            "group/sub/app",
            "a/b.c",
            "a/..b",
            "a/...",
            "Ünï/cödé",
        ] {
            assert!(check_repo_name(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn names_that_could_leave_the_path_are_refused() {
        for bad in [
            "../../users",
            "../1/logs/5/2",
            "acme/..",
            "acme/./api",
            "./api",
            "acme/%2e%2e",
            "acme/api?x=1",
            "acme/api#frag",
            "acme\\..\\users",
            "acme/api\n",
            "acme/\u{0}",
            "acme",
            "acme/",
            "/acme/api",
            "acme//api",
            "",
        ] {
            let e = check_repo_name(bad).expect_err(bad);
            assert!(e.to_string().contains("owner/name"), "{e}");
        }
    }
}
