"""Every change to a task goes through here, for every caller: API, admin, importer, jobs.

Each service opens a transaction, locks the task row if the actor can see it (else 404),
checks the actor's right (``tasks.rules``), checks the state machine, changes the row, and
appends the history. The modules: ``common`` (the locked row, the history row, shared
checks), ``lifecycle`` (transitions), ``editing`` (create, update), ``decompose``,
``progress`` (reports, figures, steps), ``extensions``, ``recheck`` (回头看), ``sources``
(where work comes from), ``transfers`` (转办). An imported table's tasks are
written in bulk by ``imports.writer`` under the same rules (``ensure_within_campaign``).
"""

from .common import due_date_bounds, ensure_within_campaign
from .decompose import ChildSpec, task_decompose
from .editing import IndicatorSpec, StepSpec, steps_plan_backwards, task_create, task_update
from .extensions import extension_decide, extension_request_create
from .lifecycle import task_available_transitions, task_transition
from .progress import indicator_record_values, procedure_step_complete, progress_report_create
from .recheck import task_recheck_record
from .schedules import report_schedule_remove, report_schedule_set
from .sources import source_create, source_delete, source_update, sources_for_texts
from .transfers import transfer_decide, transfer_request_create, transfer_withdraw, transfers_supersede

__all__ = [
    "ChildSpec",
    "IndicatorSpec",
    "StepSpec",
    "due_date_bounds",
    "ensure_within_campaign",
    "extension_decide",
    "extension_request_create",
    "indicator_record_values",
    "procedure_step_complete",
    "progress_report_create",
    "report_schedule_remove",
    "report_schedule_set",
    "source_create",
    "source_delete",
    "source_update",
    "sources_for_texts",
    "steps_plan_backwards",
    "task_available_transitions",
    "task_create",
    "task_decompose",
    "task_recheck_record",
    "task_transition",
    "task_update",
    "transfer_decide",
    "transfer_request_create",
    "transfer_withdraw",
    "transfers_supersede",
]
