"""Exercise checks for notebooks 09-11 (see each check's docstring for its exercise)."""

from __future__ import annotations

import torch
from jaxtyping import Float
from torch import Tensor

from ..analysis.backdoor import CONCENTRATION_THRESHOLD, pixel_concentration
from ..analysis.network_truncation import truncate_network
from ..analysis.shared_features import SharedBasis, shared_terms
from ..decomposition import check_decomposable, decompose_bilinear_model
from .feedback import WrongAnswer, as_integer, as_tensor, graded, matches, relative_error

__all__: list[str] = [
    "check_block_cut",
    "check_costliest_term",
    "check_cp_logits",
    "check_single_block_cuts",
    "check_top_concentration",
    "check_trigger_pixels",
]


def _logits(name: str, answer, n: int, n_classes: int, other: tuple[int, str] | None = None) -> Tensor:
    """`answer` as `[n, n_classes]` logits, naming the usual wrong shapes (transposed, one column per term)."""
    tensor = as_tensor(name, answer)
    if tuple(tensor.shape) == (n_classes, n) and n != n_classes:
        raise WrongAnswer(f"`{name}` has shape {tuple(tensor.shape)}: classes first. Logits are [image, class], "
                          f"({n}, {n_classes}): transpose it.")
    if other is not None and tuple(tensor.shape) == (n, other[0]) and other[0] != n_classes:
        raise WrongAnswer(f"`{name}` has shape {tuple(tensor.shape)}: {other[1]}")
    return as_tensor(name, tensor, (n, n_classes))


@graded
def check_cp_logits(basis: SharedBasis, h: Float[Tensor, "batch in"], answer) -> str:
    """Exercise 09.1: the CP fit's logits rebuilt from each term's positive and negative feature.

    `logit_c(h) = sum_r D[c, r] [(p_r . h)^2 - (m_r . h)^2]`, `p = (l + r) / 2`, `m = (l - r) / 2`: `[batch, cls]`.
    """
    h, (left, right, readout) = h.detach().double().cpu(), (basis.left, basis.right, basis.readout)
    n_classes, rank = readout.shape
    answer = _logits("my_cp_logits", answer, len(h), n_classes,
                     (rank, "one column per term. Weight the terms with the readout D and sum them: "
                            "each logit is sum_r D[c, r] [(p_r . h)^2 - (m_r . h)^2]."))
    expected = basis(h)  # the basis holds detached tensors: no gradients to switch off
    if matches(answer, expected):
        return (f"every logit of the rank-{rank} fit is a weighted difference of two squares per term (largest "
                f"logit {float(expected.abs().max()):.2f}); the fit is a bilinear layer of {rank} units.")
    if matches(answer, -expected):
        raise WrongAnswer("the sign is flipped: a term is p p^T - m m^T, so (p . h)^2 counts for the class and "
                          "(m . h)^2 against it, with p = (l + r) / 2.")
    if matches(answer, ((h @ (left + right).T) ** 2 + (h @ (left - right).T) ** 2) @ readout.T / 4):
        raise WrongAnswer("you added the two squares: the negative feature m is subtracted, "
                          "(p . h)^2 - (m . h)^2 = (l . h)(r . h).")
    if matches(answer, 4 * expected):
        raise WrongAnswer("your logits are 4 times too large: p and m are the half-sum and half-difference, "
                          "(l + r) / 2 and (l - r) / 2.")
    raise WrongAnswer(f"your logits differ from the fit's (relative error {relative_error(answer, expected):.2g}). "
                      "Hint: p_r . h is h @ p.T, a [batch, rank] matrix; square, subtract, then multiply by D.T.")


@graded
def check_costliest_term(basis: SharedBasis, h: Float[Tensor, "batch in"], labels: Tensor, cls: int, answer) -> str:
    """Exercise 09.2: the term whose removal lowers class `cls`'s own logit most, on that class's images.

    `argmax_r D[cls, r] mean_{x of class cls} (l_r . h)(r_r . h)`, an index into the fit's terms (0-based).
    """
    h, labels, rank = h.detach().double().cpu(), torch.as_tensor(labels).cpu(), basis.rank
    term = as_integer("my_term", answer, 0, rank + 1)
    parts = (h @ basis.left.T) * (h @ basis.right.T)  # [batch, rank]
    support, support_all = basis.readout[cls] * parts[labels == cls].mean(0), basis.readout[cls] * parts.mean(0)
    best, order = int(support.argmax()), shared_terms(basis).order.tolist()
    if term == best:
        return (f"removing term {best} takes {float(support[best]):.2f} off class {cls}'s mean logit on its own "
                f"images, the most of the {rank} terms (by weight strength it ranks {order.index(best) + 1} of "
                f"{rank}).")
    if term == int(support.argmin()):
        raise WrongAnswer(f"term {term} has the most negative part in class {cls}'s logit: removing it raises the "
                          "logit. Look for the largest positive part, D[c, r] times the mean of (l . h)(r . h).")
    if term == order.index(best) and term != best:
        raise WrongAnswer(f"{term} is the right term's place in the strength order (terms.order); the fit's own "
                          f"index of that term is terms.order[{term}].")
    if term == int(support_all.argmax()):
        raise WrongAnswer(f"term {term} adds most to logit {cls} averaged over all test images; the question is "
                          f"about class {cls}'s own images (labels == {cls}).")
    if term in (int(basis.readout[cls].argmax()), int(basis.readout[cls].abs().argmax())):
        raise WrongAnswer(f"term {term} has the largest weight D[{cls}, r], but the effect is the weight times what "
                          "the term reads on the images, D[c, r] * mean (l . h)(r . h).")
    if term in (best + 1, rank):
        raise WrongAnswer(f"off by one? Term indices start at 0 (0 to {rank - 1}), as `basis.without` takes them.")
    raise WrongAnswer(f"removing term {term} takes {float(support[term]):.2f} off class {cls}'s mean own logit; "
                      "another term takes off more. Compute D[c, r] * mean (l_r . h)(r_r . h) for every r at once.")


@torch.no_grad()
def _projected(model, block: int, x: Tensor, projector: Tensor) -> Tensor:
    """The logits with block `block`'s input `h` replaced by `P h`: `truncate_network` applied to the activations."""
    h = model.block_input(x, block)
    return model.logits_from_block(h @ projector.mT.to(h.dtype), block).double()


def _projector(basis, k: int) -> Tensor:
    return basis.projector(k) if hasattr(basis, "projector") else basis[:k].mT @ basis[:k]


@graded
def check_block_cut(model, bases, block: int, k: int, images: Tensor, answer) -> str:
    """Exercise 10.1: the logits with block `block`'s input cut by hand to the top `k` rows of `bases[block]`.

    `h -> V_k^T V_k h` (V_k: the first k rows, largest singular value first), the other blocks whole: `[batch, cls]`.
    """
    model = check_decomposable(model)
    x, n, block = images.to(dtype=model.embedding_weight.dtype), model.n_layer, model.block_index(block)
    answer = _logits("my_cut_logits", answer, len(x), model.d_output,
                     (k, f"those are the coordinates on the {k} directions. Map them back to the block's input "
                         "(multiply by V_k) and run the rest of the network on it."))

    def cut(blocks) -> Tensor:  # truncate_network with the blocks in `blocks` cut to k
        with torch.no_grad():
            return truncate_network(model, [k if b in blocks else model.d_hidden for b in range(n)], bases)(x).double()

    expected = cut({block})
    if matches(answer, expected):
        return (f"with block {block}'s input kept in {k} of {model.d_hidden} directions, your logits match "
                f"truncate_network (relative error under 1e-6).")
    rows = (bases[block].basis if hasattr(bases[block], "basis") else torch.as_tensor(bases[block])).double()
    if matches(answer, cut(set())):
        raise WrongAnswer("these are the full model's logits: nothing was cut. Project the block's input onto the "
                          "top k directions, h @ V_k.T @ V_k.")
    if matches(answer, _projected(model, block, x, rows[-k:].mT @ rows[-k:])):
        raise WrongAnswer("you kept the last k rows, the weakest: the basis is ordered largest singular value "
                          "first, so the top k are rows [:k].")
    if matches(answer, _projected(model, block, x, rows[:, :k] @ rows[:, :k].mT)):
        raise WrongAnswer("you took k columns: in `basis` each direction is a row, so V_k is basis[:k].")
    if n > 1 and matches(answer, cut(set(range(n)))):
        raise WrongAnswer(f"you cut every block to {k}: cut only block {block}'s input and leave the others whole.")
    for other in set(range(n)) - {block}:
        if matches(answer, cut({other})):
            raise WrongAnswer(f"you cut block {other}'s input; the exercise cuts block {block}'s.")
    raise WrongAnswer(f"your logits differ from the cut model's (relative error {relative_error(answer, expected):.2g}"
                      f"). Hint: h = model.block_input(x, {block}); P = V[:k].mT @ V[:k]; then "
                      f"model.logits_from_block(h @ P, {block}).")


def _r2(full: Tensor, cut: Tensor, centred: bool = True) -> float:
    reference = full - full.mean(0) if centred else full
    return float(1 - (full - cut).square().sum() / reference.square().sum())


@graded
def check_single_block_cuts(model, bases, k: int, images: Tensor, labels: Tensor, answer) -> str:
    """Exercise 10.2: the logit R^2 of cutting each block's input alone to `k` directions of `bases`.

    Entry l: `1 - |z - z_l|^2 / |z - mean z|^2` (means over images), block l cut to k, the others whole: `[n_layer]`.
    """
    model = check_decomposable(model)
    n, x, labels = model.n_layer, images.to(dtype=model.embedding_weight.dtype), torch.as_tensor(labels).cpu()
    answer = as_tensor("my_block_r2", answer, (n,))
    with torch.no_grad():
        full = model(x).double()
        cuts = [_projected(model, block, x, _projector(bases[block], k)) for block in range(n)]
        expected = torch.tensor([_r2(full, c) for c in cuts], dtype=torch.float64)
        if (answer - expected).abs().max() <= 6e-4:
            worst = int(expected.argmin())
            rest = ", ".join(f"block {b} {float(v):.3f}" for b, v in enumerate(expected) if b != worst)
            return (f"cut alone to {k} directions, block {worst} costs most: logit R^2 {float(expected[worst]):.3f} "
                    f"(the others: {rest}).")

        def near(candidate: Tensor) -> bool:
            return bool((answer - candidate).abs().max() <= 6e-4)

        if near(1 - expected):
            raise WrongAnswer("you gave 1 - R^2, the share lost: R^2 is the share of the logit variance kept.")
        if near(expected.flip(0)):
            raise WrongAnswer("your entries are in reverse order: entry l is block l's cut, block 0 first.")
        if near(torch.tensor([float((c.cpu().argmax(-1) == labels).double().mean()) for c in cuts])):
            raise WrongAnswer("these are the cut models' accuracies; the exercise asks for the logit R^2, "
                              "1 - |z - z_cut|^2 / |z - mean z|^2, a finer measure.")
        if near(torch.tensor([_r2(full, c, centred=False) for c in cuts])):
            raise WrongAnswer("you divided by |z|^2: R^2 compares with the logits' variance, |z - z.mean(0)|^2.")
        complement = [[model.d_hidden if b == cut else k for b in range(n)] for cut in range(n)]
        if n > 1 and near(torch.tensor([_r2(full, truncate_network(model, ks, bases)(x)) for ks in complement])):
            raise WrongAnswer("entry l cut every block except block l: cut block l alone (ks[l] = k, the others "
                              "model.d_hidden).")
        if n > 1 and near(torch.full((n,), _r2(full, truncate_network(model, [k] * n, bases)(x)))):
            raise WrongAnswer(f"you cut every block to {k} at once: cut one block at a time.")
    raise WrongAnswer(f"entries off by up to {float((answer - expected).abs().max()):.3f} from the R^2 of the single-"
                      "block cuts. Hint: ks = [d_hidden] * n_layer, ks[l] = k; truncation_scores(...)['logit_r2'].")


def _eigenvectors(model) -> tuple[Tensor, Tensor]:
    """A one-block model's eigenvectors as rows `[cls, comp, in]` and as images `[cls, comp, inp]`, eigenvalues
    ascending."""
    artifacts = decompose_bilinear_model(check_decomposable(model))
    return artifacts.eigenvectors, artifacts.pixel_eigenvectors


def _concentration(images: Float[Tensor, "... inp"], n_pixels: int, squared: bool = True) -> Tensor:
    """The scan's concentration; `squared=False`: the same share of |pixel| instead of pixel^2 (a slip)."""
    return pixel_concentration(images if squared else images.abs().sqrt(), n_pixels)


@graded
def check_top_concentration(model, answer, top_share: float = 0.02) -> str:
    """Exercise 11.1: per class, the concentration of its most positive eigenvector as an image.

    `E^T v` with v = eigenvectors[c, -1]: the share of its squared norm on its `top_share` largest pixels, `[cls]`.
    """
    vectors, pixel_vectors = _eigenvectors(model)
    images = pixel_vectors[:, [0, -1]]  # [cls, 2, inp]: the most negative and the most positive as images
    (n_classes, _, inp), n_pixels = images.shape, max(1, round(top_share * images.shape[-1]))
    answer = as_tensor("my_concentration", answer, (n_classes,))
    expected = _concentration(images[:, -1], n_pixels)
    if (answer - expected).abs().max() <= 1e-4:
        flagged = [c for c in range(n_classes) if expected[c] >= CONCENTRATION_THRESHOLD]
        top = int(expected.argmax())
        return (f"the largest is class {top}'s, {float(expected[top]):.2f}; the other classes at most "
                f"{float(expected[[c for c in range(n_classes) if c != top]].max()):.2f}; at the scan's threshold "
                f"{CONCENTRATION_THRESHOLD} this flags {flagged}.")

    def near(candidate: Tensor) -> bool:
        return bool((answer - candidate).abs().max() <= 1e-4)

    if near(_concentration(images[:, 0], n_pixels)):
        raise WrongAnswer("you read eigenvector 0, the most negative: eigenvalues are ascending, so the most "
                          "positive is index -1.")
    if near(_concentration(vectors[:, -1], n_pixels)):
        raise WrongAnswer("you measured the eigenvector v in the hidden space; map it to pixels first, E^T v "
                          "(artifacts.pixel_eigenvectors).")
    if near(_concentration(images[:, -1], n_pixels, squared=False)):
        raise WrongAnswer("you summed |pixel values|: the concentration is a share of the squared norm, so square "
                          "the image first.")
    if near(images[:, -1].square().sort(dim=-1, descending=True).values[:, :n_pixels].sum(-1)):
        raise WrongAnswer("you did not divide by the image's total squared norm: E^T v is not a unit vector.")
    energy = images[:, -1].square() / images[:, -1].square().sum(-1, keepdim=True)
    windows = ((energy.sort(dim=-1, descending=True).values.cumsum(-1) - answer[:, None]).abs().max(0).values
               <= 1e-4).nonzero().flatten()  # the windows (pixel counts - 1) that give the answer
    if len(windows):
        raise WrongAnswer(f"you summed the top {int(windows[0]) + 1} pixels; {top_share:.0%} of {inp} pixels is "
                          f"round({top_share} * {inp}) = {n_pixels}.")
    raise WrongAnswer(f"entries off by up to {float((answer - expected).abs().max()):.3f}. Hint: for "
                      "images = pixel_eigenvectors[:, -1], share = images**2 / (images**2).sum(-1, keepdim=True); "
                      "sum its top pixels per class.")


@graded
def check_trigger_pixels(model, target: int, answer, n_pixels: int = 16, n_components: int = 3) -> str:
    """Exercise 11.2: the trigger's pixels read off class `target`'s flagged eigenvector.

    Among the `n_components` most positive eigenvectors, the most concentrated `E^T v`; its `n_pixels` largest
    squared pixels, as a bool mask `[inp]` or image-shaped.
    """
    vectors, pixel_vectors = _eigenvectors(model)
    images = pixel_vectors[target]  # [comp, inp], eigenvalues ascending
    inp = images.shape[-1]
    tensor = as_tensor("my_trigger_mask", answer)
    if tensor.numel() == vectors.shape[-1] and tensor.numel() != inp:
        raise WrongAnswer(f"`my_trigger_mask` has {tensor.numel()} entries, the hidden width: take the eigenvector "
                          f"as an image, E^T v (pixel_eigenvectors), {inp} pixels.")
    if tensor.numel() != inp:
        raise WrongAnswer(f"`my_trigger_mask` has shape {tuple(tensor.shape)}; it should be a mask over the {inp} "
                          "pixels (flat, or image-shaped); from pixel indices, set mask[indices] = True.")
    if not bool(((tensor == 0) | (tensor == 1)).all()):
        raise WrongAnswer("`my_trigger_mask` should be a mask (True on the trigger's pixels), not pixel values: "
                          "compare with the n largest, or set them with mask[indices] = True.")
    mask = tensor.flatten().bool()
    if int(mask.sum()) != n_pixels:
        raise WrongAnswer(f"your mask marks {int(mask.sum())} pixels; the trigger has {n_pixels}: keep the "
                          f"{n_pixels} largest.")

    def top(image: Tensor) -> Tensor:
        return torch.zeros(inp, dtype=torch.bool).index_fill(0, image.argsort(descending=True)[:n_pixels], True)

    candidates = images.flip(0)[:n_components]  # the most positive first
    component = int(_concentration(candidates, n_pixels).argmax())
    flagged = candidates[component]
    hits = int((mask & top(flagged.square())).sum())
    if hits == n_pixels:
        return (f"the {n_pixels} largest pixels of eigenvector {images.shape[0] - 1 - component} (no. {component + 1} "
                f"from the most positive) carry {float(_concentration(flagged, n_pixels)):.0%} of its squared norm.")
    if bool((mask == top(images[0].square())).all()):
        raise WrongAnswer("that is the most negative eigenvector (index 0): eigenvalues are ascending, and a "
                          "trigger detector adds to the target's logit, so look at the most positive (-1, -2, ...).")
    if bool((mask == top(flagged)).all()) or bool((mask == top(-flagged)).all()):
        raise WrongAnswer("you ranked the signed pixel values: an eigenvector's sign is arbitrary, and what counts "
                          "is the squared value (v^2).")
    if bool((mask == top(candidates[0].square())).all()):
        raise WrongAnswer(f"you took the most positive eigenvector; the flagged one is the most concentrated of the "
                          f"top {n_components} (the scan's report.component says which).")
    raise WrongAnswer(f"{hits} of your {n_pixels} pixels are among the flagged eigenvector's {n_pixels} largest "
                      "squared pixels. Hint: image = pixel_eigenvectors[target, component]; "
                      f"image.square().argsort(descending=True)[:{n_pixels}].")
