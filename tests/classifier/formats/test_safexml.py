"""safexml parses with the C parser where nothing defusedxml guards against can occur:
the same trees and events as defusedxml, and its refusals where they apply."""

from __future__ import annotations

import io
import zipfile
from xml.etree.ElementTree import ParseError, tostring

import pytest
from defusedxml import EntitiesForbidden
from defusedxml.ElementTree import fromstring as defused_fromstring
from defusedxml.ElementTree import iterparse as defused_iterparse

from agent.classifier.formats import safexml
from tests.classifier.formats.conftest import PATIENT_ROW, write_docx, write_xlsx


def _parts(tmp_path):
    xlsx = write_xlsx(tmp_path / "a.xlsx", {"Patients": [["name", "mrn"], PATIENT_ROW[:2]]})
    docx = write_docx(tmp_path / "a.docx")
    for path in (xlsx, docx):
        with zipfile.ZipFile(path) as zf:
            for name in zf.namelist():
                if name.endswith((".xml", ".rels")):
                    yield zf.read(name)


def test_trees_and_events_are_defusedxmls(tmp_path):
    parts = list(_parts(tmp_path))
    assert len(parts) > 10
    for data in parts:
        assert tostring(safexml.fromstring(data)) == tostring(defused_fromstring(data))
        ours = [(e, el.tag) for e, el in safexml.iterparse(io.BytesIO(data), ("start", "end"))]
        theirs = [(e, el.tag) for e, el in defused_iterparse(io.BytesIO(data), ("start", "end"))]
        assert ours == theirs


@pytest.mark.parametrize("data, error", [
    (b"", ParseError), (b"<a>", ParseError), (b"<a></b>", ParseError), (b"not xml", ParseError),
    (b'<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>', EntitiesForbidden),
])
def test_bad_documents_fail_as_with_defusedxml(data, error):
    with pytest.raises(error):
        defused_fromstring(data)
    with pytest.raises(error):
        safexml.fromstring(data)
