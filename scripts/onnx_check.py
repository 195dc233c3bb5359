#!/usr/bin/env python3
"""Checks `distillery export --format onnx` in onnxruntime, a runtime nobody here wrote.

Exports the weights, runs the ONNX file on the bundled MNIST test set (read with numpy + gzip),
and checks that it makes exactly `distillery eval`'s errors and that its logits of the first
test images are within 1e-4 of `distillery soft-targets`'. Exits non-zero on any mismatch.
`.ci/run` runs it; by hand:

  python3 -m venv /tmp/ort && /tmp/ort/bin/pip install onnxruntime numpy
  /tmp/ort/bin/python scripts/onnx_check.py --distillery target/release/distillery \
      --weights assets/student.safetensors
"""

import argparse
import gzip
import json
import pathlib
import subprocess
import sys
import tempfile

import numpy as np
import onnxruntime as ort

ROOT = pathlib.Path(__file__).resolve().parent.parent
SAMPLES = 10
TOLERANCE = 1e-4


def read_idx(path: pathlib.Path) -> np.ndarray:
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = int.from_bytes(data[0:4], "big") & 0xFF
    dims = [int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def run_json(*args: str) -> dict:
    out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--distillery", required=True)
    parser.add_argument("--weights", required=True)
    parser.add_argument("--data", type=pathlib.Path, default=ROOT / "assets" / "mnist")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        model_path = pathlib.Path(tmp) / "model.onnx"
        subprocess.run(
            [args.distillery, "export", "--weights", args.weights, "--format", "onnx",
             "--out", str(model_path)],
            check=True,
        )
        session = ort.InferenceSession(str(model_path), providers=["CPUExecutionProvider"])
        meta = session.get_modelmeta().custom_metadata_map
        print(f"onnxruntime {ort.__version__}; input scaling: {meta.get('input_scaling')}")

        images = read_idx(args.data / "t10k-images-idx3-ubyte.gz")
        labels = read_idx(args.data / "t10k-labels-idx1-ubyte.gz").astype(np.int64)
        x = images.reshape(images.shape[0], -1).astype(np.float32) / 255.0
        logits = session.run(["logits"], {"pixels": x})[0]
        errors = int((logits.argmax(axis=1) != labels).sum())

    ours = run_json(args.distillery, "eval", "--weights", args.weights, "--json")["test_errors"]
    print(f"test errors: onnxruntime {errors}, distillery eval {ours}")
    failed = errors != ours
    worst = 0.0
    for i in range(SAMPLES):
        theirs = run_json(args.distillery, "soft-targets", "--weights", args.weights,
                          "--sample", str(i), "--json")["logits"]
        worst = max(worst, float(np.abs(np.asarray(theirs, dtype=np.float32) - logits[i]).max()))
    print(f"largest logit difference over the first {SAMPLES} test images: {worst:.2e}")
    if worst > TOLERANCE:
        failed = True
    if failed:
        print("error: the ONNX model does not match distillery", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
