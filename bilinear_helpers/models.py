"""The bilinear layer, the bilinear image classifier and a ReLU baseline.

A bilinear layer computes `g(h) = (L h) * (R h)`: every output is a quadratic form of
the input, so a model built from one embedding, bilinear blocks and a linear readout is
a polynomial whose coefficients can be read straight off the weights.
"""

from __future__ import annotations

import difflib
from typing import Any

import torch
from einops import rearrange
from jaxtyping import Float
from torch import Tensor, nn

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


class _SeededInit:
    """Context manager: build parameters from `seed` without touching the global RNG."""

    def __init__(self, seed: int):
        self.seed = seed
        self._fork = torch.random.fork_rng(devices=[])

    def __enter__(self):
        self._fork.__enter__()
        torch.manual_seed(self.seed)

    def __exit__(self, *exc):
        return self._fork.__exit__(*exc)


class BilinearImageClassifier(nn.Module):
    """`embed` (pixels to hidden, no bias), `n_layer` Bilinear blocks, `head` (no bias).

    logits = head(block_n(... block_1(embed(x)))); with `residual=True` each block adds
    its output to its input. The weights are drawn from `seed`, leaving the global RNG as
    it was.
    """

    def __init__(
        self,
        d_input: int = 784,
        d_hidden: int = 256,
        d_output: int = 10,
        n_layer: int = 1,
        bias: bool = False,
        residual: bool = False,
        seed: int = 0,
        gate: str | None = None,
    ):
        super().__init__()
        if n_layer < 1:
            raise ValueError(f"n_layer must be at least 1, got {n_layer}")
        self.d_input, self.d_hidden, self.d_output = d_input, d_hidden, d_output
        self.n_layer, self.bias, self.residual, self.gate = n_layer, bias, residual, gate
        with _SeededInit(seed):
            self.embed = nn.Linear(d_input, d_hidden, bias=False)
            self.blocks = nn.ModuleList(
                Bilinear(d_hidden, d_hidden, bias=bias, gate=gate) for _ in range(n_layer)
            )
            self.head = nn.Linear(d_hidden, d_output, bias=False)

    def hidden(self, x: Tensor, n_blocks: int | None = None) -> Float[Tensor, "batch d_hidden"]:
        """The residual stream after `n_blocks` blocks (0: the embedding; None: all)."""
        h = self.embed(_flatten_images(x, self.d_input))
        for block in self.blocks[: self.n_layer if n_blocks is None else n_blocks]:
            h = h + block(h) if self.residual else block(h)
        return h

    def forward(self, x: Tensor) -> Float[Tensor, "batch d_output"]:
        return self.head(self.hidden(x))

    @property
    def embedding_weight(self) -> Float[Tensor, "d_hidden d_input"]:
        return self.embed.weight.detach()

    @property
    def output_weight(self) -> Float[Tensor, "d_output d_hidden"]:
        return self.head.weight.detach()

    @property
    def bilinear_weights(self) -> Float[Tensor, "n_layer 2 d_hidden d_hidden"]:
        """Left and right weights of every block, stacked: `[:, 0]` is L, `[:, 1]` is R."""
        return torch.stack(
            [rearrange(block.linear.weight.detach(), "(two out) inp -> two out inp", two=2) for block in self.blocks]
        )


class ReLUImageClassifier(nn.Module):
    """The baseline: `embed` (no bias), `n_layer` x (Linear + ReLU), `head` (no bias)."""

    def __init__(
        self,
        d_input: int = 784,
        d_hidden: int = 256,
        d_output: int = 10,
        n_layer: int = 1,
        bias: bool = True,
        seed: int = 0,
    ):
        super().__init__()
        if n_layer < 1:
            raise ValueError(f"n_layer must be at least 1, got {n_layer}")
        self.d_input, self.d_hidden, self.d_output, self.n_layer = d_input, d_hidden, d_output, n_layer
        with _SeededInit(seed):
            self.embed = nn.Linear(d_input, d_hidden, bias=False)
            self.blocks = nn.ModuleList(
                nn.Sequential(nn.Linear(d_hidden, d_hidden, bias=bias), nn.ReLU()) for _ in range(n_layer)
            )
            self.head = nn.Linear(d_hidden, d_output, bias=False)

    def forward(self, x: Tensor) -> Float[Tensor, "batch d_output"]:
        h = self.embed(_flatten_images(x, self.d_input))
        for block in self.blocks:
            h = block(h)
        return self.head(h)


MODEL_DEFAULTS: dict[str, Any] = {
    "kind": "bilinear",
    "d_input": 784,
    "d_hidden": 256,
    "d_output": 10,
    "n_layer": 1,
    "bias": False,
    "residual": False,
    "gate": None,
}
MODEL_KINDS = ("bilinear", "relu")


def unknown_keys_error(section: str, unknown: set[str], valid) -> ValueError:
    """A ValueError naming each unknown key and the closest valid one."""
    hints = []
    for key in sorted(unknown):
        close = difflib.get_close_matches(key, list(valid), n=1)
        hints.append(f"{key!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
    return ValueError(f"unknown key(s) in {section}: {', '.join(hints)}; valid keys: {sorted(valid)}")


def build_image_classifier(model_cfg: dict, seed: int) -> nn.Module:
    """A classifier from the `model` section of a config.

    `kind` "bilinear" (default) gives a BilinearImageClassifier, "relu" the baseline
    (which takes no `residual` or `gate`). Unknown keys are an error.
    """
    unknown = set(model_cfg) - set(MODEL_DEFAULTS)
    if unknown:
        raise unknown_keys_error("the model config", unknown, MODEL_DEFAULTS)
    cfg = {**MODEL_DEFAULTS, **model_cfg}
    kind = cfg.pop("kind")
    if kind == "bilinear":
        return BilinearImageClassifier(**cfg, seed=seed)
    if kind == "relu":
        if cfg.pop("residual") or cfg.pop("gate") is not None:
            raise ValueError("the ReLU baseline has no residual or gate option; remove them from the model config")
        return ReLUImageClassifier(**cfg, seed=seed)
    raise ValueError(f"unknown model kind {kind!r}: choose one of {list(MODEL_KINDS)}")
