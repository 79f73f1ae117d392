"""Console fixtures: the seeded fleet, one user per role, signed-in test clients."""

from __future__ import annotations

import time

import pytest
from django.test import Client

from tests.server.console.seed import make_user, seed_fleet

PASSWORD = "correct horse battery 9"


@pytest.fixture(autouse=True)
def cheap_argon2(settings):
    """Still argon2 (same algorithm name and format), at test cost. test_login checks the
    real settings' hasher separately."""
    settings.PASSWORD_HASHERS = ["tests.server.console.hashers.CheapArgon2PasswordHasher"]


@pytest.fixture
def fleet(db):
    return seed_fleet()


@pytest.fixture
def users(db):
    return {role: make_user(f"{role}-user", role, PASSWORD)
            for role in ("it_admin", "compliance_officer", "auditor")}


def signed_in(user) -> Client:
    """A client whose session passed both factors just now (the login flow has its own
    tests in test_login.py)."""
    from server.accounts.guard import MFA, SEEN

    c = Client()
    c.force_login(user)
    s = c.session
    s[MFA] = True
    s[SEEN] = time.time()
    s.save()
    return c


@pytest.fixture
def as_role(users):
    return {role: signed_in(u) for role, u in users.items()}


@pytest.fixture
def officer(as_role):
    return as_role["compliance_officer"]
