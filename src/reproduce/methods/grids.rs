//! The methods table as data: the student sizes, and for each method of the registry its
//! settings shared by every candidate and its small validation grid, both as `--set`
//! assignments. Adding a method to the table is adding an entry to [`GRIDS`].

use crate::config::Method;

/// A student size: one table of results.
#[derive(Clone, Copy, Debug)]
pub(super) struct Student {
    /// Its hidden widths.
    pub hidden: &'static [usize],
    /// How the table names it (`2×800`).
    pub name: &'static str,
    /// Its epochs under `--budget full`: the same for every method of its table. The narrow
    /// student trains 6× longer, as cheaply as the wide one's 10 (a second each), since at 10
    /// epochs it had not yet learnt from soft targets what it learns by 60.
    pub full_epochs: usize,
}

impl Student {
    /// The short tag of run folder names: `s800` for 2×800.
    pub fn tag(self) -> String {
        let width = self.hidden.first().copied().unwrap_or(0);
        format!("s{width}")
    }
}

/// The main table's student (the paper's 2×800), then the narrow one, where the paper found
/// intermediate temperatures best.
pub(super) const STUDENTS: [Student; 2] = [
    Student {
        hidden: &[800, 800],
        name: "2×800",
        full_epochs: 10,
    },
    Student {
        hidden: &[30, 30],
        name: "2×30",
        full_epochs: 60,
    },
];

/// One method's row: what it is, what it always sets, and the candidates the validation
/// split chooses between.
#[derive(Clone, Copy, Debug)]
pub(super) struct Grid {
    /// The method (its registry entry does the work).
    pub method: Method,
    /// The row's description: the paper, and anything special about how it runs here.
    pub label: &'static str,
    /// Assignments every candidate shares (after the table's recipe).
    pub fixed: &'static [&'static str],
    /// The candidates, each a list of assignments; the first wins a tie.
    pub candidates: &'static [&'static [&'static str]],
}

impl Grid {
    /// A candidate as the table prints it: its assignments without the `distill.` prefix,
    /// e.g. `temperature=4` or `rkd_distance_weight=25, rkd_angle_weight=50`.
    pub fn setting(candidate: &[&str]) -> String {
        candidate
            .iter()
            .map(|a| a.strip_prefix("distill.").unwrap_or(a))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Every method in the registry's order, two candidates each (to keep `--budget full` under
/// about 35 minutes on 2 cores); the same grids for both student sizes.
pub(super) const GRIDS: [Grid; 9] = [
    Grid {
        method: Method::Hinton,
        label: "soft targets (Hinton et al. 2015), α 0.9",
        fixed: &["distill.alpha=0.9"],
        candidates: &[&["distill.temperature=4"], &["distill.temperature=20"]],
    },
    Grid {
        method: Method::LogitL2,
        label: "logit matching, L2 (Ba & Caruana 2014)",
        fixed: &[],
        candidates: &[
            &["distill.zero_mean_logits=false"],
            &["distill.zero_mean_logits=true"],
        ],
    },
    Grid {
        method: Method::NoisyTeacher,
        label: "noisy teacher (Sau & Balasubramanian 2016)",
        fixed: &[],
        candidates: &[&["distill.noise_sigma=0.1"], &["distill.noise_sigma=0.316"]],
    },
    Grid {
        method: Method::ModelCompression,
        label: "model compression, MUNGE k = 1 (Buciluă et al. 2006)",
        // One synthetic copy of the transfer set: its epochs see twice the others' examples.
        fixed: &["transfer.munge_params.k=1"],
        candidates: &[
            &["distill.soft_labels=false"],
            &["distill.soft_labels=true"],
        ],
    },
    Grid {
        method: Method::Fitnets,
        label: "FitNets hint, then soft targets T 4, α 0.9 (Romero et al. 2015)",
        fixed: &["distill.temperature=4", "distill.alpha=0.9"],
        candidates: &[
            &["distill.fitnets_hint_epochs=2"],
            &["distill.fitnets_hint_epochs=5"],
        ],
    },
    Grid {
        method: Method::Dkd,
        label: "decoupled KD (Zhao et al. 2022)",
        fixed: &[],
        candidates: &[&["distill.dkd_beta=2"], &["distill.dkd_beta=8"]],
    },
    Grid {
        method: Method::Dml,
        label: "mutual learning, 2 students (Zhang et al. 2018): no teacher",
        fixed: &[],
        candidates: &[&["distill.dml_kl_weight=0.5"], &["distill.dml_kl_weight=1"]],
    },
    Grid {
        method: Method::Takd,
        label: "teacher assistant, width auto (Mirzadeh et al. 2020)",
        fixed: &["distill.takd_assistant_width=0"],
        candidates: &[&["distill.temperature=4"], &["distill.temperature=20"]],
    },
    Grid {
        method: Method::Rkd,
        label: "relational KD (Park et al. 2019)",
        fixed: &[],
        candidates: &[
            &[
                "distill.rkd_distance_weight=25",
                "distill.rkd_angle_weight=50",
            ],
            &[
                "distill.rkd_distance_weight=5",
                "distill.rkd_angle_weight=10",
            ],
        ],
    },
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::RunConfig;

    /// The table has every method once, in the registry's order, and every assignment is a
    /// real key whose candidates really differ (a typo'd key or a grid of equal settings
    /// would make the choice meaningless).
    #[test]
    fn every_method_has_one_grid_of_valid_distinct_candidates() {
        let methods: Vec<Method> = GRIDS.iter().map(|g| g.method).collect();
        assert_eq!(methods, Method::ALL);
        for grid in &GRIDS {
            assert!(grid.candidates.len() >= 2, "{:?}", grid.method);
            let configs: Vec<RunConfig> = grid
                .candidates
                .iter()
                .map(|candidate| {
                    let mut c = RunConfig::default();
                    c.distill.method = grid.method;
                    for a in grid.fixed.iter().chain(candidate.iter()) {
                        c.set(a).unwrap_or_else(|e| panic!("{a}: {e}"));
                    }
                    c.validate().unwrap();
                    c
                })
                .collect();
            for (i, a) in configs.iter().enumerate() {
                assert!(
                    configs[i + 1..].iter().all(|b| b != a),
                    "{:?}: equal candidates",
                    grid.method
                );
            }
        }
    }

    #[test]
    fn settings_print_without_the_section_prefix() {
        assert_eq!(Grid::setting(GRIDS[0].candidates[0]), "temperature=4");
        assert_eq!(
            Grid::setting(GRIDS[8].candidates[1]),
            "rkd_distance_weight=5, rkd_angle_weight=10"
        );
        assert_eq!(STUDENTS[1].tag(), "s30");
    }
}
