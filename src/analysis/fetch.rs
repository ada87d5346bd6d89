//! Fetch and pair: histories from a source, then deploys → incidents,
//! collecting what a user should be told on the way (repos that could not
//! be read, caps, stale data, the deadline).

use std::borrow::Cow;

use std::collections::BTreeSet;

use super::{Notice, Scope, Seen};
use crate::domain::{self, Changes, Deploys, Event, Incidents, Pipeline, TimeRange, Trees};
use crate::source::woodpecker::shared_trouble_notice;
use crate::source::{
    all_repo_names, HistoryRequest, PipelineSource, Repo, SourceError, SourceErrorKind,
};

/// Deploys and incidents of the scope's repos, back to `reach_from`.
pub(super) struct Analysis {
    /// The repos that were read, for links back to Woodpecker.
    pub repos: Vec<Repo>,
    pub deploys: Deploys,
    pub incidents: Incidents,
    pub changes: Changes,
    pub notices: Vec<Notice>,
    /// Only when no deploy finished in the range (see [`Seen`]).
    pub seen: Option<Seen>,
}

pub(super) async fn analyse(
    source: &dyn PipelineSource,
    scope: &Scope,
    reach_from: i64,
) -> Result<Analysis, SourceError> {
    let names: Vec<String> = if scope.repos.is_empty() {
        all_repo_names(source, scope.deadline).await?
    } else {
        scope.repos.clone()
    };
    let covered = |p: &[Pipeline], t: &Trees| {
        domain::lookback_satisfied(p, t, reach_from, &scope.filter, &scope.settings)
    };
    // One history per repo serves deploys and the changes they deliver.
    let mut events: Vec<Event> = scope.filter.events.clone();
    events.extend(&scope.filter.change_events);
    events.sort_unstable();
    events.dedup();
    let needs_tree = |p: &Pipeline| scope.filter.needs_tree(p);
    let request = HistoryRequest {
        since: reach_from,
        covered: &covered,
        events: &events,
        needs_tree: (!scope.filter.deploy_steps.is_empty()).then_some(&needs_tree as _),
        deadline: scope.deadline,
    };
    let mut notices = Vec::new();
    let mut histories = Vec::new();
    let mut first_error = None;
    // Repos the deadline cut short: named in one notice each, not one per repo.
    let (mut late_held, mut late_missing) = (Vec::new(), Vec::new());
    let answer = source.histories(&names, &request).await;
    for (name, result) in answer.repos {
        match result {
            Ok(h) => {
                if h.capped {
                    notices.push(Notice::Info(format!(
                        "{name}: history reached the look-back limit before the previous successful deploy; an incident that began earlier, or changes delivered by the first deploy in range, may be missing"
                    )));
                }
                if h.truncated {
                    notices.push(Notice::Warning(format!(
                        "{name}: reading stopped at the most pipelines one repository may hold (maxPipelinesPerRepo); older history is left out"
                    )));
                }
                match &h.stale {
                    None => {}
                    Some(e) if e.kind == SourceErrorKind::Deadline => late_held.push(name),
                    Some(e) if e.kind == SourceErrorKind::Incomplete => {
                        notices.push(Notice::Warning(format!("{name}: {e}")))
                    }
                    Some(e) => {
                        let age = domain::words::duration((scope.now - h.fetched_at).max(0) as f64);
                        notices.push(Notice::Warning(format!(
                            "{name}: showing data fetched {age} ago because the refresh failed: {e}"
                        )));
                    }
                }
                histories.push(h);
            }
            Err(e) => {
                if e.kind == SourceErrorKind::Deadline {
                    late_missing.push(name);
                } else {
                    notices.push(Notice::Warning(format!("{name} could not be read: {e}")));
                }
                first_error.get_or_insert(e);
            }
        }
    }
    let limit = domain::words::duration(scope.deadline.limit().as_secs_f64());
    if !late_held.is_empty() {
        notices.push(Notice::Warning(format!(
            "not refreshed within the query's time limit of {limit}, so showing the data held from before: {}",
            name_list(&late_held)
        )));
    }
    if !late_missing.is_empty() {
        notices.push(Notice::Warning(format!(
            "not read within the query's time limit of {limit}, and nothing is held for them yet, so they are left out: {}",
            name_list(&late_missing)
        )));
    }
    if let Some((held, bound)) = answer.over_bound {
        notices.push(Notice::Info(format!(
            "the cache holds {held} pipelines, above its bound of {bound} (maxCachedPipelines), because the repositories in use need them; raise the bound so that other queries do not evict them"
        )));
    }
    if let Some(why) = &answer.shared_trouble {
        notices.push(Notice::Warning(shared_trouble_notice(why)));
    }
    if histories.is_empty() {
        if let Some(e) = first_error {
            return Err(e);
        }
    }
    // As of `now` (pinned by the CLI's --now), what finished later had not
    // happened: leave it out. Copies only the repos that hold such rows
    // (their trees are looked up by number, so they stay whole).
    let as_of_now: Vec<Cow<[Pipeline]>> = histories
        .iter()
        .map(|h| {
            if h.pipelines.iter().any(|p| p.finished() > scope.now) {
                Cow::Owned(
                    h.pipelines
                        .iter()
                        .filter(|p| p.finished() <= scope.now)
                        .cloned()
                        .collect(),
                )
            } else {
                Cow::Borrowed(&h.pipelines[..])
            }
        })
        .collect();
    for (h, pipelines) in histories.iter().zip(&as_of_now) {
        let missing = domain::trees_missing(pipelines, &h.trees, &scope.filter);
        if missing > 0 {
            notices.push(Notice::Warning(trees_missing_notice(
                &h.repo.full_name,
                missing,
                h.tree_error.as_ref(),
            )));
        }
    }
    let deploys = domain::collect_deploys(
        histories
            .iter()
            .zip(&as_of_now)
            .map(|(h, p)| (h.repo.full_name.as_str(), &p[..], &*h.trees)),
        &scope.filter,
        &scope.settings,
    );
    let incidents = domain::pair(&deploys, &scope.settings, scope.now);
    let log = domain::collect_changes(
        histories
            .iter()
            .zip(&as_of_now)
            .map(|(h, p)| (h.repo.full_name.as_str(), &p[..], h.complete)),
        &scope.filter,
    );
    let changes = domain::deliver(&log, &deploys);
    drop(log);
    // Only an empty answer pays for this pass over the history.
    let seen = (!deploys.iter().any(|d| scope.range.contains(d.finished)))
        .then(|| seen_in(as_of_now.iter().flat_map(|p| p.iter()), scope.range));
    Ok(Analysis {
        repos: histories.into_iter().map(|h| h.repo).collect(),
        deploys,
        incidents,
        changes,
        notices,
        seen,
    })
}

/// The events, environments and branches of the pipelines that finished in
/// `range`.
fn seen_in<'a>(pipelines: impl Iterator<Item = &'a Pipeline>, range: TimeRange) -> Seen {
    let (mut count, mut events, mut environments, mut branches) =
        (0, BTreeSet::new(), BTreeSet::new(), BTreeSet::new());
    for p in pipelines.filter(|p| range.contains(p.finished())) {
        count += 1;
        events.insert(p.event().as_str());
        environments.insert(domain::environment_of(p));
        branches.insert(p.branch());
    }
    let list = |set: BTreeSet<&str>| {
        set.into_iter()
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect()
    };
    Seen {
        pipelines: count,
        events: list(events),
        environments: list(environments),
        branches: list(branches),
    }
}

/// Deploy steps judge a pipeline by its workflow tree; one without it is
/// left out, never counted as "not a deploy", and the user is told.
fn trees_missing_notice(repo: &str, missing: usize, why: Option<&SourceError>) -> String {
    let what = if missing == 1 {
        "1 pipeline that may be a deploy is".to_string()
    } else {
        format!("{missing} pipelines that may be deploys are")
    };
    match why {
        Some(e) => format!(
            "{repo}: {what} left out because the workflow tree that deploySteps needs could not be read: {e}; the next query tries again"
        ),
        None => format!(
            "{repo}: {what} left out because the history holds no workflow tree for them, which deploySteps needs"
        ),
    }
}

/// Up to ten names, then how many more.
fn name_list(names: &[String]) -> String {
    const SHOWN: usize = 10;
    let mut text = names[..names.len().min(SHOWN)].join(", ");
    if names.len() > SHOWN {
        text.push_str(&format!(" and {} more", names.len() - SHOWN));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::PipelineFields;
    use crate::domain::Status;

    #[test]
    fn seen_lists_what_finished_in_the_range() {
        let p = |event: Event, branch: &str, deploy_to: &str, finished: i64| {
            Pipeline::from(PipelineFields {
                number: 1,
                status: Status::Success,
                event,
                branch,
                deploy_to,
                finished,
                ..PipelineFields::default()
            })
        };
        let history = [
            p(Event::Push, "main", "", 10),
            p(Event::Deployment, "main", "production", 20),
            p(Event::Push, "dev", "", 30),
            p(Event::Tag, "", "", 40),
            p(Event::Cron, "old", "", 5),
        ];
        let seen = seen_in(history.iter(), TimeRange { from: 10, to: 40 });
        assert_eq!(
            seen,
            Seen {
                pipelines: 4,
                events: vec!["deployment".into(), "push".into(), "tag".into()],
                environments: vec!["dev".into(), "main".into(), "production".into()],
                branches: vec!["dev".into(), "main".into()],
            }
        );
    }
}
