//! A sweep planned on disk: the base configuration times the axes gives one full
//! [`RunConfig`] per point, written where a local runner and a cluster job array find them.
//!
//! ```text
//! DIR/sweep.toml        the axes and the point count (what `collect` reads back)
//! DIR/reference.toml    the base configuration: trains the one teacher every point shares
//! DIR/points/<i>.toml   point i's configuration (loads the reference's teacher)
//! DIR/reference/        the reference run folder
//! DIR/runs/<i>/         point i's run folder
//! DIR/sweep.csv         one row per point (see `table`)
//! DIR/slurm-submit.sh, DIR/slurm-points.sbatch, DIR/parallel.sh   ways to run it elsewhere
//! ```

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::axis::Axis;
use super::error::SweepError;
use crate::config::RunConfig;
use crate::files::{write_atomic, FileError};

/// The fixed paths of a sweep folder.
#[derive(Clone, Debug, PartialEq)]
pub struct Layout {
    /// The sweep folder.
    pub dir: PathBuf,
}

impl Layout {
    /// The layout of the sweep folder `dir`.
    pub fn new(dir: &Path) -> Self {
        Self {
            dir: dir.to_owned(),
        }
    }

    /// `sweep.toml`: the manifest.
    pub fn manifest(&self) -> PathBuf {
        self.dir.join("sweep.toml")
    }

    /// `reference.toml`: the base configuration.
    pub fn reference_config(&self) -> PathBuf {
        self.dir.join("reference.toml")
    }

    /// The reference run folder.
    pub fn reference_dir(&self) -> PathBuf {
        self.dir.join("reference")
    }

    /// The teacher every point shares: the reference run's.
    pub fn shared_teacher(&self) -> PathBuf {
        self.reference_dir().join("teacher.safetensors")
    }

    /// Point `i`'s configuration file.
    pub fn point_config(&self, i: usize) -> PathBuf {
        self.dir.join("points").join(format!("{i}.toml"))
    }

    /// Point `i`'s run folder.
    pub fn point_dir(&self, i: usize) -> PathBuf {
        self.dir.join("runs").join(i.to_string())
    }

    /// `sweep.csv`.
    pub fn csv(&self) -> PathBuf {
        self.dir.join("sweep.csv")
    }
}

/// What `sweep.toml` records: enough to read a sweep folder back without its command line.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// The base configuration's name.
    pub name: String,
    /// The axes, first axis outermost.
    pub axes: Vec<Axis>,
    /// Whether the points load the reference run's teacher (else each trains its own).
    pub shares_teacher: bool,
    /// How many points.
    pub points: usize,
}

/// A base configuration swept over one or more axes.
#[derive(Clone, Debug)]
pub struct SweepPlan {
    /// The configuration every point starts from (also the reference run's).
    pub base: RunConfig,
    /// The axes, first axis outermost.
    pub axes: Vec<Axis>,
}

/// One point of a sweep: its index, its value on each axis and its full configuration.
#[derive(Clone, Debug, PartialEq)]
pub struct Point {
    /// Index in the job array, from 0.
    pub index: usize,
    /// Index into each axis's values.
    pub value_index: Vec<usize>,
    /// The value on each axis, as TOML text.
    pub values: Vec<String>,
    /// The configuration the point trains with.
    pub config: RunConfig,
}

/// Most axes a sweep may have: a curve or a map.
pub const MAX_AXES: usize = 2;

impl SweepPlan {
    /// Checks the base configuration and the axes (one or two, distinct settings).
    pub fn new(base: RunConfig, axes: Vec<Axis>) -> Result<Self, SweepError> {
        base.validate()?;
        if axes.is_empty() {
            return Err(SweepError::Plan("give at least one --axis".into()));
        }
        if axes.len() > MAX_AXES {
            return Err(SweepError::Plan(format!(
                "at most {MAX_AXES} axes (a curve or a map), got {}",
                axes.len()
            )));
        }
        for (i, axis) in axes.iter().enumerate() {
            if axes[..i].iter().any(|a| a.key == axis.key) {
                return Err(SweepError::Axis {
                    axis: axis.key.clone(),
                    problem: "swept twice".into(),
                });
            }
        }
        if base.teacher.ensemble > 1 && !axes.iter().any(Axis::changes_teacher) {
            return Err(SweepError::Plan(
                "teacher.ensemble: a sweep shares one teacher file, so it needs a single teacher (ensemble = 1)".into(),
            ));
        }
        Ok(Self { base, axes })
    }

    /// Whether every point can load the reference run's teacher: no axis changes the teacher.
    pub fn shares_teacher(&self) -> bool {
        !self.axes.iter().any(Axis::changes_teacher)
    }

    /// Whether each point trains its own hard-label baseline (else the reference's serves all).
    pub fn points_need_baseline(&self) -> bool {
        self.axes.iter().any(Axis::changes_baseline)
    }

    /// Number of points: the product of the axes' lengths.
    pub fn len(&self) -> usize {
        self.axes.iter().map(|a| a.values.len()).product()
    }

    /// Whether the sweep has no point (never, once planned).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The manifest written to `sweep.toml`.
    pub fn manifest(&self) -> Manifest {
        Manifest {
            name: self.base.name.clone(),
            axes: self.axes.clone(),
            shares_teacher: self.shares_teacher(),
            points: self.len(),
        }
    }

    /// Every point, first axis outermost. Points that share the teacher load it from
    /// `layout`'s reference run; a combination of values that is invalid together is an error
    /// naming the point.
    pub fn points(&self, layout: &Layout) -> Result<Vec<Point>, SweepError> {
        (0..self.len())
            .map(|index| {
                let value_index = self.value_index(index);
                let mut config = self.base.clone();
                let mut values = Vec::new();
                for (axis, &v) in self.axes.iter().zip(&value_index) {
                    axis.apply(v, &mut config)?;
                    values.push(axis.values[v].clone());
                }
                config.name = format!("{}-p{index}", self.base.name);
                if self.shares_teacher() {
                    config.teacher.weights = Some(layout.shared_teacher());
                    config.student.baseline =
                        self.base.student.baseline && self.points_need_baseline();
                }
                config.validate().map_err(|e| {
                    SweepError::Plan(format!("point {index} ({}): {e}", values.join(", ")))
                })?;
                Ok(Point {
                    index,
                    value_index,
                    values,
                    config,
                })
            })
            .collect()
    }

    fn value_index(&self, index: usize) -> Vec<usize> {
        value_index(&self.axes, index)
    }

    /// Writes the manifest, the reference and point configurations, the Slurm job-array
    /// scripts and the GNU parallel line into `layout`'s folder; returns the points.
    /// `binary` is the `distillery` the scripts call (overridable there with `$DISTILLERY`).
    pub fn write(&self, layout: &Layout, binary: &Path) -> Result<Vec<Point>, SweepError> {
        let points = self.points(layout)?;
        let manifest = toml::to_string_pretty(&self.manifest())
            .map_err(|e| FileError::invalid(&layout.manifest(), e))?;
        write_atomic(&layout.manifest(), manifest.as_bytes())?;
        write_atomic(&layout.reference_config(), self.base.to_toml().as_bytes())?;
        for point in &points {
            write_atomic(
                &layout.point_config(point.index),
                point.config.to_toml().as_bytes(),
            )?;
        }
        let scripts = Scripts {
            layout,
            binary,
            name: &self.base.name,
            points: points.len(),
            reference: self.shares_teacher(),
        };
        write_atomic(&layout.dir.join(SLURM_POINTS), scripts.sbatch().as_bytes())?;
        write_executable(&layout.dir.join(SLURM_SUBMIT), &scripts.submit())?;
        write_executable(&layout.dir.join(PARALLEL), &scripts.parallel())?;
        Ok(points)
    }
}

/// The job-array script: one `distillery train` per array task.
pub const SLURM_POINTS: &str = "slurm-points.sbatch";
/// Submits the reference run, then the array once the reference has succeeded.
pub const SLURM_SUBMIT: &str = "slurm-submit.sh";
/// The same sweep on one machine with GNU parallel.
pub const PARALLEL: &str = "parallel.sh";

fn write_executable(path: &Path, text: &str) -> Result<(), SweepError> {
    write_atomic(path, text.as_bytes())?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
            .map_err(FileError::io(path))?;
    }
    Ok(())
}

/// The scripts that run a planned sweep elsewhere. They `cd` into the sweep folder, so its
/// relative paths (`points/3.toml`, `runs/3`) hold on any node that mounts it.
struct Scripts<'a> {
    layout: &'a Layout,
    binary: &'a Path,
    name: &'a str,
    points: usize,
    reference: bool,
}

impl Scripts<'_> {
    fn dir(&self) -> String {
        shell_quote(&self.layout.dir.to_string_lossy())
    }

    fn bin(&self) -> String {
        format!(
            "\"${{DISTILLERY:-{}}}\"",
            self.binary.to_string_lossy().replace('"', "\\\"")
        )
    }

    fn sbatch(&self) -> String {
        format!(
            "#!/bin/bash\n\
             # One array task per sweep point: trains points/<i>.toml into runs/<i>/.\n\
             # Submit with ./{SLURM_SUBMIT} (it waits for the reference run's teacher first).\n\
             #SBATCH --job-name={name}\n\
             #SBATCH --array=0-{last}\n\
             #SBATCH --chdir={dir}\n\
             #SBATCH --output=logs/point-%a.out\n\
             #SBATCH --cpus-per-task=1\n\
             set -euo pipefail\n\
             i=$SLURM_ARRAY_TASK_ID\n\
             exec {bin} train --config \"points/$i.toml\" --run-dir \"runs/$i\"\n",
            name = slug(self.name),
            last = self.points.saturating_sub(1),
            dir = self.layout.dir.to_string_lossy(),
            bin = self.bin(),
        )
    }

    fn submit(&self) -> String {
        let array = format!(
            "sbatch --parsable --array=0-{} ",
            self.points.saturating_sub(1)
        );
        let body = if self.reference {
            format!(
                "ref=$(sbatch --parsable --job-name={name}-reference --chdir={dir} \
                 --output=logs/reference.out --cpus-per-task=1 \
                 --wrap=\"exec {bin} train --config reference.toml --run-dir reference\")\n\
                 echo \"reference job $ref\"\n\
                 array=$({array}--dependency=afterok:$ref {SLURM_POINTS})\n",
                name = slug(self.name),
                dir = self.dir(),
                bin = self.bin().replace('"', "\\\""),
            )
        } else {
            format!("array=$({array}{SLURM_POINTS})\n")
        };
        format!(
            "#!/bin/sh\n\
             # Submits this sweep to Slurm: the reference run (the shared teacher), then one\n\
             # array task per point once it succeeded. Afterwards: distillery collect {dir}\n\
             set -e\n\
             cd {dir}\n\
             mkdir -p logs\n\
             {body}\
             echo \"point array job $array ({n} tasks)\"\n",
            dir = self.dir(),
            n = self.points,
        )
    }

    fn parallel(&self) -> String {
        let reference = if self.reference {
            format!(
                "{} train --config reference.toml --run-dir reference\n",
                self.bin()
            )
        } else {
            String::new()
        };
        format!(
            "#!/bin/sh\n\
             # This sweep on one machine with GNU parallel: the reference run, then the points\n\
             # JOBS at a time (default 2). Afterwards: distillery collect {dir}\n\
             set -e\n\
             cd {dir}\n\
             {reference}\
             parallel -j \"${{JOBS:-2}}\" {bin} train --config points/{{}}.toml --run-dir runs/{{}} ::: $(seq 0 {last})\n",
            dir = self.dir(),
            bin = self.bin(),
            last = self.points.saturating_sub(1),
        )
    }
}

/// Single-quotes a path for sh.
fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "'\\''"))
}

/// Letters, digits, `-` and `_` of a name, for job names.
fn slug(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// The index into each axis's values of point `index` (first axis outermost).
pub fn value_index(axes: &[Axis], mut index: usize) -> Vec<usize> {
    let mut out = vec![0; axes.len()];
    for (slot, axis) in out.iter_mut().zip(axes).rev() {
        let n = axis.values.len().max(1);
        *slot = index % n;
        index /= n;
    }
    out
}

/// Reads `sweep.toml` back.
pub fn read_manifest(layout: &Layout) -> Result<Manifest, SweepError> {
    let path = layout.manifest();
    let text = std::fs::read_to_string(&path).map_err(FileError::io(&path))?;
    toml::from_str(&text).map_err(|e| FileError::invalid(&path, e.message()).into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(specs: &[&str]) -> SweepPlan {
        let base = RunConfig::default();
        let axes = specs
            .iter()
            .map(|s| Axis::parse(s, &base).unwrap())
            .collect();
        SweepPlan::new(base, axes).unwrap()
    }

    #[test]
    fn points_are_the_product_first_axis_outermost() {
        let p = plan(&["distill.temperature=1,2,4", "distill.alpha=0.1,0.9"]);
        let layout = Layout::new(Path::new("/sweeps/a"));
        let points = p.points(&layout).unwrap();
        assert_eq!(points.len(), 6);
        assert_eq!(points[3].values, ["2", "0.9"]);
        assert_eq!(points[3].value_index, [1, 1]);
        assert_eq!(points[3].config.distill.temperature, 2.0);
        assert_eq!(points[3].config.distill.alpha, 0.9);
        // One teacher for all: every point loads the reference's, and none retrains the
        // baseline (T and α do not change it).
        assert!(points.iter().all(|pt| pt.config.teacher.weights
            == Some(PathBuf::from("/sweeps/a/reference/teacher.safetensors"))
            && !pt.config.student.baseline));
    }

    #[test]
    fn width_and_size_axes_keep_their_baselines_teacher_axes_their_teachers() {
        let layout = Layout::new(Path::new("/s"));
        let widths = plan(&["student.hidden=[30,30],[100,100]"])
            .points(&layout)
            .unwrap();
        assert!(widths.iter().all(|p| p.config.student.baseline));
        let teachers = plan(&["teacher.hidden=[100],[200]"]);
        assert!(!teachers.shares_teacher());
        assert!(teachers.points(&layout).unwrap().iter().all(|p| p
            .config
            .teacher
            .weights
            .is_none()));
    }

    #[test]
    fn plans_reject_duplicate_and_too_many_axes() {
        let base = RunConfig::default();
        let a = Axis::parse("distill.alpha=0.1", &base).unwrap();
        let t = Axis::parse("distill.temperature=1", &base).unwrap();
        let s = Axis::parse("seed=1", &base).unwrap();
        let twice = SweepPlan::new(base.clone(), vec![a.clone(), a.clone()]).unwrap_err();
        assert!(twice.to_string().contains("distill.alpha"), "{twice}");
        let three = SweepPlan::new(base.clone(), vec![a, t, s]).unwrap_err();
        assert!(three.to_string().contains("at most 2 axes"), "{three}");
        assert!(SweepPlan::new(base, vec![]).is_err());
    }
}
