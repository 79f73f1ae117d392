from __future__ import annotations


def test_corpus_builds_with_labels(corpus):
    labels = {m["label"] for m in corpus.manifest}
    assert labels == {"phi", "pii", "none"}
    assert all((corpus.files / m["path"]).exists() for m in corpus.manifest)
    assert len(corpus.planted_values()) > 100
