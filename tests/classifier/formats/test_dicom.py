"""DICOM reading: how pydicom is loaded (formats/dicom.py)."""

from __future__ import annotations


def test_pydicom_loads_without_requests_and_pillow_which_stay_importable():
    """dicom._hidden: pydicom's optional imports are hidden only while it loads."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from agent.classifier.formats import dicom\n"
        "with dicom._hidden('requests', 'PIL'):\n"
        "    import pydicom\n"
        "assert 'requests' not in sys.modules and 'PIL' not in sys.modules\n"
        "import requests\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "ok", out.stderr[-500:]


def _raw_dataset(path, implicit: bool):
    """A data set written without the Part 10 preamble, "DICM" and file meta group, as
    ACR-NEMA era tools and some exports write it."""
    import pydicom
    from pydicom.dataset import Dataset

    ds = Dataset()
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
    ds.StudyDate = "20240301"
    ds.Modality = "CT"
    ds.PatientName = "QUEXLEY^ROSALIND"
    ds.PatientID = "MRN4417023"
    ds.PatientBirthDate = "19610402"
    pydicom.dcmwrite(path, ds, enforce_file_format=False, implicit_vr=implicit, little_endian=True)
    return path


def test_a_data_set_without_preamble_is_read(tmp_path):
    from agent.classifier import classify_file

    for implicit in (True, False):
        p = _raw_dataset(tmp_path / f"raw{implicit}", implicit)
        assert p.read_bytes()[:2] == b"\x08\x00" and b"DICM" not in p.read_bytes()
        r = classify_file(p)
        assert (r.format, r.classification) == ("dicom", "phi"), implicit
        assert r.identifiers == {"name": 1, "mrn": 1, "dob": 1}


def test_bytes_that_only_start_like_a_data_set_are_binary(tmp_path):
    import random

    from agent.classifier.formats.sniff import sniff

    rnd = random.Random(3)
    for _ in range(200):
        head = b"\x08\x00" + bytes(rnd.randrange(256) for _ in range(300))
        assert sniff(head) in ("binary", "text")
