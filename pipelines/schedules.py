"""Schedules: register, list and delete scheduled training runs on a stack that can run them.

A schedule is a ZenML ``Schedule`` on the active stack's orchestrator (Airflow turns it into a
DAG with that cron expression, Kubernetes into a CronJob). Each tick is one ``dqn_training``
run that continues the schedule's previous run (``get_information_meta``) and trains
``train.steps_per_run`` further agent steps, so a nightly schedule keeps improving the model.

ZenML keeps the schedule's record; the orchestrator keeps its own copy (the DAG). This module
keeps the two in step: a record left by a failed submission is removed so that a retry is
never blocked, and deleting a schedule removes both the record and the DAG.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from uuid import UUID

    from zenml.models import ComponentResponse, ScheduleResponse, StackResponse


class ScheduleError(ValueError):
    """A schedule request that cannot be carried out; the message is one line for the CLI."""


def default_schedule_name(game: str) -> str:
    """``breakout`` -> ``dqn_breakout_schedule``: the game's model name, scheduled."""
    from envs.registry import model_name

    return f"{model_name(game)}_schedule"


def use_stack(name: str) -> StackResponse:
    """Make stack ``name`` the active stack of this process only (not the user's default).

    Raises:
        ScheduleError: No stack has that name; lists the stacks there are.
    """
    from zenml.client import Client
    from zenml.constants import ENV_ZENML_ACTIVE_STACK_ID

    client = Client()
    try:
        stack = client.get_stack(name, allow_name_prefix_match=False)
    except KeyError:
        names = ", ".join(sorted(s.name for s in client.list_stacks(size=100).items))
        raise ScheduleError(f"--stack {name!r}: no such stack; stacks: {names}") from None
    os.environ[ENV_ZENML_ACTIVE_STACK_ID] = str(stack.id)
    return stack


def _orchestrator(stack: StackResponse) -> ComponentResponse:
    from zenml.enums import StackComponentType

    return stack.components[StackComponentType.ORCHESTRATOR][0]


def _component(component_id: UUID) -> ComponentResponse:
    """A stack component by id (``KeyError`` when it was deleted)."""
    from zenml.client import Client

    return Client().zen_store.get_stack_component(component_id)


def _can_schedule(component: ComponentResponse) -> bool:
    """Whether an orchestrator component's flavor runs ``Schedule``s (its config says)."""
    from zenml.stack.flavor import Flavor

    try:
        flavor = Flavor.from_model(component.flavor)
        config = flavor.config_class(**component.configuration)
        return bool(getattr(config, "is_schedulable", False))
    except Exception:  # an integration that is not installed here cannot be asked
        return False


def check_can_schedule() -> StackResponse:
    """The active stack, if its orchestrator can run schedules.

    Raises:
        ScheduleError: It cannot; names its orchestrator and the stacks that can.
    """
    from zenml.client import Client

    client = Client()
    stack = client.active_stack_model
    orchestrator = _orchestrator(stack)
    if _can_schedule(orchestrator):
        return stack
    able = [
        f"{other.name} ({_orchestrator(other).flavor_name})"
        for other in client.list_stacks(size=100, hydrate=True).items
        if _can_schedule(_orchestrator(other))
    ]
    hint = (
        f"stacks that can: {', '.join(able)}; pass --stack NAME"
        if able
        else "no registered stack can; bring one up with `bash stacks/airflow-local/up.sh`"
    )
    raise ScheduleError(
        f"--schedule: stack {stack.name!r} runs on orchestrator {orchestrator.name!r} (flavor "
        f"{orchestrator.flavor_name}), which cannot run schedules; {hint}"
    )


def dag_id(schedule_name: str) -> str:
    """The Airflow DAG id of a schedule: its name, so that deleting it finds the DAG."""
    return schedule_name


def orchestrator_settings(stack: StackResponse, schedule_name: str) -> dict[str, Any]:
    """Orchestrator settings that tie the orchestrator's copy of a schedule to its name."""
    if _orchestrator(stack).flavor_name == "airflow":
        return {"orchestrator": {"dag_id": dag_id(schedule_name)}}
    return {}


def _dag_file(component: ComponentResponse, schedule_name: str) -> str | None:
    """Where an Airflow orchestrator wrote a schedule's DAG (``None`` for other flavors)."""
    if component.flavor_name != "airflow":
        return None
    from zenml.utils import io_utils

    directory = component.configuration.get("dag_output_dir") or os.path.join(
        io_utils.get_global_config_directory(), "airflow", str(component.id), "dags"
    )
    return os.path.join(directory, f"{dag_id(schedule_name)}.zip")


def _orchestrator_copy(
    schedule: ScheduleResponse,
) -> tuple[ComponentResponse | None, str | None]:
    """The schedule's orchestrator component (``None`` when none is recorded or it was
    deleted) and, for Airflow, the DAG file it wrote for the schedule."""
    if not schedule.orchestrator_id:
        return None, None
    try:
        component = _component(schedule.orchestrator_id)
    except KeyError:
        return None, None
    return component, _dag_file(component, schedule.name)


def _find(name: str) -> ScheduleResponse | None:
    from zenml.client import Client

    try:
        return Client().get_schedule(name, allow_name_prefix_match=False, is_archived=None)
    except KeyError:
        return None


def _run_count(schedule: ScheduleResponse) -> int:
    from zenml.client import Client

    return int(Client().list_pipeline_runs(schedule_id=schedule.id, size=1).total)


def clear_leftover(name: str) -> str | None:
    """Remove a record of schedule ``name`` that a failed submission left behind.

    A record with no runs whose orchestrator holds no DAG for it is such a leftover: it is
    deleted so that the retry can register the name again.

    Returns:
        A note saying what was removed, or ``None``.

    Raises:
        ScheduleError: A live schedule already has that name.
    """
    from zenml.client import Client

    schedule = _find(name)
    if schedule is None:
        return None
    client = Client()
    component, dag_file = _orchestrator_copy(schedule)
    dag_exists = dag_file is not None and _exists(dag_file)
    if _run_count(schedule) == 0 and not dag_exists and (component is None or dag_file):
        client.zen_store.delete_schedule(schedule.id, soft=False)
        return f"removed schedule {name!r} left over from a failed submission (no DAG, no runs)"
    raise ScheduleError(
        f"schedule {name!r} already exists (cron {schedule.cron_expression!r}); delete it with "
        f"--delete-schedule {name} or choose another --schedule-name"
    )


def _exists(path: str) -> bool:
    from zenml.io import fileio

    return bool(fileio.exists(path))


def discard_failed_submission(name: str) -> None:
    """After a submission raised: delete the record it registered, so a retry is not
    blocked (the orchestrator got no DAG, or only part of one)."""
    from zenml.client import Client

    schedule = _find(name)
    if schedule is not None and _run_count(schedule) == 0:
        _, dag_file = _orchestrator_copy(schedule)
        if dag_file is not None and _exists(dag_file):
            from zenml.io import fileio

            fileio.remove(dag_file)
        Client().zen_store.delete_schedule(schedule.id, soft=False)


@dataclass(frozen=True)
class ScheduleRow:
    """One line of ``--list-schedules``."""

    name: str
    cron: str
    active: bool
    orchestrator: str
    runs: int
    last_run: str
    last_status: str


def list_schedules() -> list[ScheduleRow]:
    """Every schedule of the project, with its run count and last run."""
    from zenml.client import Client

    client = Client()
    rows = []
    for schedule in client.list_schedules(size=100, sort_by="asc:name").items:
        runs = client.list_pipeline_runs(schedule_id=schedule.id, sort_by="desc:created", size=1)
        last = runs.items[0] if runs.items else None
        orchestrator = "-"
        if schedule.orchestrator_id:
            try:
                component = _component(schedule.orchestrator_id)
                orchestrator = f"{component.name} ({component.flavor_name})"
            except KeyError:
                orchestrator = "(deleted)"
        rows.append(
            ScheduleRow(
                name=schedule.name,
                cron=schedule.cron_expression or "-",
                active=schedule.active,
                orchestrator=orchestrator,
                runs=int(runs.total),
                last_run=last.name if last else "-",
                last_status=last.status.value if last else "-",
            )
        )
    return rows


def format_schedules(rows: list[ScheduleRow]) -> str:
    """The rows as an aligned text table (or a line saying there are none)."""
    if not rows:
        return "no schedules; create one with --schedule 'CRON'"
    header = ("name", "cron", "active", "orchestrator", "runs", "last run", "status")
    table = [header] + [
        (
            r.name,
            r.cron,
            "yes" if r.active else "no",
            r.orchestrator,
            str(r.runs),
            r.last_run,
            r.last_status,
        )
        for r in rows
    ]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
                     for row in table)  # fmt: skip


def delete_schedule(name: str) -> list[str]:
    """Delete schedule ``name``: the orchestrator's DAG, then ZenML's record.

    Returns:
        Lines saying what was removed.

    Raises:
        ScheduleError: No schedule has that name.
    """
    from zenml.client import Client
    from zenml.io import fileio

    schedule = _find(name)
    if schedule is None:
        names = ", ".join(row.name for row in list_schedules()) or "none"
        raise ScheduleError(f"--delete-schedule {name!r}: no such schedule; schedules: {names}")
    client = Client()
    done = []
    component, dag_file = _orchestrator_copy(schedule)
    if dag_file is not None and fileio.exists(dag_file):
        fileio.remove(dag_file)
        done.append(f"removed DAG file {dag_file}")
    if component is not None:
        done.extend(_delete_from_orchestrator(component, name))
    if component is not None and component.flavor_name != "airflow":
        # Kubernetes and the other flavors that can delete their copy (a CronJob) do it in
        # ZenML's own delete; Airflow's DAG was handled above
        client.delete_schedule(schedule.id, soft=False)
        done.append(f"deleted schedule {name!r} from ZenML and orchestrator {component.name}")
        return done
    client.zen_store.delete_schedule(schedule.id, soft=False)
    done.append(f"deleted schedule {name!r} from ZenML")
    return done


def _delete_from_orchestrator(component: ComponentResponse, name: str) -> list[str]:
    """Ask the orchestrator itself to forget the schedule, where it offers an API for it.

    Airflow: for a stack brought up by ``stacks/airflow-local/up.sh`` (its label
    ``zenrl.stack_home`` leads to the Airflow REST API and credentials), the DAG is deleted
    there too, so it leaves Airflow's UI at once instead of being marked stale when its file
    disappears.
    """
    if component.flavor_name != "airflow":
        return []
    from zenml.client import Client

    from stacks.runtime import delete_airflow_dag

    # the stack whose orchestrator holds the DAG, whichever stack is active
    stacks = Client().list_stacks(component_id=component.id, size=10).items
    return delete_airflow_dag(dag_id(name), stacks[0].name if stacks else None)
