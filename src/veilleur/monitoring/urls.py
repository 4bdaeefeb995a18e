"""The monitoring pages: mentions (the home page), sources and watches."""

from django.urls import path

from veilleur.monitoring import views

urlpatterns = [
    path("", views.mention_list, name="mentions"),
    path("sources/", views.source_list, name="sources"),
    path("sources/<int:pk>/enabled/", views.source_enabled, name="source_enabled"),
    path("watches/", views.watch_list, name="watches"),
]
