"""What a pipeline needs to run on the active ZenML stack.

    from stacks.runtime import pipeline_settings
    train_pipeline.with_options(settings=pipeline_settings(), ...)

On a stack whose orchestrator runs steps in-process (ZenML's default local stack) this is an
empty dict, found without importing anything beyond the ZenML client the pipeline already
uses and without contacting any server. On a containerized stack (e.g. ``zenrl-airflow`` from
``stacks/airflow-local/up.sh``) the steps run in the stack's prebuilt runtime image, named by the
stack label ``zenrl.parent_image`` (or ``$ZENRL_PARENT_IMAGE``): no image is built per run, and
each step container downloads the client's current working tree (the code archive ZenML uploads
to the artifact store) before running, so the image only holds the dependencies.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

PARENT_IMAGE_LABEL = "zenrl.parent_image"
ENV_PARENT_IMAGE = "ZENRL_PARENT_IMAGE"


class StackSettingsError(RuntimeError):
    """The active stack is containerized but names no runtime image."""


def _active_stack() -> Any:
    from zenml.client import Client

    return Client().active_stack


def is_containerized(stack: Any) -> bool:
    """Whether the stack's orchestrator runs each step in a container image."""
    from zenml.orchestrators import ContainerizedOrchestrator

    return isinstance(stack.orchestrator, ContainerizedOrchestrator)


def parent_image(stack: Any) -> str:
    """The runtime image of a containerized stack: its label, or $ZENRL_PARENT_IMAGE."""
    from zenml.client import Client

    labels = Client().active_stack_model.labels or {}
    image = labels.get(PARENT_IMAGE_LABEL) or os.environ.get(ENV_PARENT_IMAGE)
    if not image:
        raise StackSettingsError(
            f"stack {stack.name!r} runs steps in containers but names no runtime image: set the "
            f"stack label {PARENT_IMAGE_LABEL!r} (stacks/airflow-local/up.sh does) or "
            f"${ENV_PARENT_IMAGE}"
        )
    return str(image)


def docker_settings(image: str) -> Any:
    """Run steps in ``image`` as it is, with the code downloaded from the artifact store."""
    from zenml.config import DockerSettings

    return DockerSettings(
        parent_image=image,
        # no per-run `docker build`: the image already has every dependency
        skip_build=True,
        # the client's working tree is archived to the artifact store at submission and
        # extracted by each step container, so a run always uses the current code
        allow_download_from_artifact_store=True,
        allow_download_from_code_repository=False,
        allow_including_files_in_images=False,
    )


def pipeline_settings() -> dict[str, Any]:
    """The ``settings=`` of a pipeline run on the active stack (empty on a local stack)."""
    stack = _active_stack()
    if not is_containerized(stack):
        return {}
    return {"docker": docker_settings(parent_image(stack))}


# --------------------------------------------------------------------------- Airflow REST API
AIRFLOW_API_LABEL = "zenrl.airflow_api"
STACK_HOME_LABEL = "zenrl.stack_home"


def _stack_labels(stack_name: str | None = None) -> dict[str, Any]:
    from zenml.client import Client

    client = Client()
    model = client.get_stack(stack_name) if stack_name else client.active_stack_model
    return dict(model.labels or {})


def read_stack_env(stack_home: str | Path) -> dict[str, str]:
    """``$ZENRL_STACK_HOME/stack.env`` (written by up.sh) as a dict."""
    values: dict[str, str] = {}
    for line in (Path(stack_home) / "stack.env").read_text().splitlines():
        if "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            values[key] = value
    return values


class AirflowAPI:
    """The Airflow 3 REST API (v2) of a stack from ``stacks/airflow-local/up.sh``, with the
    stack's admin credentials (simple auth manager; the password file is the owner's only)."""

    def __init__(self, api_url: str, user: str, password: str, timeout: float = 30) -> None:
        self.api_url = api_url.rstrip("/")
        self.base_url = self.api_url.removesuffix("/api/v2")
        self.timeout = timeout
        self._token = self._call(
            "POST", f"{self.base_url}/auth/token", {"username": user, "password": password}
        )[1]["access_token"]

    @classmethod
    def for_stack(cls, stack_name: str | None = None) -> AirflowAPI | None:
        """The API of the active (or named) stack, ``None`` if its labels name none."""
        import json
        from pathlib import Path

        labels = _stack_labels(stack_name)
        api, home = labels.get(AIRFLOW_API_LABEL), labels.get(STACK_HOME_LABEL)
        if not api or not home:
            return None
        env = read_stack_env(str(home))
        user = env["AIRFLOW_USER"]
        password = json.loads(Path(env["AIRFLOW_PASSWORDS_FILE"]).read_text())[user]
        return cls(str(api), user, password)

    def _call(self, method: str, url: str, body: Any = None) -> tuple[int, Any]:
        import json
        import urllib.error
        import urllib.request

        headers = {"Content-Type": "application/json"}
        if getattr(self, "_token", None):
            headers["Authorization"] = f"Bearer {self._token}"
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(url, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                text = response.read()
                return response.status, json.loads(text) if text else None
        except urllib.error.HTTPError as error:
            text = error.read()
            try:
                payload = json.loads(text) if text else None
            except ValueError:
                payload = text.decode(errors="replace")
            return error.code, payload

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        """``(status, json)`` of ``METHOD {api_url}{path}``."""
        return self._call(method, f"{self.api_url}{path}", body)

    def dag(self, dag_id: str) -> dict[str, Any] | None:
        status, payload = self.call("GET", f"/dags/{dag_id}")
        return payload if status == 200 else None

    def dag_runs(self, dag_id: str) -> list[dict[str, Any]]:
        status, payload = self.call("GET", f"/dags/{dag_id}/dagRuns?limit=100")
        return list(payload.get("dag_runs", [])) if status == 200 else []

    def delete_dag(
        self, dag_id: str, dags_folder: str | None = None, wait: float = 60
    ) -> list[str]:
        """Pause the DAG, fail its unfinished runs, remove its file, delete it from Airflow."""
        import time
        from pathlib import Path

        done: list[str] = []
        if dags_folder:
            path = Path(dags_folder) / f"{dag_id}.zip"
            if path.exists():
                path.unlink()
                done.append(f"removed {path}")
        if self.dag(dag_id) is None:
            return done
        self.call("PATCH", f"/dags/{dag_id}", {"is_paused": True})
        for run in self.dag_runs(dag_id):
            if run.get("state") in ("queued", "running"):
                run_id = run["dag_run_id"]
                self.call("PATCH", f"/dags/{dag_id}/dagRuns/{run_id}", {"state": "failed"})
                done.append(f"marked Airflow run {run_id} failed")
        # 409 while a task is still finishing: its container is stopped by then, so retry
        deadline = time.monotonic() + wait
        while True:
            status, payload = self.call("DELETE", f"/dags/{dag_id}")
            if status in (200, 204, 404):
                done.append(f"deleted Airflow DAG {dag_id!r}")
                return done
            if status != 409 or time.monotonic() > deadline:
                raise RuntimeError(f"Airflow refused to delete DAG {dag_id!r}: {status} {payload}")
            time.sleep(2)


def delete_airflow_dag(dag_id: str, stack_name: str | None = None) -> list[str]:
    """Delete a DAG from the Airflow of the active (or named) stack: its file in the DAGs
    folder, its unfinished runs and its record, so it leaves Airflow's UI at once. Deleting a
    ZenML schedule does not do this. Returns what was done (empty if the stack has no such
    Airflow or the DAG is unknown)."""
    labels = _stack_labels(stack_name)
    home = labels.get(STACK_HOME_LABEL)
    api = AirflowAPI.for_stack(stack_name)
    if api is None or not home:
        return []
    return api.delete_dag(dag_id, dags_folder=read_stack_env(str(home)).get("AIRFLOW_DAGS_FOLDER"))
