"""Changing the ladder: who may, what a ladder must be, and the history of every change.

The default ladder (rules without a campaign) is the administrators'. A campaign's ladder
is the supervision office's of the level that issued the campaign, exactly that level: a
county office does not set the pace of the city's campaigns, and the city's office does
not reach into a county's own campaigns either; the city sets its pace through the
campaigns it issues. The heads of the level do not edit it: the ladder chases the issuing
unit and its head from the overdue rung on, and the chased do not set the pace.
"""

from django.db import IntegrityError, transaction
from django.forms.models import model_to_dict
from django.utils.translation import gettext_lazy as _

from core.errors import Forbidden, InvalidInput
from responsibility.jurisdiction import level_path
from responsibility.models import User
from responsibility.selectors import access_for_user
from tasks.models import Campaign

from ..ladder import AUDIENCE_FLAGS, CHANNEL_FLAGS, ladder_errors
from ..models import EscalationRule, LadderChange

RULE_FIELDS = ("campaign", "level", "offset_working_days", *AUDIENCE_FLAGS, *CHANNEL_FLAGS)


def ladder_editable_by(user: User, campaign: Campaign | None) -> bool:
    access = access_for_user(user)
    if access.is_admin:
        return True
    return campaign is not None and level_path(campaign.issuing_unit) in access.supervised_paths


def _ensure_may_edit(actor: User, campaign: Campaign | None) -> None:
    if ladder_editable_by(actor, campaign):
        return
    if campaign is None:
        message = _("默认督办规则只有系统管理员可以修改。")
    else:
        message = _("只有下达“%(campaign)s”的本级督查室可以修改它的督办规则。") % {"campaign": campaign.name}
    raise Forbidden(message, code="not_your_ladder")


def _snapshot(rule: EscalationRule) -> dict:
    return {"id": rule.pk, **model_to_dict(rule, fields=RULE_FIELDS)}


def _lock_ladder(campaign: Campaign | None) -> list[EscalationRule]:
    """The ladder's rules, locked: two changes of one ladder are checked one after the
    other, so that together they cannot leave it out of order."""
    if campaign is not None:
        # A campaign's first rule has no row to lock yet; the campaign row serialises it.
        Campaign.objects.select_for_update().filter(pk=campaign.pk).first()
    rules = (
        EscalationRule.objects.filter(campaign=campaign)
        if campaign
        else EscalationRule.objects.filter(campaign__isnull=True)
    )
    return list(rules.select_for_update().order_by("pk"))


def _validate(rule: EscalationRule, others: list[EscalationRule]) -> None:
    """``rule`` as it would be saved, within the rest of its ladder."""
    if any(other.level == rule.level for other in others):
        message = _("该督办规则中已有这一级别。")
        raise InvalidInput(message, code="level_taken", fields={"level": [message]})
    errors = ladder_errors([*others, rule])
    if errors:
        # The ladder must be whole after every change; the rule changed is named first.
        error = next((error for error in errors if error.rule is rule), errors[0])
        raise InvalidInput(error.message, code=error.code, fields={error.field: [error.message]})


def _saved(rule: EscalationRule) -> EscalationRule:
    try:
        with transaction.atomic():
            rule.save()
    except IntegrityError as error:
        # A concurrent create of the default ladder's level (nothing to lock there).
        message = _("该督办规则中已有这一级别。")
        raise InvalidInput(message, code="level_taken", fields={"level": [message]}) from error
    return rule


def escalation_rule_create(*, actor: User, campaign: Campaign | None = None, **fields) -> EscalationRule:
    """Add a rung to the default ladder or to a campaign's ladder."""
    _ensure_may_edit(actor, campaign)
    with transaction.atomic():
        others = _lock_ladder(campaign)
        rule = EscalationRule(campaign=campaign, **fields)
        _validate(rule, others)
        _saved(rule)
        LadderChange.objects.create(
            actor=actor,
            action=LadderChange.Action.CREATED,
            rule_pk=rule.pk,
            campaign=campaign,
            after=_snapshot(rule),
        )
    return rule


def escalation_rule_update(*, rule_id: int, actor: User, **changes) -> EscalationRule:
    """Change a rung; moving it to another ladder needs the right to both."""
    rule = EscalationRule.objects.select_related("campaign").get(pk=rule_id)
    _ensure_may_edit(actor, rule.campaign)
    campaign = changes.get("campaign", rule.campaign)
    if "campaign" in changes:
        _ensure_may_edit(actor, campaign)
    with transaction.atomic():
        others = [other for other in _lock_ladder(campaign) if other.pk != rule.pk]
        rule = EscalationRule.objects.select_for_update().get(pk=rule.pk)
        before = _snapshot(rule)
        for name, value in changes.items():
            setattr(rule, name, value)
        _validate(rule, others)
        after = _snapshot(rule)
        if after == before:
            return rule
        _saved(rule)
        LadderChange.objects.create(
            actor=actor,
            action=LadderChange.Action.UPDATED,
            rule_pk=rule.pk,
            campaign=campaign,
            before=before,
            after=after,
        )
    return rule


def escalation_rule_delete(*, rule_id: int, actor: User) -> None:
    """Remove a rung. A campaign whose last own rule goes follows the default ladder again."""
    rule = EscalationRule.objects.select_related("campaign").get(pk=rule_id)
    _ensure_may_edit(actor, rule.campaign)
    with transaction.atomic():
        _lock_ladder(rule.campaign)
        rule = EscalationRule.objects.select_for_update().get(pk=rule.pk)
        before = _snapshot(rule)
        rule_pk = rule.pk
        rule.delete()
        LadderChange.objects.create(
            actor=actor,
            action=LadderChange.Action.DELETED,
            rule_pk=rule_pk,
            campaign_id=before["campaign"],
            before=before,
        )
