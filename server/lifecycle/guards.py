"""Guards named in rules/lifecycle.yaml `requires`. Each returns None when it holds, or
the reason it does not, in words an IT admin can act on."""

from __future__ import annotations

from collections.abc import Callable


def verified_sanitization(asset) -> str | None:
    """164.310(d)(2)(i)-(ii): disposal and re-use need a verified NIST SP 800-88 record,
    made after the asset was last seen in use (a device that checked in after its
    sanitization was evidently not sanitized, or was re-imaged and used again)."""
    records = asset.sanitizations.order_by("-performed_at")
    last_used = getattr(asset, "last_seen", None)
    for r in records:
        if not r.verified:
            continue
        if last_used is not None and r.performed_at < last_used:
            return (f"the latest verified sanitization record ({r.performed_at:%Y-%m-%d}) is "
                    f"older than the asset's last check-in ({last_used:%Y-%m-%d %H:%M}); "
                    "sanitize it again and record it")
        return None
    if records.exists():
        return ("no verified sanitization record: the verification must pass and be done by "
                "someone other than the person who sanitized")
    return "no sanitization record: record a NIST SP 800-88 sanitization first"


GUARDS: dict[str, Callable[[object], str | None]] = {
    "verified_sanitization": verified_sanitization,
}
