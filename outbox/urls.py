from django.urls import path

from . import apis

urlpatterns = [
    path("robots/", apis.RobotListApi.as_view(), name="robot-list"),
    path("robots/<int:pk>/", apis.RobotDetailApi.as_view(), name="robot-detail"),
    path("people/<int:pk>/contact/", apis.ContactApi.as_view(), name="person-contact"),
]
