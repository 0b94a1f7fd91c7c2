"""From weights to eigenvectors: fold the readout, symmetrise, `eigh`, project to pixels.

For a bilinear block with left and right weights `L`, `R` and a readout `U` (the model's,
or any directions in the block's output space), output c is a quadratic form of the
block's input `h`:

    out_c = sum_o U[c,o] (L[o] . h)(R[o] . h) = h^T B_c h,   B_c = sum_o U[c,o] L[o] (x) R[o]

Only the symmetric part `Q_c = (B_c + B_c^T) / 2` affects it, so `Q_c = V diag(lambda) V^T`
gives `out_c = sum_i lambda_i (v_i . h)^2` exactly. For block 0, `h = E x` and `E^T v_i`
is an image. `decompose` is those three steps on bare tensors; the entry points
(`decompose_bilinear_model`, `decompose_direction`) add the small steps around it: bias
augmentation, orientation by SIGN_RULE, and the pixel projection.

Conventions: eigenvalues ascending (as `torch.linalg.eigh` gives them: index -1 is the most
positive, 0 the most negative); eigenvector k is row k, `eigenvectors[c, k]`.
"""

from __future__ import annotations

import copy

import numpy as np
import torch
from einops import einsum
from jaxtyping import Float
from torch import Tensor, nn

from .artifacts import DecompositionArtifacts, augment, orient_eigenvectors
from .checks import check_names, check_tensor
from .models import BilinearImageClassifier

DTYPES = {"float32": torch.float32, "float64": torch.float64}


def decompose(
    readout: Float[Tensor, "cls out"], left: Float[Tensor, "out in1"], right: Float[Tensor, "out in2"]
) -> tuple[Float[Tensor, "cls in1 in2"], Float[Tensor, "cls in1 in2"], Float[Tensor, "cls comp"],
           Float[Tensor, "cls comp in1"]]:
    """(B, Q, eigenvalues, eigenvectors as rows) of the quadratic forms `readout[c] . ((L h) * (R h))`."""
    check_factors(readout, left, right)  # [cls, out], [out, in], [out, in]: finite floats of one dtype
    raw = einsum(readout, left, right, "cls out, out in1, out in2 -> cls in1 in2")  # 1. fold the readout in: B
    interactions = symmetrize(raw)  # 2. only Q = (B + B^T) / 2 reaches the output
    eigenvalues, eigenvectors = torch.linalg.eigh(interactions)  # 3. Q_c = V diag(lambda) V^T, ascending
    return raw, interactions, eigenvalues, eigenvectors.mT  # eigenvector k as row k


def check_factors(readout: Tensor, left: Tensor, right: Tensor) -> None:
    """A ValueError naming the argument unless `readout [cls, out]`, `left [out, in1]` and `right [out, in2]`
    are finite float tensors whose `out` sizes agree."""
    sizes: dict[str, int] = {}
    check_tensor("readout", readout, "cls out", sizes, floating=True, finite=True)
    check_tensor("left", left, "out in", sizes, floating=True, finite=True)
    check_tensor("right", right, "out in", sizes, floating=True, finite=True)  # in: the input space of left too
    dtypes = {readout.dtype, left.dtype, right.dtype}
    if len(dtypes) != 1 or not dtypes <= set(DTYPES.values()):
        raise ValueError(f"readout, left and right must share one dtype, float32 or float64; got "
                         f"{readout.dtype}, {left.dtype}, {right.dtype}: convert them with .double()")


def symmetrize(matrices: Float[Tensor, "... in1 in2"]) -> Float[Tensor, "... in1 in2"]:
    """`(B + B^T) / 2` over the last two axes: the part of `B` that a quadratic form sees."""
    check_tensor("matrices", matrices, "... in in", floating=True)
    return (matrices + matrices.mT) / 2


def project_to_pixels(
    eigenvectors: Float[Tensor, "cls comp in1"], embedding_weight: Float[Tensor, "in1 inp"]
) -> Float[Tensor, "cls comp inp"]:
    """Pixel-space eigenvectors `E^T v`. Not orthonormal, but `v . E x = (E^T v) . x` exactly."""
    sizes: dict[str, int] = {}
    check_tensor("eigenvectors", eigenvectors, "cls comp in1", sizes, floating=True)
    check_tensor("embedding_weight", embedding_weight, "in1 inp", sizes, floating=True)
    return einsum(eigenvectors, embedding_weight.to(eigenvectors.dtype), "cls comp in1, in1 inp -> cls comp inp")


# --- the steps around `decompose` --------------------------------------------------------------


def check_decomposable(model: nn.Module) -> BilinearImageClassifier:
    """`model`, if it is a pure quadratic form with weights that have values; else a clear error."""
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
            f"a gated layer (gate={model.gate!r}) is a GLU, not a bilinear block: its output is not a quadratic form. "
            "Train with gate=None to use this decomposition."
        )
    if model.embedding_weight.is_meta:
        raise ValueError("the model's weights are on the 'meta' device and hold no values: load its weights "
                         "(model.to_empty(device='cpu') then load_state_dict) before decomposing")
    for name, weight in model.weight_matrices().items():
        if not bool(torch.isfinite(weight).all()):
            raise ValueError(f"the model's {name} weight contains NaN or inf: its training diverged; retrain it")
    return model


def _check_dtype(dtype) -> torch.dtype:
    dtype = DTYPES.get(dtype, dtype) if isinstance(dtype, str) else dtype
    if dtype not in DTYPES.values():
        raise ValueError(f"dtype must be torch.float32 or torch.float64 (or 'float32' / 'float64'), got {dtype!r}")
    return dtype


def block_weights(
    model: BilinearImageClassifier, block: int = -1, dtype: torch.dtype = torch.float64
) -> tuple[Float[Tensor, "out in_aug"], Float[Tensor, "out in_aug"]]:
    """(L, R) of block `block` on the CPU in `dtype`; with a bias, augmented by a column: `[L | b_l]`.

    The augmented form treats the bias as the weight of a constant input 1, so a biased
    block is still a quadratic form, of `[h, 1]`.
    """
    model, dtype = check_decomposable(model), _check_dtype(dtype)
    left, right = (w.to(device="cpu", dtype=dtype) for w in (model.left_weight(block), model.right_weight(block)))
    if model.bias:
        left = torch.cat([left, model.left_bias(block).to(device="cpu", dtype=dtype)[:, None]], dim=1)
        right = torch.cat([right, model.right_bias(block).to(device="cpu", dtype=dtype)[:, None]], dim=1)
    return left, right


def raw_interaction_matrices(model: nn.Module, block: int = -1, dtype: torch.dtype = torch.float64) -> Float[
    Tensor, "cls in1 in2"
]:
    """B: the readout folded into the last block, `einsum(U, L, R, "cls out, out in1, out in2 -> cls in1 in2")`."""
    model, dtype = check_decomposable(model), _check_dtype(dtype)
    _require_last_block(model, block)
    left, right = block_weights(model, block, dtype)
    return einsum(model.readout_weight.to(device="cpu", dtype=dtype), left, right,
                  "cls out, out in1, out in2 -> cls in1 in2")


def _require_last_block(model: BilinearImageClassifier, block: int) -> int:
    index = model.block_index(block)
    if index != model.n_layer - 1:
        raise ValueError(
            f"block {block} is not the last of this {model.n_layer}-block model: its outputs feed another block, not "
            "the readout, so there are no per-class matrices for it. Pick a direction in its output space (for "
            "example an eigenvector of the last block) and use decompose_direction(model, block, direction)."
        )
    return index


@torch.no_grad()
def _decompose_block(model: BilinearImageClassifier, index: int, readout: Tensor, dtype: torch.dtype,
                     output_names: list[str]) -> DecompositionArtifacts:
    left, right = block_weights(model, index, dtype)
    raw, interactions, eigenvalues, eigenvectors = decompose(readout, left, right)
    reference_model = copy.deepcopy(model).to(device="cpu", dtype=dtype)  # the sign rule's all-ones image
    white = reference_model.block_input(torch.ones(1, model.d_input, dtype=dtype), index)
    eigenvectors = orient_eigenvectors(eigenvectors, augment(white, bool(model.bias))[0])
    pixels = None
    if index == 0:
        pixels = project_to_pixels(eigenvectors[..., : model.d_hidden], reference_model.embedding_weight)
    return DecompositionArtifacts(
        raw_interactions=raw,
        interactions=interactions,
        eigenvalues=eigenvalues,
        eigenvectors=eigenvectors,
        pixel_eigenvectors=pixels,
        bias=bool(model.bias),
        block=index,
        output_names=output_names,
    )


def decompose_bilinear_model(
    model: nn.Module, block: int = -1, dtype: torch.dtype = torch.float64, class_names=None
) -> DecompositionArtifacts:
    """Per-class interaction matrices of the last block, symmetrised and eigendecomposed.

    Works for a model on any device; the artifacts are CPU tensors in `dtype`. For a
    one-block model the eigenvectors also come projected to pixels (`pixel_eigenvectors`);
    for a deeper one they live in the previous block's output space. Either way
    `artifacts.logits(model.block_input(x))` rebuilds the logits exactly.
    """
    model, dtype = check_decomposable(model), _check_dtype(dtype)
    index = _require_last_block(model, block)
    names = check_names("class_names", class_names, model.d_output) if class_names is not None \
        else [str(c) for c in range(model.d_output)]
    readout = model.readout_weight.to(device="cpu", dtype=dtype)
    return _decompose_block(model, index, readout, dtype, names)


def decompose_direction(
    model: nn.Module, block: int, direction, dtype: torch.dtype = torch.float64
) -> DecompositionArtifacts:
    """The quadratic form of `u . g(h)` for directions `u` in the output space of block `block`.

    `direction` is `[d]` or `[K, d]` (a tensor, NumPy array or nested list); one "output"
    per direction. For block 0 the eigenvectors are also projected to pixels. Chaining it
    (an eigenvector of block b as the direction for block b - 1) follows a feature down any depth.
    """
    model = check_decomposable(model)
    index, dtype = model.block_index(block), _check_dtype(dtype)
    if direction is None or isinstance(direction, (str, bytes)):
        raise ValueError(f"a direction is numbers [d] or [K, d] (a tensor, array or nested list), got "
                         f"{type(direction).__name__} {direction!r:.60}")
    if not isinstance(direction, Tensor):
        try:
            direction = torch.as_tensor(np.asarray(direction, dtype=np.float64))
        except (TypeError, ValueError):
            raise ValueError(f"a direction is numbers [d] or [K, d] (a tensor, array or nested list), got "
                             f"{type(direction).__name__} {direction!r:.60}") from None
    width = model.d_hidden
    if direction.ndim not in (1, 2) or direction.shape[-1] != width:
        raise ValueError(f"a direction in the output space of block {block} is [{width}] or [K, {width}], "
                         f"got shape {tuple(direction.shape)}")
    if direction.is_complex() or not bool(torch.isfinite(direction).all()):
        raise ValueError("direction must hold finite real numbers, got NaN, inf or complex entries")
    directions = direction.to(device="cpu", dtype=dtype).reshape(-1, width)
    if len(directions) == 0 or bool((directions.norm(dim=-1) == 0).any()):
        raise ValueError("direction is empty or has an all-zero row: a zero direction reads nothing from the block")
    return _decompose_block(model, index, directions, dtype, [f"direction {k}" for k in range(len(directions))])
