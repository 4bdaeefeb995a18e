"""Login, logout and the header's switchers."""

from django.urls import path

from veilleur.accounts import views

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("workspace/", views.switch_workspace, name="switch_workspace"),
    path("language/", views.set_language, name="language"),
]
