//! CollectMetrics: each data source's Woodpecker traffic and cache, in
//! Prometheus text format (Grafana serves it at
//! `/api/plugins/<id>/metrics`).

use std::fmt::Write;

use crate::source::SourceStats;

/// (name, help, type, value) of every metric one source reports.
fn metrics(s: &SourceStats) -> [(&'static str, &'static str, &'static str, u64); 15] {
    let c = &s.counters;
    [
        (
            "requests_total",
            "HTTP requests sent to Woodpecker, retries included",
            "counter",
            c.requests,
        ),
        (
            "retries_total",
            "Retries after a connect error, 429 or 5xx",
            "counter",
            c.retries,
        ),
        (
            "pages_total",
            "Pipeline list pages received",
            "counter",
            c.pages,
        ),
        (
            "pipelines_parsed_total",
            "Pipeline rows parsed",
            "counter",
            c.pipelines_parsed,
        ),
        (
            "workflow_trees_total",
            "Workflow trees read from the pipeline detail endpoint (deploySteps)",
            "counter",
            c.trees,
        ),
        (
            "cache_hits_total",
            "Repo histories found in the cache",
            "counter",
            c.cache_hits,
        ),
        (
            "cache_misses_total",
            "Repo histories fetched from nothing",
            "counter",
            c.cache_misses,
        ),
        (
            "shared_fetches_total",
            "Queries answered by a fetch another query made",
            "counter",
            c.shared_fetches,
        ),
        (
            "refreshes_skipped_total",
            "Repo refreshes left out because the user feed showed nothing new",
            "counter",
            c.refreshes_skipped,
        ),
        (
            "restored_total",
            "Repo histories filled from the on-disk store",
            "counter",
            c.restored,
        ),
        (
            "evictions_total",
            "Repos evicted to stay under the cache bound",
            "counter",
            c.evictions,
        ),
        (
            "shared_failures_total",
            "Queries answered with the failure of a refresh they waited on or that failed within the backoff",
            "counter",
            c.shared_failures,
        ),
        (
            "over_bound_total",
            "Repo reads that found the cache above its bound with every repo in use",
            "counter",
            c.over_bound,
        ),
        (
            "deadlines_hit_total",
            "Repo reads cut short by the query's time limit",
            "counter",
            c.deadlines_hit,
        ),
        (
            "cached_pipelines",
            "Pipelines held in the cache",
            "gauge",
            s.held_pipelines as u64,
        ),
    ]
}

/// Prometheus exposition of the given data sources' stats.
pub fn prometheus(sources: &[(String, SourceStats)]) -> String {
    let mut out = String::new();
    let Some((_, first)) = sources.first() else {
        return out;
    };
    for (i, (name, help, kind, _)) in metrics(first).iter().enumerate() {
        let _ = writeln!(out, "# HELP woodpecker_dora_{name} {help}.");
        let _ = writeln!(out, "# TYPE woodpecker_dora_{name} {kind}");
        for (datasource, stats) in sources {
            let value = metrics(stats)[i].3;
            let label = datasource.replace('\\', "\\\\").replace('"', "\\\"");
            let _ = writeln!(
                out,
                "woodpecker_dora_{name}{{datasource=\"{label}\"}} {value}"
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::woodpecker::Counters;

    #[test]
    fn one_family_per_metric_one_line_per_data_source() {
        let stats = |requests| SourceStats {
            counters: Counters {
                requests,
                ..Counters::default()
            },
            held_pipelines: 7,
        };
        let text = prometheus(&[("uid:a".into(), stats(3)), ("uid:b\"".into(), stats(5))]);
        assert!(text.contains("# TYPE woodpecker_dora_requests_total counter\n"));
        assert!(text.contains("woodpecker_dora_requests_total{datasource=\"uid:a\"} 3\n"));
        assert!(text.contains("woodpecker_dora_requests_total{datasource=\"uid:b\\\"\"} 5\n"));
        assert!(text.contains("woodpecker_dora_cached_pipelines{datasource=\"uid:a\"} 7\n"));
        assert_eq!(text.matches("# HELP").count(), 15);
        assert_eq!(prometheus(&[]), "");
    }
}
