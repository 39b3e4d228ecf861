"""The state machines on their own: transitions change only the row's fields, nothing is saved."""

import datetime
from decimal import Decimal

import pytest
from django_fsm import InvalidResultState, TransitionNotAllowed, can_proceed

from tasks.models import (
    Comparison,
    ExtensionRequest,
    ExtensionState,
    Indicator,
    Task,
    TaskKind,
    TaskState,
)

DUE = datetime.date(2018, 11, 30)


def task(state: str = TaskState.DRAFT, kind: str = TaskKind.TASK, **fields) -> Task:
    return Task(title="危房改造", kind=kind, state=state, due_date=DUE, original_due_date=DUE, **fields)


def test_a_new_task_is_a_draft():
    assert Task(title="危房改造").state == TaskState.DRAFT


def test_the_state_field_cannot_be_assigned_directly():
    row = task()
    with pytest.raises(AttributeError):
        row.state = TaskState.CLOSED
    assert row.state == TaskState.DRAFT


def test_the_extension_state_cannot_be_assigned_directly():
    extension = ExtensionRequest(requested_due_date=DUE, reason="汛期停工")
    with pytest.raises(AttributeError):
        extension.state = ExtensionState.APPROVED
    assert extension.state == ExtensionState.PENDING


def test_assign_accept_submit_close_keep_their_timestamps():
    row = task()
    row.assign()
    assert (row.state, row.assigned_at is not None) == (TaskState.ASSIGNED, True)
    row.accept()
    assert row.state == TaskState.IN_PROGRESS
    row.submit()
    assert row.state == TaskState.SUBMITTED
    assert row.submitted_at is not None
    row.close()
    assert row.state == TaskState.CLOSED
    assert row.closed_at is not None


def test_sending_back_clears_the_submission():
    row = task(TaskState.IN_PROGRESS)
    row.submit()
    row.send_back()
    assert row.state == TaskState.IN_PROGRESS
    assert row.submitted_at is None


@pytest.mark.parametrize(
    ("state", "method"),
    [
        (TaskState.DRAFT, "accept"),
        (TaskState.DRAFT, "submit"),
        (TaskState.ASSIGNED, "submit"),
        (TaskState.ASSIGNED, "close"),
        (TaskState.IN_PROGRESS, "close"),
        (TaskState.IN_PROGRESS, "assign"),
        (TaskState.CLOSED, "cancel"),
        (TaskState.CANCELLED, "assign"),
        (TaskState.SUBMITTED, "accept"),
    ],
)
def test_transitions_from_the_wrong_state_are_refused(state, method):
    row = task(state)
    assert not can_proceed(getattr(row, method))
    with pytest.raises(TransitionNotAllowed):
        getattr(row, method)()
    assert row.state == state


@pytest.mark.parametrize(
    "state",
    [TaskState.DRAFT, TaskState.ASSIGNED, TaskState.IN_PROGRESS, TaskState.SUBMITTED, TaskState.SUSPENDED],
)
def test_any_unfinished_task_can_be_cancelled(state):
    row = task(state)
    row.cancel()
    assert row.state == TaskState.CANCELLED


def test_only_a_rectification_item_can_be_reopened():
    ordinary = task(TaskState.CLOSED)
    assert not can_proceed(ordinary.reopen)
    with pytest.raises(TransitionNotAllowed):
        ordinary.reopen()

    item = task(
        TaskState.CLOSED,
        kind=TaskKind.RECTIFICATION,
        closed_at=datetime.datetime(2018, 11, 20, tzinfo=datetime.UTC),
        submitted_at=datetime.datetime(2018, 11, 19, tzinfo=datetime.UTC),
    )
    assert can_proceed(item.reopen)
    item.reopen()
    assert item.state == TaskState.IN_PROGRESS
    assert item.reopen_count == 1
    assert (item.closed_at, item.submitted_at) == (None, None)


def test_a_rectification_item_that_is_not_closed_cannot_be_reopened():
    item = task(TaskState.SUBMITTED, kind=TaskKind.RECTIFICATION)
    assert not can_proceed(item.reopen)


@pytest.mark.parametrize("state", [TaskState.ASSIGNED, TaskState.IN_PROGRESS])
def test_resume_returns_to_the_state_before_suspension(state):
    row = task(state)
    row.suspend(today=datetime.date(2018, 9, 28))
    assert row.state == TaskState.SUSPENDED
    assert row.state_before_suspension == state
    assert row.suspended_on == datetime.date(2018, 9, 28)

    row.resume(new_due_date=datetime.date(2018, 12, 6))
    assert row.state == state
    assert row.due_date == datetime.date(2018, 12, 6)
    assert row.state_before_suspension == ""
    assert row.suspended_on is None


@pytest.mark.parametrize("state", [TaskState.DRAFT, TaskState.SUBMITTED, TaskState.CLOSED])
def test_only_assigned_or_running_tasks_can_be_suspended(state):
    assert not can_proceed(task(state).suspend)


def test_resume_refuses_a_state_it_should_not_return_to():
    row = task(TaskState.SUSPENDED, state_before_suspension=TaskState.CLOSED)
    with pytest.raises(InvalidResultState):
        row.resume(new_due_date=DUE)
    assert row.state == TaskState.SUSPENDED


def test_extension_approval_and_rejection_record_the_decision():
    approved = ExtensionRequest(requested_due_date=DUE, reason="汛期停工")
    approved.approve(by=None, comment="同意")
    assert approved.state == ExtensionState.APPROVED
    assert approved.decided_at is not None
    assert approved.decision_comment == "同意"
    with pytest.raises(TransitionNotAllowed):
        approved.reject(by=None, comment="不同意")

    rejected = ExtensionRequest(requested_due_date=DUE, reason="汛期停工")
    rejected.reject(by=None, comment="理由不充分")
    assert rejected.state == ExtensionState.REJECTED
    assert not can_proceed(rejected.approve)


@pytest.mark.parametrize(
    ("comparison", "target", "value", "met"),
    [
        # 住房安全有保障 ≥ 98%
        (Comparison.AT_LEAST, "98", "97.9", False),
        (Comparison.AT_LEAST, "98", "98", True),
        (Comparison.AT_LEAST, "1888", "1888", True),
        # 贫困发生率 ≤ 2%
        (Comparison.AT_MOST, "2", "1.5", True),
        (Comparison.AT_MOST, "2", "2", True),
        (Comparison.AT_MOST, "2", "2.01", False),
    ],
)
def test_indicator_is_met_in_the_direction_of_its_comparison(comparison, target, value, met):
    indicator = Indicator(
        name="贫困发生率",
        comparison=comparison,
        target=Decimal(target),
        current_value=Decimal(value),
        veto=True,
    )
    assert indicator.is_met is met
