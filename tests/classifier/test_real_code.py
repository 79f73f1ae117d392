"""Real source code is the most common thing on an engineer's laptop and must not be phi
(a file crediting its author is pii at most). The corpus draws its hard negatives from
the same installed packages; here every file of several of them is checked."""

from __future__ import annotations

import email
import json
from pathlib import Path

import _pytest
import docx
import openpyxl
import PIL
import reportlab

from agent.classifier import scan_paths

PACKAGES = [openpyxl, docx, PIL, _pytest, reportlab, json, email]


def test_installed_source_is_not_phi():
    roots = [str(Path(m.__file__).parent) for m in PACKAGES]
    results = [r for r in scan_paths(roots) if "!" not in r.path]
    assert len(results) > 300
    phi = [r.path for r in results if r.classification == "phi"]
    assert not phi, phi
