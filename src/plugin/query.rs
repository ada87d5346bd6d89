//! One Grafana query, read leniently from its JSON and validated on its own
//! so that a bad query fails alone, with an error naming the field.

use serde_json::Value;

use crate::analysis::summary_metrics;
use crate::domain::GroupBy;
use crate::input::duration::parse_duration;
use crate::input::json_fields::{FieldError, JsonObject};
use crate::input::options::RecoveryOptions;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QueryType {
    Incidents,
    Mttr,
    Summary,
    Deploys,
    Changes,
    Trends,
}

impl QueryType {
    pub fn as_str(self) -> &'static str {
        match self {
            QueryType::Incidents => "incidents",
            QueryType::Mttr => "mttr",
            QueryType::Summary => "summary",
            QueryType::Deploys => "deploys",
            QueryType::Changes => "changes",
            QueryType::Trends => "trends",
        }
    }
}

/// A query as the user wrote it (durations still unresolved against the
/// time range, options still to be merged with the data source's).
#[derive(Clone, Debug, PartialEq)]
pub struct QuerySpec {
    pub query_type: QueryType,
    pub repos: Vec<String>,
    pub options: RecoveryOptions,
    pub bucket_secs: Option<i64>,
    pub rolling_secs: Option<i64>,
    pub group_by: GroupBy,
    pub include_superseded: bool,
    /// A summary reduced to one number per group (for alert rules).
    pub metric: Option<&'static str>,
}

/// Most points a series may have; more is almost surely a mistake and
/// would cost memory for nothing.
pub const MAX_POINTS: i64 = 10_000;
/// The finest bucket: Woodpecker times are seconds, recoveries minutes.
/// Also the shortest rolling window, which is never finer than a bucket.
pub const MIN_BUCKET_SECS: i64 = 60;

fn summary_metric(name: &str) -> Option<&'static str> {
    summary_metrics().find(|m| *m == name)
}

impl QuerySpec {
    /// `fallback_type` is the protocol's `queryType`, used when the JSON
    /// has none.
    pub fn parse(json: &[u8], fallback_type: &str) -> Result<QuerySpec, FieldError> {
        let value: Value = if json.iter().all(u8::is_ascii_whitespace) {
            Value::Null
        } else {
            serde_json::from_slice(json)
                .map_err(|e| FieldError::new("query", format!("is not valid JSON: {e}")))?
        };
        let o = JsonObject::new(&value, "query")?;
        let query_type = match o.opt_str("queryType")?.or_else(|| {
            let t = fallback_type.trim();
            (!t.is_empty()).then_some(t)
        }) {
            None | Some("summary") => QueryType::Summary,
            Some("incidents") => QueryType::Incidents,
            Some("mttr") => QueryType::Mttr,
            Some("deploys") => QueryType::Deploys,
            Some("changes") => QueryType::Changes,
            Some("trends") => QueryType::Trends,
            Some(other) => {
                return Err(FieldError::new(
                    "queryType",
                    format!(
                        "must be one of incidents, mttr, trends, summary, deploys, changes; got {other:?}"
                    ),
                ))
            }
        };
        let duration = |key: &str| -> Result<Option<i64>, FieldError> {
            let Some(text) = o.opt_str(key)? else {
                return Ok(None);
            };
            let secs = parse_duration(text).map_err(|e| FieldError::new(key, e.to_string()))?;
            if secs < MIN_BUCKET_SECS {
                return Err(FieldError::new(
                    key,
                    format!("must be at least 1m, got {text:?}"),
                ));
            }
            Ok(Some(secs))
        };
        let bucket_secs = duration("bucket")?;
        let mut group_by = GroupBy::default();
        for g in o.strings("groupBy")? {
            match g.as_str() {
                "repo" => group_by.repo = true,
                "environment" => group_by.environment = true,
                other => {
                    return Err(FieldError::new(
                        "groupBy",
                        format!("may hold \"repo\" and \"environment\", got {other:?}"),
                    ))
                }
            }
        }
        let metric = match o.opt_str("metric")? {
            None => None,
            Some(_) if query_type != QueryType::Summary => {
                return Err(FieldError::new("metric", "applies to summary queries only"))
            }
            Some(name) => Some(summary_metric(name).ok_or_else(|| {
                FieldError::new(
                    "metric",
                    format!(
                        "must be a numeric summary field ({}), got {name:?}",
                        summary_metrics().collect::<Vec<_>>().join(", ")
                    ),
                )
            })?),
        };
        Ok(QuerySpec {
            query_type,
            repos: o.repo_names("repos")?,
            options: RecoveryOptions::read(&o)?,
            bucket_secs,
            rolling_secs: duration("rolling")?,
            group_by,
            include_superseded: o.opt_bool("includeSuperseded")?.unwrap_or(false),
            metric,
        })
    }

    /// The bucket length for a range: the query's own, else Grafana's
    /// interval, never finer than a minute nor more than `MAX_POINTS`.
    pub fn bucket_for(&self, from: i64, to: i64, interval_ms: i64) -> Result<i64, FieldError> {
        let span = (to - from).max(1);
        match self.bucket_secs {
            Some(b) if span / b > MAX_POINTS => Err(FieldError::new(
                "bucket",
                format!(
                    "gives {} points over this time range; the most is {MAX_POINTS}: choose a longer bucket",
                    span / b
                ),
            )),
            Some(b) => Ok(b),
            None => Ok((interval_ms / 1000)
                .max(MIN_BUCKET_SECS)
                .max((span + MAX_POINTS - 1) / MAX_POINTS)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_query_is_a_summary_of_everything() {
        let q = QuerySpec::parse(b"", "").unwrap();
        assert_eq!(q.query_type, QueryType::Summary);
        assert!(q.repos.is_empty());
        assert_eq!(q.options, RecoveryOptions::default());
        let q = QuerySpec::parse(br#"{"refId":"A","datasource":{"uid":"x"}}"#, "").unwrap();
        assert_eq!(q.query_type, QueryType::Summary);
    }

    #[test]
    fn reads_the_documented_model() {
        let q = QuerySpec::parse(
            br#"{"queryType":"mttr","repos":["org/app"],"bucket":"1d","rolling":"30d",
                "groupBy":["repo","environment"],"includeSuperseded":true,"windowDays":3}"#,
            "",
        )
        .unwrap();
        assert_eq!(q.query_type, QueryType::Mttr);
        assert_eq!(q.repos, ["org/app"]);
        assert_eq!(q.bucket_secs, Some(86_400));
        assert_eq!(q.rolling_secs, Some(30 * 86_400));
        assert_eq!(
            q.group_by,
            GroupBy {
                repo: true,
                environment: true
            }
        );
        assert!(q.include_superseded);
        assert_eq!(q.options.window_days, Some(3.0));
    }

    #[test]
    fn protocol_query_type_is_the_fallback() {
        assert_eq!(
            QuerySpec::parse(b"{}", "deploys").unwrap().query_type,
            QueryType::Deploys
        );
    }

    #[test]
    fn errors_name_the_field() {
        for (json, field) in [
            (&br#"{"queryType":"latency"}"#[..], "queryType"),
            (br#"{"bucket":"30s"}"#, "bucket"),
            (br#"{"bucket":"soon"}"#, "bucket"),
            (br#"{"rolling":"-1d"}"#, "rolling"),
            (br#"{"rolling":"30s"}"#, "rolling"),
            (br#"{"groupBy":["author"]}"#, "groupBy"),
            (br#"{"repos":"#, "query"),
            (br#"[1,2]"#, "query"),
            (br#"{"includeSuperseded":3}"#, "includeSuperseded"),
        ] {
            let e = QuerySpec::parse(json, "").unwrap_err();
            assert_eq!(e.field, field, "{}", String::from_utf8_lossy(json));
        }
    }

    #[test]
    fn bucket_defaults_to_interval_but_never_below_a_minute_or_above_max_points() {
        let q = QuerySpec::parse(b"{}", "").unwrap();
        assert_eq!(q.bucket_for(0, 86_400, 1_000).unwrap(), 60);
        assert_eq!(q.bucket_for(0, 86_400, 3_600_000).unwrap(), 3_600);
        let year = 365 * 86_400;
        assert_eq!(
            q.bucket_for(0, year * 10, 1).unwrap(),
            (year * 10 + MAX_POINTS - 1) / MAX_POINTS
        );
        let q = QuerySpec::parse(br#"{"bucket":"1m"}"#, "").unwrap();
        assert_eq!(q.bucket_for(0, year, 1).unwrap_err().field, "bucket");
    }
}
