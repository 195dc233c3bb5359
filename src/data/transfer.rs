//! Transfer sets: the examples the distilled student is trained on, and MUNGE.
//!
//! MUNGE (Buciluă, Caruana & Niculescu-Mizil 2006, §3.3) grows a synthetic set that follows the
//! training distribution: for each example `e` find its nearest neighbour `e'` (Euclidean), then
//! for each feature `a` with probability `p` draw
//! `e_a ← N(e'_a, |e_a − e'_a| / s)` and `e'_a ← N(e_a, |e_a − e'_a| / s)`.
//! One pass over a copy of the training set yields `n` new examples; `k` passes yield `k·n`.
//! Features are pixels in [0, 1], so the draws are clamped to that range.

use candle_core::{Device, Tensor};

use super::dataset::Dataset;
use crate::config::{MungeConfig, TransferConfig, TransferKind};
use crate::rng::FastRng;

/// Queries per matrix product in the nearest-neighbour search (bounds memory to
/// `CHUNK × n` distances).
const CHUNK: usize = 512;

/// Applies the class filter of `config` (full, omit, only) to the training set.
pub fn filter_classes(train: &Dataset, config: &TransferConfig) -> Dataset {
    let keep = |label: u8| match config.kind {
        TransferKind::Full => true,
        TransferKind::Omit => !config.classes.contains(&label),
        TransferKind::Only => config.classes.contains(&label),
    };
    let indices: Vec<usize> = (0..train.len())
        .filter(|&i| keep(train.labels[i]))
        .collect();
    if indices.len() == train.len() {
        train.clone()
    } else {
        train.select(&indices)
    }
}

/// Index of each example's nearest other example (squared Euclidean distance), computed with
/// batched matrix products: `‖x − y‖² = ‖x‖² − 2·x·y + ‖y‖²`, where `‖x‖²` is constant per
/// query and can be dropped from the argmin. `stop` is asked between chunks of queries (a
/// 60k search takes tens of seconds): when it says yes the search ends with `None`.
pub fn nearest_neighbours(
    data: &Dataset,
    device: &Device,
    stop: &dyn Fn() -> bool,
) -> candle_core::Result<Option<Vec<usize>>> {
    let (n, d) = (data.len(), data.dim());
    if n < 2 {
        return Ok(Some(vec![0; n]));
    }
    let all = Tensor::from_slice(&data.images, (n, d), device)?;
    let norms: Vec<f32> = all.sqr()?.sum(1)?.to_vec1()?;
    let all_t = all.t()?;
    let mut result = Vec::with_capacity(n);
    for start in (0..n).step_by(CHUNK) {
        if stop() {
            return Ok(None);
        }
        let len = CHUNK.min(n - start);
        let dots: Vec<f32> = all
            .narrow(0, start, len)?
            .matmul(&all_t)?
            .flatten_all()?
            .to_vec1()?;
        for q in 0..len {
            let row = &dots[q * n..(q + 1) * n];
            let mut best = (usize::MAX, f32::INFINITY);
            for (j, (dot, norm)) in row.iter().zip(&norms).enumerate() {
                let dist = norm - 2.0 * dot;
                if j != start + q && dist < best.1 {
                    best = (j, dist);
                }
            }
            result.push(best.0);
        }
    }
    Ok(Some(result))
}

/// Grows `k · n` synthetic examples from `data` by MUNGE. Labels of the synthetic examples are
/// those of the example they grew from; the trainer relabels them with the teacher. `None`
/// when `stop` ended the nearest-neighbour search.
pub fn munge(
    data: &Dataset,
    params: &MungeConfig,
    seed: u64,
    device: &Device,
    stop: &dyn Fn() -> bool,
) -> candle_core::Result<Option<Dataset>> {
    let Some(neighbours) = nearest_neighbours(data, device, stop)? else {
        return Ok(None);
    };
    let mut rng = FastRng::fork(seed, "munge");
    let d = data.dim();
    let mut images = Vec::with_capacity(params.k * data.images.len());
    let mut labels = Vec::with_capacity(params.k * data.len());
    for _ in 0..params.k {
        let mut copy = data.images.clone();
        for (i, &j) in neighbours.iter().enumerate() {
            if i == j {
                continue;
            }
            for a in 0..d {
                if rng.uniform() >= params.p {
                    continue;
                }
                let (ea, eb) = (copy[i * d + a], copy[j * d + a]);
                let sd = (ea - eb).abs() / params.s as f32;
                copy[i * d + a] = draw(&mut rng, eb, sd);
                copy[j * d + a] = draw(&mut rng, ea, sd);
            }
        }
        images.extend_from_slice(&copy);
        labels.extend_from_slice(&data.labels);
    }
    Ok(Some(Dataset {
        images,
        labels,
        rows: data.rows,
        cols: data.cols,
    }))
}

fn draw(rng: &mut FastRng, mean: f32, sd: f32) -> f32 {
    (mean + sd * rng.normal() as f32).clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn points(coords: &[[f32; 2]]) -> Dataset {
        Dataset {
            images: coords.iter().flatten().copied().collect(),
            labels: vec![0; coords.len()],
            rows: 1,
            cols: 2,
        }
    }

    #[test]
    fn nearest_neighbours_match_brute_force() {
        let data = points(&[[0.0, 0.0], [0.9, 0.9], [0.1, 0.0], [1.0, 1.0], [0.5, 0.4]]);
        let nn = nearest_neighbours(&data, &Device::Cpu, &|| false)
            .unwrap()
            .unwrap();
        assert_eq!(nn, vec![2, 3, 0, 1, 2]);
    }

    /// Four points on a chain whose nearest neighbours are not mutual: A → B → C ⇄ D.
    /// With p = 1 and a tiny spread (s huge) each step is an exact swap on the working copy,
    /// applied in order: (A,B) gives [B,A,C,D], (B,C) on slots 1,2 gives [B,C,A,D], (C,D) on
    /// slots 2,3 gives [B,C,D,A], (D,C) on slots 3,2 gives [B,C,A,D]. A MUNGE that did nothing,
    /// or that read the originals instead of the working copy, gives something else.
    #[test]
    fn munge_swaps_along_non_mutual_neighbours_in_order() {
        let (a, b, c, d) = ([0.0, 0.9], [0.3, 0.8], [0.5, 0.7], [0.6, 0.65]);
        let data = points(&[a, b, c, d]);
        let nn = nearest_neighbours(&data, &Device::Cpu, &|| false)
            .unwrap()
            .unwrap();
        assert_eq!(nn, vec![1, 2, 3, 2], "the chain's neighbours");
        let params = MungeConfig {
            p: 1.0,
            s: 1e9,
            k: 2,
        };
        let out = munge(&data, &params, 7, &Device::Cpu, &|| false)
            .unwrap()
            .unwrap();
        let expected: Vec<f32> = [b, c, a, d].iter().flatten().copied().collect();
        assert_eq!(out.len(), 8);
        for (pass, images) in out.images.chunks_exact(8).enumerate() {
            for (v, e) in images.iter().zip(&expected) {
                assert!(
                    (v - e).abs() < 1e-6,
                    "pass {pass}: {images:?} vs {expected:?}"
                );
            }
        }
        assert_eq!(
            out.labels, [0; 8],
            "synthetic examples keep their origin's label"
        );
        let again = munge(&data, &params, 7, &Device::Cpu, &|| false)
            .unwrap()
            .unwrap();
        assert_eq!(out, again, "same seed, same synthetic set");
        let stopped = munge(&data, &params, 7, &Device::Cpu, &|| true).unwrap();
        assert!(stopped.is_none(), "a stop request ends the search");
    }

    /// The rate and the spread of the draws. Three points A → B ⇄ C (A's neighbour is B,
    /// B's is C): A's synthetic copy is touched only by A's own step, so each of its features
    /// is, with probability p, drawn from N(B_a, |A_a − B_a| / s), and is otherwise A_a exactly.
    /// With A = 0.45, B = 0.55 (C = 0.6) in every feature, p = 0.3 and s = 2: 30 % of the
    /// features move, and those have mean 0.55 and standard deviation 0.05.
    #[test]
    fn munge_draws_at_rate_p_with_spread_distance_over_s() {
        let dim = 4000;
        let data = Dataset {
            images: [0.45f32, 0.55, 0.6]
                .iter()
                .flat_map(|v| std::iter::repeat_n(*v, dim))
                .collect(),
            labels: vec![0, 1, 2],
            rows: 1,
            cols: dim,
        };
        let params = MungeConfig {
            p: 0.3,
            s: 2.0,
            k: 1,
        };
        let out = munge(&data, &params, 11, &Device::Cpu, &|| false)
            .unwrap()
            .unwrap();
        let moved: Vec<f64> = out.images[..dim]
            .iter()
            .filter(|v| **v != 0.45)
            .map(|v| f64::from(*v))
            .collect();
        let rate = moved.len() as f64 / dim as f64;
        let mean = moved.iter().sum::<f64>() / moved.len() as f64;
        let sd =
            (moved.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / moved.len() as f64).sqrt();
        // Sampling errors: rate ±0.007, mean ±0.0015, sd ±0.001 (one standard error each).
        assert!((rate - 0.3).abs() < 0.03, "rate {rate}");
        assert!((mean - 0.55).abs() < 0.005, "mean {mean}");
        assert!((sd - 0.05).abs() < 0.005, "sd {sd}");
    }

    #[test]
    fn class_filters_omit_and_keep() {
        let mut data = points(&[[0.0, 0.0], [0.1, 0.1], [0.2, 0.2]]);
        data.labels = vec![3, 7, 8];
        let omit = TransferConfig {
            kind: TransferKind::Omit,
            classes: vec![3],
            ..Default::default()
        };
        assert_eq!(filter_classes(&data, &omit).labels, vec![7, 8]);
        let only = TransferConfig {
            kind: TransferKind::Only,
            classes: vec![7],
            ..Default::default()
        };
        assert_eq!(filter_classes(&data, &only).labels, vec![7]);
    }
}
