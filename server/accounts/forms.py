from __future__ import annotations

from django import forms


class LoginForm(forms.Form):
    username = forms.CharField(max_length=150)
    password = forms.CharField(widget=forms.PasswordInput, max_length=4096)


class TotpForm(forms.Form):
    code = forms.CharField(
        max_length=12,
        label="Authenticator code",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )
