"""What a lost or stolen asset exposed: facts from its last check-ins and a first draft of
the breach risk assessment (45 CFR 164.402(2), four factors; HHS guidance on unsecured PHI,
74 FR 42740). A draft for counsel, never a determination. Counts, kinds and folders only.

The reasoning follows shared/reference/lifecycle.md section 5.5 (decision table) and 5.6
(what the record holds).
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from django.utils import timezone

from server.checkins.models import PostureSnapshot, Report
from server.findings.models import Finding
from server.lifecycle.states import machine

# Identifier kinds that point at one person each; the largest count of any of them in a
# file is taken as that file's number of people (several columns name the same person).
PERSON_KINDS = ("name", "ssn", "mrn", "member_id", "mbi", "dob", "account", "email", "phone",
                "address", "health_plan", "beneficiary")
# HHS portal "type of PHI" classes.
DEMOGRAPHIC = {"name", "dob", "address", "zip", "phone", "fax", "email", "date", "age"}
FINANCIAL = {"account", "ssn", "member_id", "health_plan", "beneficiary", "mbi", "card"}


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _encryption(device, at: datetime) -> dict:
    """Last known disk encryption, and when the agent last verified it on."""
    snaps = PostureSnapshot.objects.filter(device=device).order_by("-checked_at")
    latest = snaps.first()
    status, volumes, checked_at = None, [], None
    if latest is not None:
        checked_at = latest.checked_at
        check = next((c for c in latest.checks if c.get("id") == "disk_encryption"), None)
        if check:
            status = check.get("status")
            volumes = [
                {"mount": v.get("mount"), "encrypted": v.get("encrypted"),
                 "system": v.get("system"), "removable": v.get("removable")}
                for v in (check.get("details") or {}).get("volumes", []) if isinstance(v, dict)
            ]
    last_pass = None
    # Scan a bounded window: the newest passing verdict is what the safe harbour rests on.
    for s in snaps[:500]:
        c = next((c for c in s.checks if c.get("id") == "disk_encryption"), None)
        if c and c.get("status") == "pass":
            last_pass = s.checked_at
            break
    age_days = (at - last_pass).total_seconds() / 86400 if last_pass else None
    return {"status": status or "unknown", "checked_at": _iso(checked_at),
            "last_verified_encrypted_at": _iso(last_pass),
            "evidence_age_days": round(age_days, 1) if age_days is not None else None,
            "volumes": volumes}


def _findings_facts(findings: list[Finding]) -> dict:
    phi = [f for f in findings if f.classification == "phi"]
    identifiers: Counter = Counter()
    health: Counter = Counter()
    individuals = 0
    for f in findings:
        identifiers.update({k: int(v) for k, v in (f.identifiers or {}).items()})
        health.update({k: int(v) for k, v in (f.health or {}).items()})
    for f in phi:
        ids = f.identifiers or {}
        individuals += max([int(ids.get(k, 0)) for k in PERSON_KINDS] + [1])
    folders = sorted({f.folder for f in findings if f.folder})
    kinds = set(identifiers)
    classes = ["clinical"] if phi else []
    if kinds & DEMOGRAPHIC:
        classes.append("demographic")
    if kinds & FINANCIAL:
        classes.append("financial")
    return {
        "phi_files": len(phi),
        "pii_files": len(findings) - len(phi),
        "bytes": sum(f.bytes for f in findings),
        "identifier_kinds": dict(sorted(identifiers.items())),
        "health_kinds": dict(sorted(health.items())),
        "individuals_estimate": individuals,
        "individuals_note": ("upper estimate: per PHI file, the largest count of one "
                             "person-level identifier, summed over files (files may overlap)"),
        "data_classes": classes,
        "folders": folders[:200],
        "on_unencrypted_volume": sum(1 for f in phi if f.volume_encrypted is False),
        "on_removable_media": sum(1 for f in phi if f.volume_removable),
        "in_cloud_sync_folder": sum(1 for f in phi if f.volume_cloud),
    }


def device_facts(device, at: datetime | None = None) -> dict:
    at = at or timezone.now()
    last_report = Report.objects.filter(device=device).order_by("-received_at").first()
    findings = list(Finding.objects.filter(device=device, resolved_at__isnull=True))
    enc = _encryption(device, at)
    phi = _findings_facts(findings)
    timeline = [{"at": _iso(device.enrolled_at), "what": "enrolled"}]
    first_phi = min((f.opened_at for f in findings if f.classification == "phi"), default=None)
    if first_phi:
        timeline.append({"at": _iso(first_phi), "what": "PHI first reported on the device"})
    if enc["last_verified_encrypted_at"]:
        timeline.append({"at": enc["last_verified_encrypted_at"],
                         "what": "disk encryption last verified on"})
    if last_report:
        timeline.append({"at": _iso(last_report.received_at), "what": "last check-in"})
    for t in device.transitions.order_by("at"):
        timeline.append({"at": _iso(t.at), "what": f"{t.from_state} -> {t.to_state} by "
                                                   f"{t.actor}: {t.reason}"})
    timeline.append({"at": _iso(at), "what": "reported missing"})
    timeline.sort(key=lambda e: e["at"] or "")
    inv = device.inventory or {}
    return {
        "asset": {"type": "device", "id": str(device.id), "hostname": device.hostname,
                  "serial": device.hardware_serial, "model": device.hardware_model,
                  "manufacturer": device.manufacturer, "os": device.os,
                  "os_version": device.os_version, "users": inv.get("users", [])},
        "last_checkin": _iso(last_report.received_at) if last_report else None,
        "encryption": enc,
        "phi": phi,
        "timeline": timeline,
    }


def medium_facts(medium, at: datetime | None = None) -> dict:
    at = at or timezone.now()
    mounts = list(medium.mounts.select_related("device").order_by("-at")[:100])
    # PHI the agents saw on this medium's mount points on the devices it was mounted on.
    findings = []
    for m in mounts[:20]:
        if m.mount:
            findings += list(Finding.objects.filter(device=m.device, volume_removable=True,
                                                    volume_mount=m.mount))
    seen, unique = set(), []
    for f in findings:
        if f.pk not in seen:
            seen.add(f.pk)
            unique.append(f)
    enc_status = {True: "pass", False: "fail"}.get(medium.last_encrypted, "unknown")
    return {
        "asset": {"type": "medium", "id": medium.pk, "vendor": medium.vendor,
                  "model": medium.model, "serial": medium.serial},
        "last_checkin": _iso(medium.last_seen),
        "encryption": {"status": enc_status, "checked_at": _iso(medium.last_seen),
                       "last_verified_encrypted_at": _iso(medium.last_seen)
                       if medium.last_encrypted else None,
                       "evidence_age_days": round((at - medium.last_seen).total_seconds()
                                                  / 86400, 1) if medium.last_seen else None,
                       "volumes": []},
        "phi": _findings_facts(unique),
        "mounted_on": [{"device": str(m.device_id), "hostname": m.device.hostname,
                        "at": _iso(m.at), "mount": m.mount} for m in mounts],
        "timeline": [{"at": _iso(m.at), "what": f"mounted on {m.device.hostname}"}
                     for m in reversed(mounts)] + [{"at": _iso(at), "what": "reported missing"}],
    }


def assess(facts: dict, kind: str, at: datetime | None = None) -> dict:
    """The four-factor draft and whether the encryption safe harbour appears to apply."""
    at = at or timezone.now()
    enc, phi = facts["encryption"], facts["phi"]
    max_age = machine().evidence_max_age_days
    age = enc.get("evidence_age_days")
    has_phi = phi["phi_files"] > 0

    if not has_phi:
        harbour = "not_needed"
        harbour_text = ("No PHI was reported on the asset at its last check-in"
                        + (f" ({facts['last_checkin']})" if facts.get("last_checkin") else "")
                        + "; confirm the scan covered the whole disk and was recent.")
    elif enc["status"] == "fail" or phi["on_unencrypted_volume"]:
        harbour = "does_not_apply"
        harbour_text = ("The encryption safe harbour does not apply: the agent reported the "
                        "disk (or the volume holding PHI) unencrypted. The PHI is unsecured.")
    elif enc["status"] == "pass" and age is not None and age <= max_age:
        harbour = "appears_to_apply"
        harbour_text = (f"The encryption safe harbour appears to apply: full-disk encryption "
                        f"was verified on {enc['last_verified_encrypted_at']} ({age} days "
                        "before the report), consistent with NIST SP 800-111. It holds only "
                        "if the device was powered off or locked when lost, and the password "
                        "and recovery key were not with it: confirm both with the custodian.")
    else:
        harbour = "cannot_be_shown"
        harbour_text = ("Encryption at the time of loss cannot be shown from agent evidence "
                        f"(status {enc['status']}, last verified "
                        f"{enc['last_verified_encrypted_at'] or 'never'}; evidence older than "
                        f"{max_age} days is stale). The burden of proof is on the entity "
                        "(164.414(b)): treat the PHI as unsecured unless other evidence "
                        "(MDM escrow, enforced encryption profile) establishes it.")

    kinds = ", ".join(phi["identifier_kinds"]) or "none"
    factors = [
        {"factor": "1. Nature and extent of the PHI",
         "draft": (f"{phi['phi_files']} file(s) with PHI, about {phi['individuals_estimate']} "
                   f"individuals ({phi['individuals_note']}); identifier kinds: {kinds}; "
                   f"data classes: {', '.join(phi['data_classes']) or 'none'}.")
         if has_phi else "No PHI reported at the last check-in."},
        {"factor": "2. The unauthorized person",
         "draft": ("A thief: intent to acquire the device is presumed, which weighs against a "
                   "low probability of compromise." if kind == "stolen" else
                   "Unknown finder. Whether the person could or would access the data is "
                   "unknown.")},
        {"factor": "3. Whether the PHI was actually acquired or viewed",
         "draft": ("Unknown. A later check-in of the device (a sighting) would show it was "
                   "powered on and online; none so far." )},
        {"factor": "4. Extent of mitigation",
         "draft": ("Record remote lock or wipe, credential and token revocation, and recovery "
                   "as they happen.")},
    ]
    individuals = phi["individuals_estimate"]
    discovery = at.date()
    if harbour in ("does_not_apply", "cannot_be_shown"):
        notices = {
            "individuals_by": str(discovery + timedelta(days=60)),
            "hhs": ("contemporaneously with individual notice (500 or more individuals)"
                    if individuals >= 500 else
                    f"log it; report by {discovery.year + 1}-03-01 (within 60 days after the "
                    "end of the calendar year; fewer than 500 individuals)"),
            "media": ("required for any State with more than 500 affected residents"
                      if individuals > 500 else "not required (500 or fewer individuals)"),
            "business_associate": ("if phiwatch's operator is a business associate: notify "
                                   "the covered entity without unreasonable delay, within 60 "
                                   "days of discovery (164.410)"),
        }
        conclusion = ("Presumed a breach of unsecured PHI unless the four-factor assessment "
                      "shows a low probability of compromise.")
    elif harbour == "appears_to_apply":
        notices = None
        conclusion = ("Likely not a breach of unsecured PHI, if the conditions above are "
                      "confirmed. Still a security incident to document (164.308(a)(6)(ii)).")
    else:
        notices = None
        conclusion = "No PHI reported on the asset: likely no breach of PHI."
    return {
        "draft": True,
        "disclaimer": "First draft generated from agent evidence for counsel; not a legal "
                      "determination.",
        "safe_harbour": harbour,
        "safe_harbour_text": harbour_text,
        "factors": factors,
        "notices": notices,
        "conclusion": conclusion,
        "discovered_on": str(discovery),
    }
