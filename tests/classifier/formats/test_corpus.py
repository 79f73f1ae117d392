"""Every file of the shared dev corpus extracts, in the format its content says, with
its planted values reachable by the engine and no error."""

from __future__ import annotations

import pytest

from tests.classifier.formats.conftest import drain

# manifest "format" (named after how the corpus writer made the file) -> our format name.
EXPECTED = {
    "txt": {"text"},
    "log": {"text"},
    "py": {"text"},
    "js": {"text"},
    "md": {"text"},
    "csv": {"csv"},
    "tsv": {"tsv"},
    "json": {"json", "fhir-json"},
    "jsonl": {"jsonl"},
    "xml": {"xml"},
    "hl7": {"hl7"},
    "fhir-json": {"fhir-json"},
    "ccda-xml": {"ccda-xml"},
    "xlsx": {"xlsx"},
    "docx": {"docx"},
    "pdf": {"pdf"},
    "dicom": {"dicom"},
    "zip": {"zip"},
    "ipynb": {"ipynb"},
    "parquet": {"parquet"},
    "png": {"binary"},
    "gz": {"gzip"},
    "sqlite": {"sqlite"},
}
# Formats recognised by structure: identity values are counted in the Record, not
# handed over as text, so only the other formats must show every planted value.
RECORD_FORMATS = {"hl7", "fhir-json", "ccda-xml", "dicom"}


@pytest.fixture(scope="module", params=["corpus", "corpus_seed7"])
def drained(request):
    corpus = request.getfixturevalue(request.param)  # two seeds: other values, same kinds
    return {m["path"]: (m, drain(corpus.files / m["path"])) for m in corpus.manifest}


def test_every_corpus_file_extracts_in_its_format(drained):
    wrong = {}
    for path, (m, d) in drained.items():
        if d.error is not None:
            wrong[path] = f"error: {d.error}"
        elif d.format not in EXPECTED[m["format"]]:
            wrong[path] = f"{d.format} (manifest {m['format']})"
    assert wrong == {}
    assert len(drained) >= 250


def test_planted_values_reach_the_engine(drained):
    """The extraction is complete: each planted value of a phi/pii file appears in some
    text, header, cell or record text (or, for record formats, in the Record's counts)."""
    missing = {}
    for path, (m, d) in drained.items():
        if m["label"] == "none" or m["format"] in RECORD_FORMATS:
            continue
        text = d.all_text()
        lost = [v for v in m.get("values", []) if v not in text]
        if lost:
            missing[path] = len(lost)  # counts only: the values are PHI-shaped
    assert missing == {}


def test_record_formats_carry_identity_exactly_for_identified_files(drained):
    wrong = []
    for path, (m, d) in drained.items():
        if m["format"] not in RECORD_FORMATS:
            continue
        identity = any(r.patient_identity for r in d.records)
        if identity != (m["label"] == "phi"):
            wrong.append(path)
        if identity:
            counted = set().union(*(r.identifiers for r in d.records))
            assert counted & {"name", "mrn"}, path
    assert wrong == []


def test_archives_expose_members(drained):
    zips = [(p, d) for p, (m, d) in drained.items() if m["format"] in ("zip", "gz")]
    assert zips
    for path, d in zips:
        assert d.members, path
        for name, member in d.members:
            assert member.error is None, (path, name)
            assert member.format != "binary", (path, name)
