//! Floating-point operations of the benchmark's workloads, counted from the layer shapes (a
//! multiply-add is 2 FLOP), so that a speed in samples/s can be read against the machine's
//! peak. Only the matrix products and the optimiser update are counted: the element-wise work
//! between them (bias, ReLU, dropout, the loss) is a few FLOP per activation, under 1 % of the
//! products at these widths, and runs on no FMA pipe.

/// Multiply-adds of one sample's forward pass: `Σ_l d_l · d_{l+1}` (the weight count).
pub fn weights(layers: &[usize]) -> usize {
    layers.windows(2).map(|w| w[0] * w[1]).sum()
}

/// Parameters (weights and biases).
pub fn parameters(layers: &[usize]) -> usize {
    weights(layers) + layers[1..].iter().sum::<usize>()
}

/// FLOP of one forward pass of one sample.
pub fn forward(layers: &[usize]) -> f64 {
    2.0 * weights(layers) as f64
}

/// FLOP to train on one sample at batch `batch` with SGD + momentum: the forward pass, the
/// weight gradients (`dZᵀ · X`, as many as the forward's), the gradients of every layer's input
/// but the first (`dZ · W`; the pixels need none), and the update (`v ← μv + g`,
/// `w ← w − ηv`: 4 FLOP per parameter per batch, shared by its samples).
pub fn train(layers: &[usize], batch: usize) -> f64 {
    let w = weights(layers) as f64;
    let first = (layers[0] * layers[1]) as f64;
    let update = 4.0 * parameters(layers) as f64 / batch as f64;
    2.0 * w + 2.0 * w + 2.0 * (w - first) + update
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_student_counts_by_hand() {
        let student = [784, 800, 800, 10];
        // 784·800 + 800·800 + 800·10
        assert_eq!(weights(&student), 627_200 + 640_000 + 8_000);
        assert_eq!(parameters(&student), 1_275_200 + 1_610);
        // 6 · 1,275,200 − 2 · 627,200 + 4 · 1,276,810 / 128
        let expected = 6.0 * 1_275_200.0 - 2.0 * 627_200.0 + 4.0 * 1_276_810.0 / 128.0;
        assert_eq!(train(&student, 128), expected);
        assert_eq!(forward(&student), 2_550_400.0);
    }
}
