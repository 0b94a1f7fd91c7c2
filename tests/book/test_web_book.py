"""The web book in a real browser: built from the committed notebooks, then every page opened in Chromium.

On every page: no console error, no failed or off-site request (the book works offline), every
image loaded, all math typeset by the site's own MathJax, the next/previous links lead where
the table of contents says, and exercise solutions stay collapsed until clicked; on the
explorer's page a hover shows a label. One screenshot per
page goes to `notebooks/_build/html/_screenshots/` for a person to look at.

The browser is Debian's `chromium` (`apt-get install chromium`; `.ci/run` installs it) or
the one named by BILINEAR_CHROMIUM; without one the test fails, saying so.
"""

from __future__ import annotations

import functools
import http.server
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import yaml

BOOK = Path(__file__).resolve().parents[2] / "notebooks"
HTML = BOOK / "_build" / "html"
SCREENSHOTS = HTML / "_screenshots"
EXPLORER_PAGE = "03_eigenvectors"
RAW_MATH = re.compile(r"\$[^$\n]{1,200}\$")


def page_order() -> list[str]:
    toc = yaml.safe_load((BOOK / "_toc.yml").read_text())
    return [toc["root"]] + [chapter["file"] for chapter in toc["chapters"]]


def chromium() -> str:
    for candidate in (os.environ.get("BILINEAR_CHROMIUM"), shutil.which("chromium"), shutil.which("chromium-browser")):
        if candidate and Path(candidate).exists():
            return candidate
    pytest.fail("no Chromium to drive: install Debian's package (apt-get install chromium, as .ci/run does) "
                "or point BILINEAR_CHROMIUM at a Chromium binary")


@pytest.fixture(scope="module")
def site():
    """Build the book (the committed notebooks, not re-executed; warnings are errors) and serve it locally."""
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    start = time.perf_counter()
    build = subprocess.run([str(jupyter_book), "build", str(BOOK), "--all", "-W", "-n", "--keep-going"],
                           capture_output=True, text=True, timeout=600)
    assert build.returncode == 0, f"the book did not build:\n{build.stdout[-4000:]}\n{build.stderr[-4000:]}"
    print(f"book built in {time.perf_counter() - start:.0f} s")
    handler = functools.partial(QuietHandler, directory=str(HTML))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def browser(site):
    from playwright.sync_api import sync_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium(), args=["--no-sandbox"])
        yield browser
        browser.close()


def open_page(browser, site: str, name: str):
    """The page, loaded with its math typeset, and the problems seen on the way (console errors, failed,
    refused or off-site requests)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda message: message.type == "error" and problems.append(f"console: {message.text}"))
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("requestfailed", lambda request: problems.append(f"failed request: {request.url} {request.failure}"))
    page.on("response", lambda response: response.status >= 400
            and problems.append(f"HTTP {response.status}: {response.url}"))

    def local_only(route):
        if route.request.url.startswith(site) or route.request.url.startswith("data:"):
            route.continue_()
        else:
            problems.append(f"off-site request: {route.request.url}")
            route.abort()

    page.route("**/*", local_only)
    page.goto(f"{site}/{name}.html", wait_until="load")
    page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise", timeout=30_000)
    page.evaluate("() => MathJax.startup.promise")
    page.evaluate("() => Promise.all([...document.images].map(image => image.decode().catch(() => null)))")
    return context, page, problems


UNLOADED_IMAGES = "() => [...document.images].filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src)"
UNTYPESET_MATH = """() => [...document.querySelectorAll('article span.math, article div.math')]
    .filter(e => !e.querySelector('mjx-container')).map(e => e.textContent.slice(0, 80))"""
PROSE_TEXT = """() => { const article = document.querySelector('article').cloneNode(true);
    article.querySelectorAll('pre, code, mjx-container, .cell_output, script, style').forEach(e => e.remove());
    return article.textContent; }"""


@pytest.mark.parametrize("name", page_order())
def test_page_loads_offline_with_images_math_and_navigation(browser, site, name):
    order = page_order()
    context, page, problems = open_page(browser, site, name)
    try:
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
        assert not problems, f"{name}: " + "; ".join(problems[:10])
        assert page.evaluate("() => document.images.length") > 0 or name == order[0], f"{name}: no images"
        assert page.evaluate(UNLOADED_IMAGES) == [], f"{name}: images that did not load"
        assert page.evaluate("() => document.querySelectorAll('mjx-container').length") > 0, f"{name}: no math"
        assert page.evaluate(UNTYPESET_MATH) == [], f"{name}: math MathJax did not typeset"
        raw = RAW_MATH.findall(page.evaluate(PROSE_TEXT))
        assert not raw, f"{name}: raw $...$ left in the text: {raw[:5]}"

        if name != order[0]:  # a chapter: its exercise solutions are collapsed until clicked
            solutions = page.locator("article .cell.tag_solution details")
            assert 1 <= solutions.count() <= 3, f"{name}: {solutions.count()} collapsed solutions"
            assert page.evaluate("() => [...document.querySelectorAll('article .cell.tag_solution details')]"
                                 ".every(d => !d.open)"), f"{name}: a solution is shown before it is asked for"
            first = solutions.first
            first.scroll_into_view_if_needed()
            assert not first.locator(".cell_input").is_visible() and not first.locator(".cell_output").is_visible()
            first.locator("summary").click()
            assert first.locator(".cell_input").is_visible(), f"{name}: the solution does not open"
            assert first.locator(".cell_output").is_visible(), f"{name}: the solution's reply does not show"

        index = order.index(name)
        last = index + 1 == len(order)
        link, target = ("a.left-prev", order[index - 1]) if last else ("a.right-next", order[index + 1])
        page.click(link)
        page.wait_for_url(f"{site}/{target}.html")
        assert page.evaluate("() => document.querySelector('article h1') !== null"), f"{target}: no title"
    finally:
        context.close()


def test_the_explorer_answers_a_hover_with_a_label(browser, site):
    context, page, problems = open_page(browser, site, EXPLORER_PAGE)
    try:
        figure = page.locator(".bilinear-plotly .plotly-graph-div")
        assert figure.count() == 1, "the explorer is missing from its page"
        figure.scroll_into_view_if_needed()
        page.wait_for_function("() => document.querySelector('.bilinear-plotly .main-svg') !== null")
        eigenvector_panel = figure.locator(".draglayer .xy .nsewdrag").first  # the eigenvector heatmap
        box = eigenvector_panel.bounding_box()
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        label = figure.locator(".hoverlayer .hovertext")
        label.first.wait_for(timeout=5_000)
        assert "of the largest pixel" in label.first.text_content()
        slider_steps = page.evaluate("() => document.querySelector('.bilinear-plotly .plotly-graph-div')"
                                     ".layout.sliders[0].steps.length")
        assert slider_steps >= 2
        page.screenshot(path=str(SCREENSHOTS / f"{EXPLORER_PAGE}_hover.png"))
        assert not problems, "; ".join(problems[:10])
    finally:
        context.close()
