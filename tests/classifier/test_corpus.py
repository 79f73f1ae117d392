"""The classifier on the labelled dev corpus, two seeds built at test time.

Targets (issue 2): PHI file-level recall >= 0.99 and precision >= 0.97, PII recall >= 0.95.
Archives count by their own verdict (the highest of their members').
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from agent.classifier import scan_paths
from agent.classifier.engine import Engine
from agent.classifier.rules import default_rules


def _evaluate(corpus, engine=None):
    results = {}
    for r in scan_paths([corpus.files], engine=engine):
        if "!" in r.path:
            continue
        results[Path(r.path).relative_to(corpus.files).as_posix()] = r.classification
    cm: Counter = Counter()
    wrong = []
    for m in corpus.manifest:
        got = results.get(m["path"], "missing")
        cm[(m["label"], got)] += 1
        if got != m["label"]:
            wrong.append(f"{m['label']} -> {got}: {m['path']} ({m['note']})")
    return cm, wrong


def _report(cm: Counter, wrong: list[str]) -> str:
    labels = ["phi", "pii", "none", "error", "missing"]
    lines = ["confusion matrix (rows: truth, columns: verdict)",
             "        " + " ".join(f"{c:>7}" for c in labels)]
    for t in ("phi", "pii", "none"):
        lines.append(f"{t:>7} " + " ".join(f"{cm[(t, c)]:>7}" for c in labels))
    return "\n".join(lines + ["misclassified:"] + wrong)


def _check(cm: Counter, wrong: list[str]) -> None:
    phi_total = sum(v for (t, _), v in cm.items() if t == "phi")
    said_phi = sum(v for (_, g), v in cm.items() if g == "phi")
    pii_total = sum(v for (t, _), v in cm.items() if t == "pii")
    recall = cm[("phi", "phi")] / phi_total
    precision = cm[("phi", "phi")] / max(1, said_phi)
    pii_recall = cm[("pii", "pii")] / pii_total
    msg = f"phi recall {recall:.3f} precision {precision:.3f} pii recall {pii_recall:.3f}\n" + _report(cm, wrong)
    assert recall >= 0.99 and precision >= 0.97 and pii_recall >= 0.95, msg


def test_corpus_seed1(corpus):
    _check(*_evaluate(corpus))


def test_corpus_seed7(corpus_seed7):
    _check(*_evaluate(corpus_seed7))


def test_corpus_pure_python_engine_agrees(corpus):
    """PHIWATCH_ENGINE=re (no compiled engine) reaches the same verdicts."""
    cm_hs, _ = _evaluate(corpus)
    cm_re, wrong = _evaluate(corpus, Engine(default_rules(), "re"))
    assert cm_re == cm_hs, _report(cm_re, wrong)
