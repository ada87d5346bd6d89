//! How (repo, environment) groups fold into the labels a query asks for.

use std::collections::BTreeMap;

use super::deploys::Deploys;

/// Which dimensions split the result; both false gives one overall result.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GroupBy {
    pub repo: bool,
    pub environment: bool,
}

/// The label of one result; a dimension not grouped by is `None`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GroupLabel {
    pub repo: Option<String>,
    pub environment: Option<String>,
}

/// The labels in order, and for each group id the index of its label.
pub(crate) fn labels(deploys: &Deploys, by: GroupBy) -> (Vec<GroupLabel>, Vec<u32>) {
    let per_group: Vec<GroupLabel> = (0..deploys.group_count() as u32)
        .map(|g| {
            let g = super::deploys::GroupId(g);
            GroupLabel {
                repo: by.repo.then(|| deploys.repo(g).to_owned()),
                environment: by.environment.then(|| deploys.environment(g).to_owned()),
            }
        })
        .collect();
    let mut index: BTreeMap<&GroupLabel, u32> = per_group.iter().map(|l| (l, 0)).collect();
    for (i, v) in index.values_mut().enumerate() {
        *v = i as u32;
    }
    let of_group = per_group.iter().map(|l| index[l]).collect();
    let labels = index.into_keys().cloned().collect();
    (labels, of_group)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::deploys::collect_deploys;
    use crate::domain::deploys::tests::pipeline;
    use crate::domain::pipeline::Status;
    use crate::domain::settings::{DeployFilter, RecoverySettings};
    use crate::domain::Trees;

    #[test]
    fn environments_merge_across_repos() {
        let a = [
            pipeline(1, Status::Success, "prod", 1),
            pipeline(2, Status::Success, "dev", 1),
        ];
        let b = [pipeline(1, Status::Success, "prod", 1)];
        let d = collect_deploys(
            [("a", &a[..], &Trees::new()), ("b", &b[..], &Trees::new())],
            &DeployFilter::default(),
            &RecoverySettings::default(),
        );
        let by_env = GroupBy {
            repo: false,
            environment: true,
        };
        let (labels, of) = labels(&d, by_env);
        let envs: Vec<_> = labels.iter().map(|l| l.environment.as_deref()).collect();
        assert_eq!(envs, vec![Some("dev"), Some("prod")]);
        // groups: (a,dev) (a,prod) (b,prod)
        assert_eq!(of, vec![0, 1, 1]);
        let (all, of) = super::labels(&d, GroupBy::default());
        assert_eq!(all, vec![GroupLabel::default()]);
        assert_eq!(of, vec![0, 0, 0]);
    }
}
