"""Every Python snippet of README.md and docs/*.rst runs as written.

A snippet is a fenced ```python block of README.md, or a
``.. code-block:: python`` block (or a ``>>>`` doctest) of an rst page under
docs/ (the gallery examples are run by the docs build instead). Each runs in
a fresh namespace, as a user would paste it; a snippet that guards its code
with ``if __name__ == "__main__":`` (a script that starts a Dask cluster) runs
as a script in a subprocess. An rst comment right before a block changes how
it runs:

``.. snippet: module <dotted.name>``
    the block is a file of the package (relative imports): it runs as that
    module and stays importable for the page's later blocks, which run in
    order; ``test_*`` functions that a later block defines are called;
``.. snippet: skip <reason>``
    the block is not a program (a signature, an excerpt with ``...``).

The Examples sections of the package's docstrings run as doctests.

Only the Dask snippets may be skipped, and only where the dask extra is
not installed (CI installs it with the test extra).
"""

import doctest
import importlib
import importlib.util
import pkgutil
import re
import subprocess
import sys
import textwrap
import types
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("**/*.rst"))]
PAGES = [p for p in PAGES if "_build" not in p.parts and "generated" not in p.parts]
PAGES = [p for p in PAGES if "auto_examples" not in p.parts]

MARKER = re.compile(r"^\s*\.\. snippet: (module|skip) (.+?)\s*$")
FENCE = re.compile(r"^```python\s*$")
DIRECTIVE = re.compile(r"^(\s*)\.\. code-block:: python\s*$")


def _rst_blocks(lines):
    """(line number, marker, code) of each python code-block of an rst page."""
    blocks = []
    for i, line in enumerate(lines):
        match = DIRECTIVE.match(line)
        if not match:
            continue
        indent = len(match.group(1))
        marker = None
        j = i - 1
        while j >= 0 and not lines[j].strip():
            j -= 1
        if j >= 0 and MARKER.match(lines[j]):
            marker = MARKER.match(lines[j]).groups()
        body = []
        k = i + 1
        while k < len(lines) and re.match(r"^\s+:\w[\w-]*:", lines[k]):
            k += 1  # directive options
        for line in lines[k:]:
            if line.strip() and len(line) - len(line.lstrip()) <= indent:
                break
            body.append(line)
        blocks.append((i + 1, marker, textwrap.dedent("\n".join(body)).strip()))
    return blocks


def _markdown_blocks(lines):
    """(line number, None, code) of each ```python block of a markdown page."""
    blocks, start = [], None
    for i, line in enumerate(lines):
        if start is None and FENCE.match(line):
            start = i + 1
        elif start is not None and line.strip() == "```":
            blocks.append((start, None, "\n".join(lines[start:i])))
            start = None
    return blocks


def _page_blocks(page):
    lines = page.read_text(encoding="utf-8").splitlines()
    if page.suffix == ".md":
        return _markdown_blocks(lines)
    return _rst_blocks(lines)


def _has_dask():
    return all(importlib.util.find_spec(name) for name in ("dask", "dask_ml"))


def _pending_reason(code):
    if ("import dask" in code or "from dask" in code) and not _has_dask():
        return "needs the dask extra (python -m pip install -e '.[dask]')"
    return None


#: guarded scripts started so far: code -> running subprocess
_SCRIPTS = {}


def _start_scripts():
    """Start every guarded script of every page at once; each takes seconds
    of Dask start-up, mostly waiting, so they overlap."""
    if _SCRIPTS:
        return
    for page in PAGES:
        for _, marker, code in _page_blocks(page):
            skipped = marker and marker[0] == "skip"
            guarded = 'if __name__ == "__main__":' in code
            if guarded and not skipped and not _pending_reason(code):
                _SCRIPTS[code] = subprocess.Popen(
                    [sys.executable, "-c", code],
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                    cwd=ROOT,
                )


@pytest.fixture(scope="module", autouse=True)
def _stop_scripts():
    """Scripts that no selected test waited on are stopped with the module."""
    yield
    for process in _SCRIPTS.values():
        if process.poll() is None:
            process.kill()
        process.communicate()
    _SCRIPTS.clear()


def _run_script(code, page, line):
    """Run a guarded script in a subprocess, as ``python script.py`` would."""
    _start_scripts()
    _, stderr = _SCRIPTS[code].communicate(timeout=300)
    assert _SCRIPTS[code].returncode == 0, (
        f"{page.name}:{line} failed as a script:\n{stderr[-3000:]}"
    )


def _run_page(page, monkeypatch):
    """Run a page's snippets in order; return the reasons of those that wait."""
    waiting = []
    for line, marker, code in _page_blocks(page):
        where = f"{page.relative_to(ROOT)}:{line}"
        if marker and marker[0] == "skip":
            continue
        reason = _pending_reason(code)
        if reason:
            waiting.append(f"{where}: {reason}")
            continue
        if 'if __name__ == "__main__":' in code:
            _run_script(code, page, line)
            continue
        if marker and marker[0] == "module":
            name = marker[1]
            package, _, attr = name.rpartition(".")
            module = types.ModuleType(name)
            module.__package__ = package
            exec(compile(code, where, "exec"), module.__dict__)
            monkeypatch.setitem(sys.modules, name, module)
            for key, value in vars(module).items():
                if isinstance(value, type) and value.__module__ == name:
                    monkeypatch.setattr(sys.modules[package], key, value, raising=False)
            continue
        namespace = {"__name__": "snippet"}
        exec(compile(code, where, "exec"), namespace)
        for key, value in list(namespace.items()):
            if key.startswith("test_") and callable(value):
                value()
    return waiting


SNIPPET_PAGES = [page for page in PAGES if _page_blocks(page)]
DOCTEST_PAGES = [p for p in PAGES if p.suffix == ".rst" and ">>> " in p.read_text()]


@pytest.mark.parametrize("page", SNIPPET_PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_snippets_run(page, monkeypatch):
    waiting = _run_page(page, monkeypatch)
    if waiting:
        # the page's other snippets ran and passed
        pytest.skip("; ".join(waiting))


@pytest.mark.skipif(not DOCTEST_PAGES, reason="no rst page has a doctest")
@pytest.mark.parametrize(
    "page", DOCTEST_PAGES or [None], ids=lambda p: str(p and p.relative_to(ROOT))
)
def test_doctests_pass(page):
    failures, _ = doctest.testfile(
        str(page),
        module_relative=False,
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
    )
    assert failures == 0


def _docstring_modules():
    import hinge_estimators

    names = [hinge_estimators.__name__]
    for info in pkgutil.walk_packages(hinge_estimators.__path__, "hinge_estimators."):
        names.append(info.name)
    return sorted(names)


@pytest.mark.parametrize("name", _docstring_modules())
def test_docstring_examples(name):
    """The Examples sections of the package's docstrings run and print what
    they show."""
    module = importlib.import_module(name)
    failures, _ = doctest.testmod(
        module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    )
    assert failures == 0


def test_blocks_are_found():
    """The extraction finds the blocks the pages have (it can fail silently)."""
    readme = _page_blocks(ROOT / "README.md")
    assert len(readme) == (ROOT / "README.md").read_text().count("```python")
    migration = _page_blocks(ROOT / "docs" / "guide" / "migration.rst")
    assert len(migration) == 2
    assert all("import" in code for _, _, code in migration)
