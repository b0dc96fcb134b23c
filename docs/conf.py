"""Sphinx configuration for the hinge_estimators documentation.

Build with ``python -m pip install -e ".[docs]"`` and then
``python -m sphinx -b html docs docs/_build/html`` from the repository root.
"""

import os
import shutil
import socket
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


def _reachable(host, port=443, timeout=2.0):
    """Whether ``host`` answers, so that an offline build does not wait on it."""
    if os.environ.get("HINGE_DOCS_OFFLINE"):
        return False
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


# Maths: MathJax renders it in the reader's browser from a CDN (jsdelivr), so
# offline the formulas show as their LaTeX source. imgmath renders them at
# build time into SVG files that need nothing at reading time, but it needs a
# LaTeX installation and dvisvgm, which we do not make a requirement: it is
# used when both are on the PATH. HINGE_DOCS_MATHJAX=<path or URL> points
# MathJax at a copy of your own (e.g. a local MathJax 3 tex-chtml.js).
if shutil.which("latex") and shutil.which("dvisvgm"):
    _math_extension = "sphinx.ext.imgmath"
    imgmath_image_format = "svg"
    imgmath_embed = True
else:
    _math_extension = "sphinx.ext.mathjax"
    if os.environ.get("HINGE_DOCS_MATHJAX"):
        mathjax_path = os.environ["HINGE_DOCS_MATHJAX"]

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    _math_extension,
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

# Cross-references into numpy's, scipy's and scikit-learn's documentation
# (the docstrings that our estimators inherit from scikit-learn's mixins
# refer to its glossary and user guide). Intersphinx downloads the inventories
# at build time; offline (no route to the hosts, or HINGE_DOCS_OFFLINE=1) the
# mapping is left empty so that the build neither waits nor warns on them,
# and the few targets of the inherited docstrings are linked by URL instead
# (``_link_sklearn_targets`` below).
intersphinx_mapping = {}
if _reachable("scikit-learn.org"):
    intersphinx_mapping = {
        "python": ("https://docs.python.org/3", None),
        "numpy": ("https://numpy.org/doc/stable", None),
        "scipy": ("https://docs.scipy.org/doc/scipy", None),
        "sklearn": ("https://scikit-learn.org/stable", None),
    }
intersphinx_timeout = 5

#: labels and glossary terms that scikit-learn's inherited docstrings refer to
#: (``ClassifierMixin.score``, the ``set_*_request`` methods), and where they
#: live in scikit-learn's documentation: used when intersphinx is offline
SKLEARN_TARGETS = {
    ("ref", "accuracy_score"): "modules/model_evaluation.html#accuracy-score",
    ("ref", "metadata_routing"): "metadata_routing.html",
    ("term", "meta-estimator"): "glossary.html#term-meta-estimator",
}

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


def _link_sklearn_targets(app, env, node, contnode):
    """Resolve a scikit-learn label or term that intersphinx could not (offline)."""
    from docutils import nodes

    path = SKLEARN_TARGETS.get((node.get("reftype"), node.get("reftarget")))
    if path is None:
        return None
    ref = nodes.reference("", "", internal=False)
    ref["refuri"] = "https://scikit-learn.org/stable/" + path
    ref.append(contnode)
    return ref


def setup(app):
    # after intersphinx (priority 500), so that an inventory wins when online
    app.connect("missing-reference", _link_sklearn_targets, priority=900)


html_theme = "alabaster"
html_title = "hinge_estimators"
html_static_path = []
