"""ZenML side of stacks/airflow-local/up.sh (run with the project's Python).

    python zenml_setup.py admin   # in the stack's admin config: service account + API key
    python zenml_setup.py client  # in the caller's config: log in with the key, register
                                  # the secret, components and stack, activate the stack
    python zenml_setup.py teardown  # in the caller's config: deregister, back to default

Everything it needs comes from the environment (set by up.sh/down.sh from $STATE): see
``_env``. Idempotent: re-running updates what exists.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import sys
from pathlib import Path
from typing import Any


def _env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        sys.exit(f"zenml_setup.py: ${name} is not set")
    return value


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chmod(path, 0o600)


def admin() -> None:
    """As the server's admin: the stack's service account and its API key (to a 0600 file)."""
    from zenml.client import Client

    client = Client()
    sa_name = _env("ZENRL_SERVICE_ACCOUNT")
    key_file = Path(_env("ZENRL_API_KEY_FILE"))
    worker_env = Path(_env("ZENRL_WORKER_ENV_FILE"))
    try:
        account = client.get_service_account(sa_name)
    except KeyError:
        account = client.create_service_account(
            name=sa_name, description="zenrl airflow-local stack: client and workers"
        )
    if key_file.is_file() and key_file.read_text().strip():
        key = key_file.read_text().strip()
    else:
        for old in client.list_api_keys(
            service_account_name_id_or_prefix=account.id, size=100
        ).items:
            client.delete_api_key(
                service_account_name_id_or_prefix=account.id, name_id_or_prefix=old.id
            )
        created = client.create_api_key(
            service_account_name_id_or_prefix=account.id, name="up-sh", description="up.sh"
        )
        key = created.key or ""
        if not key:
            sys.exit("zenml_setup.py: the server returned no API key")
        _write_private(key_file, key + "\n")
    _write_private(worker_env, f"ZENML_STORE_API_KEY={key}\n")
    print(f"service account {sa_name!r} ready")


def _upsert_component(client: Any, kind: Any, name: str, flavor: str, config: dict) -> None:
    try:
        client.get_stack_component(kind, name, allow_name_prefix_match=False)
    except KeyError:
        client.create_stack_component(
            name=name, flavor=flavor, component_type=kind, configuration=config
        )
    else:
        client.update_stack_component(name, kind, configuration=config)


def client_setup() -> None:
    """In the caller's config: log in with the API key, register and activate the stack."""
    from zenml.config.global_config import GlobalConfiguration
    from zenml.enums import StackComponentType as T
    from zenml.login.credentials_store import get_credentials_store
    from zenml.zen_stores.rest_zen_store import RestZenStoreConfiguration

    url = _env("ZENML_SERVER_URL")
    key = Path(_env("ZENRL_API_KEY_FILE")).read_text().strip()
    get_credentials_store().set_api_key(url, key)
    GlobalConfiguration().set_store(RestZenStoreConfiguration(url=url))

    from zenml.client import Client

    client = Client()
    stack_name = _env("ZENRL_STACK_NAME")
    secret_name = _env("ZENRL_S3_SECRET")
    try:
        client.get_secret(secret_name, allow_partial_name_match=False)
    except KeyError:
        # moto accepts any credentials; these live only in this ZenML secret
        client.create_secret(
            name=secret_name,
            values={
                "aws_access_key_id": "AKZENRL" + secrets.token_hex(6).upper(),
                "aws_secret_access_key": secrets.token_urlsafe(30),
            },
        )
    _upsert_component(
        client,
        T.ARTIFACT_STORE,
        stack_name,
        "s3",
        {
            "path": f"s3://{_env('ZENRL_S3_BUCKET')}",
            "authentication_secret": secret_name,
            "client_kwargs": {
                "endpoint_url": _env("ZENRL_S3_ENDPOINT"),
                "region_name": "us-east-1",
            },
        },
    )
    _upsert_component(
        client, T.CONTAINER_REGISTRY, stack_name, "default", {"uri": _env("ZENRL_REGISTRY")}
    )
    _upsert_component(client, T.IMAGE_BUILDER, stack_name, "local", {})
    _upsert_component(
        client,
        T.ORCHESTRATOR,
        stack_name,
        "airflow",
        {
            "local": False,
            "dag_output_dir": _env("ZENRL_DAGS_FOLDER"),
            "custom_dag_generator": "stacks.airflow_dag",
            "operator": "docker",
            "operator_args": {
                "network_mode": "host",
                "auto_remove": "force",
                "mount_tmp_dir": False,
                "tty": False,
                # the last log line is not worth a row in Airflow's DB
                "do_xcom_push": False,
                # down.sh removes the containers of its own stack by this label
                "labels": {"zenrl.stack_home": _env("ZENRL_STACK_HOME")},
                # popped by stacks.airflow_dag: the workers' env file, bind-mounted read-only
                "zenrl_secrets_file": _env("ZENRL_WORKER_ENV_FILE"),
            },
            "dag_args": {"max_active_runs": 1},
            "dag_tags": ["zenrl"],
        },
    )
    components = {
        T.ORCHESTRATOR: stack_name,
        T.ARTIFACT_STORE: stack_name,
        T.CONTAINER_REGISTRY: stack_name,
        T.IMAGE_BUILDER: stack_name,
    }
    labels = {
        # read by stacks.runtime: the workers' image, the Airflow REST API, the state dir
        # (stack.env: where the Airflow credentials are)
        "zenrl.parent_image": _env("ZENRL_PARENT_IMAGE"),
        "zenrl.airflow_api": _env("ZENRL_AIRFLOW_API"),
        "zenrl.stack_home": _env("ZENRL_STACK_HOME"),
    }
    try:
        client.get_stack(stack_name, allow_name_prefix_match=False)
    except KeyError:
        client.create_stack(name=stack_name, components=components, labels=labels)
    else:
        client.update_stack(stack_name, component_updates=components, labels=labels)
    client.activate_stack(stack_name)
    print(f"stack {stack_name!r} registered and active on {url}")


def teardown() -> None:
    """In the caller's config: deregister the stack (if connected to our server) and log out."""
    from zenml.config.global_config import GlobalConfiguration
    from zenml.enums import StackComponentType as T

    url = os.environ.get("ZENML_SERVER_URL", "")
    gc = GlobalConfiguration()
    store = gc.store_configuration
    if store.type.value != "rest" or store.url.rstrip("/") != url.rstrip("/"):
        print("client not connected to this stack's server: nothing to deregister")
        return
    stack_name = _env("ZENRL_STACK_NAME")
    try:
        from zenml.client import Client

        client = Client()
        default = client.get_stack("default", allow_name_prefix_match=False)
        client.activate_stack(default.id)
        with contextlib.suppress(KeyError):
            client.delete_stack(stack_name)
        for kind in (T.ORCHESTRATOR, T.ARTIFACT_STORE, T.CONTAINER_REGISTRY, T.IMAGE_BUILDER):
            with contextlib.suppress(KeyError):
                client.delete_stack_component(stack_name, kind)
        with contextlib.suppress(KeyError):
            client.delete_secret(_env("ZENRL_S3_SECRET"))
        print(f"stack {stack_name!r}, its components and secret deregistered")
    except Exception as e:  # the server may already be gone: log out all the same
        print(f"could not deregister on {url}: {type(e).__name__}: {e}")
    from zenml.login.credentials_store import get_credentials_store

    get_credentials_store().clear_credentials(url)
    gc.set_default_store()
    print("client back on its default local store")


if __name__ == "__main__":
    actions = {"admin": admin, "client": client_setup, "teardown": teardown}
    if len(sys.argv) != 2 or sys.argv[1] not in actions:
        sys.exit(f"usage: zenml_setup.py {{{'|'.join(actions)}}}")
    actions[sys.argv[1]]()
