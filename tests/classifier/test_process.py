"""Process settings for long scans (agent/classifier/process.py)."""

import gc
import subprocess
import sys


def test_tune_collects_less_often_and_keeps_collecting():
    # in a child: the settings are process-wide and would change the rest of the test run
    code = (
        "import gc\n"
        "from agent.classifier.process import tune\n"
        "tune()\n"
        "print(gc.isenabled(), gc.get_threshold()[0], gc.get_freeze_count() > 0)\n"
        "class Node: pass\n"
        "a, b = Node(), Node(); a.b, b.a = b, a\n"  # a cycle is still collected
        "del a, b\n"
        "print(gc.collect() >= 2)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "50000", "True", "True"]
    assert gc.get_threshold()[0] < 50000  # this process untouched
