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
