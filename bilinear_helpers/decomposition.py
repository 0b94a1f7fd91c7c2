"""From weights to eigenvectors: interaction tensors, symmetrisation, eigendecomposition.

For the last bilinear block of a model (readout `U`, left and right weights `L`, `R`),
the logit of class c is a quadratic form of the block's input `h`:

    logit_c = sum_o U[c,o] (L[o] . h)(R[o] . h) = h^T B_c h,   B_c = sum_o U[c,o] L[o] (x) R[o]

Only the symmetric part `Q_c = (B_c + B_c^T) / 2` affects the logit, so `Q_c = V diag(lambda) V^T`
gives `logit_c = sum_i lambda_i (v_i . h)^2` exactly. For a one-layer model `h = E x`, and
`E^T v_i` is an image in pixel space. For deeper models `h` is the previous block's output,
and `decompose_direction` takes any direction in a block's output back one block further.

Conventions: eigenvalues ascending (as `torch.linalg.eigh` gives them: index -1 is the most
positive, 0 the most negative); eigenvector k is column k of `eigenvectors_hidden[c]`.
Signs are arbitrary, so every eigenvector is oriented by one rule (`orient_eigenvectors`):
a uniformly white image (all pixels 1) projects onto it positively.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import torch
from einops import einsum
from jaxtyping import Float, Int64
from torch import Tensor, nn

from .models import BilinearImageClassifier

SIGN_RULE = "each eigenvector v is oriented so that v . f(1) > 0, f(1) being the input of the decomposed block for an all-white image"  # noqa: E501
DECOMPOSITION_FILE = "decomposition.pt"
SUMMARY_FILE = "summary.json"


# --- the pieces --------------------------------------------------------------------------------


def _check_decomposable(model: nn.Module) -> BilinearImageClassifier:
    if not isinstance(model, BilinearImageClassifier):
        raise TypeError(
            f"{type(model).__name__} is not a BilinearImageClassifier: only bilinear layers are quadratic forms "
            "whose weights can be decomposed like this"
        )
    if model.residual:
        raise ValueError(
            "a residual model is not a pure quadratic form: logit = U (h + g(h)) has a linear term U h besides the "
            "bilinear one, so its eigenvalues would not rebuild the logits. Train with residual=False to use "
            "this decomposition."
        )
    if model.gate is not None:
        raise ValueError(
            f"a gated layer (gate={model.gate!r}) is a GLU, not a bilinear layer: its output is not a quadratic form. "
            "Train with gate=None to use this decomposition."
        )
    return model


def _layer_index(model: BilinearImageClassifier, layer: int) -> int:
    index = layer % model.n_layer if -model.n_layer <= layer < model.n_layer else None
    if index is None:
        raise IndexError(f"layer {layer} is out of range for a model with {model.n_layer} block(s)")
    return index


def block_weights(
    model: BilinearImageClassifier, layer: int = -1, dtype: torch.dtype = torch.float64
) -> tuple[Float[Tensor, "out in_aug"], Float[Tensor, "out in_aug"]]:
    """(L, R) of block `layer` in `dtype`; with a bias, augmented by a column: `[L | b_l]`.

    The augmented form treats the bias as the weight of a constant input 1, so a biased
    block is still a quadratic form, of `[h, 1]`.
    """
    block = _check_decomposable(model).blocks[_layer_index(model, layer)]
    left, right = block.w_l.to(dtype), block.w_r.to(dtype)
    if block.b_l is not None:
        left = torch.cat([left, block.b_l.to(dtype)[:, None]], dim=1)
        right = torch.cat([right, block.b_r.to(dtype)[:, None]], dim=1)
    return left, right


def interaction_matrices(
    directions: Float[Tensor, "dir out"], left: Float[Tensor, "out in1"], right: Float[Tensor, "out in2"]
) -> Float[Tensor, "dir in1 in2"]:
    """`B[k] = sum_o directions[k, o] L[o] (x) R[o]`: the quadratic form of `directions[k] . g(h)`."""
    return einsum(directions, left, right, "dir out, out in1, out in2 -> dir in1 in2")


def build_bilinear_tensor(model: nn.Module, layer: int = -1, dtype: torch.dtype = torch.float64) -> Float[
    Tensor, "cls in1 in2"
]:
    """The readout folded into the last block: `einsum(U, L, R, "cls out, out in1, out in2 -> cls in1 in2")`."""
    model = _check_decomposable(model)
    if _layer_index(model, layer) != model.n_layer - 1:
        raise ValueError(_not_last_layer_message(model, layer))
    left, right = block_weights(model, layer, dtype)
    return interaction_matrices(model.output_weight.to(dtype), left, right)


def symmetrize_bilinear_tensor(tensor: Float[Tensor, "... in1 in2"]) -> Float[Tensor, "... in1 in2"]:
    """`(T + T^T) / 2` over the last two axes: the part of `T` that a quadratic form sees."""
    return (tensor + tensor.mT) / 2


def project_eigenvectors_to_input(
    eigvecs: Float[Tensor, "cls hid comp"], embed_w: Float[Tensor, "hid inp"]
) -> Float[Tensor, "cls comp inp"]:
    """Pixel-space eigenvectors `E^T v`: `einsum(V, E, "cls hid comp, hid inp -> cls comp inp")`.

    They are not orthonormal, but `v . E x = (E^T v) . x`, so they are exactly the
    directions in pixel space that the logits read.
    """
    return einsum(eigvecs, embed_w.to(eigvecs.dtype), "cls hid comp, hid inp -> cls comp inp")


def orient_eigenvectors(
    eigvecs: Float[Tensor, "cls hid comp"], reference: Float[Tensor, " hid"]
) -> Float[Tensor, "cls hid comp"]:
    """Flip each eigenvector so that `v . reference > 0` (the sign rule of this package).

    Ties (a projection within 1e-9 of zero, relative) fall back to making the entry of
    largest magnitude positive. Flipping a sign leaves `lambda (v . h)^2` unchanged.
    """
    reference = reference.to(eigvecs.dtype)
    proj = einsum(eigvecs, reference, "cls hid comp, hid -> cls comp")
    scale = reference.norm() * eigvecs.norm(dim=1)
    largest = eigvecs.gather(1, eigvecs.abs().argmax(dim=1, keepdim=True)).squeeze(1)
    sign = torch.where(proj.abs() > 1e-9 * scale, proj.sign(), largest.sign())
    return eigvecs * torch.where(sign == 0, 1.0, sign).unsqueeze(1)


# --- the features a decomposition reads ---------------------------------------------------------


def _feature_map_state(model: BilinearImageClassifier, layer: int, dtype) -> dict:
    """What `DecompositionArtifacts.features` needs: the embedding and the blocks before `layer`."""
    index = _layer_index(model, layer)
    upstream = [block_weights(model, i, dtype) for i in range(index)]
    return {
        "embedding_weight": model.embedding_weight.to(dtype),
        "upstream_left": [left for left, _ in upstream],
        "upstream_right": [right for _, right in upstream],
        "bias": bool(model.bias),
    }


def _features(
    x: Tensor, embedding_weight: Tensor, upstream_left: list, upstream_right: list, bias: bool
) -> Float[Tensor, "batch in_aug"]:
    """The input of the decomposed block for images `x`: `E x` through the upstream blocks (`[h, 1]` with bias)."""
    dtype = embedding_weight.dtype
    h = x.reshape(len(x), -1).to(dtype) @ embedding_weight.T
    for left, right in zip(upstream_left, upstream_right, strict=True):
        h = _augment(h, bias)
        h = (h @ left.T) * (h @ right.T)
    return _augment(h, bias)


def _augment(h: Tensor, bias: bool) -> Tensor:
    return torch.cat([h, torch.ones_like(h[:, :1])], dim=1) if bias else h


# --- the result ---------------------------------------------------------------------------------


@dataclass
class DecompositionArtifacts:
    """The eigendecomposition of one interaction matrix per output (class or direction).

    Shapes: C outputs, d = the decomposed block's input width (+1 with a bias).
    - `bilinear_tensor`, `symmetrized_tensor`: `[C, d, d]`
    - `eigenvalues`: `[C, d]`, ascending
    - `eigenvectors_hidden`: `[C, d, d]`, column k pairs with eigenvalue k, oriented by SIGN_RULE
    - `eigenvectors_input`: `[C, d, d_input]` pixel-space `E^T v` (row k is component k; the
      constant entry of a biased model left out), or None when the block's input is not a
      linear function of the pixels (any block but the first)
    """

    bilinear_tensor: Float[Tensor, "cls in1 in2"]
    symmetrized_tensor: Float[Tensor, "cls in1 in2"]
    eigenvalues: Float[Tensor, "cls comp"]
    eigenvectors_hidden: Float[Tensor, "cls hid comp"]
    eigenvectors_input: Float[Tensor, "cls comp inp"] | None
    embedding_weight: Float[Tensor, "hid inp"]
    upstream_left: list[Tensor] = field(default_factory=list)
    upstream_right: list[Tensor] = field(default_factory=list)
    bias: bool = False
    layer: int = 0
    output_names: list[str] = field(default_factory=list)

    @property
    def num_outputs(self) -> int:
        return self.eigenvalues.shape[0]

    def features(self, x: Tensor) -> Float[Tensor, "batch hid"]:
        """The decomposed block's input for images `x` (`[B, 1, 28, 28]` or `[B, d_input]`)."""
        return _features(x, self.embedding_weight, self.upstream_left, self.upstream_right, self.bias)

    def projections(self, x: Tensor) -> Float[Tensor, "batch cls comp"]:
        """`v_i . h(x)` for every output and component."""
        return einsum(self.features(x), self.eigenvectors_hidden, "batch hid, cls hid comp -> batch cls comp")

    def contributions(self, x: Tensor) -> Float[Tensor, "batch cls comp"]:
        """`lambda_i (v_i . h(x))^2`: each component's share of each output; they sum to `logits(x)`."""
        return self.eigenvalues * self.projections(x) ** 2

    def logits(self, x: Tensor) -> Float[Tensor, "batch cls"]:
        """The outputs rebuilt from the eigendecomposition: `sum_i lambda_i (v_i . h(x))^2`."""
        return self.contributions(x).sum(dim=-1)

    def top(self, k: int, by: str = "abs") -> Int64[Tensor, "cls k"]:
        """Indices of the k leading components per output, leading first.

        `by="abs"`: largest |lambda|; "positive": most positive; "negative": most negative.
        """
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
        """`(sum |lambda|)^2 / sum lambda^2`: how many eigenvalues matter (d if all equal, 1 if one dominates)."""
        return self.eigenvalues.abs().sum(-1) ** 2 / (self.eigenvalues**2).sum(-1)

    def summary(self, n_leading: int = 5) -> dict:
        """Per output: leading positive and negative eigenvalues and the effective rank."""
        names = self.output_names or [str(c) for c in range(self.num_outputs)]
        ranks = self.effective_rank()
        return {
            "layer": self.layer,
            "width": self.eigenvalues.shape[1],
            "bias_augmented": self.bias,
            "dtype": str(self.eigenvalues.dtype).replace("torch.", ""),
            "eigenvalue_order": "ascending",
            "sign_rule": SIGN_RULE,
            "outputs": [
                {
                    "name": names[c],
                    "top_positive_eigenvalues": self.eigenvalues[c].flip(0)[:n_leading].tolist(),
                    "top_negative_eigenvalues": self.eigenvalues[c][:n_leading].tolist(),
                    "effective_rank": float(ranks[c]),
                }
                for c in range(self.num_outputs)
            ],
        }

    def save(self, directory: str | os.PathLike) -> Path:
        """Write `decomposition.pt` (tensors) and `summary.json` into `directory`."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        payload = {
            name: getattr(self, name)
            for name in (
                "bilinear_tensor", "symmetrized_tensor", "eigenvalues", "eigenvectors_hidden", "eigenvectors_input",
                "embedding_weight", "upstream_left", "upstream_right", "bias", "layer", "output_names",
            )
        }
        tmp = directory / f".{DECOMPOSITION_FILE}.tmp"
        torch.save(payload, tmp)
        os.replace(tmp, directory / DECOMPOSITION_FILE)
        (directory / SUMMARY_FILE).write_text(json.dumps(self.summary(), indent=2) + "\n")
        return directory

    @classmethod
    def load(cls, directory: str | os.PathLike) -> DecompositionArtifacts:
        """Read what `save` wrote (safely: no pickled code is executed)."""
        path = Path(directory) / DECOMPOSITION_FILE
        if not path.is_file():
            raise FileNotFoundError(f"no {DECOMPOSITION_FILE} in {directory}: run decompose_bilinear_model and save")
        try:
            payload = torch.load(path, map_location="cpu", weights_only=True)
            return cls(**payload)
        except Exception as exc:  # unpickling refused, truncated file, or unexpected fields
            raise ValueError(f"{path} is not a readable decomposition ({exc}); decompose the model again") from None


# --- the entry points ---------------------------------------------------------------------------


def _not_last_layer_message(model: BilinearImageClassifier, layer: int) -> str:
    return (
        f"block {layer} is not the last of this {model.n_layer}-block model: its outputs feed another block, not "
        "the readout, so there are no per-class matrices for it. Pick a direction in its output space (for "
        "example a last-layer eigenvector) and use decompose_direction(model, layer, direction)."
    )


def _eigendecompose(
    bilinear: Tensor, model: BilinearImageClassifier, layer: int, dtype: torch.dtype, output_names: list[str]
) -> DecompositionArtifacts:
    symmetric = symmetrize_bilinear_tensor(bilinear)
    eigenvalues, eigenvectors = torch.linalg.eigh(symmetric)
    state = _feature_map_state(model, layer, dtype)
    white_image = torch.ones(1, model.d_input, dtype=dtype)
    eigenvectors = orient_eigenvectors(eigenvectors, _features(white_image, **state)[0])
    index = _layer_index(model, layer)
    pixels = (
        project_eigenvectors_to_input(eigenvectors[:, : model.d_hidden], state["embedding_weight"])
        if index == 0
        else None
    )
    return DecompositionArtifacts(
        bilinear_tensor=bilinear,
        symmetrized_tensor=symmetric,
        eigenvalues=eigenvalues,
        eigenvectors_hidden=eigenvectors,
        eigenvectors_input=pixels,
        layer=index,
        output_names=output_names,
        **state,
    )


@torch.no_grad()
def decompose_bilinear_model(
    model: nn.Module, layer: int = -1, dtype: torch.dtype = torch.float64, class_names=None
) -> DecompositionArtifacts:
    """Per-class interaction matrices of the last block, symmetrised and eigendecomposed.

    For a one-layer model the eigenvectors also come projected to pixels
    (`eigenvectors_input`). For a deeper model they live in the previous block's output
    space; `artifacts.logits(x)` still rebuilds the logits exactly. A block other than the
    last has no classes of its own: use `decompose_direction`.
    """
    model = _check_decomposable(model)
    if _layer_index(model, layer) != model.n_layer - 1:
        raise ValueError(_not_last_layer_message(model, layer))
    names = list(class_names) if class_names is not None else [str(c) for c in range(model.d_output)]
    return _eigendecompose(build_bilinear_tensor(model, layer, dtype), model, layer, dtype, names)


@torch.no_grad()
def decompose_direction(
    model: nn.Module, layer: int, direction: Float[Tensor, "... out"], dtype: torch.dtype = torch.float64
) -> DecompositionArtifacts:
    """The quadratic form of `u . g(h)` for directions `u` in the output space of block `layer`.

    `B_u = sum_o u[o] L[o] (x) R[o]` over the block's inputs, symmetrised and decomposed;
    one "output" per direction (`direction` is `[d]` or `[K, d]`). For block 0 the
    eigenvectors are also projected to pixels. `artifacts.logits(x)` rebuilds `u . g(h(x))`.
    Chaining it (a layer-l eigenvector as the direction for block l-1) follows a feature
    down through any depth.
    """
    model = _check_decomposable(model)
    directions = direction.to(dtype).reshape(-1, direction.shape[-1])
    left, right = block_weights(model, layer, dtype)
    if directions.shape[-1] != left.shape[0]:
        raise ValueError(
            f"a direction in the output space of block {layer} has {left.shape[0]} entries, got {directions.shape[-1]}"
        )
    bilinear = interaction_matrices(directions, left, right)
    return _eigendecompose(bilinear, model, layer, dtype, [f"direction {k}" for k in range(len(directions))])


@torch.no_grad()
def eigenvector_logits(model: nn.Module, vectors: Float[Tensor, "k hid"], layer: int = -1) -> Float[Tensor, "k cls"]:
    """The logits that vectors in the input space of block `layer` produce: the blocks from
    `layer` on, then the head (as the seed notebook feeds layer-2 eigenvectors)."""
    model = _check_decomposable(model)
    dtype = model.embed.weight.dtype
    h = vectors.to(device=model.embed.weight.device, dtype=dtype)
    for block in model.blocks[_layer_index(model, layer) :]:
        h = block(h)
    return model.head(h).to(vectors.dtype)


def pixel_energy_fraction(
    pixels: Float[Tensor, "*batch inp"], mask: Float[Tensor, " inp"]
) -> Float[Tensor, " *batch"]:
    """The share of each pixel-space eigenvector's squared norm that falls on `mask`.

    With `mask` = pixels the data rarely inks, it measures how much of a feature is spent
    on places no digit is drawn: high for models that overfit rare pixels.
    """
    mask = mask.to(pixels.dtype)
    return (pixels**2 * mask).sum(-1) / (pixels**2).sum(-1)


def hoyer_sparsity(pixels: Float[Tensor, "*batch inp"]) -> Float[Tensor, " *batch"]:
    """Hoyer's sparsity `(sqrt(n) - |p|_1 / |p|_2) / (sqrt(n) - 1)`: 0 for a flat vector, 1 for one pixel."""
    n = pixels.shape[-1]
    ratio = pixels.abs().sum(-1) / pixels.norm(dim=-1)
    return (n**0.5 - ratio) / (n**0.5 - 1)
