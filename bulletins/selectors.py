from django.db.models import Q, QuerySet

from core.errors import NotFound
from responsibility.jurisdiction import GOVERNMENT_LEVELS
from responsibility.models import GEOGRAPHIC_KINDS, Role, UnitKind, User, ancestor_paths, subtree_q
from responsibility.selectors import access_for_user

from .models import Bulletin, BulletinState


def _readers_q(access) -> Q:
    """Published and withdrawn bulletins reach the issuer's level and everything below and
    above it (a county's bulletin is read in its townships and in the city), and the units
    it was sent or copied to; not a sibling county."""
    paths = access.visible_paths
    above = {ancestor for path in paths for ancestor in [*ancestor_paths(path), path]}
    attached = ~Q(issuer__kind__in=GEOGRAPHIC_KINDS)
    units = list(access.roles)
    return (
        subtree_q(list(paths), "issuer__path")
        | Q(issuer__path__in=above)
        | (attached & Q(issuer__parent__path__in=above))
        | Q(main_recipients__in=units)
        | Q(copy_to__in=units)
    )


def _drafts_q(access) -> Q:
    """Drafts only for those who may edit them (``jurisdiction.may_publish_bulletins``)."""
    offices = [unit_id for unit_id, roles in access.roles.items() if roles & {Role.HEAD, Role.SUPERVISOR}]
    heads = [unit_id for unit_id, roles in access.roles.items() if Role.HEAD in roles]
    return Q(issuer_id__in=offices, issuer__kind=UnitKind.SUPERVISION_OFFICE) | Q(
        issuer_id__in=heads, issuer__kind__in=GOVERNMENT_LEVELS
    )


def bulletin_list_for_user(user: User) -> QuerySet[Bulletin]:
    """Published and withdrawn bulletins for the levels they concern and their recipients;
    drafts only for the offices and heads who may edit them."""
    access = access_for_user(user)
    bulletins = Bulletin.objects.all()
    if not access.is_admin:
        readable = bulletins.filter(~Q(state=BulletinState.DRAFT) & _readers_q(access)).values("pk")
        bulletins = bulletins.filter(Q(pk__in=readable) | (Q(state=BulletinState.DRAFT) & _drafts_q(access)))
    return bulletins.select_related("issuer", "campaign", "created_by", "published_by").prefetch_related(
        "main_recipients", "copy_to"
    )


def bulletin_get_for_user(user: User, pk) -> Bulletin:
    try:
        return bulletin_list_for_user(user).get(pk=pk)
    except (Bulletin.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None
