"""Exercise checks for notebooks 01-05: the layer as matrices, folding the readout, logits from
eigenvalues, prediction from one eigenvector per class, pulling a direction back, truncation.

Every check computes what is right from the objects passed in and names the usual mistake
when the answer matches it (a missing symmetrisation, the wrong end of the ascending
eigenvalue order, a missing square, another class).
"""

from __future__ import annotations

import copy

import torch
from einops import einsum
from jaxtyping import Float, Int64
from torch import Tensor, nn

from ..analysis.truncation import truncated_accuracy
from ..decomposition import decompose_bilinear_model, decompose_direction, symmetrize
from ..models import ReLUImageClassifier
from .feedback import WrongAnswer, as_integer, as_number, as_tensor, graded, matches, relative_error

__all__ = [
    "check_folded_readout",
    "check_layer_as_matrices",
    "check_logit_from_eigenvalues",
    "check_matched_relu_width",
    "check_pulled_back_matrix",
    "check_top_eigenvector_predictions",
    "check_truncated_accuracy",
]

@graded
def check_layer_as_matrices(layer: nn.Module, answer) -> str:
    """Exercise 01.1: one symmetric matrix per output o with `g(h)_o = h^T Q_o h`: `[out, in1, in2]`.

    `Q_o = (L_o R_o^T + R_o L_o^T) / 2`, where `L_o`, `R_o` are rows of the left and right weights.
    """
    left, right = layer.left_weight.detach().double(), layer.right_weight.detach().double()
    raw = einsum(left, right, "out in1, out in2 -> out in1 in2")
    answer = as_tensor("answer", answer, tuple(raw.shape))
    if matches(symmetrize(answer), symmetrize(raw)):
        if not matches(answer, answer.transpose(1, 2)):
            raise WrongAnswer("your matrices give the right outputs, but they are not symmetric: "
                              "symmetrise them with (B + B^T) / 2. Only the symmetric part acts on h^T B h, "
                              "and only a symmetric matrix has the real, orthogonal eigenvectors notebook 02 reads.")
        h = torch.randn(left.shape[1], dtype=torch.float64, generator=torch.Generator().manual_seed(0))
        with torch.no_grad():
            outputs = copy.deepcopy(layer).double()(h)
        if not torch.allclose(einsum(h, answer, h, "in1, out in1 in2, in2 -> out"), outputs, rtol=1e-5, atol=1e-8):
            raise WrongAnswer("h^T Q_o h differs from the layer's output on a random h beyond float precision.")
        return "your matrices are symmetric, and h^T Q_o h gives the layer's outputs on a random h."
    if matches(symmetrize(answer), symmetrize(einsum(left, left, "out in1, out in2 -> out in1 in2"))):
        raise WrongAnswer("you paired L with itself: each output multiplies L h by R h, so Q_o pairs row o of L "
                          "with row o of R.")
    error = relative_error(symmetrize(answer), symmetrize(raw))
    raise WrongAnswer(f"h^T Q_o h does not give the layer's outputs (relative error {error:.2f}). Output o is "
                      "(L_o . h)(R_o . h) = h^T (L_o R_o^T) h: build that outer product for every o.")


def _relu_parameters(d_input: int, width: int, d_output: int, n_layer: int) -> int:
    model = ReLUImageClassifier(d_input=d_input, d_hidden=width, d_output=d_output, n_layer=n_layer, bias=False)
    return sum(p.numel() for p in model.parameters())


@graded
def check_matched_relu_width(model: nn.Module, width) -> str:
    """Exercise 01.2: the ReLU baseline's width (no biases, as many layers) with the parameter count closest
    to the bilinear `model`'s: `d_in w + n_layer w^2 + w d_out` against `d_in d + 2 n_layer d^2 + d d_out`."""
    target = sum(p.numel() for p in model.parameters())
    d_input, d_output, n_layer = model.d_input, model.d_output, model.n_layer
    counts = [_relu_parameters(d_input, w, d_output, n_layer) for w in (1, 2, 3)]  # a quadratic in the width
    a = (counts[2] - 2 * counts[1] + counts[0]) / 2
    b = counts[1] - counts[0] - 3 * a
    c = counts[0] - a - b
    best = min(range(1, 4 * model.d_hidden + 1), key=lambda w: abs(a * w * w + b * w + c - target))
    width = as_integer("width", width, 1, 100 * model.d_hidden)
    ours = _relu_parameters(d_input, width, d_output, n_layer)
    if width == best:
        return f"a width of {width} gives {ours:,} parameters against the bilinear model's {target:,}."
    if width == model.d_hidden:
        raise WrongAnswer(f"at the same width the ReLU model has {ours:,} parameters against {target:,}: a bilinear "
                          "block holds two matrices, L and R, where a ReLU layer holds one. Widen the ReLU model.")
    side = "more" if ours > target else "fewer"
    raise WrongAnswer(f"a width of {width} gives {ours:,} parameters, {side} than the bilinear model's {target:,} "
                      f"by {abs(ours - target):,}; count the embedding, the hidden layer and the readout, and try "
                      f"{'a narrower' if ours > target else 'a wider'} one.")


@graded
def check_folded_readout(model: nn.Module, answer) -> str:
    """Exercise 02.1: the interaction matrices `Q = sym(sum_o U[c,o] L[o] (x) R[o])`, `[cls, in1, in2]`."""
    readout, left, right = (w.detach().double() for w in (model.readout_weight, model.left_weight(-1),
                                                         model.right_weight(-1)))
    raw = einsum(readout, left, right, "cls out, out in1, out in2 -> cls in1 in2")
    answer = as_tensor("answer", answer, tuple(raw.shape))
    if matches(answer, symmetrize(raw)):
        return "your Q equals the decomposition's, symmetrised."
    if matches(answer, raw) or matches(answer, raw.transpose(1, 2)):
        raise WrongAnswer("that is the raw matrix B (or its transpose): symmetrise it, Q = (B + B^T) / 2.")
    if matches(answer, -symmetrize(raw)):
        raise WrongAnswer("the sign is flipped: every term is + U[c, o] L[o] (x) R[o].")
    raise WrongAnswer(f"your Q differs from sym(B) by {relative_error(answer, symmetrize(raw)):.2f} (relative). "
                      "Sum over `out` with the readout as weights: einsum 'cls out, out in1, out in2 -> cls in1 in2'.")


@graded
def check_logit_from_eigenvalues(model: nn.Module, image: Tensor, cls: int, answer) -> str:
    """Exercise 02.2: the logit of class `cls` for one `image` as `sum_i lambda_i (v_i . E x)^2` (one number)."""
    cls = int(cls)
    model64 = copy.deepcopy(model).double()
    with torch.no_grad():
        logits = model64(image.double().reshape(1, -1))[0]
        h = model64.block_input(image.double().reshape(1, -1), 0)[0]
    answer = as_number("answer", answer)
    scale = float(logits.abs().max())
    if abs(answer - logits[cls]) <= 1e-4 * scale:
        return f"your number is the model's logit for class {cls} (to 1e-4 of the largest logit)."
    others = [c for c in range(len(logits)) if c != cls and abs(answer - logits[c]) <= 1e-4 * scale]
    if others:
        raise WrongAnswer(f"that is the logit of class {others[0]}: use eigenvalues[{cls}] and eigenvectors[{cls}].")
    artifacts = decompose_bilinear_model(model)
    eigenvalues, eigenvectors = artifacts.eigenvalues[cls], artifacts.eigenvectors[cls]
    mistakes = {
        "the projections are not squared: the logit is sum_i lambda_i (v_i . h)^2, a quadratic form":
            (eigenvalues * (eigenvectors @ h)).sum(),
        "the eigenvectors are the rows of eigenvectors[c] (row k is v_k), not its columns":
            (eigenvalues * (eigenvectors.T @ h) ** 2).sum(),
    }
    for why, value in mistakes.items():
        if abs(answer - float(value)) <= 1e-4 * max(abs(float(value)), 1e-9):
            raise WrongAnswer(why + ".")
    raise WrongAnswer(f"{answer:.4f} is not the logit {float(logits[cls]):.4f}. Take h = model.block_input(x, 0), "
                      "project it on every eigenvector of the class, square, weight by the eigenvalues and sum.")


@graded
def check_top_eigenvector_predictions(model: nn.Module, images: Float[Tensor, "n ..."], labels: Int64[Tensor, " n"],
                                      answer) -> str:
    """Exercise 03.1: predict each image's class from one term per class, `argmax_c lambda_top (v_top . E x)^2`,
    with v_top the class's most positive eigenvector (index -1); answer: `[n]` predicted classes."""
    artifacts = decompose_bilinear_model(model)
    with torch.no_grad():
        h = model.block_input(images.to(model.embedding_weight.dtype), 0)
    contributions = artifacts.contributions(h)  # [n, cls, comp]
    expected = contributions[:, :, -1].argmax(-1)
    answer = as_tensor("answer", answer, tuple(expected.shape)).round().long()
    agreement = (answer == expected).double().mean().item()
    if agreement == 1.0:
        accuracy = (expected == labels).double().mean().item()
        model_accuracy = (contributions.sum(-1).argmax(-1) == labels).double().mean().item()
        return (f"one eigenvector per class gets {accuracy:.3f} of these images right, against the full model's "
                f"{model_accuracy:.3f}.")
    mistakes = {
        "eigenvalues are in ascending order, so index 0 is each class's most *negative* eigenvector; "
        "the most positive is index -1": contributions[:, :, 0].argmax(-1),
        "without its eigenvalue the projection (v . h)^2 ignores how much the class weighs that feature: "
        "multiply by lambda": artifacts.projections(h)[:, :, -1].pow(2).argmax(-1),
        "that is the full model's prediction (every component): keep only the top one":
            contributions.sum(-1).argmax(-1),
    }
    for why, candidate in mistakes.items():
        if (answer == candidate).double().mean().item() == 1.0:
            raise WrongAnswer(why + ".")
    raise WrongAnswer(f"your predictions agree with one-eigenvector predictions on {agreement:.1%} of the images. "
                      "For every class c take lambda[c, -1] * (v[c, -1] . h)^2, then the argmax over classes.")


@graded
def check_pulled_back_matrix(model: nn.Module, direction: Float[Tensor, " d"], answer) -> str:
    """Exercise 04.1: the interaction matrix in block 0's input of `u . g_0(h_0)` for a direction u in block 0's
    output: `sym(sum_o u_o L0[o] (x) R0[o])`, `[in1, in2]`."""
    u = as_tensor("direction", direction).reshape(-1)
    left, right = model.left_weight(0).detach().double(), model.right_weight(0).detach().double()
    expected = symmetrize(einsum(u, left, right, "out, out in1, out in2 -> in1 in2"))
    answer = as_tensor("answer", answer, tuple(expected.shape))
    if matches(answer, expected):
        rebuilt = decompose_direction(model, block=0, direction=u)
        same = torch.allclose(rebuilt.interactions[0], expected, atol=1e-10)
        return f"your matrix is block 0's quadratic form of u . h1 (the same as decompose_direction: {same})."
    raw = einsum(u, left, right, "out, out in1, out in2 -> in1 in2")
    if matches(answer, raw) or matches(answer, raw.T):
        raise WrongAnswer("that is the raw matrix: symmetrise it, (B + B^T) / 2.")
    if model.n_layer > 1:
        upper = symmetrize(einsum(u, model.left_weight(1).detach().double(), model.right_weight(1).detach().double(),
                                  "out, out in1, out in2 -> in1 in2"))
        if matches(answer, upper):
            raise WrongAnswer("those are block 1's weights: u lives in block 0's output, so fold it into "
                              "model.left_weight(0) and model.right_weight(0).")
    raise WrongAnswer(f"your matrix differs from sym(sum_o u_o L0[o] (x) R0[o]) by "
                      f"{relative_error(answer, expected):.2f} (relative): u plays the readout's role for block 0.")


@graded
def check_truncated_accuracy(model: nn.Module, images: Tensor, labels: Int64[Tensor, " n"], n: int, answer) -> str:
    """Exercise 05.1: accuracy when each class keeps only its n components of largest |lambda| (one number)."""
    n = int(n)
    artifacts = decompose_bilinear_model(model)
    with torch.no_grad():
        h = model.block_input(images.to(model.embedding_weight.dtype), 0)
    contributions = artifacts.contributions(h)  # [batch, cls, comp]

    def accuracy_keeping(index: Tensor) -> float:
        kept = contributions.gather(2, index[None].expand(len(contributions), -1, -1)).sum(-1)
        return (kept.argmax(-1) == labels).double().mean().item()

    expected = truncated_accuracy(artifacts, h, labels, [n], by="abs")[0]
    answer = as_number("answer", answer)
    if abs(answer - expected) < 1e-9:
        return f"keeping {n} components per class gives accuracy {expected:.3f}."
    mistakes = {
        f"that keeps the {n} most positive eigenvalues; rank by |lambda|, since negative components matter too":
            accuracy_keeping(artifacts.top(n, by="positive")),
        f"that keeps the first {n} indices, which (ascending order) are the most negative":
            accuracy_keeping(torch.arange(n).expand(artifacts.num_outputs, -1)),
        "that is the full model's accuracy: keep only n components per class":
            (contributions.sum(-1).argmax(-1) == labels).double().mean().item(),
    }
    for why, value in mistakes.items():
        if abs(answer - value) < 1e-9:
            raise WrongAnswer(why + ".")
    if answer > 1:
        raise WrongAnswer("an accuracy is a share between 0 and 1, not a percentage or a count.")
    raise WrongAnswer(f"{answer:.3f} is not the accuracy with {n} components of largest |lambda| per class. "
                      "Sum lambda_i (v_i . h)^2 over the kept components only, then take the argmax.")
