"""Reads of the responsibility tree, and what a user's memberships let them reach."""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from django.db.models import BooleanField, Exists, ExpressionWrapper, OuterRef, Q, QuerySet, Value

from core.db import CompiledRows

from .models import PATH_SEPARATOR, Membership, Role, Unit, User, ancestor_paths, subtree_q


def parent_path(path: str) -> str:
    segments = path.split(PATH_SEPARATOR)[:-1]
    return PATH_SEPARATOR.join(segments[:-1]) + PATH_SEPARATOR if len(segments) > 1 else path


@dataclass(frozen=True)
class Access:
    """What one user's memberships reach, loaded in one query and reused for a request."""

    user_id: int | None
    is_admin: bool = False
    # unit id -> roles held there
    roles: dict[int, frozenset[str]] = field(default_factory=dict)
    # Roots of the subtrees whose tasks the user sees.
    visible_paths: tuple[str, ...] = ()
    # Roots of the subtrees the user supervises (supervision office: its level).
    supervised_paths: tuple[str, ...] = ()

    def has_role(self, unit_id: int | None, *roles: str) -> bool:
        return unit_id is not None and bool(self.roles.get(unit_id, frozenset()) & set(roles))

    def is_member_of_any(self, unit_ids) -> bool:
        return any(self.has_role(unit_id, Role.MEMBER, Role.HEAD) for unit_id in unit_ids)

    def is_head_of(self, unit_id: int | None) -> bool:
        return self.has_role(unit_id, Role.HEAD)

    def supervises(self, unit: Unit) -> bool:
        return any(unit.path.startswith(path) for path in self.supervised_paths)


# Each user's Access, loaded at most once within an ``access_scope`` (a request, a job);
# None outside any scope, where every call reads the memberships afresh.
_scope: ContextVar[dict[int, Access] | None] = ContextVar("access_scope", default=None)


@contextmanager
def access_scope() -> Iterator[None]:
    """Reuse what each user's memberships reach until the block ends.

    One request is the scope (``responsibility.middleware.AccessScopeMiddleware``): the
    selector and the service it calls read the memberships once between them, and the
    next request sees any change. Nothing outlives the block, so a revoked membership
    stops acting with the request that follows. A scope inside a scope is the outer one."""
    if _scope.get() is not None:
        yield
        return
    token = _scope.set({})
    try:
        yield
    finally:
        _scope.reset(token)


def access_forget() -> None:
    """Drop what the current scope has loaded: memberships or the tree just changed."""
    cache = _scope.get()
    if cache is not None:
        cache.clear()


# Read by every request that acts on anything: compiled once (bench/FIXES.md).
_MEMBERSHIPS = CompiledRows(
    lambda user_ids: Membership.objects.filter(user_id__in=user_ids).values(
        "unit_id", "unit__path", "unit__kind", "role"
    )
)


def access_for_user(user: User) -> Access:
    if not user.is_authenticated:
        return Access(user_id=None)
    cache = _scope.get()
    if cache is not None and user.pk in cache:
        return cache[user.pk]
    roles: dict[int, set[str]] = {}
    visible: set[str] = set()
    supervised: set[str] = set()
    for row in _MEMBERSHIPS.rows((), "%s", [user.pk]):
        unit_id, path, kind, role = row["unit_id"], row["unit__path"], row["unit__kind"], row["role"]
        roles.setdefault(unit_id, set()).add(role)
        if role in (Role.MEMBER, Role.HEAD):
            visible.add(path)
        elif role == Role.SUPERVISOR:
            level_path = path if kind != "supervision_office" else parent_path(path)
            visible.add(level_path)
            supervised.add(level_path)
    access = Access(
        user_id=user.pk,
        is_admin=user.is_superuser,
        roles={unit_id: frozenset(r) for unit_id, r in roles.items()},
        visible_paths=tuple(sorted(visible)),
        supervised_paths=tuple(sorted(supervised)),
    )
    if cache is not None:
        cache[user.pk] = access
    return access


def unit_subtree_ids(paths: list[str] | tuple[str, ...]) -> QuerySet:
    """A subquery of the ids of every unit under the given roots."""
    return Unit.objects.filter(subtree_q(list(paths))).values("pk")


def is_directory_admin(user: User) -> bool:
    """Administrators keep the directories (``core.apis.IsAdminOrReadOnly``) and see all of them."""
    return user.is_authenticated and (user.is_staff or user.is_superuser)


def reach_q(access: Access, field: str = "path") -> Q:
    """Units within a person's reach in the directory: inside one of the subtrees they see,
    or above one of them (the chain of units their work answers to)."""
    ancestors = sorted({path for root in access.visible_paths for path in ancestor_paths(root)})
    return subtree_q(list(access.visible_paths), field) | Q(**{f"{field}__in": ancestors})


def _contact_visible(user: User, access: Access) -> Q:
    """Whose e-mail and phone the user reads: their own, their colleagues' (anyone with a
    membership in a unit they belong to), and, for a supervision office, everyone with a
    membership in a unit it supervises."""
    condition = Q(pk=user.pk)
    units = Q(unit_id__in=sorted(access.roles)) if access.roles else Q(pk__in=[])
    if access.supervised_paths:
        units |= subtree_q(list(access.supervised_paths), "unit__path")
    if access.roles or access.supervised_paths:
        condition |= Q(Exists(Membership.objects.filter(units, user=OuterRef("pk"))))
    return condition


def person_list_for_user(user: User) -> QuerySet[User]:
    """The people directory as the user may read it, each annotated with
    ``contact_visible`` (whether their e-mail and phone may be shown), so a page of any
    length costs the same queries.

    Listed: the user, and people with a membership in a unit within the user's reach
    (``reach_q``); a leader without such a membership is not listed."""
    people = User.objects.order_by("pk")
    if is_directory_admin(user):
        return people.annotate(contact_visible=Value(True))
    access = access_for_user(user)
    in_reach = Membership.objects.filter(reach_q(access, "unit__path"), user=OuterRef("pk"))
    return people.filter(Q(pk=user.pk) | Q(Exists(in_reach))).annotate(
        contact_visible=ExpressionWrapper(_contact_visible(user, access), output_field=BooleanField())
    )


def may_see_contact(user: User, person: User) -> bool:
    """For one person read without the annotation (just created, say)."""
    visible = getattr(person, "contact_visible", None)
    if visible is not None:
        return bool(visible)
    if is_directory_admin(user):
        return True
    return person_list_for_user(user).filter(pk=person.pk, contact_visible=True).exists()


def membership_list_for_user(user: User) -> QuerySet[Membership]:
    """Memberships in units within the user's reach (``reach_q``), and the user's own."""
    memberships = Membership.objects.select_related("user", "unit").order_by("pk")
    if is_directory_admin(user):
        return memberships
    access = access_for_user(user)
    return memberships.filter(reach_q(access, "unit__path") | Q(user=user))
