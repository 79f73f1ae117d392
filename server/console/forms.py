"""Forms for violation actions and report dates; each names its field on bad input."""

from __future__ import annotations

from datetime import date, timedelta

from django import forms
from django.utils import timezone

# Longest exception a compliance officer may grant in one go; renewing needs a new,
# written justification (and leaves another audit entry).
EXCEPTION_MAX_DAYS = 90
JUSTIFICATION_MIN = 20


class AssignForm(forms.Form):
    assignee = forms.CharField(max_length=150, required=False,
                               help_text="Username; empty to unassign")


class ExceptionForm(forms.Form):
    until = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), label="Exception ends")
    justification = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), max_length=2000,
        label="Written justification",
    )

    def clean_until(self) -> date:
        until = self.cleaned_data["until"]
        today = timezone.now().date()
        if until <= today:
            raise forms.ValidationError("must be a date after today")
        if until > today + timedelta(days=EXCEPTION_MAX_DAYS):
            raise forms.ValidationError(f"at most {EXCEPTION_MAX_DAYS} days from today")
        return until

    def clean_justification(self) -> str:
        text = " ".join(self.cleaned_data["justification"].split())
        if len(text) < JUSTIFICATION_MIN:
            raise forms.ValidationError(
                f"write at least {JUSTIFICATION_MIN} characters: why, and what limits the risk"
            )
        return text


class ReportForm(forms.Form):
    date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), label="As of")

    def clean_date(self) -> date:
        d = self.cleaned_data["date"]
        if d > timezone.now().date():
            raise forms.ValidationError("cannot report on a future date")
        return d
