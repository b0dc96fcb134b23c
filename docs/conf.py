"""Sphinx configuration for the hinge_estimators documentation.

Build with ``python -m pip install -e ".[docs]"`` and then
``python -m sphinx -b html docs docs/_build/html`` from the repository root.
"""

import sys
from pathlib import Path

import sphinx_gallery

# Document the checkout this file belongs to. An editable install (the README's
# install command) puts the compiled kernels next to these sources.
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import hinge_estimators  # noqa: E402

project = "hinge_estimators"
author = "hinge_estimators developers"
copyright = "hinge_estimators developers"
release = getattr(hinge_estimators, "__version__", "0.1.0.dev0")
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

templates_path = []
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]
root_doc = "index"

# autosummary writes one page per public name into docs/generated/.
autosummary_generate = True
autodoc_default_options = {"members": True, "inherited-members": False}

# numpydoc renders the "Parameters/Returns/..." sections; autosummary already
# lists class members, so numpydoc does not list them a second time.
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

sphinx_gallery_conf = {
    # Gallery sources live in docs/examples/, generated pages in
    # docs/auto_examples/ (both relative to this file).
    "examples_dirs": "examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "download_all_examples": False,
    "remove_config_comments": True,
    "within_subsection_order": "FileNameSortKey",
    "matplotlib_animations": False,
}
# sphinx-gallery >= 0.18 can skip writing sg_execution_times.rst into the
# source tree (older versions reject the key).
if tuple(int(p) for p in sphinx_gallery.__version__.split(".")[:2]) >= (0, 18):
    sphinx_gallery_conf["write_computation_times"] = False

html_theme = "alabaster"
html_title = "hinge_estimators"
html_static_path = []
