"""Build hook: compiles every Cython kernel found under hinge_estimators/.

Metadata lives in pyproject.toml; this file only declares the extension
modules, because setuptools needs Python code to cythonize them.
"""

from pathlib import Path

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, setup

ROOT = Path(__file__).parent


def _extensions():
    sources = sorted(ROOT.glob("hinge_estimators/**/*.pyx"))
    return [
        Extension(
            ".".join(p.relative_to(ROOT).with_suffix("").parts),
            [str(p.relative_to(ROOT))],
            include_dirs=[np.get_include()],
            define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
            extra_compile_args=["-O3"],
        )
        for p in sources
    ]


exts = _extensions()
setup(
    ext_modules=cythonize(
        exts,
        compiler_directives={
            "language_level": "3",
            "boundscheck": False,
            "wraparound": False,
            "cdivision": True,
            "initializedcheck": False,
        },
    )
    if exts
    else [],
)
