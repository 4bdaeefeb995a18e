"""The sentiment pages: corrections from the mentions list, and the model page."""

from django.urls import path

from veilleur.sentiment import views

urlpatterns = [
    path("mentions/<int:pk>/sentiment/", views.mention_sentiment, name="mention_sentiment"),
    path("sentiment/", views.sentiment_model, name="sentiment_model"),
    path("sentiment/train/", views.sentiment_train, name="sentiment_train"),
    path("sentiment/heads/<int:version>/activate/", views.sentiment_activate,
         name="sentiment_activate"),
    path("sentiment/shipped/", views.sentiment_use_shipped, name="sentiment_use_shipped"),
]
