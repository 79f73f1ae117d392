"""The few errors the accounts app raises; views turn them into plain messages."""

from __future__ import annotations


class AccountsError(Exception):
    """Base class: a login or enrolment step that cannot go on."""


class LockedOut(AccountsError):
    """Too many failures for this account or this address; try again later."""


class SecondFactorMissing(AccountsError):
    """The account must use TOTP but has none enrolled (IT enrols it)."""


class UnknownRole(AccountsError):
    """A role name that is not in ROLES."""
