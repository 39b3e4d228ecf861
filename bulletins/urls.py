from django.urls import path

from . import apis, notice_apis

urlpatterns = [
    path("bulletins/", apis.BulletinListApi.as_view(), name="bulletin-list"),
    path("bulletins/<int:pk>/", apis.BulletinDetailApi.as_view(), name="bulletin-detail"),
    path("bulletins/<int:pk>/figures/", apis.BulletinFiguresApi.as_view(), name="bulletin-figures"),
    path("bulletins/<int:pk>/publish/", apis.BulletinPublishApi.as_view(), name="bulletin-publish"),
    path("bulletins/<int:pk>/withdraw/", apis.BulletinWithdrawApi.as_view(), name="bulletin-withdraw"),
    path("bulletins/<int:pk>/pdf/", apis.BulletinPdfApi.as_view(), name="bulletin-pdf"),
    path("notices/", notice_apis.NoticeListApi.as_view(), name="notice-list"),
    path("notices/<int:pk>/", notice_apis.NoticeDetailApi.as_view(), name="notice-detail"),
    path("notices/<int:pk>/reply/", notice_apis.NoticeReplyApi.as_view(), name="notice-reply"),
    path("notices/<int:pk>/withdraw/", notice_apis.NoticeWithdrawApi.as_view(), name="notice-withdraw"),
    path("notices/<int:pk>/pdf/", notice_apis.NoticePdfApi.as_view(), name="notice-pdf"),
]
