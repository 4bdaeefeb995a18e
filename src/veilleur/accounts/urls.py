from django.urls import path

from veilleur.accounts import views

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
]
