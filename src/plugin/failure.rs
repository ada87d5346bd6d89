//! Why a query (or a resource call) has no answer, as Grafana shows it: an
//! HTTP-style status and whose fault it is. Every failure is classified
//! here, once.

use crate::source::{SourceError, SourceErrorKind};

/// Whose fault an error is, which Grafana uses to tell users (and its
/// plugin SLOs) apart: the plugin's own, or the user's input and the
/// Woodpecker server's (as Grafana's Go SDK classifies HTTP statuses).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorSource {
    Plugin,
    Downstream,
}

impl ErrorSource {
    /// The protocol's `errorSource` value.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorSource::Plugin => "plugin",
            ErrorSource::Downstream => "downstream",
        }
    }
}

/// Why one query has no frames: shown to the user as that query's error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueryFailure {
    /// HTTP-style status Grafana shows (400 bad query, 502 upstream, ...).
    pub status: i32,
    pub message: String,
    pub source: ErrorSource,
}

impl QueryFailure {
    /// The query or the data source settings are wrong: the user's to fix.
    pub(crate) fn bad_request(message: impl Into<String>) -> QueryFailure {
        QueryFailure {
            status: 400,
            message: message.into(),
            source: ErrorSource::Downstream,
        }
    }

    /// The plugin failed (a caught panic, an encoding error).
    pub fn internal(message: impl Into<String>) -> QueryFailure {
        QueryFailure {
            status: 500,
            message: message.into(),
            source: ErrorSource::Plugin,
        }
    }
}

/// Woodpecker's trouble (or a setting it refused) as Grafana shows it.
impl From<SourceError> for QueryFailure {
    fn from(e: SourceError) -> QueryFailure {
        QueryFailure {
            status: match e.kind {
                SourceErrorKind::BadConfig => 400,
                SourceErrorKind::Unauthorized => 401,
                SourceErrorKind::NotFound => 404,
                SourceErrorKind::Timeout | SourceErrorKind::Deadline => 504,
                SourceErrorKind::Unavailable
                | SourceErrorKind::Upstream
                | SourceErrorKind::Incomplete => 502,
            },
            message: e.message,
            source: ErrorSource::Downstream,
        }
    }
}
