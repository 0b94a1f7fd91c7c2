"""Do two networks learn the same thing? Weight spectra, clipping, alignment, generation, matching.

After "Comparing latent dimensions of representations and weights" (Guth et al. 2023):
- a layer's weight covariance `C = W^T W / n` (n neurons) against a freshly initialised
  copy and the Marchenko-Pastur law, to see which directions training learned;
- clipping weights or activations to their top k principal directions;
- aligning two networks' representations with an orthogonal map (Procrustes) and the
  alignment score (`r2`, a correlation: its square is roughly the share of variance explained);
- generating a network by sampling each layer from the trained weight covariance.

For bilinear models pixel space is shared: see `bilinear_similarity` (eigenvectors matched
without alignment, and what two models compute compared in closed form).
"""

from __future__ import annotations

import copy
import math

import torch
from jaxtyping import Float
from torch import Tensor, nn

from ..checks import check_counts, check_integer, check_labels, check_number, check_tensor
from ..models import ReLUImageClassifier, accuracy, check_classifier


def covariance_spectrum(rows: Float[Tensor, "n d"]) -> tuple[Float[Tensor, " k"], Float[Tensor, "k d"]]:
    """Eigenvalues (descending) and eigenvectors (rows) of `C = X^T X / n`, from the SVD of `X [n, d]`.

    For a weight matrix (one row per neuron) C is the weight covariance; for activations
    (one row per input) the representation's second moment. `X = U diag(s) V^T` gives
    `C = V diag(s^2 / n) V^T`: eigenvalues `s^2 / n`, eigenvectors the rows of `V^T`.
    """
    check_tensor("rows", rows, "n d", floating=True, finite=True)
    _, s, vh = torch.linalg.svd(rows.detach().double(), full_matrices=False)
    return s**2 / rows.shape[0], vh


def marchenko_pastur_edge(n_rows: int, n_cols: int, variance: float) -> float:
    """The largest eigenvalue of `W^T W / n_rows` for a random `W [n_rows, n_cols]`: `variance (1 + sqrt(q))^2`."""
    n_rows, n_cols = check_integer("n_rows", n_rows, 1), check_integer("n_cols", n_cols, 1)
    variance = check_number("variance", variance)
    return variance * (1 + math.sqrt(n_cols / n_rows)) ** 2


def marchenko_pastur_density(x: Float[Tensor, " n"], n_rows: int, n_cols: int, variance: float) -> Float[Tensor, " n"]:
    """Density of the eigenvalues of `W^T W / n_rows` for a random `W [n_rows, n_cols]` of entry `variance`.

    With `q = n_cols / n_rows` the support is `variance (1 -+ sqrt(q))^2`; when q > 1 the
    remaining `1 - 1/q` of the mass sits at 0 (not part of this density).
    """
    n_rows, n_cols = check_integer("n_rows", n_rows, 1), check_integer("n_cols", n_cols, 1)
    if check_number("variance", variance) == 0:
        raise ValueError("variance must be above 0 (a matrix of zeros has no spread of eigenvalues), got 0.0")
    check_tensor("x", x, "n", floating=True)
    q = n_cols / n_rows
    low, high = variance * (1 - math.sqrt(q)) ** 2, marchenko_pastur_edge(n_rows, n_cols, variance)
    x = x.double()
    inside = (x > low) & (x < high)
    density = torch.sqrt(((high - x) * (x - low)).clamp(min=0)) / (2 * math.pi * variance * q * x.clamp(min=1e-300))
    return torch.where(inside, density, torch.zeros_like(x))


def linear_init_variance(fan_in: int) -> float:
    """The entry variance of a freshly built `nn.Linear` (uniform on `+-1/sqrt(fan_in)`): `1 / (3 fan_in)`."""
    return 1.0 / (3 * check_integer("fan_in", fan_in, 1))


def clip_weight(weight: Float[Tensor, "out inp"], basis: Float[Tensor, "k inp"], k: int) -> Float[Tensor, "out inp"]:
    """`W V_k^T V_k`: each neuron's weights projected on the first k rows of an orthonormal `basis`."""
    sizes: dict[str, int] = {}
    check_tensor("weight", weight, "out inp", sizes, floating=True)
    check_tensor("basis", basis, "k inp", sizes, floating=True, finite=True)
    k = check_integer("k", k, 0, len(basis) + 1)
    top = basis[:k].to(weight.dtype)
    return weight @ top.T @ top


def weight_clipping_accuracy(model: nn.Module, weight: str, basis: Tensor, ks, images: Tensor,
                             labels: Tensor) -> list[float]:
    """Accuracy with the weight matrix `weight` (a key of `model.weight_matrices()`, e.g. "block 0")
    clipped to k basis rows, for each k."""
    check_classifier(model)
    names = list(model.weight_matrices())
    if weight not in names:
        raise ValueError(f"unknown weight {weight!r}: this model's weight matrices are {names}")
    ks = check_ks(ks, basis)
    check_orthonormal(basis)
    check_labels(labels, model.d_output, {"n": len(images)} if isinstance(images, Tensor) else None)
    accuracies = []
    for k in ks:
        clipped = copy.deepcopy(model).eval()
        matrix = clipped.weight_matrices()[weight]
        with torch.no_grad():
            matrix.copy_(clip_weight(matrix, basis, k))
            accuracies.append(accuracy(clipped(images), labels))
    return accuracies


def check_orthonormal(basis: Tensor) -> Tensor:
    """`basis` if its rows are orthonormal (projections onto them are what clipping means); else a ValueError."""
    gram = basis.double() @ basis.double().T
    if not torch.allclose(gram, torch.eye(len(basis), dtype=torch.float64), atol=1e-4):
        raise ValueError("basis rows must be orthonormal (e.g. covariance_spectrum's eigenvectors): projecting onto "
                         "other rows is not a clipping")
    return basis


def check_ks(ks, basis: Tensor) -> list[int]:
    """`ks` as a list of whole numbers from 0 to the basis' rows; else a ValueError."""
    check_tensor("basis", basis, "k d", floating=True, finite=True)
    return check_counts("ks", ks, 0, len(basis) + 1)


@torch.no_grad()
def block_activations(model: nn.Module, images: Tensor, block: int | None) -> Float[Tensor, "n d"]:
    """What block `block` reads for `images` (block 0: the embedding's output); `block=None`: what
    the readout reads (the last block's output)."""
    check_classifier(model)
    return model.block_output(images, -1) if block is None else model.block_input(images, block)


@torch.no_grad()
def activation_clipping_accuracy(model: nn.Module, block: int, basis: Tensor, ks, images: Tensor,
                                 labels: Tensor) -> list[float]:
    """Accuracy when the input of block `block` is projected on the first k rows of `basis`, for each k."""
    check_classifier(model)
    h = model.block_input(images, block)
    check_labels(labels, model.d_output, {"n": len(h)})
    check_tensor(f"basis (directions of block {block}'s {h.shape[-1]}-wide input)", basis, "k d", {"d": h.shape[-1]},
                 floating=True, finite=True)
    ks = check_ks(ks, basis)
    check_orthonormal(basis)
    accuracies = []
    for k in ks:
        top = basis[:k].to(h.dtype)
        accuracies.append(accuracy(model.logits_from_block(h @ top.T @ top, block), labels))
    return accuracies


def procrustes_alignment(acts1: Float[Tensor, "n d1"], acts2: Float[Tensor, "n d2"],
                         held_out: tuple[Tensor, Tensor] | None = None) -> tuple[Float[Tensor, "d2 d1"], float]:
    """The orthogonal `A [d2, d1]` with `acts1 @ A.T` closest to `acts2`, and how well it aligns them.

    `A = U V^T` from the SVD `U S V^T` of the cross-covariance `acts2^T acts1 / n`. The score
    `r2 = tr(A^T C21) / sqrt(tr C11 tr C22)`, a correlation between the rotated representation and
    the other (1 for representations equal up to rotation; the name follows the tutorial it comes from) is
    computed on `held_out = (acts1, acts2)` of other inputs when given, else on the fit data.
    """
    for key, acts in (("acts1", acts1), ("acts2", acts2)):
        if isinstance(acts, Tensor) and acts.ndim != 2:
            raise ValueError(f"representations are [inputs, units] matrices, got shapes {tuple(acts1.shape)} and "
                             f"{tuple(acts2.shape)}")
        check_tensor(key, acts, "n d", floating=True, finite=True)
        if float(acts.abs().max()) == 0:
            raise ValueError(f"{key} is all zeros: a representation with no variance cannot be aligned")
    if len(acts1) != len(acts2):
        raise ValueError(f"the two representations need the same inputs, got {len(acts1)} and {len(acts2)} rows")
    if held_out is not None and (not isinstance(held_out, (tuple, list)) or len(held_out) != 2):
        raise ValueError("held_out must be a pair (acts1 of other inputs, acts2 of the same inputs)")
    if held_out is not None:
        for key, acts in zip(("held_out[0]", "held_out[1]"), held_out, strict=True):
            check_tensor(key, acts, "... d", floating=True, finite=True)
    acts1, acts2 = acts1.double(), acts2.double()
    u, _, vh = torch.linalg.svd(acts2.T @ acts1 / len(acts1), full_matrices=False)
    alignment = u @ vh
    eval1, eval2 = (acts1, acts2) if held_out is None else (held_out[0].double(), held_out[1].double())
    if eval1.ndim != 2 or eval2.ndim != 2 or eval1.shape[1] != acts1.shape[1] or eval2.shape[1] != acts2.shape[1] \
            or len(eval1) != len(eval2):
        raise ValueError(f"held_out must hold the same units as the fitted representations, [m, {acts1.shape[1]}] and "
                         f"[m, {acts2.shape[1]}] for the same m inputs, got {tuple(eval1.shape)} and "
                         f"{tuple(eval2.shape)}")
    explained = torch.trace(alignment.T @ (eval2.T @ eval1))
    r2 = explained / torch.sqrt((eval1**2).sum() * (eval2**2).sum())
    return alignment, r2.item()


def comparison_matrix(vectors1: Float[Tensor, "k1 d1"], alignment: Float[Tensor, "d2 d1"],
                      vectors2: Float[Tensor, "k2 d2"]) -> Float[Tensor, "k1 k2"]:
    """`|E1 A^T E2^T|`: |cos| between orthonormal directions of network 1 (mapped by A) and of network 2."""
    sizes: dict[str, int] = {}
    check_tensor("vectors1", vectors1, "k1 d1", sizes, floating=True, finite=True)
    check_tensor("alignment", alignment, "d2 d1", sizes, floating=True, finite=True)
    check_tensor("vectors2", vectors2, "k2 d2", sizes, floating=True, finite=True)
    return (vectors1.double() @ alignment.T.double() @ vectors2.T.double()).abs()


@torch.no_grad()
def generate_network(reference: ReLUImageClassifier, images: Tensor, seed: int = 0,
                     covariances_from: ReLUImageClassifier | None = None) -> ReLUImageClassifier:
    """A ReLU network whose every layer is drawn from the reference's weight covariance, the readout kept.

    Layer by layer (the embedding, then each block's weight): each neuron's weights are
    sampled independently from `N(0, A C A^T)`, C the reference layer's `W^T W / out` and A
    the alignment of the reference's input representation to the generated one (none for
    pixels). After each layer the generated representation is aligned to the reference's on
    `images` (`procrustes_alignment`); the trained readout finally reads through that map.
    `covariances_from` (same architecture; e.g. the untrained initialisation) takes C from
    another network while keeping every other step: the control for what the covariances add.
    """
    if not isinstance(reference, ReLUImageClassifier) or any(reference.block_bias(b) is not None
                                                              for b in range(reference.n_layer)):
        raise ValueError("generate_network samples the layers of a bias-free ReLUImageClassifier "
                         "(build it with bias=False); a bilinear block's paired left and right rows are not "
                         "independent neurons")
    generator = torch.Generator().manual_seed(check_integer("seed", seed, 0, 2**63))
    check_tensor("images", images, "n ...", floating=True, finite=True)
    source = reference if covariances_from is None else covariances_from
    if not isinstance(source, ReLUImageClassifier) or source.architecture() != reference.architecture():
        raise ValueError("covariances_from must be a ReLUImageClassifier of the reference's architecture "
                         f"({reference.architecture()}), got {type(source).__name__}")
    generated = copy.deepcopy(reference).eval()
    names = ["embedding", *(f"block {b}" for b in range(reference.n_layer))]
    generated_weights, source_weights = generated.weight_matrices(), source.weight_matrices()
    layers = [(generated_weights[name], source_weights[name]) for name in names]
    alignment = None  # reference input space -> generated input space
    for index, (gen_weight, ref_weight) in enumerate(layers):
        ref = ref_weight.detach().double()
        covariance = ref.T @ ref / ref.shape[0]
        if alignment is not None:
            covariance = alignment @ covariance @ alignment.T
        eigenvalues, eigenvectors = torch.linalg.eigh(covariance)
        root = eigenvectors * eigenvalues.clamp(min=0).sqrt()  # covariance = root @ root.T
        noise = torch.randn(ref.shape, generator=generator, dtype=torch.float64)
        gen_weight.copy_((noise @ root.T).to(gen_weight.dtype))
        # the representation this weight produces: the input of the next block (or of the readout)
        reads = index if index < reference.n_layer else None
        ref_acts, gen_acts = block_activations(reference, images, reads), block_activations(generated, images, reads)
        alignment, _ = procrustes_alignment(ref_acts, gen_acts)  # [d_gen, d_ref]
    readout = reference.readout_weight.double() @ alignment.T
    generated_weights["readout"].copy_(readout.to(generated_weights["readout"].dtype))
    return generated
