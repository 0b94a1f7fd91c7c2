"""Plotly figures in the web book: myst-nb draws `application/vnd.plotly.v1+json` outputs as a div
and a call to the page's own plotly.js (which `sphinx_extension` serves), instead of dropping them.

Registered as a myst-nb MIME renderer (`myst_nb.mime_renderers` entry point in pyproject.toml).
"""

from __future__ import annotations

import json

PLOTLY_MIME = "application/vnd.plotly.v1+json"
PLOTLY_CLASS = "bilinear-plotly"  # marks the pages that need plotly.js


def plotly_html(figure: dict, div_id: str) -> str:
    """The figure as a div and an inline script that draws it with a global `Plotly` (no CDN)."""
    import plotly.io as pio

    if not isinstance(figure, dict) or "data" not in figure:
        raise ValueError(f"a plotly output is a dict with 'data' and 'layout', got {type(figure).__name__}")
    html = pio.to_html(figure, include_plotlyjs=False, full_html=False, div_id=div_id, validate=False,
                       config={"responsive": True})
    return f'<div class="{PLOTLY_CLASS}">{html}</div>'


class PlotlyMimeRenderer:
    """myst-nb plugin: plotly's own MIME type first, ahead of any text/html copy of the same figure."""

    mime_priority_overrides = [("html", PLOTLY_MIME, 0), ("dirhtml", PLOTLY_MIME, 0), ("singlehtml", PLOTLY_MIME, 0)]

    @staticmethod
    def handle_mime(renderer, data, inline):
        if data.mime_type != PLOTLY_MIME or inline:
            return None
        from docutils import nodes

        figure = data.content if isinstance(data.content, dict) else json.loads(data.content)
        div_id = f"plotly-{renderer.source.replace('/', '-').replace('.', '-')}-{data.cell_index}-{data.output_index}"
        return [nodes.raw("", plotly_html(figure, div_id), format="html", classes=["output", "text_html"])]
