"""Django system checks that name a bad configuration before the server serves."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, register

from server.errors import ConfigError


@register()
def rules_load(app_configs, **kwargs):
    """rules/policy.yaml and rules/violations.yaml must load and validate."""
    from server.policy.effective import base_policy
    from server.violations.rules import rules

    errors = []
    for name, load in (("policy", base_policy), ("violations", rules)):
        try:
            load()
        except ConfigError as e:
            errors.append(Error(str(e), hint="fix the file or PHIWATCH_RULES",
                                id=f"phiwatch.E00{1 if name == 'policy' else 2}"))
    if not errors:
        policy = base_policy()
        for key in ("silent_after_seconds", "screen_lock_max_seconds", "auto_logoff_max_seconds"):
            if not isinstance(policy.get(key), int) or policy[key] <= 0:
                errors.append(Error(f"rules/policy.yaml: {key} must be a positive integer",
                                    id="phiwatch.E003"))
    return errors


@register()
def database_engine(app_configs, **kwargs):
    engine = settings.DATABASES["default"]["ENGINE"]
    if engine.rsplit(".", 1)[-1] not in ("sqlite3", "postgresql"):
        return [Error(f"DATABASE_URL selects {engine}; phiwatch supports SQLite and PostgreSQL",
                      id="phiwatch.E004")]
    return []
