"""Figures shown in a notebook as palette PNGs: the same picture in about 40% of the bytes.

A matplotlib figure is drawn as the inline backend draws it, then stored with at most 256
colours (median cut), which keeps the committed notebooks small enough to read on GitHub
and to load quickly in the web book. Files saved with `save_figure` are not affected.
"""

from __future__ import annotations

import io

from matplotlib.figure import Figure

PALETTE_COLOURS = 256


def palette_png(fig: Figure) -> bytes:
    """`fig` as a PNG with at most 256 colours, at its own dpi, cropped to its content as inline figures are."""
    from IPython.core.pylabtools import print_figure
    from PIL import Image

    drawn = Image.open(io.BytesIO(print_figure(fig, "png", bbox_inches="tight", base64=False)))
    flat = Image.new("RGB", drawn.size, "white")
    flat.paste(drawn, mask=drawn.getchannel("A") if drawn.mode == "RGBA" else None)
    buffer = io.BytesIO()
    flat.quantize(PALETTE_COLOURS, method=Image.Quantize.MEDIANCUT).save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def use_palette_png() -> None:
    """Show every matplotlib figure of this IPython session through `palette_png` (outside IPython: nothing)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is None:
        return
    import matplotlib
    import matplotlib.pyplot as plt

    plt.switch_backend(matplotlib.get_backend())  # load the inline backend now, so it registers its PNG
    shell.display_formatter.formatters["image/png"].for_type(Figure, palette_png)  # formatter before this one
