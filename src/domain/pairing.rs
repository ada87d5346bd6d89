//! Deploys → incidents: chains (rule 4), recovery within the window (rule 5)
//! and the flaky flag (rule 6). One linear pass per group.

use super::deploys::{Deploys, GroupId};
use super::settings::{Outcome, RecoverySettings};

/// What became of a failed deploy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IncidentState {
    /// An anchor whose chain ended with a success within the window.
    Resolved {
        chain_failures: u32,
        recovered_at: i64,
        /// Number of the success pipeline that ended the chain.
        recovered_by: u64,
        recovery_secs: i64,
        /// Recovered faster than the flaky threshold: listed, not in MTTR.
        flaky: bool,
    },
    /// An anchor not recovered within the window (yet, or ever).
    Open {
        chain_failures: u32,
        /// True once it can no longer resolve: a success came after the
        /// window, or `now` is past the window. Only expired incidents are
        /// censored, because a younger one may still recover quickly.
        expired: bool,
    },
    /// A later failure of a chain; `by` is the anchor's pipeline number.
    Superseded { by: u64 },
}

/// One failed deploy, classified. Every failed deploy yields exactly one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Incident {
    pub group: GroupId,
    /// The failed pipeline's number.
    pub number: u64,
    /// When the failed deploy finished.
    pub failed_at: i64,
    pub state: IncidentState,
}

impl Incident {
    pub fn is_anchor(&self) -> bool {
        !matches!(self.state, IncidentState::Superseded { .. })
    }

    pub fn flaky(&self) -> bool {
        matches!(self.state, IncidentState::Resolved { flaky: true, .. })
    }

    /// Failures in the chain this incident anchors; `None` when superseded.
    pub fn chain_failures(&self) -> Option<u32> {
        match self.state {
            IncidentState::Resolved { chain_failures, .. }
            | IncidentState::Open { chain_failures, .. } => Some(chain_failures),
            IncidentState::Superseded { .. } => None,
        }
    }
}

/// All incidents, ordered like their deploys (group, failed_at, number).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Incidents {
    items: Vec<Incident>,
}

impl Incidents {
    pub fn iter(&self) -> std::slice::Iter<'_, Incident> {
        self.items.iter()
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn as_slice(&self) -> &[Incident] {
        &self.items
    }

    /// Bytes this value holds on the heap (for the memory budget).
    pub fn heap_bytes(&self) -> usize {
        self.items.capacity() * std::mem::size_of::<Incident>()
    }
}

impl<'a> IntoIterator for &'a Incidents {
    type Item = &'a Incident;
    type IntoIter = std::slice::Iter<'a, Incident>;
    fn into_iter(self) -> Self::IntoIter {
        self.items.iter()
    }
}

/// Classifies every failed deploy. Depends only on the deploys, the settings
/// and `now` (never on a query range), so any range sees the same incidents.
pub fn pair(deploys: &Deploys, settings: &RecoverySettings, now: i64) -> Incidents {
    let failures = deploys
        .items()
        .iter()
        .filter(|d| d.outcome == Outcome::Failure)
        .count();
    let mut items: Vec<Incident> = Vec::with_capacity(failures);
    for (group, slice) in deploys.group_slices() {
        // Index in `items` of the current chain's anchor, and its chain size.
        let mut chain: Option<(usize, u32)> = None;
        for d in slice {
            match (d.outcome, chain.as_mut()) {
                (Outcome::Ignored, _) => {}
                (Outcome::Failure, None) => {
                    chain = Some((items.len(), 1));
                    items.push(Incident {
                        group,
                        number: d.number,
                        failed_at: d.finished,
                        // Placeholder until the chain ends.
                        state: IncidentState::Superseded { by: d.number },
                    });
                }
                (Outcome::Failure, Some((anchor, size))) => {
                    *size += 1;
                    let by = items[*anchor].number;
                    items.push(Incident {
                        group,
                        number: d.number,
                        failed_at: d.finished,
                        state: IncidentState::Superseded { by },
                    });
                }
                (Outcome::Success, Some(&mut (anchor, size))) => {
                    let a = &mut items[anchor];
                    let recovery_secs = d.finished - a.failed_at;
                    a.state = if recovery_secs <= settings.window_secs {
                        IncidentState::Resolved {
                            chain_failures: size,
                            recovered_at: d.finished,
                            recovered_by: d.number,
                            recovery_secs,
                            flaky: recovery_secs < settings.flaky_secs,
                        }
                    } else {
                        IncidentState::Open {
                            chain_failures: size,
                            expired: true,
                        }
                    };
                    chain = None;
                }
                (Outcome::Success, None) => {}
            }
        }
        if let Some((anchor, size)) = chain {
            let a = &mut items[anchor];
            a.state = IncidentState::Open {
                chain_failures: size,
                expired: now - a.failed_at > settings.window_secs,
            };
        }
    }
    Incidents { items }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::deploys::collect_deploys;
    use crate::domain::deploys::tests::pipeline;
    use crate::domain::pipeline::{Pipeline, Status};
    use crate::domain::settings::{DeployFilter, WEEK_SECS};
    use crate::domain::PipelineFields;
    use crate::domain::Trees;

    const NOW: i64 = 100 * WEEK_SECS;

    fn run(ps: &[Pipeline], settings: &RecoverySettings) -> Vec<(u64, IncidentState)> {
        let d = collect_deploys(
            [("o/r", ps, &Trees::new())],
            &DeployFilter::default(),
            settings,
        );
        pair(&d, settings, NOW)
            .iter()
            .map(|i| (i.number, i.state))
            .collect()
    }

    fn def(ps: &[Pipeline]) -> Vec<(u64, IncidentState)> {
        run(ps, &RecoverySettings::default())
    }

    fn resolved(chain: u32, at: i64, by: u64, secs: i64, flaky: bool) -> IncidentState {
        IncidentState::Resolved {
            chain_failures: chain,
            recovered_at: at,
            recovered_by: by,
            recovery_secs: secs,
            flaky,
        }
    }

    use Status::{Failure as F, Success as S};

    #[test]
    fn an_incident_is_56_bytes() {
        // Only failures become incidents, so this is a fraction per deploy.
        assert_eq!(std::mem::size_of::<Incident>(), 56);
    }

    #[test]
    fn empty_input_has_no_incidents() {
        assert!(def(&[]).is_empty());
    }

    #[test]
    fn failure_then_success_resolves() {
        let ps = [pipeline(1, F, "prod", 1000), pipeline(2, S, "prod", 4600)];
        assert_eq!(def(&ps), vec![(1, resolved(1, 4600, 2, 3600, false))]);
    }

    #[test]
    fn chain_anchors_at_first_failure() {
        let ps = [
            pipeline(1, S, "prod", 10),
            pipeline(2, F, "prod", 1000),
            pipeline(3, Status::Error, "prod", 2000),
            pipeline(4, F, "prod", 3000),
            pipeline(5, S, "prod", 5000),
        ];
        assert_eq!(
            def(&ps),
            vec![
                (2, resolved(3, 5000, 5, 4000, false)),
                (3, IncidentState::Superseded { by: 2 }),
                (4, IncidentState::Superseded { by: 2 }),
            ]
        );
    }

    #[test]
    fn back_to_back_chains_are_separate_incidents() {
        let ps = [
            pipeline(1, F, "prod", 1000),
            pipeline(2, S, "prod", 2000),
            pipeline(3, F, "prod", 3000),
            pipeline(4, F, "prod", 3500),
            pipeline(5, S, "prod", 9000),
        ];
        assert_eq!(
            def(&ps),
            vec![
                (1, resolved(1, 2000, 2, 1000, false)),
                (3, resolved(2, 9000, 5, 6000, false)),
                (4, IncidentState::Superseded { by: 3 }),
            ]
        );
    }

    #[test]
    fn success_exactly_at_window_edge_resolves_one_second_later_does_not() {
        let at_edge = [
            pipeline(1, F, "prod", 1000),
            pipeline(2, S, "prod", 1000 + WEEK_SECS),
        ];
        assert_eq!(
            def(&at_edge),
            vec![(1, resolved(1, 1000 + WEEK_SECS, 2, WEEK_SECS, false))]
        );
        let past = [
            pipeline(1, F, "prod", 1000),
            pipeline(2, S, "prod", 1001 + WEEK_SECS),
        ];
        assert_eq!(
            def(&past),
            vec![(
                1,
                IncidentState::Open {
                    chain_failures: 1,
                    expired: true
                }
            )]
        );
    }

    #[test]
    fn late_success_still_ends_the_chain() {
        let ps = [
            pipeline(1, F, "prod", 1000),
            pipeline(2, S, "prod", 2000 + WEEK_SECS),
            pipeline(3, F, "prod", 3000 + WEEK_SECS),
            pipeline(4, S, "prod", 4000 + WEEK_SECS),
        ];
        let got = def(&ps);
        assert!(matches!(got[0].1, IncidentState::Open { .. }));
        assert_eq!(got[1], (3, resolved(1, 4000 + WEEK_SECS, 4, 1000, false)));
    }

    #[test]
    fn open_anchor_while_failures_keep_coming() {
        let ps: Vec<Pipeline> = (1..=6)
            .map(|n| pipeline(n, F, "prod", n as i64 * 2 * WEEK_SECS))
            .collect();
        let got = def(&ps);
        assert_eq!(
            got[0].1,
            IncidentState::Open {
                chain_failures: 6,
                expired: true
            }
        );
        assert!(got[1..]
            .iter()
            .all(|(_, s)| *s == IncidentState::Superseded { by: 1 }));
    }

    #[test]
    fn young_open_incident_is_not_expired() {
        let ps = [pipeline(1, F, "prod", NOW - 10)];
        assert_eq!(
            def(&ps),
            vec![(
                1,
                IncidentState::Open {
                    chain_failures: 1,
                    expired: false
                }
            )]
        );
    }

    #[test]
    fn open_incident_expires_one_second_after_its_window() {
        let open = |expired| IncidentState::Open {
            chain_failures: 1,
            expired,
        };
        let at_edge = [pipeline(1, F, "prod", NOW - WEEK_SECS)];
        assert_eq!(def(&at_edge), vec![(1, open(false))]);
        let past = [pipeline(1, F, "prod", NOW - WEEK_SECS - 1)];
        assert_eq!(def(&past), vec![(1, open(true))]);
    }

    #[test]
    fn interleaved_environments_pair_separately() {
        let ps = [
            pipeline(1, F, "prod", 1000),
            pipeline(2, F, "staging", 1100),
            pipeline(3, S, "staging", 1200),
            pipeline(4, F, "prod", 1300),
            pipeline(5, S, "prod", 2000),
        ];
        assert_eq!(
            def(&ps),
            vec![
                (1, resolved(2, 2000, 5, 1000, false)),
                (4, IncidentState::Superseded { by: 1 }),
                (2, resolved(1, 1200, 3, 100, true)),
            ]
        );
    }

    #[test]
    fn ties_on_finished_break_by_number() {
        // Success #3 and failure #2 finish together: #2 comes first, so #3 resolves it.
        let ps = [
            pipeline(3, S, "prod", 1000),
            pipeline(2, F, "prod", 1000),
            pipeline(4, F, "prod", 1000),
        ];
        assert_eq!(
            def(&ps),
            vec![
                (2, resolved(1, 1000, 3, 0, true)),
                (
                    4,
                    IncidentState::Open {
                        chain_failures: 1,
                        expired: true
                    }
                ),
            ]
        );
    }

    #[test]
    fn ignored_statuses_in_a_chain_change_nothing() {
        let mut running = pipeline(3, Status::Running, "prod", 1500);
        running = Pipeline::from(PipelineFields {
            finished: 1500,
            ..running.fields()
        }); // finished set by a buggy agent: still ignored by status
        let ps = [
            pipeline(1, F, "prod", 1000),
            pipeline(2, Status::Canceled, "prod", 1200),
            running,
            pipeline(4, Status::Killed, "prod", 1700),
            pipeline(5, F, "prod", 1800),
            pipeline(6, S, "prod", 2000),
        ];
        assert_eq!(
            def(&ps),
            vec![
                (1, resolved(2, 2000, 6, 1000, false)),
                (5, IncidentState::Superseded { by: 1 }),
            ]
        );
    }

    #[test]
    fn killed_ignored_by_default_and_counted_when_configured() {
        let ps = [
            pipeline(1, Status::Killed, "prod", 1000),
            pipeline(2, S, "prod", 2000),
        ];
        assert!(def(&ps).is_empty());
        let with_killed = RecoverySettings {
            failure_statuses: vec![F, Status::Error, Status::Killed],
            ..RecoverySettings::default()
        };
        assert_eq!(
            run(&ps, &with_killed),
            vec![(1, resolved(1, 2000, 2, 1000, false))]
        );
    }

    #[test]
    fn flaky_is_strictly_below_threshold() {
        let quick = [pipeline(1, F, "prod", 1000), pipeline(2, S, "prod", 1299)];
        assert_eq!(def(&quick), vec![(1, resolved(1, 1299, 2, 299, true))]);
        let exact = [pipeline(1, F, "prod", 1000), pipeline(2, S, "prod", 1300)];
        assert_eq!(def(&exact), vec![(1, resolved(1, 1300, 2, 300, false))]);
    }

    #[test]
    fn accessors_follow_the_state() {
        let ps = [
            pipeline(1, F, "prod", 1000),
            pipeline(2, F, "prod", 1100),
            pipeline(3, S, "prod", 1200),
        ];
        let d = collect_deploys(
            [("o/r", &ps[..], &Trees::new())],
            &DeployFilter::default(),
            &RecoverySettings::default(),
        );
        let inc = pair(&d, &RecoverySettings::default(), NOW);
        let v = inc.as_slice();
        assert!(v[0].is_anchor() && v[0].flaky() && v[0].chain_failures() == Some(2));
        assert!(!v[1].is_anchor() && !v[1].flaky() && v[1].chain_failures().is_none());
        assert_eq!(d.repo(v[0].group), "o/r");
        assert_eq!(d.environment(v[0].group), "prod");
    }
}
