"""The bilinear layer, the bilinear image classifier, a ReLU baseline, and accuracy.

A bilinear layer computes `g(h) = (L h) * (R h)`: every output is a quadratic form of
the input, so a model built from one embedding `E`, bilinear blocks and a readout `U` is
a polynomial whose coefficients can be read straight off the weights. A "block" is one
bilinear layer; arguments named `layer` index blocks from 0 (negative from the end).
"""

from __future__ import annotations

from contextlib import contextmanager

import torch
from einops import rearrange
from jaxtyping import Float, Int64
from torch import Tensor, nn

from .config import ModelConfig, section

GATES = {None: None, "relu": nn.functional.relu, "silu": nn.functional.silu, "gelu": nn.functional.gelu}


class Bilinear(nn.Module):
    """`gate(L h + b_l) * (R h + b_r)`; with `gate=None`, a pure bilinear layer.

    One `nn.Linear(d_in, 2 * d_out)` holds both maps: rows `[:d_out]` are the left map
    `L`, rows `[d_out:]` the right map `R`. The gates "relu", "silu" and "gelu" give the
    GLU variants used as baselines; only `gate=None` is a quadratic form.
    """

    def __init__(self, d_in: int, d_out: int, bias: bool = False, gate: str | None = None):
        super().__init__()
        if gate not in GATES:
            raise ValueError(f"unknown gate {gate!r}: choose one of {list(GATES)}")
        self.d_in, self.d_out, self.gate = d_in, d_out, gate
        self.linear = nn.Linear(d_in, 2 * d_out, bias=bias)

    def forward(self, h: Float[Tensor, "... d_in"]) -> Float[Tensor, "... d_out"]:
        left, right = self.linear(h).chunk(2, dim=-1)
        if self.gate is not None:
            left = GATES[self.gate](left)
        return left * right

    @property
    def w_l(self) -> Float[Tensor, "d_out d_in"]:
        """The left weight `L` (detached)."""
        return self.linear.weight.detach()[: self.d_out]

    @property
    def w_r(self) -> Float[Tensor, "d_out d_in"]:
        """The right weight `R` (detached)."""
        return self.linear.weight.detach()[self.d_out :]

    @property
    def b_l(self) -> Float[Tensor, " d_out"] | None:
        """The left bias, or None for a bias-free layer."""
        return None if self.linear.bias is None else self.linear.bias.detach()[: self.d_out]

    @property
    def b_r(self) -> Float[Tensor, " d_out"] | None:
        """The right bias, or None for a bias-free layer."""
        return None if self.linear.bias is None else self.linear.bias.detach()[self.d_out :]


def _flatten_images(x: Tensor, d_input: int) -> Float[Tensor, "batch d_input"]:
    """`[B, C, H, W]` or `[B, d_input]` to `[B, d_input]`, with a clear error otherwise."""
    flat = x.flatten(start_dim=1) if x.ndim > 2 else x
    if flat.ndim != 2 or flat.shape[-1] != d_input:
        raise ValueError(
            f"expected images [B, C, H, W] with C*H*W = {d_input} or flat inputs [B, {d_input}], "
            f"got shape {tuple(x.shape)}; reshape the input or build the model with "
            f"d_input={flat.shape[-1] if flat.ndim == 2 else '...'}"
        )
    return flat


@contextmanager
def _seeded(seed: int):
    """Build parameters from `seed` without touching the global RNG."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


class _ImageClassifier(nn.Module):
    """`embed` (pixels to hidden, no bias), `n_layer` blocks, `head` (no bias), drawn from `seed`."""

    def __init__(self, d_input: int, d_hidden: int, d_output: int, n_layer: int, seed: int, make_block):
        super().__init__()
        if n_layer < 1:
            raise ValueError(f"n_layer must be at least 1, got {n_layer}")
        self.d_input, self.d_hidden, self.d_output, self.n_layer = d_input, d_hidden, d_output, n_layer
        with _seeded(seed):
            self.embed = nn.Linear(d_input, d_hidden, bias=False)
            self.blocks = nn.ModuleList(make_block() for _ in range(n_layer))
            self.head = nn.Linear(d_hidden, d_output, bias=False)

    def block_index(self, layer: int) -> int:
        """`layer` as an index in `0 .. n_layer - 1` (negative counts from the end)."""
        if isinstance(layer, bool) or not isinstance(layer, int) or not -self.n_layer <= layer < self.n_layer:
            raise IndexError(f"layer {layer!r} is out of range for a model with {self.n_layer} block(s)")
        return layer % self.n_layer

    def _apply_block(self, block: nn.Module, h: Tensor) -> Tensor:
        return block(h)

    def block_input(self, x: Tensor, layer: int = -1) -> Float[Tensor, "batch d_hidden"]:
        """The input of block `layer` for images `x`: `E x` passed through the blocks before it."""
        index = self.block_index(layer)
        h = self.embed(_flatten_images(x, self.d_input))
        for block in self.blocks[:index]:
            h = self._apply_block(block, h)
        return h

    def logits_from_block(self, h: Float[Tensor, "batch d_hidden"], layer: int = -1) -> Float[Tensor, "batch d_output"]:
        """The logits when `h` enters block `layer`: the blocks from there on, then the head."""
        for block in self.blocks[self.block_index(layer) :]:
            h = self._apply_block(block, h)
        return self.head(h)

    def forward(self, x: Tensor) -> Float[Tensor, "batch d_output"]:
        return self.logits_from_block(self.block_input(x, 0), 0)

    @property
    def embedding_weight(self) -> Float[Tensor, "d_hidden d_input"]:
        """`E`, detached."""
        return self.embed.weight.detach()

    @property
    def output_weight(self) -> Float[Tensor, "d_output d_hidden"]:
        """`U` (the readout), detached."""
        return self.head.weight.detach()


class BilinearImageClassifier(_ImageClassifier):
    """`embed`, `n_layer` Bilinear blocks, `head`: logits = U g_n(... g_1(E x)).

    With `residual=True` each block adds its output to its input. The weights are drawn
    from `seed`, leaving the global RNG as it was.
    """

    def __init__(self, d_input: int = 784, d_hidden: int = 256, d_output: int = 10, n_layer: int = 1,
                 bias: bool = False, residual: bool = False, seed: int = 0, gate: str | None = None):
        super().__init__(d_input, d_hidden, d_output, n_layer, seed,
                         lambda: Bilinear(d_hidden, d_hidden, bias=bias, gate=gate))
        self.bias, self.residual, self.gate = bias, residual, gate

    def _apply_block(self, block: nn.Module, h: Tensor) -> Tensor:
        return h + block(h) if self.residual else block(h)

    @property
    def bilinear_weights(self) -> Float[Tensor, "n_layer 2 d_hidden d_hidden"]:
        """Left and right weights of every block, stacked: `[:, 0]` is L, `[:, 1]` is R."""
        return torch.stack(
            [rearrange(block.linear.weight.detach(), "(two out) inp -> two out inp", two=2) for block in self.blocks]
        )


class ReLUImageClassifier(_ImageClassifier):
    """The baseline: `embed` (no bias), `n_layer` x (Linear + ReLU), `head` (no bias)."""

    def __init__(self, d_input: int = 784, d_hidden: int = 256, d_output: int = 10, n_layer: int = 1,
                 bias: bool = True, seed: int = 0):
        super().__init__(d_input, d_hidden, d_output, n_layer, seed,
                         lambda: nn.Sequential(nn.Linear(d_hidden, d_hidden, bias=bias), nn.ReLU()))


class ReLUMLP(ReLUImageClassifier):
    """A plain MLP: `ReLU(E x)`, `n_layer` x (Linear + ReLU), `head`. With d_hidden 64 and one
    block it is the 784-64-64-10 network of the clusterability seed notebook (bias-free)."""

    def block_input(self, x: Tensor, layer: int = -1) -> Float[Tensor, "batch d_hidden"]:
        """The input of block `layer`: `ReLU(E x)` passed through the blocks before it."""
        index = self.block_index(layer)
        h = nn.functional.relu(self.embed(_flatten_images(x, self.d_input)))
        for block in self.blocks[:index]:
            h = block(h)
        return h


def build_image_classifier(model_cfg: dict | ModelConfig, seed: int) -> nn.Module:
    """A classifier from the `model` section of a config (a dict or a `ModelConfig`, checked).

    `kind` "bilinear" (default) gives a BilinearImageClassifier, "relu" the baseline,
    "relu_mlp" the plain MLP with a ReLU after the embedding too.
    """
    cfg = section("model", model_cfg)
    sizes = {"d_input": cfg.d_input, "d_hidden": cfg.d_hidden, "d_output": cfg.d_output, "n_layer": cfg.n_layer}
    if cfg.kind in ("relu", "relu_mlp"):
        return (ReLUImageClassifier if cfg.kind == "relu" else ReLUMLP)(**sizes, bias=cfg.bias, seed=seed)
    return BilinearImageClassifier(**sizes, bias=cfg.bias, residual=cfg.residual, gate=cfg.gate, seed=seed)


def accuracy(logits: Float[Tensor, "*batch cls"], labels: Int64[Tensor, "*batch"]) -> float:
    """The share of rows whose largest logit is the label."""
    if logits.shape[:-1] != labels.shape:
        raise ValueError(f"logits {tuple(logits.shape)} and labels {tuple(labels.shape)} do not pair up")
    return (logits.argmax(dim=-1) == labels.to(logits.device)).double().mean().item()
