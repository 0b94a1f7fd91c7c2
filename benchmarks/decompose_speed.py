"""Decomposition speed: d_hidden 1024, 10 classes, float64, on the CPU.

Times the three steps of `decompose_bilinear_model` separately: building the
interaction tensor (readout folded into the layer), the symmetric eigendecomposition,
and the projection of the eigenvectors to pixels; then the whole call.

    python benchmarks/decompose_speed.py [--d-hidden 1024]

Target: the whole decomposition in under 10 s on a 2-core CPU.
"""

from __future__ import annotations

import argparse
import time

import torch

from bilinear_helpers import BilinearImageClassifier, decompose_bilinear_model, raw_interaction_matrices, symmetrize
from bilinear_helpers.decomposition import project_to_pixels

TARGET_SECONDS = 10.0


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--d-hidden", type=int, default=1024)
    args = parser.parse_args()
    model = BilinearImageClassifier(d_hidden=args.d_hidden, d_output=10, seed=0)

    tensor, t_tensor = timed(lambda: raw_interaction_matrices(model, dtype=torch.float64))
    (values, vectors), t_eigh = timed(lambda: torch.linalg.eigh(symmetrize(tensor)))
    _, t_project = timed(lambda: project_to_pixels(vectors.mT, model.embedding_weight))
    _, t_total = timed(lambda: decompose_bilinear_model(model))

    threads = torch.get_num_threads()
    print(f"d_hidden {args.d_hidden}, 10 classes, float64, {threads} threads, torch {torch.__version__}")
    print("| step | seconds |\n|---|---|")
    for name, seconds in (("interaction tensor", t_tensor), ("eigendecomposition", t_eigh),
                          ("projection to pixels", t_project), ("decompose_bilinear_model (all)", t_total)):
        print(f"| {name} | {seconds:.2f} |")
    print(f"\ntarget < {TARGET_SECONDS:.0f} s: {t_total:.1f} s -> {'met' if t_total < TARGET_SECONDS else 'NOT met'}")


if __name__ == "__main__":
    main()
