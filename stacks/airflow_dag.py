"""ZenML Airflow DAG generator that keeps the workers' credentials out of the DAG.

Used through the airflow orchestrator's ``custom_dag_generator`` setting
(``stacks.airflow_dag``). ZenML imports this module on the client and builds its
``TaskConfiguration``/``DagConfiguration`` objects; then it copies this very file into the DAG
zip as ``dag.py`` next to ``config.json`` (the dumped ``DagConfiguration``), and Airflow runs it
when it parses the zip.

What differs from ``zenml.integrations.airflow.orchestrators.dag_generator``:

- every secret-looking variable (``ZENML_STORE_API_TOKEN``, ``ZENML_STORE_API_KEY``, anything
  named like a token, password, secret or key) is dropped from each task's environment when the
  ``TaskConfiguration`` is built on the client, so it is never written to ``config.json``, and so
  never reaches Airflow's metadata DB, the rendered template fields or ``docker inspect``;
- the workers get their credentials at run time from an env file on the Airflow host, readable
  only by the stack's owner (0600 in a 0700 dir). The file is bind-mounted read-only into the
  container and the step command is wrapped in ``sh -c 'set -a; . FILE; set +a; exec "$@"'``.
  Its host path comes from the operator argument ``zenrl_secrets_file`` (set on the orchestrator
  component by ``stacks/airflow-local/up.sh``), or else from ``$ZENRL_WORKER_ENV_FILE`` in the
  Airflow process.

Self-contained on purpose: at DAG parse time it imports only the standard library, pydantic,
airflow and docker (no ZenML, no project code).
"""

from __future__ import annotations

import datetime
import importlib
import os
import re
import zipfile
from typing import Any

from pydantic import BaseModel, Field, model_validator

# Names read by ZenML (the orchestrator and AirflowOrchestrator.get_orchestrator_run_id): keep.
ENV_ZENML_AIRFLOW_RUN_ID = "ZENML_AIRFLOW_RUN_ID"
ENV_ZENML_LOCAL_STORES_PATH = "ZENML_LOCAL_STORES_PATH"
CONFIG_FILENAME = "config.json"

# Where the env file is mounted in the container, the operator argument naming its host path,
# and the fallback variable in the Airflow processes' environment. Neither path may end in
# .sh, .bash or .env: the DockerOperator's `mounts` is a template field, and Airflow would take
# such a string for the name of a Jinja template file.
SECRETS_MOUNT = "/run/zenrl/worker-credentials"
SECRETS_FILE_ARG = "zenrl_secrets_file"
ENV_SECRETS_FILE = "ZENRL_WORKER_ENV_FILE"

_SECRET_NAME = re.compile(
    r"(TOKEN|SECRET|PASSWORD|PASSWD|API_KEY|ACCESS_KEY|PRIVATE_KEY|CREDENTIAL)", re.IGNORECASE
)
# Non-secret variables whose names match the pattern above.
_NOT_SECRET = {"DISABLE_CREDENTIALS_DISK_CACHING", "ZENML_DISABLE_CREDENTIALS_DISK_CACHING"}


def is_secret_variable(name: str) -> bool:
    """Whether an environment variable must not be written into the DAG."""
    return name not in _NOT_SECRET and bool(_SECRET_NAME.search(name))


class TaskConfiguration(BaseModel):
    """Airflow task configuration (ZenML's fields, plus the secrets file's host path)."""

    id: str
    zenml_step_name: str
    upstream_steps: list[str]

    docker_image: str
    command: list[str]
    arguments: list[str]

    environment: dict[str, str] = {}

    operator_source: str
    operator_args: dict[str, Any] = {}

    secrets_file: str | None = None

    @model_validator(mode="after")
    def _strip_secrets(self) -> TaskConfiguration:
        self.environment = {
            key: value for key, value in self.environment.items() if not is_secret_variable(key)
        }
        if SECRETS_FILE_ARG in self.operator_args:
            args = dict(self.operator_args)
            self.secrets_file = args.pop(SECRETS_FILE_ARG) or self.secrets_file
            self.operator_args = args
        return self


class DagConfiguration(BaseModel):
    """Airflow DAG configuration (same fields as ZenML's)."""

    id: str
    tasks: list[TaskConfiguration]

    local_stores_path: str | None = None

    schedule: datetime.timedelta | str = Field(union_mode="left_to_right")
    start_date: datetime.datetime
    end_date: datetime.datetime | None = None
    catchup: bool = False

    tags: list[str] = []
    dag_args: dict[str, Any] = {}


def import_class_by_path(class_path: str) -> type[Any]:
    """Import a class from its dotted path (``module.Class``)."""
    module_name, class_name = class_path.rsplit(".", 1)
    module = importlib.import_module(module_name)
    return getattr(module, class_name)  # type: ignore[no-any-return]


def wrap_command(command: list[str], secrets_file: str | None) -> list[str]:
    """The step command, run by a shell that first exports the mounted env file."""
    if not secrets_file:
        return command
    script = f'set -a && . {SECRETS_MOUNT} && set +a && exec "$@"'
    return ["/bin/sh", "-c", script, "zenrl-step", *command]


def get_docker_operator_init_kwargs(
    dag_config: DagConfiguration, task_config: TaskConfiguration
) -> dict[str, Any]:
    """Keyword arguments for the DockerOperator: image, wrapped command, env, mounts."""
    from docker.types import Mount

    mounts: list[Any] = []
    extra_hosts: dict[str, str] = {}
    environment = dict(task_config.environment)
    environment[ENV_ZENML_AIRFLOW_RUN_ID] = "{{ run_id }}"

    if dag_config.local_stores_path:
        environment[ENV_ZENML_LOCAL_STORES_PATH] = dag_config.local_stores_path
        mounts.append(
            Mount(
                target=dag_config.local_stores_path,
                source=dag_config.local_stores_path,
                type="bind",
            )
        )
        extra_hosts = {"host.docker.internal": "host-gateway"}

    secrets_file = task_config.secrets_file or os.environ.get(ENV_SECRETS_FILE)
    if secrets_file:
        if secrets_file.endswith((".sh", ".bash", ".env")):
            raise ValueError(f"{secrets_file}: rename it, Airflow reads *.env as a template file")
        mounts.append(Mount(target=SECRETS_MOUNT, source=secrets_file, type="bind", read_only=True))
    return {
        "image": task_config.docker_image,
        "command": wrap_command(task_config.command + task_config.arguments, secrets_file),
        "mounts": mounts,
        "environment": environment,
        "extra_hosts": extra_hosts,
    }


def get_operator_init_kwargs(
    operator_class: type[Any], dag_config: DagConfiguration, task_config: TaskConfiguration
) -> dict[str, Any]:
    """Keyword arguments for the task's operator (only the DockerOperator is supported)."""
    init_kwargs: dict[str, Any] = {"task_id": task_config.id}
    from airflow.providers.docker.operators.docker import DockerOperator

    if not issubclass(operator_class, DockerOperator):
        raise TypeError(
            f"stacks.airflow_dag supports the DockerOperator only, not {operator_class!r}"
        )
    init_kwargs.update(get_docker_operator_init_kwargs(dag_config, task_config))
    init_kwargs.update(task_config.operator_args)
    return init_kwargs


def _dag_class() -> type[Any]:
    try:
        from airflow.sdk import DAG  # Airflow 3
    except ImportError:  # pragma: no cover - Airflow 2
        from airflow import DAG
    return DAG  # type: ignore[no-any-return]


def build_dag(dag_config: DagConfiguration) -> Any:
    """The Airflow DAG of a ZenML pipeline snapshot."""
    operators: dict[str, Any] = {}
    with _dag_class()(
        dag_id=dag_config.id,
        is_paused_upon_creation=False,
        tags=dag_config.tags,
        schedule=dag_config.schedule,
        start_date=dag_config.start_date,
        end_date=dag_config.end_date,
        catchup=dag_config.catchup,
        **dag_config.dag_args,
    ) as dag:
        for task in dag_config.tasks:
            operator_class = import_class_by_path(task.operator_source)
            operator = operator_class(**get_operator_init_kwargs(operator_class, dag_config, task))
            operators[task.zenml_step_name] = operator
            for upstream in task.upstream_steps:
                operator.set_upstream(operators[upstream])
    return dag


try:
    _archive = zipfile.ZipFile(os.path.dirname(__file__), "r")
except (IsADirectoryError, NotADirectoryError, FileNotFoundError, PermissionError):
    # imported on the client (stacks/ is a package, not a zip): only the classes are used
    pass
else:
    dag = build_dag(DagConfiguration.model_validate_json(_archive.read(CONFIG_FILENAME)))
