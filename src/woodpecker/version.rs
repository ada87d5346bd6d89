//! What a server can do, from `GET /version`.

use std::fmt;

/// The version a Woodpecker server reports, plus the capabilities the client
/// derives from it. Development builds (`next-…`, `dev`) count as the newest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerVersion {
    /// Exactly what the server said, e.g. `3.17.0`, `next-a4cb541b80`.
    pub raw: String,
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
    /// `next-*`, `dev` or otherwise unparsable: assumed to be the newest.
    pub development: bool,
}

impl ServerVersion {
    pub fn parse(raw: &str) -> ServerVersion {
        let raw = raw.trim();
        let s = raw.trim_start_matches(['v', 'V']);
        // "3.18-a4cb541b80" (release branch build) or "3.17.0" or "2.8.3-rc1".
        let core: &str = s.split(['-', '+']).next().unwrap_or("");
        let mut parts = core.split('.').map(|p| p.parse::<u32>());
        match (parts.next(), parts.next()) {
            (Some(Ok(major)), Some(Ok(minor))) => {
                let patch = parts.next().and_then(|p| p.ok()).unwrap_or(0);
                ServerVersion {
                    raw: raw.to_string(),
                    major,
                    minor,
                    patch,
                    development: false,
                }
            }
            _ => ServerVersion {
                raw: raw.to_string(),
                major: u32::MAX,
                minor: 0,
                patch: 0,
                development: true,
            },
        }
    }

    fn at_least(&self, major: u32, minor: u32) -> bool {
        (self.major, self.minor) >= (major, minor)
    }

    /// `before`/`after` on the pipeline list (2.5.0+).
    pub(crate) fn has_time_filters(&self) -> bool {
        self.at_least(2, 5)
    }

    /// `event`, `branch`, `status`, `ref` on the pipeline list (3.0.0+).
    pub(crate) fn has_event_filter(&self) -> bool {
        self.at_least(3, 0)
    }

    /// Whether the server's event validation knows this event name, so that
    /// sending it in `event=` does not produce a 400.
    pub(crate) fn knows_event(&self, event: crate::domain::Event) -> bool {
        use crate::domain::Event::*;
        match event {
            Push | PullRequest | Tag | Deployment | Cron | Manual => true,
            PullRequestClosed => self.at_least(2, 1),
            Release => self.at_least(2, 3),
            PullRequestMetadata => self.at_least(3, 10),
            Other => false,
        }
    }
}

impl fmt::Display for ServerVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.raw)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Event;

    #[test]
    fn parses_release_dev_and_branch_builds() {
        let v = ServerVersion::parse("3.17.0");
        assert_eq!(
            (v.major, v.minor, v.patch, v.development),
            (3, 17, 0, false)
        );
        assert!(v.has_event_filter() && v.has_time_filters());
        let v = ServerVersion::parse("2.8.3");
        assert!(!v.has_event_filter() && v.has_time_filters());
        let v = ServerVersion::parse("2.4.1");
        assert!(!v.has_time_filters());
        let v = ServerVersion::parse("3.18-a4cb541b80");
        assert_eq!((v.major, v.minor), (3, 18));
        for dev in ["next-a4cb541b80", "dev", ""] {
            let v = ServerVersion::parse(dev);
            assert!(v.development && v.has_event_filter(), "{dev}");
        }
        assert!(!ServerVersion::parse("3.9.0").knows_event(Event::PullRequestMetadata));
        assert!(ServerVersion::parse("3.10.0").knows_event(Event::PullRequestMetadata));
    }
}
