"""A Sphinx extension for the web book: plotly.js from the installed plotly package, served by the site
itself and loaded only on pages that hold a plotly figure (see `plotly_output`); and each script
tag once per page (sphinx-thebe adds its inline config again on every read of the sources, and
a page that declares the same `const` twice stops with an error in the browser)."""

from __future__ import annotations

import shutil
from pathlib import Path

from .plotly_output import PLOTLY_CLASS

PLOTLY_JS = "plotly.min.js"


def plotly_js_source() -> Path:
    import plotly

    path = Path(plotly.__file__).parent / "package_data" / PLOTLY_JS
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: reinstall plotly (pip install --force-reinstall plotly)")
    return path


def _add_plotly_where_needed(app, pagename, templatename, context, doctree):
    if PLOTLY_CLASS in context.get("body", ""):
        app.add_js_file(PLOTLY_JS, priority=100)  # in <head>, before the figures' inline scripts run


def _each_script_once(app, pagename, templatename, context, doctree):
    scripts, seen = context.get("script_files", []), set()
    unique = []
    for script in scripts:
        key = (str(getattr(script, "filename", script) or ""), str(getattr(script, "attributes", {}).get("body", "")))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    scripts[:] = unique


def _copy_plotly(app, exception):
    if exception is None and app.builder.format == "html":
        static = Path(app.outdir) / "_static"
        static.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(plotly_js_source(), static / PLOTLY_JS)


def setup(app):
    app.connect("html-page-context", _add_plotly_where_needed)
    app.connect("html-page-context", _each_script_once, priority=900)  # after every other handler
    app.connect("build-finished", _copy_plotly)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
