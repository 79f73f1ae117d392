"""Rendering helpers shared by console views: the nav context and bad-input pages."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from server.accounts.context import nav
from server.console.errors import BadInput


def page(request: HttpRequest, template: str, context: dict[str, Any],
         status: int = 200) -> HttpResponse:
    return render(request, template, {**nav(request), **context}, status=status)


def bad_input(request: HttpRequest, error: BadInput) -> HttpResponse:
    return page(request, "console/bad_input.html", {"error": error}, status=400)
