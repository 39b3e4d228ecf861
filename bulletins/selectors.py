from django.db.models import Q, QuerySet

from core.errors import NotFound
from responsibility.models import Role, User
from responsibility.selectors import access_for_user

from .models import Bulletin, BulletinState


def bulletin_list_for_user(user: User) -> QuerySet[Bulletin]:
    """Published and withdrawn bulletins for every signed-in user; drafts only for the
    issuer's heads and supervisors."""
    access = access_for_user(user)
    drafts_of = [unit_id for unit_id, roles in access.roles.items() if roles & {Role.HEAD, Role.SUPERVISOR}]
    condition = Q() if access.is_admin else ~Q(state=BulletinState.DRAFT) | Q(issuer_id__in=drafts_of)
    return (
        Bulletin.objects.filter(condition)
        .select_related("issuer", "campaign", "created_by", "published_by")
        .prefetch_related("main_recipients", "copy_to")
    )


def bulletin_get_for_user(user: User, pk) -> Bulletin:
    try:
        return bulletin_list_for_user(user).get(pk=pk)
    except (Bulletin.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None
