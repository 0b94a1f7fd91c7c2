"""The bilinear layer, the image classifiers built from it (and a ReLU baseline), and accuracy.

A bilinear layer computes `g(h) = (L h) * (R h)`: every output is a quadratic form of
the input, so a model built from one embedding `E`, bilinear blocks and a readout `U` is
a polynomial whose coefficients can be read straight off the weights. A "block" is one
bilinear layer; arguments named `block` index blocks from 0 (negative from the end), and
`n_layer` counts them. Read weights through the accessors (`embedding_weight`,
`left_weight(block)`, `readout_weight`, `weight_matrices()`), never through module internals.
"""

from __future__ import annotations

from contextlib import contextmanager

import torch
from jaxtyping import Float, Int64
from torch import Tensor, nn

from .checks import check_boolean, check_integer, check_labels, check_tensor, plain
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
        d_in, d_out = check_integer("d_in", d_in, 1), check_integer("d_out", d_out, 1)
        bias = check_boolean("bias", bias)
        self.d_in, self.d_out, self.gate = d_in, d_out, gate
        self.linear = nn.Linear(d_in, 2 * d_out, bias=bias)

    def forward(self, h: Float[Tensor, "... d_in"]) -> Float[Tensor, "... d_out"]:
        left, right = self.linear(h).chunk(2, dim=-1)
        if self.gate is not None:
            left = GATES[self.gate](left)
        return left * right

    @property
    def left_weight(self) -> Float[Tensor, "d_out d_in"]:
        """`L` (detached)."""
        return self.linear.weight.detach()[: self.d_out]

    @property
    def right_weight(self) -> Float[Tensor, "d_out d_in"]:
        """`R` (detached)."""
        return self.linear.weight.detach()[self.d_out :]

    @property
    def left_bias(self) -> Float[Tensor, " d_out"] | None:
        """The left bias, or None for a bias-free layer."""
        return None if self.linear.bias is None else self.linear.bias.detach()[: self.d_out]

    @property
    def right_bias(self) -> Float[Tensor, " d_out"] | None:
        """The right bias, or None for a bias-free layer."""
        return None if self.linear.bias is None else self.linear.bias.detach()[self.d_out :]


def _flatten_images(x: Tensor, d_input: int, dtype: torch.dtype) -> Float[Tensor, "batch d_input"]:
    """`[B, C, H, W]` or `[B, d_input]` to `[B, d_input]`, with a clear error otherwise."""
    check_tensor("images", x, "batch ...")
    if x.dtype != dtype:
        raise ValueError(f"images are {x.dtype} but the model's weights are {dtype}: convert the images with "
                         f"x.to({dtype}) (images of integers 0..255: x.float() / 255)")
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


class ImageClassifier(nn.Module):
    """`embedding` E (pixels to hidden, no bias), `n_layer` blocks, `readout` U (no bias), drawn from `seed`.

    `kind` names the subclass as a config's `model.kind` does; `architecture()` is the
    `ModelConfig` that builds a model of the same shape and function (checkpoints check it).
    """

    kind: str = ""

    def __init__(self, d_input: int, d_hidden: int, d_output: int, n_layer: int, seed: int, make_block):
        super().__init__()
        d_input, d_hidden = check_integer("d_input", d_input, 1), check_integer("d_hidden", d_hidden, 1)
        d_output, n_layer = check_integer("d_output", d_output, 1), check_integer("n_layer", n_layer, 1)
        seed = check_integer("seed", seed, 0, 2**63)
        self.d_input, self.d_hidden, self.d_output, self.n_layer = d_input, d_hidden, d_output, n_layer
        with _seeded(seed):
            self.embedding = nn.Linear(d_input, d_hidden, bias=False)
            self.blocks = nn.ModuleList(make_block() for _ in range(n_layer))
            self.readout = nn.Linear(d_hidden, d_output, bias=False)

    def architecture(self) -> ModelConfig:
        """The `model` section of a config that builds this architecture (sizes, bias, residual, gate)."""
        extra = {"residual": getattr(self, "residual", False), "gate": getattr(self, "gate", None)}
        return ModelConfig(kind=self.kind, d_input=self.d_input, d_hidden=self.d_hidden, d_output=self.d_output,
                           n_layer=self.n_layer, bias=self.bias, **extra)

    def block_index(self, block: int) -> int:
        """`block` as an index in `0 .. n_layer - 1` (negative counts from the end)."""
        block = plain(block)
        if isinstance(block, bool) or not isinstance(block, int):
            raise TypeError(f"block must be a whole number (0 is the first block, -1 the last), got {block!r}")
        if not -self.n_layer <= block < self.n_layer:
            raise IndexError(f"block {block!r} is out of range for a model with {self.n_layer} block(s)")
        return block % self.n_layer

    def embed(self, x: Tensor) -> Float[Tensor, "batch d_hidden"]:
        """What block 0 reads: `E x` for images `[B, C, H, W]` or flat inputs `[B, d_input]`."""
        return self.embedding(_flatten_images(x, self.d_input, self.embedding.weight.dtype))

    def apply_block(self, h: Float[Tensor, "batch d_hidden"], block: int) -> Float[Tensor, "batch d_hidden"]:
        """Block `block`'s output for its input `h`."""
        return self.blocks[self.block_index(block)](self.check_hidden(h))

    def check_hidden(self, h: Tensor) -> Float[Tensor, "batch d_hidden"]:
        """`h` if it is a block input `[batch, d_hidden]` of the weights' dtype; else a ValueError."""
        check_tensor(f"h (a block input, {self.d_hidden} wide)", h, "batch d", {"d": self.d_hidden}, floating=True)
        if h.dtype != self.embedding.weight.dtype:
            raise ValueError(f"h is {h.dtype} but the model's weights are {self.embedding.weight.dtype}: convert it "
                             f"with h.to({self.embedding.weight.dtype})")
        return h

    def block_input(self, x: Tensor, block: int = -1) -> Float[Tensor, "batch d_hidden"]:
        """The input `h` of block `block` for images `x`: `E x` passed through the blocks before it."""
        h = self.embed(x)
        for index in range(self.block_index(block)):
            h = self.apply_block(h, index)
        return h

    def block_output(self, x: Tensor, block: int = -1) -> Float[Tensor, "batch d_hidden"]:
        """The output of block `block` for images `x` (for the last block: what the readout reads)."""
        return self.apply_block(self.block_input(x, block), block)

    def logits_from_block(self, h: Float[Tensor, "batch d_hidden"], block: int = -1) -> Float[Tensor, "batch d_output"]:
        """The logits when `h` enters block `block`: the blocks from there on, then the readout."""
        self.check_hidden(h)
        for index in range(self.block_index(block), self.n_layer):
            h = self.apply_block(h, index)
        return self.readout(h)

    def forward(self, x: Tensor) -> Float[Tensor, "batch d_output"]:
        return self.logits_from_block(self.block_input(x, 0), 0)

    @property
    def embedding_weight(self) -> Float[Tensor, "d_hidden d_input"]:
        """`E`, detached."""
        return self.embedding.weight.detach()

    @property
    def readout_weight(self) -> Float[Tensor, "d_output d_hidden"]:
        """`U`, detached."""
        return self.readout.weight.detach()

    def block_weight(self, block: int) -> nn.Parameter:
        """The live weight matrix of block `block` (subclasses say which)."""
        raise NotImplementedError

    def block_bias(self, block: int) -> nn.Parameter | None:
        """The live bias of block `block`'s weight matrix (`[b_l; b_r]` for a bilinear block), or None."""
        raise NotImplementedError

    def weight_matrices(self) -> dict[str, nn.Parameter]:
        """Every weight matrix, live (gradients flow): "embedding", "block 0", ..., "readout".

        A bilinear block's matrix stacks `[L; R]` `[2 d_out, d_in]`; a ReLU block's is its Linear weight.
        """
        blocks = {f"block {index}": self.block_weight(index) for index in range(self.n_layer)}
        return {"embedding": self.embedding.weight, **blocks, "readout": self.readout.weight}


class BilinearImageClassifier(ImageClassifier):
    """`embedding`, `n_layer` Bilinear blocks, `readout`: logits = U g_n(... g_1(E x)).

    With `residual=True` each block adds its output to its input. The weights are drawn
    from `seed`, leaving the global RNG as it was.
    """

    kind = "bilinear"

    def __init__(self, d_input: int = 784, d_hidden: int = 256, d_output: int = 10, n_layer: int = 1,
                 bias: bool = False, residual: bool = False, seed: int = 0, gate: str | None = None):
        bias, residual = check_boolean("bias", bias), check_boolean("residual", residual)
        super().__init__(d_input, d_hidden, d_output, n_layer, seed,
                         lambda: Bilinear(d_hidden, d_hidden, bias=bias, gate=gate))
        self.bias, self.residual, self.gate = bias, residual, gate

    def apply_block(self, h: Float[Tensor, "batch d_hidden"], block: int) -> Float[Tensor, "batch d_hidden"]:
        """Block `block`'s output for its input `h` (plus `h` itself in a residual model)."""
        out = self.blocks[self.block_index(block)](self.check_hidden(h))
        return h + out if self.residual else out

    def left_weight(self, block: int = -1) -> Float[Tensor, "d_hidden d_hidden"]:
        """`L` of block `block`, detached."""
        return self.blocks[self.block_index(block)].left_weight

    def right_weight(self, block: int = -1) -> Float[Tensor, "d_hidden d_hidden"]:
        """`R` of block `block`, detached."""
        return self.blocks[self.block_index(block)].right_weight

    def left_bias(self, block: int = -1) -> Float[Tensor, " d_hidden"] | None:
        return self.blocks[self.block_index(block)].left_bias

    def right_bias(self, block: int = -1) -> Float[Tensor, " d_hidden"] | None:
        return self.blocks[self.block_index(block)].right_bias

    def block_weight(self, block: int) -> nn.Parameter:
        """Block `block`'s `[L; R]`, live: `[2 d_hidden, d_hidden]`."""
        return self.blocks[self.block_index(block)].linear.weight

    def block_bias(self, block: int) -> nn.Parameter | None:
        return self.blocks[self.block_index(block)].linear.bias


class ReLUImageClassifier(ImageClassifier):
    """The baseline: `embedding` (no bias), `n_layer` x (Linear + ReLU), `readout` (no bias)."""

    kind = "relu"

    def __init__(self, d_input: int = 784, d_hidden: int = 256, d_output: int = 10, n_layer: int = 1,
                 bias: bool = True, seed: int = 0):
        bias = check_boolean("bias", bias)
        super().__init__(d_input, d_hidden, d_output, n_layer, seed,
                         lambda: nn.Sequential(nn.Linear(d_hidden, d_hidden, bias=bias), nn.ReLU()))
        self.bias = bias

    def block_weight(self, block: int) -> nn.Parameter:
        """Block `block`'s Linear weight `W` (the block computes `ReLU(W h + b)`), live."""
        return self.blocks[self.block_index(block)][0].weight

    def block_bias(self, block: int) -> nn.Parameter | None:
        return self.blocks[self.block_index(block)][0].bias


class ReLUMLP(ReLUImageClassifier):
    """A plain MLP: `ReLU(E x)`, `n_layer` x (Linear + ReLU), `readout`. With d_hidden 64 and one
    block it is the 784-64-64-10 network of the clusterability seed notebook (bias-free)."""

    kind = "relu_mlp"

    def embed(self, x: Tensor) -> Float[Tensor, "batch d_hidden"]:
        """What block 0 reads: `ReLU(E x)`."""
        return nn.functional.relu(super().embed(x))


def check_classifier(model, key: str = "model") -> ImageClassifier:
    """`model` if it is one of this package's classifiers; else a TypeError."""
    if not isinstance(model, ImageClassifier):
        raise TypeError(f"{key} must be one of this package's classifiers, got {type(model).__name__}")
    return model


def build_image_classifier(model_cfg: dict | ModelConfig, seed: int) -> nn.Module:
    """A classifier from the `model` section of a config (a dict or a `ModelConfig`, checked).

    `kind` "bilinear" (default) gives a BilinearImageClassifier, "relu" the baseline,
    "relu_mlp" the plain MLP with a ReLU after the embedding too. The weights are drawn from `seed`.
    """
    cfg = section("model", model_cfg)
    sizes = {"d_input": cfg.d_input, "d_hidden": cfg.d_hidden, "d_output": cfg.d_output, "n_layer": cfg.n_layer}
    if cfg.kind in ("relu", "relu_mlp"):
        return (ReLUImageClassifier if cfg.kind == "relu" else ReLUMLP)(**sizes, bias=cfg.bias, seed=seed)
    return BilinearImageClassifier(**sizes, bias=cfg.bias, residual=cfg.residual, gate=cfg.gate, seed=seed)


def accuracy(logits: Float[Tensor, "*batch cls"], labels: Int64[Tensor, "*batch"]) -> float:
    """The share of rows whose largest logit is the label."""
    check_tensor("logits", logits, "... cls", floating=True, finite=True)
    check_tensor("labels", labels, "...")
    if logits.shape[:-1] != labels.shape:
        raise ValueError(f"logits {tuple(logits.shape)} and labels {tuple(labels.shape)} do not pair up")
    check_labels(labels.reshape(-1), logits.shape[-1])
    return (logits.argmax(dim=-1) == labels.to(logits.device)).double().mean().item()
