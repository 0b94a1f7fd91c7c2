"""Saving figures into `figures/`: PNG for matplotlib, HTML for plotly, stable from run to run."""

from __future__ import annotations

import os
from pathlib import Path

from ..paths import atomic_write, atomic_write_text, figures_dir

PNG_DPI = 110


def save_figure(fig, name: str, folder: str | os.PathLike | None = None) -> Path:
    """Save a matplotlib figure as `<name>.png` or a plotly figure as `<name>.html`.

    Plotly pages load plotly.js from a CDN and use the fixed div id `bilinear-<name>`.
    Returns the path written (inside `figures/` unless `folder` is given).
    """
    folder = figures_dir(folder)
    if hasattr(fig, "to_html"):  # plotly
        html = fig.to_html(include_plotlyjs="cdn", full_html=True, div_id=f"bilinear-{name}")
        return atomic_write_text(folder / f"{name}.html", html)
    return atomic_write(folder / f"{name}.png",
                        lambda f: fig.savefig(f, format="png", dpi=PNG_DPI, bbox_inches="tight",
                                              metadata={"Software": None}))


def maybe_save(fig, save_as: str | None):
    """`fig`, saved first under `save_as` when one is given."""
    if save_as:
        save_figure(fig, save_as)
    return fig


def figure_name(notebook: str, name: str, enabled: bool = True) -> str | None:
    """`<notebook>_<name>` for `save_as=`, or None (nothing saved) when `enabled` is False."""
    return f"{notebook}_{name}" if enabled else None
