"""The monitoring pages: mentions (the home page), sources and watches."""

from django.urls import path

from veilleur.monitoring import source_views, views, watch_views

urlpatterns = [
    path("", views.mention_list, name="mentions"),
    path("sources/", views.source_list, name="sources"),
    path("sources/add/", source_views.source_add_pick, name="source_add_pick"),
    path("sources/add/<slug:kind>/", source_views.source_add, name="source_add"),
    path("sources/add/<slug:kind>/test/", source_views.source_add_test, name="source_add_test"),
    path("sources/<int:pk>/", source_views.source_detail, name="source_detail"),
    path("sources/<int:pk>/edit/", source_views.source_edit, name="source_edit"),
    path("sources/<int:pk>/test/", source_views.source_test, name="source_test"),
    path("sources/<int:pk>/poll/", source_views.source_poll_now, name="source_poll_now"),
    path("sources/<int:pk>/secret/", source_views.source_new_secret, name="source_new_secret"),
    path("sources/<int:pk>/enabled/", views.source_enabled, name="source_enabled"),
    path("watches/", views.watch_list, name="watches"),
    path("watches/new/", watch_views.watch_edit, name="watch_new"),
    path("watches/<int:pk>/edit/", watch_views.watch_edit, name="watch_edit"),
    path("watches/check/", watch_views.watch_check, name="watch_check"),
    path("stories/<int:pk>/members/", views.story_members, name="story_members"),
]
