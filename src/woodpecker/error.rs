//! Errors a user can act on. Every `Display` is one sentence that says what
//! went wrong and what to check. No message ever contains the API token:
//! requests carry it only in a sensitive header, URLs are built without
//! credentials, and response snippets are scrubbed before they are stored.

use std::fmt;
use std::time::Duration;

/// A coarse classification, handy for metrics labels and for deciding
/// whether to fall back to cached data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    Config,
    Network,
    Auth,
    NotFound,
    Server,
    BadResponse,
}

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

    #[error("Woodpecker rejected {endpoint} with HTTP {status}: {snippet:?}")]
    Rejected {
        status: u16,
        endpoint: String,
        snippet: String,
    },

    #[error("{endpoint} did not return Woodpecker JSON (starts with {snippet:?}); check that the URL points at the Woodpecker server and not at a proxy or login page")]
    NotWoodpecker { endpoint: String, snippet: String },

    #[error("{endpoint} returned JSON that could not be read ({detail}; starts with {snippet:?}); the response may be cut off or from an unsupported Woodpecker version")]
    Malformed {
        endpoint: String,
        detail: String,
        snippet: String,
    },

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
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::InvalidUrl { .. } | Error::InvalidToken => ErrorKind::Config,
            Error::Unreachable { .. } | Error::Tls { .. } | Error::Timeout { .. } => {
                ErrorKind::Network
            }
            Error::Interrupted { .. } => ErrorKind::Network,
            Error::Unauthorized { .. } | Error::Forbidden { .. } => ErrorKind::Auth,
            Error::RepoNotFound { .. } | Error::NotFound { .. } => ErrorKind::NotFound,
            Error::RateLimited { .. } | Error::Server { .. } => ErrorKind::Server,
            Error::Rejected { .. }
            | Error::NotWoodpecker { .. }
            | Error::Malformed { .. }
            | Error::TooLarge { .. } => ErrorKind::BadResponse,
        }
    }

    /// True for errors that another attempt might not repeat.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Error::Unreachable { .. }
                | Error::Timeout { .. }
                | Error::Interrupted { .. }
                | Error::RateLimited { .. }
                | Error::Server { .. }
        )
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ErrorKind::Config => "config",
            ErrorKind::Network => "network",
            ErrorKind::Auth => "auth",
            ErrorKind::NotFound => "not_found",
            ErrorKind::Server => "server",
            ErrorKind::BadResponse => "bad_response",
        })
    }
}

/// Maximum characters of a response body quoted in an error.
pub(crate) const SNIPPET_CHARS: usize = 120;

/// The first bytes of a body, printable and single-line, with `secret`
/// (the token, if any) replaced. Safe to put in an error message.
pub(crate) fn snippet(body: &[u8], secret: Option<&str>) -> String {
    let head = &body[..body.len().min(SNIPPET_CHARS * 4)];
    let text = String::from_utf8_lossy(head);
    let text = match secret {
        Some(s) if !s.is_empty() => text.replace(s, "[redacted]"),
        _ => text.into_owned(),
    };
    let mut out = String::new();
    let mut last_space = false;
    for c in text.chars() {
        if out.chars().count() >= SNIPPET_CHARS {
            out.push('…');
            break;
        }
        let c = if c.is_control() || c.is_whitespace() {
            ' '
        } else {
            c
        };
        if c == ' ' && last_space {
            continue;
        }
        last_space = c == ' ';
        out.push(c);
    }
    out.trim().to_string()
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
    fn snippet_is_short_single_line_and_scrubbed() {
        let body = b"<html>\n  <body>secret-123 Login required</body></html>";
        let s = snippet(body, Some("secret-123"));
        assert_eq!(s, "<html> <body>[redacted] Login required</body></html>");
        let long = vec![b'a'; 10_000];
        assert!(snippet(&long, None).chars().count() <= SNIPPET_CHARS + 1);
    }

    #[test]
    fn messages_are_actionable() {
        let e = Error::Unauthorized {
            endpoint: "GET /api/user".into(),
            token_configured: true,
        };
        assert!(e.to_string().contains("personal access token"));
        assert_eq!(e.kind(), ErrorKind::Auth);
    }
}
