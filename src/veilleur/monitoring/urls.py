"""The monitoring pages: mentions (the home page), sources and watches."""

from django.urls import path

from veilleur.monitoring import views, watch_views

urlpatterns = [
    path("", views.mention_list, name="mentions"),
    path("sources/", views.source_list, name="sources"),
    path("sources/<int:pk>/enabled/", views.source_enabled, name="source_enabled"),
    path("watches/", views.watch_list, name="watches"),
    path("watches/new/", watch_views.watch_edit, name="watch_new"),
    path("watches/<int:pk>/edit/", watch_views.watch_edit, name="watch_edit"),
    path("watches/check/", watch_views.watch_check, name="watch_check"),
    path("stories/<int:pk>/members/", views.story_members, name="story_members"),
]
