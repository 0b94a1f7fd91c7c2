"""`DecompositionArtifacts`: the eigendecomposition of one interaction matrix per output.

What a decomposition gives, and what it answers about the decomposed block's input `h`
(`model.block_input(x, block)`): each component's projection `v_i . h`, its contribution
`lambda_i (v_i . h)^2`, and the outputs rebuilt as their sum. Saved and loaded safely.
"""

from __future__ import annotations

import json
import os
import pickle
from dataclasses import dataclass, field
from pathlib import Path

import torch
from einops import einsum
from jaxtyping import Float, Int64
from torch import Tensor

from .checks import check_boolean, check_integer, check_tensor
from .paths import atomic_write, atomic_write_text, refused_code

SIGN_RULE = "each eigenvector v is oriented so that v . f(1) > 0, f(1) being the input of the decomposed block for an all-ones image (every pixel fully inked)"  # noqa: E501
DECOMPOSITION_FILE = "decomposition.pt"
SUMMARY_FILE = "decomposition.json"
SAVED_FIELDS = ("raw_interactions", "interactions", "eigenvalues", "eigenvectors", "pixel_eigenvectors", "bias",
                "block", "output_names")


def orient_eigenvectors(
    eigenvectors: Float[Tensor, "cls comp in1"], reference: Float[Tensor, " in1"]
) -> Float[Tensor, "cls comp in1"]:
    """Flip each eigenvector so that `v . reference > 0` (SIGN_RULE); `lambda (v . h)^2` is unchanged.

    Ties (a projection within 1e-9 of zero, relative) fall back to making the entry of
    largest magnitude positive.
    """
    reference = reference.to(eigenvectors.dtype)
    proj = einsum(eigenvectors, reference, "cls comp in1, in1 -> cls comp")
    scale = reference.norm() * eigenvectors.norm(dim=-1)
    largest = eigenvectors.gather(-1, eigenvectors.abs().argmax(dim=-1, keepdim=True)).squeeze(-1)
    sign = torch.where(proj.abs() > 1e-9 * scale, proj.sign(), largest.sign())
    return eigenvectors * torch.where(sign == 0, 1.0, sign).unsqueeze(-1)


def folder_argument(key: str, value) -> Path:
    """`value` as a Path; anything but a string or path is a ValueError naming `key`."""
    if not isinstance(value, (str, os.PathLike)) or not str(value):
        raise ValueError(f"{key} must be a folder path, got {value!r}")
    return Path(value)


def augment(h: Float[Tensor, "batch d"], bias: bool) -> Float[Tensor, "batch d_aug"]:
    """`[h, 1]` for a biased block (the bias is the weight of a constant input), else `h`."""
    return torch.cat([h, torch.ones_like(h[:, :1])], dim=1) if bias else h


@dataclass
class DecompositionArtifacts:
    """The eigendecomposition of one interaction matrix per output (class or direction).

    Shapes: C outputs, d = the decomposed block's input width (+1 with a bias). Component k
    is row k of both eigenvector fields and pairs with eigenvalue k.
    - `raw_interactions` B, `interactions` Q = (B + B^T) / 2: `[C, d, d]`
    - `eigenvalues`: `[C, d]`, ascending
    - `eigenvectors`: `[C, d, d]`, `eigenvectors[c, k]` is v_k of output c, oriented by SIGN_RULE
    - `pixel_eigenvectors`: `[C, d, d_input]`, `E^T v_k` (the constant entry of a biased model
      left out), or None when the block's input is not a linear function of the pixels
      (any block but the first)
    - `block`: which block was decomposed (0-based)
    """

    raw_interactions: Float[Tensor, "cls in1 in2"]
    interactions: Float[Tensor, "cls in1 in2"]
    eigenvalues: Float[Tensor, "cls comp"]
    eigenvectors: Float[Tensor, "cls comp in1"]
    pixel_eigenvectors: Float[Tensor, "cls comp inp"] | None
    bias: bool = False
    block: int = 0
    output_names: list[str] = field(default_factory=list)

    def __post_init__(self):
        """Every field of the type and shape above (a loaded file included); else a ValueError naming it."""
        sizes: dict[str, int] = {}
        check_tensor("eigenvalues", self.eigenvalues, "cls comp", sizes, floating=True, finite=True)
        check_tensor("eigenvectors", self.eigenvectors, "cls comp comp", sizes, floating=True, finite=True)
        for name in ("raw_interactions", "interactions"):
            check_tensor(name, getattr(self, name), "cls comp comp", sizes, floating=True, finite=True)
        if self.pixel_eigenvectors is not None:
            check_tensor("pixel_eigenvectors", self.pixel_eigenvectors, "cls comp inp", sizes, floating=True)
        self.bias = check_boolean("bias", self.bias)
        self.block = check_integer("block", self.block, 0)
        dtypes = {getattr(self, name).dtype for name in SAVED_FIELDS[:5] if getattr(self, name) is not None}
        if len(dtypes) != 1:
            raise ValueError(f"every tensor field must share one dtype, got {sorted(map(str, dtypes))}")
        names = self.output_names
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names) or len(names) not in (0, sizes[
                "cls"]):
            raise ValueError(f"output_names must be a list of {sizes['cls']} strings (or empty), got {names!r}")

    @property
    def num_outputs(self) -> int:
        return self.eigenvalues.shape[0]

    @property
    def width(self) -> int:
        """d: the number of components per output."""
        return self.eigenvalues.shape[1]

    def names(self) -> list[str]:
        return self.output_names or [str(c) for c in range(self.num_outputs)]

    def projections(self, h: Float[Tensor, "batch in1"]) -> Float[Tensor, "batch cls comp"]:
        """`v_i . h` for every output and component; `h` is the block's input (without the constant 1)."""
        check_tensor(f"h (the input of block {self.block})", h, "batch d", floating=True, finite=True)
        h = augment(h.detach().to(device="cpu", dtype=self.eigenvalues.dtype), self.bias)
        if h.shape[1] != self.width:
            raise ValueError(f"expected the decomposed block's input [batch, {self.width - self.bias}], got shape "
                             f"{tuple(h.shape)}: pass model.block_input(x, block={self.block})")
        return einsum(h, self.eigenvectors, "batch in1, cls comp in1 -> batch cls comp")

    def contributions(self, h: Float[Tensor, "batch in1"]) -> Float[Tensor, "batch cls comp"]:
        """`lambda_i (v_i . h)^2`: each component's share of each output; they sum to `logits(h)`."""
        return self.eigenvalues * self.projections(h) ** 2

    def logits(self, h: Float[Tensor, "batch in1"]) -> Float[Tensor, "batch cls"]:
        """The outputs rebuilt from the eigendecomposition: `sum_i lambda_i (v_i . h)^2`."""
        return self.contributions(h).sum(dim=-1)

    def top(self, k: int, by: str = "abs") -> Int64[Tensor, "cls k"]:
        """Indices of the k leading components per output, leading first.

        `by="abs"`: largest |lambda|; "positive": most positive; "negative": most negative.
        """
        k = check_integer("k", k, 1, self.width + 1)
        if by == "abs":
            order = self.eigenvalues.abs().argsort(dim=-1, descending=True)
        elif by == "positive":
            order = self.eigenvalues.argsort(dim=-1, descending=True)
        elif by == "negative":
            order = self.eigenvalues.argsort(dim=-1)
        else:
            raise ValueError(f"unknown ranking {by!r}: use 'abs', 'positive' or 'negative'")
        return order[:, :k]

    def effective_rank(self) -> Float[Tensor, " cls"]:
        """`(sum |lambda|)^2 / sum lambda^2`: how many eigenvalues matter (d if all equal, 1 if one dominates;
        NaN for an output whose matrix is zero, where no eigenvalue matters)."""
        return self.eigenvalues.abs().sum(-1) ** 2 / (self.eigenvalues**2).sum(-1)

    def summary(self, n_leading: int = 5) -> dict:
        """Per output: leading positive and negative eigenvalues and the effective rank."""
        n_leading = check_integer("n_leading", n_leading, 1)
        ranks = self.effective_rank()
        return {
            "block": self.block,
            "width": self.width,
            "bias_augmented": self.bias,
            "dtype": str(self.eigenvalues.dtype).replace("torch.", ""),
            "eigenvalue_order": "ascending",
            "sign_rule": SIGN_RULE,
            "outputs": [
                {
                    "name": name,
                    "top_positive_eigenvalues": self.eigenvalues[c].flip(0)[:n_leading].tolist(),
                    "top_negative_eigenvalues": self.eigenvalues[c][:n_leading].tolist(),
                    "effective_rank": float(ranks[c]),
                }
                for c, name in enumerate(self.names())
            ],
        }

    def save(self, directory: str | os.PathLike) -> Path:
        """Write `decomposition.pt` (tensors) and `decomposition.json` (the summary) into `directory`, each
        atomically. A folder that holds a training run is refused: a decomposition never writes over a run."""
        directory = folder_argument("directory", directory)
        if directory.exists() and not directory.is_dir():
            raise ValueError(f"{directory} is a file, not a folder: save the decomposition into a folder")
        if (directory / "best.pt").exists() or (directory / "metrics.csv").exists():
            raise ValueError(f"{directory} holds a training run; save the decomposition in a folder of its own "
                             "(for example data/analysis/<run name>/)")
        payload = {name: getattr(self, name) for name in SAVED_FIELDS}
        atomic_write(directory / DECOMPOSITION_FILE, lambda f: torch.save(payload, f))
        atomic_write_text(directory / SUMMARY_FILE, json.dumps(self.summary(), indent=2) + "\n")
        return directory

    @classmethod
    def load(cls, directory: str | os.PathLike) -> DecompositionArtifacts:
        """Read what `save` wrote (safely: no pickled code is executed)."""
        path = folder_argument("directory", directory) / DECOMPOSITION_FILE
        if not path.is_file():
            raise FileNotFoundError(f"no {DECOMPOSITION_FILE} in {directory}: run decompose_bilinear_model and save")
        try:
            payload = torch.load(path, map_location="cpu", weights_only=True)
        except pickle.UnpicklingError as exc:
            if not refused_code(exc):  # not a torch file at all
                raise ValueError(f"{path} is not a readable decomposition (corrupt); decompose the model again"
                                 ) from None
            raise ValueError(  # pickled objects or code, which a safe load never runs
                f"refused to load {path}: it holds pickled Python objects, which are never executed here. "
                "Decompose the model again and save it with DecompositionArtifacts.save") from None
        except Exception as exc:  # truncated or corrupt
            raise ValueError(f"{path} is not a readable decomposition ({type(exc).__name__}); decompose the model "
                             "again") from None
        if not isinstance(payload, dict) or set(payload) != set(SAVED_FIELDS):
            raise ValueError(f"{path} is not a decomposition saved by this version: expected the fields "
                             f"{list(SAVED_FIELDS)}; decompose the model again")
        try:
            return cls(**payload)
        except ValueError as exc:
            raise ValueError(f"{path} does not hold a consistent decomposition ({exc}); decompose the model again"
                             ) from None
