//! Deploys → incidents: within each (repo, environment), a run of
//! consecutive failures is one chain; its first failure is the incident and
//! the success that ends the chain resolves it if it lands within the
//! window.

use std::sync::Arc;

use super::deploys::Deploys;
use super::settings::RecoverySettings;

/// How a failed deploy ended up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IncidentState {
    /// The chain's first failure, fixed by `recovered_by` within the window.
    Resolved {
        recovered_at: i64,
        recovered_by: u64,
        recovery_secs: i64,
    },
    /// The chain's first failure, with no fixing success within the window
    /// (none yet, or one that came too late).
    Open,
    /// A later failure of a chain; `by` is the chain's first failure.
    Superseded { by: u64 },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Incident {
    pub repo: Arc<str>,
    pub environment: Arc<str>,
    /// The failed deploy's pipeline number.
    pub pipeline: u64,
    /// When the failed deploy finished.
    pub failed_at: i64,
    /// Failures in the chain, the first included (0 for superseded ones).
    pub chain_failures: u32,
    /// Resolved faster than the flaky threshold; listed but not counted.
    pub flaky: bool,
    pub state: IncidentState,
}

impl Incident {
    /// The first failure of a chain (resolved or open), as opposed to a
    /// superseded one.
    pub fn is_anchor(&self) -> bool {
        !matches!(self.state, IncidentState::Superseded { .. })
    }

    pub fn recovery_secs(&self) -> Option<i64> {
        match self.state {
            IncidentState::Resolved { recovery_secs, .. } => Some(recovery_secs),
            _ => None,
        }
    }
}

/// Every failed deploy, classified; ordered by group, then time.
#[derive(Clone, Debug, Default)]
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

/// Classifies every failed deploy that finished by `now`; deploys after
/// `now` are not seen, so a pinned clock replays history exactly.
pub fn pair(deploys: &Deploys, settings: &RecoverySettings, now: i64) -> Incidents {
    let failures = deploys.failed.iter().filter(|f| **f).count();
    let mut items: Vec<Incident> = Vec::with_capacity(failures);
    for g in deploys.groups() {
        // Index in `items` of the open chain's first failure.
        let mut anchor: Option<usize> = None;
        for i in g.range.clone() {
            let finished = deploys.finished[i];
            if finished > now {
                break;
            }
            let number = deploys.number[i];
            if deploys.failed[i] {
                let state = match anchor {
                    Some(a) => {
                        items[a].chain_failures += 1;
                        IncidentState::Superseded {
                            by: items[a].pipeline,
                        }
                    }
                    None => {
                        anchor = Some(items.len());
                        IncidentState::Open
                    }
                };
                items.push(Incident {
                    repo: g.repo.clone(),
                    environment: g.environment.clone(),
                    pipeline: number,
                    failed_at: finished,
                    chain_failures: if anchor == Some(items.len()) { 1 } else { 0 },
                    flaky: false,
                    state,
                });
            } else if let Some(a) = anchor.take() {
                let inc = &mut items[a];
                let recovery_secs = finished - inc.failed_at;
                if recovery_secs <= settings.window_secs {
                    inc.state = IncidentState::Resolved {
                        recovered_at: finished,
                        recovered_by: number,
                        recovery_secs,
                    };
                    inc.flaky = recovery_secs < settings.flaky_secs;
                }
            }
        }
    }
    Incidents { items }
}
