"""Sphinx configuration: ``make docs`` (or ``python -m sphinx -W -b html docs docs/_build/html``)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import edxreview  # noqa: E402

project = "edxreview"
author = "The edxreview authors"
copyright = "the edxreview authors, BSD-3-Clause"
release = edxreview.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.intersphinx",
    "numpydoc",
    "myst_parser",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "examples/*.ipynb_checkpoints"]
root_doc = "index"

autodoc_typehints = "none"  # the numpydoc Parameters sections carry the types
autodoc_member_order = "bysource"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
myst_heading_anchors = 3
suppress_warnings = ["myst.header", "myst.xref_missing"]
nitpicky = False

html_theme = "alabaster"
html_theme_options = {"page_width": "1200px"}  # the column reference tables are wide
html_title = f"edxreview {release}"
html_static_path = ["_static"]
html_css_files = ["tables.css"]
