"""Lifecycle records. Every row here is evidence: rows are added, never edited, except an
incident's sign-off and a medium's denormalised latest state.

An asset is either a Device (devices app) or a Medium (a removable drive seen by agents);
the tables that can hold either carry two nullable keys and a check that exactly one is set.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from server.devices.models import LIFECYCLE_STATES

ONE_ASSET = Q(device__isnull=False, medium__isnull=True) | Q(device__isnull=True,
                                                             medium__isnull=False)


class Medium(models.Model):
    """A removable mass-storage device, identified by what the OS reports of it."""

    vendor = models.CharField(max_length=200, blank=True, default="")
    model = models.CharField(max_length=200, blank=True, default="")
    serial = models.CharField(max_length=200, blank=True, default="")
    property_number = models.CharField(max_length=100, blank=True, default="")
    lifecycle_state = models.CharField(max_length=20, choices=LIFECYCLE_STATES,
                                       default="in_service", db_index=True)
    first_seen = models.DateTimeField(auto_now_add=True)
    last_seen = models.DateTimeField(null=True, blank=True)
    last_device = models.ForeignKey("devices.Device", null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    last_encrypted = models.BooleanField(null=True)
    size = models.BigIntegerField(null=True, blank=True)

    class Meta:
        constraints = [
            # One row per physical drive: agents on different laptops report the same stick.
            models.UniqueConstraint(fields=["vendor", "model", "serial"], name="medium_identity"),
        ]
        indexes = [
            # "media seen recently" (media list, newest first).
            models.Index(fields=["-last_seen"], name="medium_last_seen"),
            # look-up by serial from the search box and the CLI.
            models.Index(fields=["serial"], name="medium_serial"),
        ]

    def __str__(self) -> str:
        name = " ".join(p for p in (self.vendor, self.model) if p) or "removable drive"
        return f"{name} (serial {self.serial or 'unknown'})"


class MediumMount(models.Model):
    """A medium seen mounted on a device: the list of devices it was mounted on."""

    medium = models.ForeignKey(Medium, on_delete=models.CASCADE, related_name="mounts")
    device = models.ForeignKey("devices.Device", on_delete=models.CASCADE,
                               related_name="media_mounts")
    at = models.DateTimeField()
    mount = models.TextField(blank=True, default="")
    encrypted = models.BooleanField(null=True)
    event_id = models.UUIDField(null=True, blank=True)

    class Meta:
        constraints = [
            # An event re-sent in a later report is recorded once.
            models.UniqueConstraint(fields=["device", "event_id"], name="mount_event_once"),
        ]
        indexes = [
            # "where was medium M mounted" (medium page), newest first.
            models.Index(fields=["medium", "-at"], name="mount_medium_time"),
        ]


class Transition(models.Model):
    """One lifecycle move of an asset: who, when, why."""

    device = models.ForeignKey("devices.Device", null=True, blank=True, on_delete=models.CASCADE,
                               related_name="transitions")
    medium = models.ForeignKey(Medium, null=True, blank=True, on_delete=models.CASCADE,
                               related_name="transitions")
    from_state = models.CharField(max_length=20)
    to_state = models.CharField(max_length=20)
    at = models.DateTimeField(auto_now_add=True)
    actor = models.CharField(max_length=150)
    reason = models.TextField()
    custodian = models.CharField(max_length=200, blank=True, default="")
    location = models.CharField(max_length=200, blank=True, default="")
    # An admin passed a guard that did not hold; the justification says why.
    override = models.BooleanField(default=False)
    override_justification = models.TextField(blank=True, default="")

    class Meta:
        constraints = [models.CheckConstraint(condition=ONE_ASSET, name="transition_one_asset")]
        indexes = [
            # "history of device D" / "of medium M", newest first.
            models.Index(fields=["device", "-at"], name="transition_device_time"),
            models.Index(fields=["medium", "-at"], name="transition_medium_time"),
            # "every override" (the flagged list auditors ask for).
            models.Index(fields=["override", "-at"], name="transition_override"),
        ]


METHODS = [("clear", "Clear"), ("purge", "Purge"), ("destroy", "Destroy")]
VERIFICATIONS = [("full", "Full"), ("quick_sampling", "Quick sampling"), ("other", "Other")]
RESULTS = [("pass", "Pass"), ("fail", "Fail")]
DESTINATIONS = [
    ("internal_reuse", "Internal re-use"), ("external_reuse", "External re-use"),
    ("recycling", "Recycling facility"), ("manufacturer", "Manufacturer"),
    ("destroyed", "Destroyed on site"), ("other", "Other"),
]


class SanitizationRecord(models.Model):
    """NIST SP 800-88 Rev.1 section 4.8 / Appendix G: one record per sanitized asset.

    Immutable: a correction is a new record. Verified means the verification passed and
    was done by someone other than the person who sanitized (800-88 section 4.7).
    """

    device = models.ForeignKey("devices.Device", null=True, blank=True, on_delete=models.PROTECT,
                               related_name="sanitizations")
    medium = models.ForeignKey(Medium, null=True, blank=True, on_delete=models.PROTECT,
                               related_name="sanitizations")
    media_type = models.CharField(max_length=50)  # "SSD (NVMe)", "HDD", "flash"
    property_number = models.CharField(max_length=100, blank=True, default="")
    method = models.CharField(max_length=10, choices=METHODS)
    technique = models.CharField(max_length=200)  # "NVMe Format with crypto erase"
    tool = models.CharField(max_length=200)
    tool_version = models.CharField(max_length=100)
    verification_method = models.CharField(max_length=20, choices=VERIFICATIONS)
    verification_result = models.CharField(max_length=10, choices=RESULTS)
    performed_by = models.CharField(max_length=150)
    performed_by_title = models.CharField(max_length=150, blank=True, default="")
    performed_at = models.DateTimeField()
    verified_by = models.CharField(max_length=150)
    verified_by_title = models.CharField(max_length=150, blank=True, default="")
    verified_at = models.DateTimeField()
    location = models.CharField(max_length=200, blank=True, default="")
    destination = models.CharField(max_length=20, choices=DESTINATIONS)
    destination_details = models.CharField(max_length=300, blank=True, default="")
    notes = models.TextField(blank=True, default="")
    recorded_by = models.CharField(max_length=150)
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=ONE_ASSET, name="sanitization_one_asset")]
        indexes = [
            # "sanitization records of device D" (the disposal guard, the certificate).
            models.Index(fields=["device", "-performed_at"], name="sanit_device_time"),
            models.Index(fields=["medium", "-performed_at"], name="sanit_medium_time"),
        ]

    @property
    def verified(self) -> bool:
        return (self.verification_result == "pass" and bool(self.verified_by.strip())
                and self.verified_by.strip().lower() != self.performed_by.strip().lower())

    @property
    def asset(self):
        return self.device or self.medium


class Incident(models.Model):
    """A lost or stolen asset: the facts at the moment it was reported, and a first draft
    of the breach risk assessment (45 CFR 164.402) for counsel. Counts and folders only."""

    device = models.ForeignKey("devices.Device", null=True, blank=True, on_delete=models.PROTECT,
                               related_name="incidents")
    medium = models.ForeignKey(Medium, null=True, blank=True, on_delete=models.PROTECT,
                               related_name="incidents")
    kind = models.CharField(max_length=10)  # lost | stolen
    reported_at = models.DateTimeField(auto_now_add=True)
    reported_by = models.CharField(max_length=150)
    circumstances = models.TextField()
    police_report = models.CharField(max_length=100, blank=True, default="")
    facts = models.JSONField(default=dict)
    assessment = models.JSONField(default=dict)
    signed_off_by = models.CharField(max_length=150, blank=True, default="")
    signed_off_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=ONE_ASSET, name="incident_one_asset")]
        indexes = [models.Index(fields=["-reported_at"], name="incident_time")]


class Sighting(models.Model):
    """A lost, stolen or disposed device that checked in again: where and when."""

    device = models.ForeignKey("devices.Device", on_delete=models.CASCADE,
                               related_name="sightings")
    at = models.DateTimeField(auto_now_add=True)
    state = models.CharField(max_length=20)
    remote_addr = models.CharField(max_length=64, blank=True, default="")
    hostname = models.CharField(max_length=255, blank=True, default="")
    users = models.JSONField(default=list, blank=True)
    addresses = models.JSONField(default=list, blank=True)

    class Meta:
        indexes = [models.Index(fields=["device", "-at"], name="sighting_device_time")]


class Movement(models.Model):
    """The receipt-and-removal log (164.310(d)(2)(iii), accountability): hardware and
    media coming in and leaving."""

    DIRECTIONS = [("in", "Received"), ("out", "Removed")]
    direction = models.CharField(max_length=3, choices=DIRECTIONS)
    device = models.ForeignKey("devices.Device", null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="movements")
    medium = models.ForeignKey(Medium, null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="movements")
    description = models.CharField(max_length=300)  # "Dell Latitude 7440, serial ABC"
    serial = models.CharField(max_length=200, blank=True, default="")
    from_party = models.CharField(max_length=200, blank=True, default="")
    to_party = models.CharField(max_length=200, blank=True, default="")
    reason = models.TextField(blank=True, default="")
    reference = models.CharField(max_length=200, blank=True, default="")  # manifest, certificate
    at = models.DateTimeField()
    recorded_by = models.CharField(max_length=150)

    class Meta:
        indexes = [
            # the log, newest first, and "everything that left in period P".
            models.Index(fields=["-at"], name="movement_time"),
            models.Index(fields=["direction", "-at"], name="movement_dir_time"),
            models.Index(fields=["serial"], name="movement_serial"),
        ]


class ApiKey(models.Model):
    """A token for IT automation of the lifecycle API, tied to a console user; only its
    hash is kept."""

    user = models.ForeignKey("auth.User", on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
