"""The alert settings pages, included under ``alerts/`` by the top-level URL map."""

from django.urls import path

from veilleur.crisis import alert_views

urlpatterns = [
    path("", alert_views.alert_settings, name="alerts"),
    path("destinations/new/", alert_views.destination_edit, name="alert_destination_new"),
    path("destinations/<int:pk>/", alert_views.destination_detail, name="alert_destination"),
    path("destinations/<int:pk>/edit/", alert_views.destination_edit,
         name="alert_destination_edit"),
    path("destinations/<int:pk>/enabled/", alert_views.destination_enable,
         name="alert_destination_enabled"),
    path("destinations/<int:pk>/test/", alert_views.destination_test,
         name="alert_destination_test"),
    path("destinations/<int:pk>/delete/", alert_views.destination_delete,
         name="alert_destination_delete"),
    path("rules/new/", alert_views.rule_edit, name="alert_rule_new"),
    path("rules/<int:pk>/edit/", alert_views.rule_edit, name="alert_rule_edit"),
    path("rules/<int:pk>/delete/", alert_views.rule_delete, name="alert_rule_delete"),
]
