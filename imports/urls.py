from django.urls import path

from . import apis

urlpatterns = [
    path("campaigns/<int:pk>/import/", apis.CampaignImportApi.as_view(), name="campaign-import"),
    path("campaigns/<int:pk>/export.xlsx", apis.CampaignExportApi.as_view(), name="campaign-export"),
]
