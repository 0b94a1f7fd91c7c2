"""Plotly outputs become a div and a script that draws them with the page's own plotly.js."""

import json
from types import SimpleNamespace

import plotly.graph_objects as go
import pytest

from bilinear_helpers.book import plotly_output, sphinx_extension


def test_plotly_html_draws_with_the_global_plotly_and_no_cdn():
    figure = go.Figure(go.Scatter(y=[1, 3, 2])).to_plotly_json()
    html = plotly_output.plotly_html(figure, "plotly-test")
    assert 'class="bilinear-plotly"' in html and 'id="plotly-test"' in html
    assert "Plotly.newPlot" in html and "cdn" not in html and "<script src" not in html


def test_the_renderer_takes_plotly_outputs_only():
    renderer = SimpleNamespace(source="notebooks/03_eigenvectors.ipynb")
    figure = go.Figure(go.Bar(y=[1])).to_plotly_json()
    data = SimpleNamespace(mime_type=plotly_output.PLOTLY_MIME, content=json.loads(json.dumps(figure, default=list)),
                           cell_index=4, output_index=0)
    nodes = plotly_output.PlotlyMimeRenderer.handle_mime(renderer, data, False)
    assert len(nodes) == 1 and "plotly-notebooks-03_eigenvectors-ipynb-4-0" in nodes[0].astext()
    assert plotly_output.PlotlyMimeRenderer.handle_mime(renderer, SimpleNamespace(mime_type="text/html"), False) is None
    assert plotly_output.PlotlyMimeRenderer.handle_mime(renderer, data, True) is None  # inline: not a figure


def test_a_malformed_plotly_output_is_an_error():
    with pytest.raises(ValueError, match="a plotly output is a dict with 'data'"):
        plotly_output.plotly_html([1, 2], "x")


def test_plotly_js_ships_with_the_installed_plotly():
    assert sphinx_extension.plotly_js_source().stat().st_size > 1_000_000
