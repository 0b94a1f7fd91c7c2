"""Features shared across classes: a CP decomposition of the class tensor.

The per-class eigendecomposition gives each output its own eigenvectors. A rank-R CP
decomposition writes every class matrix with one shared set of R terms,

    Q[c] ~ sum_r D[c, r] sym(l_r (x) r_r),     sym(M) = (M + M^T) / 2,

so a term (a pair of directions l, r) is a feature that several classes read with their own
weights `D[c, r]`. Each term is itself one bilinear unit: the fit is a bilinear layer of R
units, `logit_c(h) = sum_r D[c, r] (l_r . h)(r_r . h)`, and its accuracy is measured by running
it. A term's quadratic form splits into a positive and a negative feature,

    sym(l (x) r) = p p^T - m m^T,     p = (l + r) / 2,  m = (l - r) / 2,

which map to pixels through the embedding like eigenvectors do (`E^T p`, `E^T m`).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import pandas as pd
import torch
from einops import einsum
from jaxtyping import Float
from torch import Tensor, nn

from ..checks import check_integer, check_labels, check_names, check_tensor
from ..decomposition import symmetrize
from .modularity import per_class_accuracy


class SharedBasis(nn.Module):
    """A rank-R CP fit of a class tensor, as the bilinear layer it is.

    `left`, `right` `[rank, in]` and `readout` `[cls, rank]` (float64). `forward(h)` takes the
    decomposed block's input `h [batch, in]`; with `embedding` (`E [in, inp]`) given, `images`
    reads images `[B, C, H, W]` or `[B, inp]` through it. `cosine` and `relative_error` compare
    `tensor()` with the tensor that was fit.
    """

    def __init__(self, left: Tensor, right: Tensor, readout: Tensor, embedding: Tensor | None = None,
                 cosine: float = float("nan"), relative_error: float = float("nan")):
        super().__init__()
        sizes: dict[str, int] = {}
        check_tensor("left", left, "rank in", sizes, floating=True, finite=True)
        check_tensor("right", right, "rank in", sizes, floating=True, finite=True)
        check_tensor("readout", readout, "cls rank", sizes, floating=True, finite=True)
        if embedding is not None:
            check_tensor("embedding", embedding, "in inp", sizes, floating=True, finite=True)
        self.left, self.right, self.readout = (t.detach().double() for t in (left, right, readout))
        self.embedding = None if embedding is None else embedding.detach().double().cpu()
        self.cosine, self.relative_error = cosine, relative_error

    @property
    def rank(self) -> int:
        return self.left.shape[0]

    def tensor(self) -> Float[Tensor, "cls in1 in2"]:
        """`sum_r D[c, r] sym(l_r (x) r_r)`: the class tensor the fit writes."""
        return symmetrize(einsum(self.readout, self.left, self.right, "cls rank, rank in1, rank in2 -> cls in1 in2"))

    def forward(self, h: Float[Tensor, "batch in"]) -> Float[Tensor, "batch cls"]:
        """`sum_r D[c, r] (l_r . h)(r_r . h)` for the block input `h` (= `h^T tensor()[c] h`)."""
        check_tensor(f"h (the decomposed block's input, {self.left.shape[1]} wide)", h, "batch in",
                     {"in": self.left.shape[1]}, floating=True)
        h = h.detach().double().cpu()
        return ((h @ self.left.T) * (h @ self.right.T)) @ self.readout.T

    def images(self, x: Tensor) -> Float[Tensor, "batch cls"]:
        """The logits for images, read through the embedding `E` the basis was given."""
        if self.embedding is None:
            raise ValueError("this SharedBasis has no embedding: pass model.embedding_weight to cp_decompose, or "
                             "call it on model.block_input(x, 0)")
        flat = x.flatten(start_dim=1).double().cpu() if x.ndim > 2 else x.double().cpu()
        check_tensor(f"images ({self.embedding.shape[1]} values each)", flat, "batch inp",
                     {"inp": self.embedding.shape[1]})
        return self(flat @ self.embedding.T)

    def without(self, term: int) -> SharedBasis:
        """The same basis with term `term` removed (its readout column set to 0)."""
        term = check_integer("term", term, 0, self.rank)
        readout = self.readout.clone()
        readout[:, term] = 0
        return SharedBasis(self.left, self.right, readout, self.embedding, self.cosine, self.relative_error)


def tensor_cosine(a: Tensor, b: Tensor) -> float:
    """Cosine similarity of two tensors read as flat vectors."""
    return float((a * b).sum() / (a.norm() * b.norm()))


def cp_decompose(tensor: Float[Tensor, "cls in in"], rank: int, steps: int = 1000, seed: int = 0,
                 lr: float = 0.01, embedding: Float[Tensor, "in inp"] | None = None) -> SharedBasis:
    """A rank-`rank` CP fit of the symmetric class tensor `tensor` (e.g. `artifacts.interactions`).

    Adam on `1 - cos(tensor, fit)` for `steps` steps from factors drawn with `seed`, then the
    readout rescaled by the least-squares factor `<Q, T> / <T, T>` (the cosine does not fix the
    scale). Returns a SharedBasis with `cosine` and `relative_error = |Q - T| / |Q|`.
    """
    check_tensor("tensor", tensor, "cls in in", floating=True, finite=True)
    rank = check_integer("rank", rank, 1)
    steps = check_integer("steps", steps, 1)
    target = symmetrize(tensor.detach().double().cpu())
    if float(target.norm()) == 0:
        raise ValueError("tensor is all zeros: there is nothing to decompose")
    n_classes, width = target.shape[0], target.shape[-1]
    generator = torch.Generator().manual_seed(check_integer("seed", seed, 0))
    factors = [torch.randn(shape, generator=generator, dtype=torch.float64) / shape[1] ** 0.5
               for shape in ((rank, width), (rank, width), (n_classes, rank))]
    for factor in factors:
        factor.requires_grad_(True)
    optimizer = torch.optim.Adam(factors, lr=lr)
    target_norm = target.norm()
    for _ in range(steps):
        fit = symmetrize(einsum(factors[2], factors[0], factors[1], "cls rank, rank in1, rank in2 -> cls in1 in2"))
        loss = 1 - (fit * target).sum() / (fit.norm() * target_norm)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    left, right, readout = (factor.detach() for factor in factors)
    basis = SharedBasis(left, right, readout, embedding)
    fit = basis.tensor()
    basis.readout = readout * ((fit * target).sum() / (fit * fit).sum())
    fit = basis.tensor()
    basis.cosine = tensor_cosine(fit, target)
    basis.relative_error = float((fit - target).norm() / target_norm)
    return basis


@dataclass
class SharedTerms:
    """The terms of a SharedBasis as features, strongest first.

    `order [rank]`: term indices by `strength = |D[:, r]| |l_r| |r_r|`; `positive`, `negative`
    `[rank, in]`: `p = (l + r) / 2` and `m = (l - r) / 2` of each term (in that order), so that
    `sym(l (x) r) = p p^T - m m^T`; `weights [rank, cls]`: `D[c, r]`; `positive_pixels`,
    `negative_pixels` `[rank, inp]`: `E^T p`, `E^T m` (None without an embedding).
    """

    order: Tensor
    strength: Tensor
    positive: Tensor
    negative: Tensor
    weights: Tensor
    positive_pixels: Tensor | None
    negative_pixels: Tensor | None


def shared_terms(basis: SharedBasis) -> SharedTerms:
    """Each term's positive and negative feature, its weight per class and its strength, strongest first."""
    strength = basis.readout.norm(dim=0) * basis.left.norm(dim=1) * basis.right.norm(dim=1)
    order = strength.argsort(descending=True)
    positive = (basis.left[order] + basis.right[order]) / 2
    negative = (basis.left[order] - basis.right[order]) / 2
    pixels = (None, None) if basis.embedding is None else (positive @ basis.embedding, negative @ basis.embedding)
    return SharedTerms(order=order, strength=strength[order], positive=positive, negative=negative,
                       weights=basis.readout[:, order].T, positive_pixels=pixels[0], negative_pixels=pixels[1])


def spread(weights: Float[Tensor, "... cls"]) -> Float[Tensor, " ..."]:
    """How many classes a weight vector spreads over: `(sum_c |w_c|)^2 / sum_c w_c^2` (1: one class;
    the number of classes: all equally)."""
    return weights.abs().sum(-1) ** 2 / weights.pow(2).sum(-1)


def class_spread(terms: SharedTerms, class_names: list[str], n_named: int = 2) -> pd.DataFrame:
    """Per term (strongest first): the `n_named` classes with the largest positive and negative
    weights, relative to the term's largest |weight| (a term's overall sign is arbitrary: `(r, D)` and
    `(-r, -D)` are the same term), and how many classes its weight spreads over (`spread`)."""
    names = check_names("class_names", class_names, terms.weights.shape[1])
    rows = []
    for weights in terms.weights:
        relative = weights / weights.abs().max()
        order = relative.argsort(descending=True).tolist()
        raises = [f"{names[c]} ({relative[c]:+.2f})" for c in order[:n_named] if relative[c] > 0]
        lowers = [f"{names[c]} ({relative[c]:+.2f})" for c in order[::-1][:n_named] if relative[c] < 0]
        rows.append({"largest positive weights": ", ".join(raises), "largest negative weights": ", ".join(lowers),
                     "classes it spreads over": float(spread(weights))})
    return pd.DataFrame(rows, index=pd.Index(range(1, len(rows) + 1), name="term (strongest first)"))


@torch.no_grad()
def term_removal(basis: SharedBasis, term: int, h: Float[Tensor, "n in"], labels: Tensor) -> dict:
    """What removing term `term` does: overall accuracy `before` and `after`; the inputs it turns from
    right to wrong (`lost`) and from wrong to right (`gained`), a paired count on the same inputs;
    each class's accuracy `change` (`[cls]`, after minus before); and `support` (`[cls]`): the mean
    over class c's own inputs of the term's part of logit c, `D[c, r] (l_r . h)(r_r . h)`."""
    before, after = basis(h), basis.without(term)(h)
    check_labels(labels, before.shape[-1], {"n": len(h)})
    part = before - after  # [n, cls]: the removed term's share of every logit
    own = part.gather(1, labels[:, None])[:, 0]
    counts = torch.bincount(labels, minlength=part.shape[-1]).double()
    right_before, right_after = before.argmax(-1) == labels, after.argmax(-1) == labels
    return {"before": float(right_before.double().mean()), "after": float(right_after.double().mean()),
            "lost": int((right_before & ~right_after).sum()), "gained": int((~right_before & right_after).sum()),
            "change": per_class_accuracy(after, labels) - per_class_accuracy(before, labels),
            "support": torch.bincount(labels, weights=own, minlength=part.shape[-1]) / counts}


def parafac_relative_error(tensor: Float[Tensor, "cls in in"], rank: int, n_iter_max: int = 1000) -> float:
    """`|Q - T| / |Q|` of tensorly's alternating-least-squares CP (`parafac`, SVD start) of rank `rank`,
    symmetrised: a reference fit from an independent implementation. A term `sym(l (x) r)` is two
    of parafac's (non-symmetric) terms, so parafac at rank 2R can match a SharedBasis of rank R."""
    import tensorly
    from tensorly.decomposition import parafac

    check_tensor("tensor", tensor, "cls in in", floating=True, finite=True)
    target = symmetrize(tensor.detach().double().cpu())
    with warnings.catch_warnings():  # an SVD start with more terms than the class axis has entries says so
        warnings.simplefilter("ignore", UserWarning)
        cp = parafac(tensorly.tensor(target.numpy()), rank=check_integer("rank", rank, 1), init="svd",
                     n_iter_max=check_integer("n_iter_max", n_iter_max, 1), tol=1e-12)
    rebuilt = symmetrize(torch.from_numpy(tensorly.cp_to_tensor(cp)))
    return float((rebuilt - target).norm() / target.norm())


__all__ = [
    "SharedBasis",
    "SharedTerms",
    "class_spread",
    "cp_decompose",
    "parafac_relative_error",
    "shared_terms",
    "spread",
    "tensor_cosine",
    "term_removal",
]
