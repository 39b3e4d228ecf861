from django.urls import path

from . import apis
from .directory import apis as directory_apis
from .problems import apis as problem_apis

urlpatterns = [
    path("campaigns/<int:pk>/import/", apis.CampaignImportApi.as_view(), name="campaign-import"),
    path(
        "campaigns/<int:pk>/problems/import/",
        problem_apis.CampaignProblemImportApi.as_view(),
        name="campaign-problem-import",
    ),
    path("campaigns/<int:pk>/export.xlsx", apis.CampaignExportApi.as_view(), name="campaign-export"),
    path("directory/import/", directory_apis.DirectoryImportApi.as_view(), name="directory-import"),
    path("directory/export.xlsx", directory_apis.DirectoryExportApi.as_view(), name="directory-export"),
]
