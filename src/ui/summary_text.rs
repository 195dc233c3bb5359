//! What a run trained besides its teacher, baseline and distilled student (TAKD's assistant,
//! DML's other students), as the runs view and the launcher's finished line write it. A leaf:
//! plain text from a [`RunSummary`], no panel.

use crate::events::{PhaseResult, RunSummary};

/// A run's others as the runs view's hover text over its method and student (and the end of
/// the launcher's finished line) write them: the test errors of what it trained besides the distilled student (TAKD's
/// assistant, DML's other students), and a hover text with their layers, epochs and time;
/// `None` when it trained neither (every run from before these methods: their summaries lack
/// both fields).
pub fn others_text(summary: &RunSummary) -> Option<(String, String)> {
    let mut cell = Vec::new();
    let mut hover = Vec::new();
    let describe = |name: &str, r: &PhaseResult| {
        let layers: Vec<String> = r.layers.iter().map(usize::to_string).collect();
        format!(
            "{name} {}: {} test errors of {}, {} epochs, {:.0} s",
            layers.join("-"),
            r.test_errors,
            r.test_n,
            r.epochs,
            r.seconds
        )
    };
    if let Some(a) = &summary.assistant {
        cell.push(format!("assistant {}", a.test_errors));
        hover.push(describe("teacher assistant", a));
    }
    if !summary.peers.is_empty() {
        let errors: Vec<String> = summary
            .peers
            .iter()
            .map(|p| p.test_errors.to_string())
            .collect();
        cell.push(format!("peers {}", errors.join(", ")));
        for (k, p) in summary.peers.iter().enumerate() {
            hover.push(describe(&format!("student {}", k + 2), p));
        }
    }
    (!cell.is_empty()).then(|| (cell.join(" · "), hover.join("\n")))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `summary.json` as runs wrote it before assistants and peers existed.
    const OLD_SUMMARY: &str = r#"{
        "name": "old", "dir": "runs/old", "method": "hinton", "temperature": 4.0,
        "alpha": 0.9, "seed": 1,
        "teacher": {"test_errors": 70, "per_class_errors": [], "test_n": 10000, "epochs": 3,
                    "seconds": 1.0, "layers": [784, 1200, 10]},
        "baseline": null,
        "student": {"test_errors": 90, "per_class_errors": [], "test_n": 10000, "epochs": 3,
                    "seconds": 1.0, "layers": [784, 800, 10]},
        "bias": null, "transfer_size": 60000, "duration_secs": 3.0,
        "started": "2025-01-01T00:00:00Z"
    }"#;

    fn result(errors: usize, layers: &[usize]) -> PhaseResult {
        PhaseResult {
            test_errors: errors,
            test_n: 10_000,
            epochs: 5,
            seconds: 12.0,
            layers: layers.to_vec(),
            ..PhaseResult::default()
        }
    }

    #[test]
    fn the_assistant_and_the_peers_show_and_old_summaries_still_load() {
        let old: RunSummary = serde_json::from_str(OLD_SUMMARY).unwrap();
        assert_eq!((old.assistant.clone(), old.peers.len()), (None, 0));
        assert_eq!(others_text(&old), None);
        let takd = RunSummary {
            assistant: Some(result(150, &[784, 190, 10])),
            ..old.clone()
        };
        let (cell, hover) = others_text(&takd).unwrap();
        assert_eq!(cell, "assistant 150");
        assert_eq!(
            hover,
            "teacher assistant 784-190-10: 150 test errors of 10000, 5 epochs, 12 s"
        );
        let dml = RunSummary {
            peers: vec![result(171, &[784, 800, 10]), result(168, &[784, 800, 10])],
            ..old
        };
        let (cell, hover) = others_text(&dml).unwrap();
        assert_eq!(cell, "peers 171, 168");
        assert!(hover.starts_with("student 2 784-800-10: 171"), "{hover}");
        assert!(hover.contains("\nstudent 3 784-800-10: 168"), "{hover}");
        // And back: a summary with both fields round-trips through JSON.
        let text = serde_json::to_string(&dml).unwrap();
        assert_eq!(serde_json::from_str::<RunSummary>(&text).unwrap(), dml);
    }
}
