"""What a warning says. Kinds and counts, the file's place, what to do: never a value.

Wording is more urgent when the file can leave the organisation's control: on removable
media, in a cloud-sync folder (the client is uploading it), or on an unencrypted volume
(a lost laptop is then a reportable breach, 45 CFR 164.402 safe harbor needs encryption).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

CLOUD_NAMES = {
    "dropbox": "Dropbox",
    "onedrive": "OneDrive",
    "google_drive": "Google Drive",
    "icloud": "iCloud Drive",
}


@dataclass(frozen=True)
class Alert:
    """One file that needs the engineer's attention."""

    path: str
    classification: str  # phi | pii
    identifiers: dict[str, int] = field(default_factory=dict)
    health: dict[str, int] = field(default_factory=dict)
    removable: bool = False
    cloud: str | None = None
    encrypted: bool | None = None


@dataclass(frozen=True)
class Notification:
    title: str
    body: str
    urgent: bool = False


def _home_short(path: str) -> str:
    home = str(Path.home())
    return "~" + path[len(home) :] if path == home or path.startswith(home + os.sep) else path


def _kinds(counts: dict[str, int], limit: int = 6) -> str:
    items = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    text = ", ".join(f"{n:,} {k.replace('_', ' ')}" for k, n in items[:limit])
    if len(items) > limit:
        text += f" and {len(items) - limit} more kinds"
    return text


def _where(ws: list[Alert]) -> tuple[str, str]:
    """(title prefix, sentence) for the most urgent place among ``ws``."""
    if any(w.removable for w in ws):
        return (
            "on removable media",
            "Removable media leaves the building: remove the file from this drive now.",
        )
    clouds = sorted({w.cloud for w in ws if w.cloud})
    if clouds:
        name = CLOUD_NAMES.get(clouds[0], clouds[0])
        return (
            f"in {name}",
            f"{name} is copying it off this laptop: move it out of the synced folder now.",
        )
    if any(w.encrypted is False for w in ws):
        return (
            "on an unencrypted disk",
            "This disk is not encrypted, so a lost laptop would be a reportable breach.",
        )
    return ("", "")


def compose(alerts: list[Alert]) -> Notification:
    """One notification for a batch of alerts (one file, or a summary of many)."""
    ws = list({w.path: w for w in alerts}.values())
    phi = [w for w in ws if w.classification == "phi"]
    label = "PHI" if phi else "Personal data"
    what = "protected health information" if phi else "personal identifiers"
    place, urgency_line = _where(ws)
    urgent = bool(place) and bool(phi)
    todo = (
        "Move it to the approved secure storage and delete this copy."
        if phi
        else "Delete it if you do not need it."
    )
    if len(ws) == 1:
        w = ws[0]
        title = f"{label} found{' ' + place if place else ''}: {os.path.basename(w.path)}"
        found = _kinds({**w.identifiers, **w.health}) or "identifiers"
        body = f"{_home_short(w.path)} holds {what} ({found}). "
        body += (urgency_line + " " if urgency_line else "") + todo
        return Notification(title, body, urgent)
    folders = sorted({os.path.dirname(w.path) for w in ws})
    total: dict[str, int] = {}
    for w in ws:
        for k, n in {**w.identifiers, **w.health}.items():
            total[k] = total.get(k, 0) + n
    n_phi, n_pii = len(phi), len(ws) - len(phi)
    counts = f"{n_phi:,} with PHI" + (f", {n_pii:,} with personal data" if n_pii else "")
    title = f"{label} found in {len(ws):,} files{' ' + place if place else ''}"
    common = os.path.commonpath(folders) if folders else ""
    where = _home_short(common) if common else "several folders"
    body = f"In {where}: {counts} ({_kinds(total)}). "
    body += urgency_line + " " if urgency_line else ""
    body += "Move them to the approved secure storage and delete these copies. "
    body += "`phiwatch status` lists every file."
    return Notification(title, body, urgent)
