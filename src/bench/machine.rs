//! Where a benchmark ran: the CPU, its threads, who computes the matrix products and the
//! measured peak (the line `bench` and `deploy` print), and the CPU time this process used.

use serde::Serialize;

use crate::model::gemm::{self, Backend};

/// Where a measurement was taken.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Machine {
    /// The CPU model (`/proc/cpuinfo`'s model name; the architecture elsewhere).
    pub cpu_model: String,
    /// Logical CPUs the OS reports.
    pub logical_cpus: usize,
    /// Threads candle's matrix products use.
    pub threads: usize,
    /// Who computes the matrix products (`gemm`: the gemm crate; `avx2`: ours).
    pub gemm: String,
    /// The vector instructions those products run (`avx512f`, `avx2+fma`).
    pub isa: String,
    /// Peak GFLOP/s of all threads in that vector width, measured at start (an FMA loop).
    pub peak_gflops: Option<f64>,
}

impl Machine {
    /// This machine, its matrix products computed by `backend` (the peak is measured here,
    /// which takes about a second).
    pub fn here(backend: Backend) -> Self {
        let cpu_model = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|text| {
                text.lines()
                    .find(|l| l.starts_with("model name"))
                    .and_then(|l| l.split_once(':'))
                    .map(|(_, v)| v.trim().to_owned())
            })
            .unwrap_or_else(|| std::env::consts::ARCH.to_owned());
        let threads = candle_core::utils::get_num_threads();
        Self {
            cpu_model,
            logical_cpus: std::thread::available_parallelism().map_or(1, usize::from),
            threads,
            gemm: backend.key().to_owned(),
            isa: backend.isa().to_owned(),
            peak_gflops: gemm::peak_gflops(backend, threads),
        }
    }

    /// One line: CPU, logical CPUs, threads, who computes the products and the peak.
    pub fn describe(&self) -> String {
        format!(
            "{} · {} logical CPUs · {} threads · matrix products: {} ({}), peak {} GFLOP/s",
            self.cpu_model,
            self.logical_cpus,
            self.threads,
            self.gemm,
            self.isa,
            self.peak_gflops
                .map_or("?".to_owned(), |p| format!("{p:.0}"))
        )
    }
}

/// CPU time (user + system) this process has used, in seconds: Linux's `/proc/self/stat`,
/// whose times are in USER_HZ = 100 ticks per second on every Linux architecture. `None`
/// elsewhere.
pub(super) fn process_cpu_secs() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after the name.
    let ticks = |i: usize| fields.get(i)?.parse::<f64>().ok();
    Some((ticks(11)? + ticks(12)?) / 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn process_cpu_time_follows_work_done() {
        let Some(before) = process_cpu_secs() else {
            // Not Linux: nothing to read, and the report leaves cores_used empty.
            return;
        };
        // Spin until the process has used 0.2 s of CPU (however busy the machine is); a
        // reader that does not follow the work never gets there.
        let started = Instant::now();
        let mut x = 0u64;
        let mut used = 0.0;
        while used < 0.2 && started.elapsed().as_secs_f64() < 10.0 {
            for _ in 0..100_000 {
                x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
            }
            used = process_cpu_secs().unwrap() - before;
        }
        let wall = started.elapsed().as_secs_f64();
        assert!(used >= 0.2, "only {used} s of CPU in {wall} s");
        // No more CPU than every core for the whole time (plus a 10 ms tick).
        let cores = std::thread::available_parallelism().map_or(1, usize::from) as f64;
        assert!(used <= cores * wall + 0.011, "{used} s of CPU in {wall} s");
    }

    #[test]
    fn the_machine_is_named() {
        let machine = Machine::here(Backend::GemmCrate);
        assert_eq!(machine.gemm, "gemm");
        assert!(!machine.cpu_model.is_empty());
        assert!(machine.logical_cpus >= 1 && machine.threads >= 1);
    }
}
