"""The four routes of our API, at the same paths, so that the same wrk
scripts and driver code work against both."""

from django.urls import path, re_path

from users import views

urlpatterns = [
    re_path(r"^user/mobile/(?P<mobile>1[3-9]\d{9})/$", views.MobileView.as_view()),
    path("user/sms/", views.SmsView.as_view()),
    path("user/register/", views.RegisterView.as_view()),
    path("user/login/", views.LoginView.as_view()),
]
