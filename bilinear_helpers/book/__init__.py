"""The web book: the committed notebooks as a static site (Jupyter Book 1.x), built without running them.

`jupyter-book build notebooks` builds it from `notebooks/_config.yml` and `notebooks/_toc.yml`;
`settings` reads the one repository URL the Colab links point at, and `python -m
bilinear_helpers.book sync` copies it into the README and the notebooks. `sphinx_extension`
serves plotly.js from the site, and `plotly_output` draws plotly figures on the page.
"""
