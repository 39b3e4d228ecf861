"""The free-text sources rectification items carried in their description ("问题来源：抽查暗访。")
become source rows of the kind their words name, shared by the items that named the same
text, carried by their pieces; and back again."""

import datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from tasks.models import Task, TaskSource

from .test_migrations import _migrate

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

BEFORE = [("tasks", "0011_obligation_reply_recheck")]
DUE = datetime.date(2018, 11, 30)


def _old_items(apps) -> dict[str, int]:
    Unit = apps.get_model("responsibility", "Unit")
    Campaign = apps.get_model("tasks", "Campaign")
    OldTask = apps.get_model("tasks", "Task")
    county = Unit.objects.create(name="义县", kind="county", path="", depth=0)
    county.path = f"{county.pk}/"
    county.save()
    campaign = Campaign.objects.create(
        name="百日攻坚", issuing_unit=county, starts_on=datetime.date(2018, 9, 1), ends_on=DUE
    )

    def task(title, description, parent=None):
        return OldTask.objects.create(
            campaign=campaign,
            parent_id=parent,
            title=title,
            description=description,
            kind="rectification",
            issuing_unit=county,
            lead_unit=county,
            due_date=DUE,
            original_due_date=DUE,
            state="in_progress",
        ).pk

    files = task("档案填写不完整", "问题来源：脱贫质量“回头看”。县（市）党委、政府主要负责同志为第一责任人。")
    walls = task("信息上墙不到位", "问题来源：脱贫质量“回头看”。")
    houses = task("危房改造偷工减料", "问题来源：抽查暗访。逐户复核。")
    piece = task("七里河镇危房复核", "逐户复核。", parent=houses)
    plain = task("村部环境整治", "建立长效保洁机制。")
    return {"files": files, "walls": walls, "houses": houses, "piece": piece, "plain": plain}


def test_free_text_sources_become_sources_and_come_back():
    leaves = MigrationExecutor(connection).loader.graph.leaf_nodes()
    try:
        ids = _old_items(_migrate(BEFORE))
        _migrate(leaves)

        tasks = {name: Task.objects.select_related("source").get(pk=pk) for name, pk in ids.items()}
        lookback = tasks["files"].source
        assert (lookback.kind, lookback.title) == ("inspection", "脱贫质量“回头看”")
        assert tasks["walls"].source_id == lookback.pk
        assert tasks["files"].description == "县（市）党委、政府主要负责同志为第一责任人。"
        assert tasks["walls"].description == ""
        assert tasks["houses"].source.title == "抽查暗访"
        assert tasks["piece"].source_id == tasks["houses"].source_id
        assert tasks["plain"].source_id is None and tasks["plain"].description == "建立长效保洁机制。"
        assert TaskSource.objects.count() == 2
        assert lookback.registered_by_id == tasks["files"].issuing_unit_id

        apps = _migrate(BEFORE)
        OldTask = apps.get_model("tasks", "Task")
        assert OldTask.objects.get(pk=ids["houses"]).description == "问题来源：抽查暗访。逐户复核。"
        assert OldTask.objects.get(pk=ids["walls"]).description == "问题来源：脱贫质量“回头看”。"
    finally:
        _migrate(leaves)
