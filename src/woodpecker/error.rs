//! Errors a user can act on. Every `Display` is one sentence that says what
//! went wrong and what to check. No message ever contains the API token:
//! requests carry it only in a sensitive header, URLs are built without
//! credentials, and response bodies are described, never quoted.

use std::time::Duration;

#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("the Woodpecker URL {url:?} is not valid ({reason}); use an http:// or https:// address such as https://ci.example.com")]
    InvalidUrl { url: String, reason: String },

    #[error("the API token contains characters that cannot be sent in an HTTP header; paste the personal access token again")]
    InvalidToken,

    #[error("could not connect to the Woodpecker server at {host} ({detail}); check the URL and that the server is reachable from Grafana")]
    Unreachable { host: String, detail: String },

    #[error("TLS handshake with {host} failed ({detail}); check the server certificate or use the right scheme (http/https)")]
    Tls { host: String, detail: String },

    #[error("the Woodpecker server did not answer {endpoint} within {}s; the server may be overloaded, or raise the timeout", .after.as_secs_f32())]
    Timeout { endpoint: String, after: Duration },

    #[error("{}", unauthorized_msg(*.token_configured, endpoint))]
    Unauthorized {
        endpoint: String,
        token_configured: bool,
    },

    #[error("Woodpecker refused {endpoint} (403 Forbidden); the token's user lacks the required permission")]
    Forbidden { endpoint: String },

    #[error("repository {repo:?} was not found or is not visible to this token's user; check the name (owner/name) and that the user has at least pull access")]
    RepoNotFound { repo: String },

    #[error("{endpoint} returned 404 Not Found; check that the URL points at the Woodpecker server root (including any sub-path)")]
    NotFound { endpoint: String },

    #[error("Woodpecker kept rate-limiting {endpoint} (429 Too Many Requests) after {attempts} attempts; try again later or lower the concurrency")]
    RateLimited { endpoint: String, attempts: u32 },

    #[error("the Woodpecker server failed on {endpoint} with HTTP {status} after {attempts} attempt(s); check the server's health and logs")]
    Server {
        status: u16,
        endpoint: String,
        attempts: u32,
    },

    #[error("Woodpecker rejected {endpoint} with HTTP {status} (the answer was {found}); check the URL and the token's permissions")]
    Rejected {
        status: u16,
        endpoint: String,
        found: &'static str,
    },

    #[error("{endpoint} did not return Woodpecker JSON (it returned {found}); check that the URL points at the Woodpecker server and not at a proxy or login page")]
    NotWoodpecker { endpoint: String, found: String },

    #[error("{endpoint} returned JSON that could not be read ({detail}); the response may be cut off or from an unsupported Woodpecker version")]
    Malformed { endpoint: String, detail: String },

    #[error("repository {repo:?} was listed out of order by {endpoint} ({detail}); Woodpecker lists pipelines newest first, so a proxy or server in between is reordering them")]
    OutOfOrder {
        repo: String,
        endpoint: String,
        detail: String,
    },

    #[error("Woodpecker's pipeline list for {repo:?} does not page properly ({detail}); reading stopped, so older history is missing: check any proxy in front of Woodpecker")]
    Paging { repo: String, detail: String },

    #[error("{0}")]
    BadRepoName(#[from] crate::domain::RepoNameError),

    #[error("the query's time limit of {}s ran out before {endpoint} could be read; Woodpecker is slow to answer: raise the query time limit or try again", .limit.as_secs())]
    Deadline { endpoint: String, limit: Duration },

    #[error("the connection closed while reading {endpoint} ({detail}); a proxy or the server dropped the response")]
    Interrupted { endpoint: String, detail: String },

    #[error("{endpoint} returned more than {limit} bytes; refusing to read it (raise the response size limit if this is expected)")]
    TooLarge { endpoint: String, limit: usize },
}

fn unauthorized_msg(token_configured: bool, endpoint: &str) -> String {
    if token_configured {
        format!("Woodpecker rejected the API token on {endpoint} (401); create a new personal access token in Woodpecker (user settings → CLI & API) and save it in the data source")
    } else {
        format!("Woodpecker requires an API token for {endpoint} (401); add a personal access token to the data source")
    }
}

impl Error {
    /// True for errors that another attempt might not repeat.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Error::Unreachable { .. }
                | Error::Timeout { .. }
                | Error::Deadline { .. }
                | Error::Interrupted { .. }
                | Error::RateLimited { .. }
                | Error::Server { .. }
        )
    }
}

/// What kind of thing a body is, so errors can say so without quoting it:
/// an upstream body can hold personal data (a login page's user name, an
/// API's e-mail addresses), and errors are shown to every viewer of a panel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BodyKind {
    Empty,
    Html,
    Markup,
    Json,
    Text,
    Binary,
}

impl BodyKind {
    pub fn of(body: &[u8]) -> BodyKind {
        let head: Vec<u8> = body
            .iter()
            .skip_while(|b| b.is_ascii_whitespace())
            .take(64)
            .map(u8::to_ascii_lowercase)
            .collect();
        match head.first() {
            None => BodyKind::Empty,
            Some(b'<') if head.starts_with(b"<!doctype html") || head.starts_with(b"<html") => {
                BodyKind::Html
            }
            Some(b'<') => BodyKind::Markup,
            Some(b'{' | b'[') => BodyKind::Json,
            Some(_) if std::str::from_utf8(body).is_ok() => BodyKind::Text,
            Some(_) => BodyKind::Binary,
        }
    }

    /// In words, for "it returned …".
    pub(crate) fn describe(self) -> &'static str {
        match self {
            BodyKind::Empty => "an empty body",
            BodyKind::Html => "an HTML page",
            BodyKind::Markup => "XML or HTML",
            BodyKind::Json => "JSON",
            BodyKind::Text => "plain text",
            BodyKind::Binary => "binary data",
        }
    }
}

/// Where and how JSON failed to parse, without serde's quote of the value
/// it choked on.
pub(crate) fn json_problem(e: &serde_json::Error) -> String {
    use serde_json::error::Category;
    let at = format!("line {}, column {}", e.line(), e.column());
    match e.classify() {
        Category::Eof => format!("it ends early, at {at}"),
        Category::Syntax => format!("it is not valid JSON at {at}"),
        Category::Data => format!("a field has an unexpected type or value at {at}"),
        Category::Io => "it could not be read".to_string(),
    }
}

/// Removes `secret` from a free-form detail string (for example a reqwest
/// or serde message) before it goes into an error.
pub(crate) fn scrub(detail: &str, secret: Option<&str>) -> String {
    match secret {
        Some(s) if !s.is_empty() => detail.replace(s, "[redacted]"),
        _ => detail.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_described_never_quoted() {
        let kind = |b: &[u8]| BodyKind::of(b).describe();
        assert_eq!(
            kind(b"\n <!DOCTYPE html><p>alice@example.com</p>"),
            "an HTML page"
        );
        assert_eq!(kind(b"  "), "an empty body");
        assert_eq!(BodyKind::of(b"[{\"login\":\"alice\"}]"), BodyKind::Json);
        assert_eq!(kind(b"User alice not authorized"), "plain text");
        let e = serde_json::from_slice::<Vec<u64>>(br#"["alice@example.com"]"#).unwrap_err();
        let p = json_problem(&e);
        assert!(!p.contains("alice"), "{p}");
        assert!(p.contains("unexpected type"), "{p}");
    }

    #[test]
    fn messages_are_actionable() {
        let e = Error::Unauthorized {
            endpoint: "GET /api/user".into(),
            token_configured: true,
        };
        assert!(e.to_string().contains("personal access token"));
    }
}
