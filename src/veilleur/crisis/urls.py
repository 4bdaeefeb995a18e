"""The incident pages, under /incidents/: the list, one incident, and its actions."""

from django.urls import path

from veilleur.crisis import views

urlpatterns = [
    path("", views.incident_list, name="incidents"),
    path("<int:pk>/", views.incident_detail, name="incident"),
    path("<int:pk>/state/", views.incident_transition, name="incident_transition"),
    path("<int:pk>/notes/", views.incident_note, name="incident_note"),
    path("<int:pk>/owner/", views.incident_assign, name="incident_assign"),
    path("signals/<int:pk>/false-alarm/", views.signal_false_alarm, name="signal_false_alarm"),
]
