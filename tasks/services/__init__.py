"""Every change to a task goes through here, for every caller: API, admin, importer, jobs.

Each service opens a transaction, locks the task row if the actor can see it (else 404),
checks the actor's right (``tasks.rules``), checks the state machine, changes the row, and
appends the history. The modules: ``common`` (the locked row, the history row, shared
checks), ``lifecycle`` (transitions), ``editing`` (create, update), ``decompose``,
``progress`` (reports, figures, steps), ``extensions``, ``imported`` (the importer's bulk
writer).
"""

from .common import due_date_bounds
from .decompose import ChildSpec, task_decompose
from .editing import IndicatorSpec, StepSpec, task_create, task_update
from .extensions import extension_decide, extension_request_create
from .imported import SYNCED_FIELDS, SpecChange, TaskSpec, tasks_sync_imported
from .lifecycle import task_available_transitions, task_transition
from .progress import indicator_record_values, procedure_step_complete, progress_report_create

__all__ = [
    "SYNCED_FIELDS",
    "ChildSpec",
    "IndicatorSpec",
    "SpecChange",
    "StepSpec",
    "TaskSpec",
    "due_date_bounds",
    "extension_decide",
    "extension_request_create",
    "indicator_record_values",
    "procedure_step_complete",
    "progress_report_create",
    "task_available_transitions",
    "task_create",
    "task_decompose",
    "task_transition",
    "task_update",
    "tasks_sync_imported",
]
