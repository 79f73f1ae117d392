"""Console roles as data: each role is a Django group holding the least it needs.

To change what a role may do, edit ROLES and run migrate: sync_groups() rebuilds the
groups from this table on every migrate.

Separation of duties (HIPAA 164.308(a)(3)/(4), workforce clearance and access
authorization): IT fixes devices but does not accept its own risk (exceptions are a
compliance decision) and does not read the audit trail that records its own actions;
the auditor reads everything that is evidence and changes nothing.
"""

from __future__ import annotations

from typing import Any

from server.accounts.errors import UnknownRole

# codename -> human description; defined on accounts.Access (a table-less model).
PERMISSIONS: dict[str, str] = {
    "view_fleet": "See the fleet dashboard and device list",
    "view_findings": "See a device's findings (kinds, counts, folders; never values)",
    "triage_violations": "Acknowledge and assign violations",
    "grant_exception": "Grant a time-limited exception to a violation",
    "export_reports": "Export fleet posture reports and PHI attestations",
    "view_audit": "Read the audit log and its chain verification",
}

IT_ADMIN = "it_admin"
COMPLIANCE_OFFICER = "compliance_officer"
AUDITOR = "auditor"

ROLES: dict[str, dict[str, Any]] = {
    IT_ADMIN: {
        "label": "IT admin",
        "permissions": ["view_fleet", "view_findings", "triage_violations"],
        "totp_required": True,
    },
    COMPLIANCE_OFFICER: {
        "label": "Compliance officer",
        "permissions": [
            "view_fleet",
            "view_findings",
            "triage_violations",
            "grant_exception",
            "export_reports",
            "view_audit",
        ],
        "totp_required": False,
    },
    AUDITOR: {
        "label": "Auditor (read-only)",
        "permissions": ["view_fleet", "view_findings", "export_reports", "view_audit"],
        "totp_required": False,
    },
}


def perm(codename: str) -> str:
    """The dotted name Django's has_perm() expects."""
    return f"accounts.{codename}"


def role_of(user: Any) -> str | None:
    """The user's role (first matching group), or None."""
    names = {g.name for g in user.groups.all()}
    for role in ROLES:
        if role in names:
            return role
    return None


def role_requires_totp(user: Any) -> bool:
    if user.is_superuser:
        return True
    names = {g.name for g in user.groups.all()}
    return any(ROLES[r]["totp_required"] for r in ROLES if r in names)


def set_role(user: Any, role: str) -> None:
    """Give the user exactly one console role."""
    from django.contrib.auth.models import Group

    if role not in ROLES:
        raise UnknownRole(f"unknown role {role!r}; one of: {', '.join(ROLES)}")
    user.groups.remove(*Group.objects.filter(name__in=list(ROLES)))
    user.groups.add(Group.objects.get(name=role))


def sync_groups(**kwargs: Any) -> None:
    """post_migrate: make each role's group hold exactly its ROLES permissions."""
    from django.contrib.auth.models import Group, Permission
    from django.contrib.contenttypes.models import ContentType

    from server.accounts.models import Access

    using = kwargs.get("using", "default")
    ct = ContentType.objects.db_manager(using).get_for_model(Access, for_concrete_model=False)
    perms = {}
    for codename, name in PERMISSIONS.items():
        p, _ = Permission.objects.using(using).get_or_create(
            content_type=ct, codename=codename, defaults={"name": name}
        )
        perms[codename] = p
    for role, spec in ROLES.items():
        group, _ = Group.objects.using(using).get_or_create(name=role)
        group.permissions.set([perms[c] for c in spec["permissions"]])
