"""Every transition of a task is declared once, on its method (``tasks.transitions``), and
the rules, the services, the API and the history's event choices all follow the declaration."""

import inspect

import pytest
from django.core.exceptions import ImproperlyConfigured
from django_fsm import transition

from tasks import rules
from tasks.models import TRANSITIONS, EventAction, Task, TaskEvent
from tasks.services.lifecycle import AFTER, ARGUMENTS, GUARDS
from tasks.transitions import Side, declared

# What the API and the stored history have always called them: changing one is an API
# change or a data migration, not a refactoring.
NAMES_AND_EVENTS = {
    "assign": ("assign", "assigned"),
    "accept": ("accept", "accepted"),
    "submit": ("submit", "submitted"),
    "close": ("close", "closed"),
    "return": ("send_back", "returned"),
    "suspend": ("suspend", "suspended"),
    "resume": ("resume", "resumed"),
    "cancel": ("cancel", "cancelled"),
    "reopen": ("reopen", "reopened"),
    "return_to_issuer": ("return_to_issuer", "returned_to_issuer"),
}


def fsm_methods(model: type) -> dict[str, object]:
    """The ``@transition`` methods a class defines, by name."""
    return {name: attr for name, attr in vars(model).items() if hasattr(attr, "_django_fsm")}


def declaration_problems(model: type, registry: dict) -> list[str]:
    """Why ``model``'s transitions and ``registry`` do not describe each other completely."""
    methods = fsm_methods(model)
    problems = [f"{name} is not declared" for name in methods.keys() - {d.method for d in registry.values()}]
    for name, declaration in registry.items():
        if declaration.name != name:
            problems.append(f"{name} is registered as {declaration.name}")
        if declaration.method not in methods:
            problems.append(f"{name}: {declaration.method} is no @transition method")
        if not isinstance(declaration.side, Side):
            problems.append(f"{name}: no side may perform it")
        if not (declaration.event and declaration.event.isidentifier() and declaration.event.islower()):
            problems.append(f"{name}: no history event")
        if not str(declaration.label).strip():
            problems.append(f"{name}: the event has no label")
    events = [declaration.event for declaration in registry.values()]
    problems += [
        f"event {event} is recorded by two transitions" for event in set(events) if events.count(event) > 1
    ]
    return problems


def test_every_transition_method_of_a_task_is_declared_completely():
    assert declaration_problems(Task, TRANSITIONS) == []


def test_the_check_finds_an_undeclared_method_and_an_incomplete_declaration():
    class Sketch:
        @transition(field="state", source="a", target="b")
        def undeclared(self) -> None:
            pass

        @transition(field="state", source="b", target="c")
        def send_back(self) -> None:
            pass

    registry = {"return": TRANSITIONS["return"], "close": TRANSITIONS["close"]}
    assert declaration_problems(Sketch, registry) == [
        "undeclared is not declared",
        "close: close is no @transition method",
    ]


def test_names_methods_and_stored_events_are_those_the_api_and_the_history_use():
    assert {name: (d.method, d.event) for name, d in TRANSITIONS.items()} == NAMES_AND_EVENTS
    assert list(TRANSITIONS) == list(NAMES_AND_EVENTS)


def test_each_transition_records_an_event_of_the_history_choices():
    choices = dict(TaskEvent._meta.get_field("action").choices)
    for declaration in TRANSITIONS.values():
        member = getattr(EventAction, declaration.event_member)
        assert (member.value, member.label) == (declaration.event, declaration.label)
        assert choices[declaration.event] == declaration.label


def test_the_rules_know_each_transition_by_its_declared_side():
    for name, declaration in TRANSITIONS.items():
        assert rules.ACTIONS[name] == declaration.side


def test_what_the_services_add_belongs_to_declared_transitions():
    assert set(GUARDS) <= set(TRANSITIONS)
    assert set(ARGUMENTS) <= set(TRANSITIONS)
    assert set(AFTER) <= set(TRANSITIONS)


@pytest.mark.parametrize("name", list(TRANSITIONS))
def test_a_method_that_needs_arguments_is_given_them(name):
    method = getattr(Task, TRANSITIONS[name].method)
    required = [
        parameter
        for parameter in inspect.signature(method).parameters.values()
        if parameter.kind == parameter.KEYWORD_ONLY and parameter.default is parameter.empty
    ]
    assert bool(required) == (name in ARGUMENTS)


def test_a_name_or_event_is_declared_once():
    def again(self) -> None:
        pass

    with pytest.raises(ImproperlyConfigured):
        declared("close", side=Side.ISSUER, event="closed_again", label="再次销号")(again)
    with pytest.raises(ImproperlyConfigured):
        declared("close_again", side=Side.ISSUER, event="closed", label="再次销号")(again)
    assert "close_again" not in TRANSITIONS
