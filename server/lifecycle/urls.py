from __future__ import annotations

from django.urls import path

from server.lifecycle import views

app_name = "lifecycle"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("devices/<uuid:device_id>/", views.device, name="device"),
    path("devices/<uuid:pk>/change", views.change, {"kind": "device"}, name="device_change"),
    path("devices/<uuid:pk>/sanitize", views.sanitize, {"kind": "device"},
         name="device_sanitize"),
    path("media/<int:pk>/change", views.change, {"kind": "medium"}, name="medium_change"),
    path("media/<int:pk>/sanitize", views.sanitize, {"kind": "medium"},
         name="medium_sanitize"),
    path("sanitization/<int:pk>/", views.certificate, name="certificate"),
    path("incidents/<int:pk>/", views.incident, name="incident"),
    path("media/", views.media, name="media"),
    path("media/<int:pk>/", views.medium, name="medium"),
    path("custody/", views.custody, name="custody"),
    path("custody/add", views.custody_add, name="custody_add"),
]
