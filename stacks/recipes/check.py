"""Check the cloud stack recipes (``stacks/recipes/*/*.yaml``) as far as a machine without cloud
access can.

A recipe is one YAML file: placeholders (``<bucket>``) with an example value each, ZenML secrets,
service connectors, stack components, the stack with its ``zenrl.parent_image`` label, and the
schedule to render. The same file produces the ``zenml`` commands of the recipe's README and of
its ``register-<variant>.sh`` (``--sync``), so what is checked here is what users run. For each
recipe, with the placeholders filled with their examples:

1. **Configuration.** Every component's configuration is validated with its ZenML 0.98 flavor's
   own config class (an unknown key is refused, as ``zenml <type> register`` refuses it), every
   service connector's with its auth method's config class, every secret with the ZenML secret
   schema of the component that reads it. The parent image must live in the stack's container
   registry, the runtime image's packages must cover what the components import inside the
   containers, and the schedule must be a cron expression the project accepts.
2. **Dry run.** The recipe's own ``zenml`` commands run through ZenML's CLI, in this process,
   against a throwaway local SQLite store (``ZENML_CONFIG_PATH`` in a temporary directory;
   anything else is refused). ``--no-verify`` is added where ZenML would contact the cloud
   (registering and connecting service connectors). The stored configurations must equal the
   validated ones; ZenML's own stack validation runs when every component's implementation can
   be imported here; everything is deleted again afterwards.
3. **Rendering.** What the orchestrator would submit for a scheduled run of the project's
   training pipeline, built with ZenML's own code: the CronJob of the kubernetes orchestrator
   (``cronjob.yaml``, read back into the Kubernetes client's ``V1CronJob`` and checked) or the
   DAG zip of the airflow orchestrator (its ``config.json`` validated with ZenML's
   ``DagConfiguration``).

Run from the repository root::

    python stacks/recipes/check.py                           # every recipe
    python stacks/recipes/check.py kubernetes-aws/eks --out rendered/
    python stacks/recipes/check.py --commands airflow-managed/mwaa
    python stacks/recipes/check.py --sync                    # rewrite register-*.sh, README blocks
    python stacks/recipes/check.py --requirements kubernetes-gcp/gke  # the runtime image's pip list
    python stacks/recipes/check.py --resolve                 # also pip-resolve each runtime image
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import itertools
import json
import os
import re
import shlex
import shutil
import sys
import tempfile
import tomllib
import uuid
import warnings
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

RECIPES_DIR = Path(__file__).resolve().parent
ROOT = RECIPES_DIR.parent.parent
"""The repository root (holds ``pyproject.toml`` and the project's packages)."""

PARENT_IMAGE_LABEL = "zenrl.parent_image"
"""The stack label naming the runtime image (``stacks.runtime.PARENT_IMAGE_LABEL``)."""

PLACEHOLDER = re.compile(r"<([a-z0-9][a-z0-9-]*)>")
"""A placeholder in a recipe value: ``<bucket>``, ``<account-id>``."""

EXAMPLE_SERVER_URL = "https://zenml.example.com"
"""The ZenML server the rendered manifests point at (ZenML fills in the real one at submission)."""

EXAMPLE_API_TOKEN = "<schedule-scoped ZenML API token>"
"""Stands for the API token ZenML generates for a schedule at submission."""

# (component type, flavor) -> the ZenML flavor class whose config class validates it
FLAVOR_CLASSES: dict[tuple[str, str], str] = {
    ("orchestrator", "kubernetes"): (
        "zenml.integrations.kubernetes.flavors.KubernetesOrchestratorFlavor"
    ),
    ("orchestrator", "airflow"): "zenml.integrations.airflow.flavors.AirflowOrchestratorFlavor",
    ("artifact_store", "s3"): "zenml.integrations.s3.flavors.S3ArtifactStoreFlavor",
    ("artifact_store", "gcp"): "zenml.integrations.gcp.flavors.GCPArtifactStoreFlavor",
    ("container_registry", "aws"): "zenml.integrations.aws.flavors.AWSContainerRegistryFlavor",
    ("container_registry", "gcp"): "zenml.container_registries.GCPContainerRegistryFlavor",
    ("image_builder", "local"): "zenml.image_builders.LocalImageBuilderFlavor",
    ("image_builder", "kaniko"): "zenml.integrations.kaniko.flavors.KanikoImageBuilderFlavor",
}

# the ZenML secret schema a component's `authentication_secret` must satisfy
SECRET_SCHEMAS: dict[str, str] = {
    "artifact_store/s3": "zenml.secret.schemas.AWSSecretSchema",
    "artifact_store/gcp": "zenml.secret.schemas.GCPSecretSchema",
    "container_registry/aws": "zenml.secret.schemas.BasicAuthSecretSchema",
    "container_registry/gcp": "zenml.secret.schemas.BasicAuthSecretSchema",
}

# pip distributions a component's implementation imports inside the step/orchestrator containers
IMAGE_REQUIREMENTS: dict[str, tuple[str, ...]] = {
    # the orchestrator pod runs ZenML's kubernetes entrypoint (the integration's requirements)
    "orchestrator/kubernetes": ("kubernetes", "jinja2"),
    "artifact_store/s3": ("s3fs", "boto3"),
    "artifact_store/gcp": ("gcsfs", "google-cloud-storage"),
}

CLI_GROUPS = {
    "orchestrator": "orchestrator",
    "artifact_store": "artifact-store",
    "container_registry": "container-registry",
    "image_builder": "image-builder",
}
STACK_FLAGS = {
    "orchestrator": "-o",
    "artifact_store": "-a",
    "container_registry": "-c",
    "image_builder": "-i",
}

ComponentType = Literal["orchestrator", "artifact_store", "container_registry", "image_builder"]


class RecipeError(ValueError):
    """A recipe that is wrong or that ZenML refuses; the message is one line naming the recipe."""


# ---------------------------------------------------------------------------------------------
# the recipe file


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Placeholder(_Strict):
    """A value the user fills in."""

    example: str
    """The value the checks here use."""
    help: str
    """What to put there (shown by ``register-<variant>.sh`` when it is missing)."""
    file: bool = False
    """The value is a file path; the example is relative to the recipe's folder."""


class SecretSpec(_Strict):
    """A ZenML secret the recipe creates (``zenml secret create``)."""

    name: str
    values: dict[str, str]
    """Key -> value; ``@path`` reads the value from a file, as ZenML's CLI does."""


class ConnectorSpec(_Strict):
    """A ZenML service connector (``zenml service-connector register``)."""

    name: str
    type: str
    auth_method: str
    configuration: dict[str, Any]


class ComponentSpec(_Strict):
    """A stack component (``zenml <type> register``, then ``connect`` with a connector)."""

    type: ComponentType
    flavor: str
    name: str
    configuration: dict[str, Any] = {}
    connector: str | None = None
    """Name of the recipe's service connector the component uses."""
    resource_id: str | None = None
    """The connector's resource for this component (e.g. the EKS cluster's name)."""


class StackSpec(_Strict):
    """The stack (``zenml stack register``) and its labels."""

    name: str
    labels: dict[str, str]


class ScheduleSpec(_Strict):
    """The scheduled training run the checks render."""

    game: str
    cron_expression: str


class Recipe(_Strict):
    """One recipe file."""

    description: str
    placeholders: dict[str, Placeholder] = {}
    runtime_packages: list[str] = []
    """pip requirements the runtime image adds to the project's core dependencies and `remote`."""
    secrets: list[SecretSpec] = []
    connectors: list[ConnectorSpec] = []
    components: list[ComponentSpec]
    stack: StackSpec
    schedule: ScheduleSpec

    @model_validator(mode="after")
    def _check_references(self) -> Recipe:
        types: list[str] = [component.type for component in self.components]
        for needed in CLI_GROUPS:
            if types.count(needed) != 1:
                raise ValueError(f"needs exactly one {needed} component, has {types.count(needed)}")
        connectors = {connector.name for connector in self.connectors}
        for component in self.components:
            if component.connector and component.connector not in connectors:
                raise ValueError(
                    f"component {component.name!r} uses connector {component.connector!r}, "
                    f"which the recipe does not define (defined: {sorted(connectors)})"
                )
        if PARENT_IMAGE_LABEL not in self.stack.labels:
            raise ValueError(f"stack {self.stack.name!r} has no {PARENT_IMAGE_LABEL!r} label")
        return self

    def component(self, component_type: str) -> ComponentSpec:
        """The recipe's component of a type."""
        return next(c for c in self.components if c.type == component_type)

    @property
    def parent_image(self) -> str:
        """The runtime image the steps run in (the stack's ``zenrl.parent_image`` label)."""
        return self.stack.labels[PARENT_IMAGE_LABEL]


@dataclass(frozen=True)
class RecipeFile:
    """A recipe as read from disk, placeholders not filled in."""

    id: str
    """``<folder>/<variant>``, e.g. ``kubernetes-aws/eks``."""
    path: Path
    raw: dict[str, Any]
    spec: Recipe

    @property
    def folder(self) -> Path:
        """The recipe's folder (README.md, the YAML files, the register scripts)."""
        return self.path.parent

    @property
    def variant(self) -> str:
        """The file's stem, e.g. ``eks``."""
        return self.path.stem

    @property
    def script(self) -> Path:
        """The generated register script."""
        return self.folder / f"register-{self.variant}.sh"


def recipe_files() -> list[Path]:
    """Every recipe in ``stacks/recipes``, sorted."""
    return sorted(RECIPES_DIR.glob("*/*.yaml"))


def _first_error(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"])
    return f"{where}: {first['msg']}" if where else str(first["msg"])


def _placeholders_in(value: Any) -> set[str]:
    if isinstance(value, str):
        return set(PLACEHOLDER.findall(value))
    if isinstance(value, Mapping):
        return set().union(*(_placeholders_in(v) for v in value.values()), set())
    if isinstance(value, list):
        return set().union(*(_placeholders_in(v) for v in value), set())
    return set()


def _substitute(value: Any, values: Mapping[str, str]) -> Any:
    if isinstance(value, str):
        return PLACEHOLDER.sub(lambda match: values[match.group(1)], value)
    if isinstance(value, Mapping):
        return {key: _substitute(item, values) for key, item in value.items()}
    if isinstance(value, list):
        return [_substitute(item, values) for item in value]
    return value


def load_recipe(recipe: str | Path) -> RecipeFile:
    """Read and validate a recipe file.

    Args:
        recipe: A path, or an id such as ``kubernetes-aws/eks``.

    Raises:
        RecipeError: The file is missing, not YAML, has unknown or missing keys, or uses a
            placeholder it does not declare (or declares one it does not use).
    """
    path = Path(recipe)
    if not path.suffix:
        path = RECIPES_DIR / f"{recipe}.yaml"
    recipe_id = f"{path.parent.name}/{path.stem}"
    if not path.is_file():
        known = ", ".join(f"{p.parent.name}/{p.stem}" for p in recipe_files())
        raise RecipeError(f"{recipe_id}: no recipe file {path}; recipes: {known}")
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as error:
        raise RecipeError(f"{recipe_id}: {path.name} is not valid YAML: {error}") from None
    if not isinstance(raw, dict):
        raise RecipeError(f"{recipe_id}: {path.name} must hold a mapping, not {type(raw).__name__}")
    try:
        spec = Recipe.model_validate(raw)
    except ValidationError as error:
        raise RecipeError(f"{recipe_id}: {_first_error(error)}") from None
    used = _placeholders_in({k: v for k, v in raw.items() if k != "placeholders"})
    declared = set(spec.placeholders)
    if used - declared:
        raise RecipeError(
            f"{recipe_id}: uses placeholders {sorted(used - declared)} that `placeholders` "
            f"does not declare"
        )
    if declared - used:
        raise RecipeError(
            f"{recipe_id}: declares placeholders {sorted(declared - used)} it never uses"
        )
    return RecipeFile(id=recipe_id, path=path, raw=raw, spec=spec)


def example_values(recipe: RecipeFile) -> dict[str, str]:
    """Each placeholder's example; file examples resolved against the recipe's folder."""
    return {
        name: str((recipe.folder / p.example).resolve()) if p.file else p.example
        for name, p in recipe.spec.placeholders.items()
    }


def fill(recipe: RecipeFile, values: Mapping[str, str] | None = None) -> Recipe:
    """The recipe with its placeholders replaced (by their examples unless ``values`` are given).

    Raises:
        RecipeError: A placeholder has no value, or the filled recipe is invalid.
    """
    values = example_values(recipe) if values is None else values
    missing = sorted(set(recipe.spec.placeholders) - set(values))
    if missing:
        raise RecipeError(f"{recipe.id}: no value for placeholders {missing}")
    body = {k: v for k, v in recipe.raw.items() if k != "placeholders"}
    try:
        return Recipe.model_validate(_substitute(body, values))
    except ValidationError as error:
        raise RecipeError(f"{recipe.id}: {_first_error(error)}") from None


# ---------------------------------------------------------------------------------------------
# the zenml commands of a recipe


@dataclass(frozen=True)
class Command:
    """One command of a recipe's registration, as its README shows it."""

    argv: tuple[str, ...]
    contacts_cloud: bool = False
    """ZenML verifies against the cloud; the dry run adds ``--no-verify``."""


def cli_value(value: Any) -> str:
    """A configuration value as ``zenml ... register --key=value`` passes it (ZenML parses JSON
    for dict and list fields)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value)
    if isinstance(value, int | float | str):
        return str(value)
    raise RecipeError(
        f"cannot pass {value!r} ({type(value).__name__}) on the zenml command line; leave the key "
        "out for ZenML's default"
    )


def _options(configuration: Mapping[str, Any]) -> list[str]:
    return [f"--{key}={cli_value(value)}" for key, value in configuration.items()]


def label_code(recipe: Recipe) -> str:
    """Python that sets the stack's labels (ZenML 0.98's ``zenml stack register`` has no
    ``--label``); JSON literals are Python literals here."""
    return (
        "from zenml.client import Client; "
        f"Client().update_stack({json.dumps(recipe.stack.name)}, "
        f"labels={json.dumps(recipe.stack.labels)})"
    )


def commands(recipe: Recipe) -> list[Command]:
    """The registration of a recipe as ``zenml`` commands, in order."""
    result = [
        Command(("zenml", "secret", "create", secret.name, *_options(secret.values)))
        for secret in recipe.secrets
    ]
    for connector in recipe.connectors:
        argv = ["zenml", "service-connector", "register", connector.name]
        argv += [f"--type={connector.type}", f"--auth-method={connector.auth_method}"]
        result.append(Command((*argv, *_options(connector.configuration)), contacts_cloud=True))
    for component in recipe.components:
        group = CLI_GROUPS[component.type]
        argv = ["zenml", group, "register", component.name, f"--flavor={component.flavor}"]
        result.append(Command((*argv, *_options(component.configuration))))
        if component.connector:
            argv = ["zenml", group, "connect", component.name, f"--connector={component.connector}"]
            if component.resource_id:
                argv.append(f"--resource-id={component.resource_id}")
            result.append(Command(tuple(argv), contacts_cloud=True))
    argv = ["zenml", "stack", "register", recipe.stack.name]
    for component in recipe.components:
        argv += [STACK_FLAGS[component.type], component.name]
    result.append(Command(tuple(argv)))
    result.append(Command(("python", "-c", label_code(recipe))))
    return result


def _shell_line(words: list[str]) -> str:
    """One command; a long ``zenml`` command gets each option (with its value) on its own line."""
    line = " ".join(words)
    if len(line) <= 96 or words[0] != "zenml":
        return line
    head = list(itertools.takewhile(lambda word: not word.startswith("-"), words))
    lines = [" ".join(head)]
    for word in words[len(head) :]:
        if word.startswith("-"):
            lines.append(f"    {word}")
        else:
            lines[-1] += f" {word}"
    return " \\\n".join(lines)


def _quote(word: str, quote: Any) -> str:
    """A word for bash: ``--key=value`` keeps ``--key=`` bare and quotes only the value."""
    match = re.fullmatch(r"(--?[A-Za-z0-9_-]+=)(.*)", word, re.DOTALL)
    if match:
        return match.group(1) + quote(match.group(2))
    return str(quote(word))


def readme_commands(recipe: RecipeFile) -> str:
    """The recipe's commands with ``<placeholders>`` kept, for its README."""
    return "\n".join(
        _shell_line([_quote(word, shlex.quote) for word in command.argv])
        for command in commands(recipe.spec)
    )


def env_name(placeholder: str) -> str:
    """The variable ``register-<variant>.sh`` reads a placeholder from: ``ZENRL_ACCOUNT_ID``."""
    return "ZENRL_" + placeholder.upper().replace("-", "_")


def _shell_word(word: str) -> str:
    """A word with placeholders turned into ``${ZENRL_...}``, quoted for bash."""
    if not PLACEHOLDER.search(word):
        return shlex.quote(word)
    parts = []
    for index, piece in enumerate(PLACEHOLDER.split(word)):
        if index % 2:
            parts.append("${" + env_name(piece) + "}")
        else:
            parts.append(re.sub(r'(["\\$`])', r"\\\1", piece))
    return '"' + "".join(parts) + '"'


def register_script(recipe: RecipeFile) -> str:
    """``register-<variant>.sh``: the README's commands, placeholders read from the environment."""
    lines = [
        "#!/usr/bin/env bash",
        f"# Registers the ZenML stack `{recipe.spec.stack.name}`: {recipe.spec.description}",
        f"# Generated from {recipe.path.name} by `python stacks/recipes/check.py --sync`; "
        "do not edit.",
        "# Log in to your ZenML server first (`zenml login <url>`); see README.md.",
        "set -euo pipefail",
        "",
        'need() { [ -n "${!1:-}" ] || { echo "set $1: $2" >&2; exit 2; }; }',
    ]
    for name, placeholder in recipe.spec.placeholders.items():
        lines.append(f"need {env_name(name)} {shlex.quote(placeholder.help)}")
    lines.append("")
    for command in commands(recipe.spec):
        lines.append(_shell_line([_quote(word, _shell_word) for word in command.argv]))
    return "\n".join(lines) + "\n"


def _readme_block(recipe: RecipeFile) -> tuple[str, str, str]:
    start = f"<!-- commands:{recipe.variant}:start -->"
    end = f"<!-- commands:{recipe.variant}:end -->"
    return start, f"{start}\n```bash\n{readme_commands(recipe)}\n```\n{end}", end


def sync(write: bool = True) -> list[Path]:
    """Bring every recipe's ``register-<variant>.sh`` and README command block up to date.

    Args:
        write: Rewrite stale files; ``False`` only reports them.

    Returns:
        The files that were (or would be) rewritten.

    Raises:
        RecipeError: A README has no command block for one of its recipes.
    """
    stale = []
    for path in recipe_files():
        recipe = load_recipe(path)
        script = register_script(recipe)
        if not recipe.script.is_file() or recipe.script.read_text() != script:
            stale.append(recipe.script)
            if write:
                recipe.script.write_text(script)
                recipe.script.chmod(0o755)
        readme = recipe.folder / "README.md"
        text = readme.read_text() if readme.is_file() else ""
        start, block, end = _readme_block(recipe)
        found = re.search(re.escape(start) + r".*?" + re.escape(end), text, re.DOTALL)
        if not found:
            raise RecipeError(
                f"{recipe.id}: {readme} has no `{start}` ... `{end}` block for its commands"
            )
        updated = text[: found.start()] + block + text[found.end() :]
        if updated != text:
            stale.append(readme)
            if write:
                readme.write_text(updated)
    return list(dict.fromkeys(stale))


# ---------------------------------------------------------------------------------------------
# 1. configuration


def _import(path: str) -> Any:
    import importlib

    module, name = path.rsplit(".", 1)
    return getattr(importlib.import_module(module), name)


def flavor_of(recipe_id: str, component: ComponentSpec) -> Any:
    """The ZenML flavor (an instance) of a recipe component.

    Raises:
        RecipeError: The recipes support no such type and flavor.
    """
    key = (component.type, component.flavor)
    if key not in FLAVOR_CLASSES:
        known = ", ".join(f"{t} {f}" for t, f in FLAVOR_CLASSES)
        raise RecipeError(
            f"{recipe_id}: {component.type} {component.name!r} has flavor "
            f"{component.flavor!r}; the recipes support: {known}"
        )
    flavor = _import(FLAVOR_CLASSES[key])()
    assert (flavor.type.value, flavor.name) == key, f"{FLAVOR_CLASSES[key]} is not {key}"
    return flavor


def validate_component(recipe_id: str, component: ComponentSpec) -> Any:
    """Validate a component's configuration with its flavor's config class.

    Returns:
        The validated config (a ``StackComponentConfig``).

    Raises:
        RecipeError: An unknown key (as ZenML refuses it), or a value the class refuses.
    """
    from zenml.exceptions import ZenMLBaseException

    config_class = flavor_of(recipe_id, component).config_class
    what = f"{recipe_id}: {component.type} {component.name!r} (flavor {component.flavor})"
    unknown = sorted(set(component.configuration) - set(config_class.model_fields))
    if unknown:
        raise RecipeError(
            f"{what}: unknown configuration keys {unknown}; {config_class.__name__} has "
            f"{sorted(config_class.model_fields)}"
        )
    try:
        config = config_class(**component.configuration)
    except ValidationError as error:
        raise RecipeError(f"{what}: {_first_error(error)}") from None
    except (ValueError, ZenMLBaseException) as error:  # e.g. an artifact store path's scheme
        raise RecipeError(f"{what}: {' '.join(str(error).split())}") from None
    if not config.is_valid:
        raise RecipeError(f"{what}: {config_class.__name__} says the configuration is not valid")
    if config.is_local:
        raise RecipeError(f"{what}: is a local component; a cloud stack cannot use it")
    return config


def validate_connector(recipe_id: str, connector: ConnectorSpec) -> None:
    """Validate a connector's configuration with its auth method's config class.

    Raises:
        RecipeError: An unknown type, auth method or key, or a missing or invalid value.
    """
    from zenml.service_connectors.service_connector_registry import (
        service_connector_registry,
    )

    what = f"{recipe_id}: service connector {connector.name!r}"
    if not service_connector_registry.is_registered(connector.type):
        raise RecipeError(
            f"{what}: connector type {connector.type!r} is not available here (its ZenML "
            "integration's libraries are not installed)"
        )
    connector_type = service_connector_registry.get_service_connector_type(connector.type)
    methods = connector_type.auth_method_dict
    if connector.auth_method not in methods:
        raise RecipeError(
            f"{what}: auth method {connector.auth_method!r} is not one of {sorted(methods)}"
        )
    config_class = methods[connector.auth_method].config_class
    assert config_class is not None
    unknown = sorted(set(connector.configuration) - set(config_class.model_fields))
    if unknown:
        raise RecipeError(
            f"{what}: unknown configuration keys {unknown} for auth method "
            f"{connector.auth_method!r}; it has {sorted(config_class.model_fields)}"
        )
    try:
        config_class(**connector.configuration)
    except ValidationError as error:
        raise RecipeError(f"{what}: {_first_error(error)}") from None


def secret_values(secret: SecretSpec) -> dict[str, str]:
    """A secret's values as ``zenml secret create`` stores them (``@file`` read)."""
    from zenml.cli.utils import expand_argument_value_from_file

    try:
        return {k: expand_argument_value_from_file(k, v) for k, v in secret.values.items()}
    except ValueError as error:
        raise RecipeError(f"secret {secret.name!r}: {error}") from None


def validate_secret(recipe_id: str, secret: SecretSpec, reader: ComponentSpec) -> str:
    """Validate a secret's values with the ZenML secret schema its reader component expects.

    Returns:
        The schema's name.

    Raises:
        RecipeError: Missing keys, or a value the schema refuses (a GCP token that is not the
            JSON of a service-account key).
    """
    key = f"{reader.type}/{reader.flavor}"
    what = f"{recipe_id}: secret {secret.name!r} (read by {reader.type} {reader.name!r})"
    if key not in SECRET_SCHEMAS:
        raise RecipeError(f"{what}: no ZenML secret schema known for {key}")
    schema = _import(SECRET_SCHEMAS[key])
    try:
        values = schema(**secret_values(secret))
    except ValidationError as error:
        raise RecipeError(f"{what}: {schema.__name__}: {_first_error(error)}") from None
    except RecipeError as error:
        raise RecipeError(f"{recipe_id}: {error}") from None
    if hasattr(values, "get_credential_dict"):
        try:
            values.get_credential_dict()
        except ValueError as error:
            raise RecipeError(f"{what}: {schema.__name__}: {error}") from None
    return str(schema.__name__)


def _distribution(requirement: str) -> str:
    from packaging.requirements import Requirement

    return re.sub(r"[-_.]+", "-", Requirement(requirement).name).lower()


def _project_metadata() -> dict[str, Any]:
    with (ROOT / "pyproject.toml").open("rb") as handle:
        return dict(tomllib.load(handle)["project"])


def remote_extra() -> list[str]:
    """The project's ``remote`` extra (in every runtime image), from ``pyproject.toml``."""
    return list(_project_metadata()["optional-dependencies"]["remote"])


def runtime_requirements(recipe: RecipeFile) -> list[str]:
    """The runtime image's ``requirements.txt`` for a recipe: the project's core dependencies,
    its ``remote`` extra and the recipe's ``runtime_packages`` (no project code: each step
    downloads the client's code from the artifact store)."""
    return [*_project_metadata()["dependencies"], *remote_extra(), *recipe.spec.runtime_packages]


def resolve_requirements(recipe: RecipeFile) -> int:
    """Resolve the runtime image's requirements with ``pip install --dry-run`` (needs the package
    index; this interpreter stands in for the image's Python 3.11).

    Returns:
        How many distributions pip would install.

    Raises:
        RecipeError: pip cannot resolve them together.
    """
    import subprocess

    with tempfile.TemporaryDirectory(prefix="zenrl-recipes-pip-") as work:
        requirements = Path(work) / "requirements.txt"
        requirements.write_text("\n".join(runtime_requirements(recipe)) + "\n")
        report = Path(work) / "report.json"
        command = [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed"]
        command += ["--quiet", "--report", str(report), "-r", str(requirements)]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            errors = [line for line in done.stderr.splitlines() if line.startswith("ERROR")]
            raise RecipeError(f"{recipe.id}: pip cannot resolve the runtime image: {errors[:2]}")
        return len(json.loads(report.read_text())["install"])


def check_cron(expression: str) -> str:
    """The project's own check of a cron expression (``config.check_cron``)."""
    _project_on_path()
    from config import ConfigError
    from config import check_cron as project_check_cron

    try:
        return project_check_cron(expression)
    except ConfigError as error:
        raise RecipeError(str(error)) from None


def validate_recipe(recipe_id: str, recipe: Recipe, report: Report) -> dict[str, Any]:
    """Step 1: everything that can be checked without a ZenML store.

    Returns:
        Component name -> validated config.

    Raises:
        RecipeError: The first problem found.
    """
    configs = {c.name: validate_component(recipe_id, c) for c in recipe.components}
    report.checked.append(
        "component configurations validated with their flavors' config classes: "
        + ", ".join(f"{type(config).__name__} ({name})" for name, config in configs.items())
    )
    for connector in recipe.connectors:
        validate_connector(recipe_id, connector)
        report.checked.append(
            f"service connector {connector.name!r}: auth method {connector.auth_method!r} "
            "configuration validated"
        )
    readers = {
        c.configuration["authentication_secret"]: c
        for c in recipe.components
        if c.configuration.get("authentication_secret")
    }
    for secret in recipe.secrets:
        if secret.name not in readers:
            raise RecipeError(f"{recipe_id}: secret {secret.name!r} is read by no component")
        schema = validate_secret(recipe_id, secret, readers[secret.name])
        report.checked.append(
            f"secret {secret.name!r} validated with {schema}, the schema its reader "
            f"{readers[secret.name].name!r} expects"
        )
    for name, reader in readers.items():
        if name not in {s.name for s in recipe.secrets}:
            raise RecipeError(
                f"{recipe_id}: {reader.type} {reader.name!r} reads secret {name!r}, which the "
                "recipe does not create"
            )

    registry = configs[recipe.component("container_registry").name]
    image = recipe.parent_image
    if not image.startswith(registry.uri + "/") or ":" not in image.rsplit("/", 1)[1]:
        raise RecipeError(
            f"{recipe_id}: label {PARENT_IMAGE_LABEL}={image!r} must be a tagged image in the "
            f"container registry {registry.uri!r} (<uri>/<name>:<tag>)"
        )
    report.checked.append(f"{PARENT_IMAGE_LABEL} is a tagged image in the stack's registry")

    in_image = {_distribution(r) for r in remote_extra() + recipe.runtime_packages}
    for component in recipe.components:
        needed = IMAGE_REQUIREMENTS.get(f"{component.type}/{component.flavor}", ())
        missing = sorted(set(needed) - in_image)
        if missing:
            raise RecipeError(
                f"{recipe_id}: {component.type} {component.flavor!r} imports {missing} in the "
                "containers; add them to runtime_packages"
            )
    report.checked.append("runtime image packages cover the components' imports in the containers")

    orchestrator = configs[recipe.component("orchestrator").name]
    if recipe.component("orchestrator").flavor == "airflow":
        dag_dir = orchestrator.dag_output_dir or ""
        store = configs[recipe.component("artifact_store").name]
        scheme = next(iter(type(store).SUPPORTED_SCHEMES))
        if not dag_dir.startswith(scheme):
            raise RecipeError(
                f"{recipe_id}: dag_output_dir {dag_dir!r} must be a {scheme} path: ZenML uploads "
                f"the DAG with the artifact store's filesystem"
            )
        report.checked.append(f"dag_output_dir is a {scheme} path the artifact store can write")
    check_cron(recipe.schedule.cron_expression)
    report.checked.append(
        f"schedule {recipe.schedule.cron_expression!r} is a valid cron expression"
    )
    return configs


# ---------------------------------------------------------------------------------------------
# 2. dry run


def _require_throwaway_store() -> None:
    """Refuse to register anything unless ZenML uses a local SQLite store in a temporary dir.

    Raises:
        RecipeError: ZENML_CONFIG_PATH is unset or outside the temporary directory, or the store
            is not a local SQLite database.
    """
    config_path = os.environ.get("ZENML_CONFIG_PATH")
    temp = Path(tempfile.gettempdir()).resolve()
    if not config_path or temp not in Path(config_path).resolve().parents:
        raise RecipeError(
            f"refusing the dry run: ZENML_CONFIG_PATH={config_path!r} is not a throwaway "
            f"directory under {temp} (run `python stacks/recipes/check.py`, which makes one)"
        )
    from zenml.config.global_config import GlobalConfiguration

    store = GlobalConfiguration().store_configuration
    if not store.url.startswith("sqlite:"):
        raise RecipeError(f"refusing the dry run: the ZenML store {store.url} is not local SQLite")


def _run(recipe_id: str, command: Command, runner: Any, cli: Any) -> None:
    argv = list(command.argv)
    if command.contacts_cloud:
        argv.append("--no-verify")
    shown = shlex.join(argv[:4])
    if argv[0] == "python":
        try:
            exec(argv[2], {"__name__": "__zenrl_recipe__"})
        except Exception as error:
            raise RecipeError(f"{recipe_id}: `python -c ...` failed: {error}") from None
        return
    result = runner.invoke(cli, argv[1:], catch_exceptions=True)
    if result.exit_code == 0:
        return
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        message = str(result.exception)
    else:
        lines = [line.strip() for line in result.output.splitlines() if line.strip()]
        message = lines[-1] if lines else f"exit code {result.exit_code}"
    message = re.sub(r"\s+", " ", message).removeprefix("Error: ")
    raise RecipeError(f"{recipe_id}: `{shown} ...` failed: {message}")


def _component_type(name: str) -> Any:
    from zenml.enums import StackComponentType

    return StackComponentType(name)


def _existing(recipe: Recipe) -> list[str]:
    """The recipe's secrets, connectors, components and stack that the store holds."""
    from zenml.client import Client

    client = Client()
    found = [f"secret {s.name}" for s in recipe.secrets if client.list_secrets(name=s.name).total]
    found += [
        f"service connector {c.name}"
        for c in recipe.connectors
        if client.list_service_connectors(name=c.name).total
    ]
    found += [
        f"{c.type} {c.name}"
        for c in recipe.components
        if client.list_stack_components(name=c.name, type=c.type).total
    ]
    if client.list_stacks(name=recipe.stack.name).total:
        found.append(f"stack {recipe.stack.name}")
    return found


def _unregister(recipe: Recipe) -> list[str]:
    """Delete what the dry run registered, stack first; returns what could not be deleted."""
    from zenml.client import Client

    client = Client()
    deletions: list[tuple[str, Any, tuple[Any, ...]]] = [
        (f"stack {recipe.stack.name}", client.delete_stack, (recipe.stack.name,))
    ]
    deletions += [
        (f"{c.type} {c.name}", client.delete_stack_component, (c.name, _component_type(c.type)))
        for c in reversed(recipe.components)
    ]
    deletions += [
        (f"service connector {c.name}", client.delete_service_connector, (c.name,))
        for c in recipe.connectors
    ]
    deletions += [(f"secret {s.name}", client.delete_secret, (s.name,)) for s in recipe.secrets]
    left = []
    with warnings.catch_warnings():
        # SQLAlchemy's note that deleting a stack found its component links already gone
        warnings.filterwarnings("ignore", message="DELETE statement on table 'stack_composition'")
        for what, delete, args in deletions:
            try:
                delete(*args)
            except KeyError:
                continue  # never registered: an earlier command failed
            except Exception as error:
                left.append(f"{what} ({error})")
    return left


@contextlib.contextmanager
def registered(recipe_id: str, recipe: Recipe, report: Report) -> Iterator[Any]:
    """Step 2: run the recipe's commands in a throwaway store; delete everything on exit.

    Yields:
        The registered stack (a ``StackResponse``).

    Raises:
        RecipeError: The store is not a throwaway one, already holds one of the recipe's names,
            or ZenML refused a command.
    """
    _require_throwaway_store()
    from click.testing import CliRunner
    from zenml.cli.cli import cli
    from zenml.client import Client

    existing = _existing(recipe)
    if existing:
        raise RecipeError(f"{recipe_id}: the throwaway store already holds {existing}")
    runner = CliRunner()
    left: list[str] = []
    try:
        for command in commands(recipe):
            _run(recipe_id, command, runner, cli)
        report.checked.append(
            f"dry run: the recipe's {len(commands(recipe))} commands ran through ZenML's CLI "
            "against a throwaway SQLite store"
            + (" (service connectors with --no-verify)" if recipe.connectors else "")
        )
        yield Client().get_stack(recipe.stack.name, allow_name_prefix_match=False)
    finally:
        left = _unregister(recipe)
    leftover = left or _existing(recipe)
    if leftover:
        raise RecipeError(f"{recipe_id}: the dry run could not delete {leftover}")
    report.checked.append("dry run: everything registered was deleted again")


def check_registered(
    recipe_id: str, recipe: Recipe, configs: Mapping[str, Any], stack: Any, report: Report
) -> dict[str, Any]:
    """Compare the store with the recipe and run ZenML's stack validation where possible.

    Returns:
        Component type -> instantiated stack component, for those whose implementation could
        be imported here.

    Raises:
        RecipeError: The store differs from the recipe, or ZenML's validation fails.
    """
    from zenml.client import Client
    from zenml.stack import Stack, StackComponent

    client = Client()
    instances: dict[str, Any] = {}
    not_importable: dict[str, str] = {}
    for spec in recipe.components:
        [model] = stack.components[_component_type(spec.type)]
        expected = configs[spec.name]
        stored = type(expected)(**model.configuration)
        if stored.model_dump(mode="json") != expected.model_dump(mode="json"):
            raise RecipeError(
                f"{recipe_id}: {spec.type} {spec.name!r}: the CLI stored {model.configuration}, "
                f"not the recipe's configuration"
            )
        linked = model.connector.name if model.connector else None
        if linked != spec.connector or (
            spec.resource_id and model.connector_resource_id != spec.resource_id
        ):
            raise RecipeError(
                f"{recipe_id}: {spec.name!r} is connected to {linked!r} "
                f"({model.connector_resource_id!r}), not to {spec.connector!r} "
                f"({spec.resource_id!r})"
            )
        try:
            instances[spec.type] = StackComponent.from_model(model)
        except ImportError as error:
            not_importable[spec.name] = str(error).strip().splitlines()[0]
    report.checked.append("stored component configurations equal the validated ones")
    if (stack.labels or {}).get(PARENT_IMAGE_LABEL) != recipe.parent_image:
        raise RecipeError(f"{recipe_id}: the stack's {PARENT_IMAGE_LABEL} label was not stored")
    for secret in recipe.secrets:
        stored_secret = client.get_secret(secret.name)
        if set(stored_secret.secret_values) != set(secret.values):
            raise RecipeError(f"{recipe_id}: secret {secret.name!r} was stored with other keys")
    if not_importable:
        missing = "; ".join(f"{name}: {message}" for name, message in not_importable.items())
        report.not_checked.append(
            f"ZenML's stack validation (Stack.validate), which instantiates every component: "
            f"{missing} (its ZenML integration's libraries are not installed here)"
        )
    else:
        try:
            Stack.from_model(stack).validate(fail_if_secrets_missing=True)
        except Exception as error:
            message = " ".join(str(error).split())
            raise RecipeError(f"{recipe_id}: ZenML's stack validation: {message}") from None
        report.checked.append("ZenML's stack validation passed (Stack.validate)")
    return instances


# ---------------------------------------------------------------------------------------------
# 3. rendering


def _project_on_path() -> None:
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))


@dataclass(frozen=True)
class ProjectPipeline:
    """The project's training pipeline as the orchestrator sees it."""

    name: str
    steps: dict[str, list[str]]
    """Step -> its upstream steps, in the pipeline's order."""
    schedule_name: str
    """The project's default name of a schedule of this game (also the Airflow DAG id)."""


@functools.cache
def project_pipeline(game: str) -> ProjectPipeline:
    """Wire the project's training pipeline (as ZenML does before compiling it) for ``game``.

    Imports the project's steps, so TensorFlow (once per process).
    """
    _project_on_path()
    from config import resolve_config
    from pipelines.schedules import default_schedule_name
    from pipelines.training import train_pipeline

    pipeline = train_pipeline.copy()
    pipeline.prepare(config=resolve_config(game))
    steps = {}
    for name, invocation in pipeline.invocations.items():
        inputs = [
            artifact
            for value in invocation.input_artifacts.values()
            for artifact in (value if isinstance(value, list) else [value])
        ]
        upstream = set(invocation.upstream_steps) | {a.invocation_id for a in inputs}
        steps[name] = sorted(upstream)
    return ProjectPipeline(pipeline.name, steps, default_schedule_name(game))


def _default_settings(component: Any) -> Any:
    """The component's settings as configured on it (ZenML's compiler applies them so)."""
    names = set(component.settings_class.model_fields)
    return component.settings_class.model_validate(
        component.config.model_dump(include=names, exclude_unset=True, exclude_defaults=True)
    )


def render_cron_job(
    orchestrator: Any, *, image: str, cron_expression: str, pipeline_name: str
) -> dict[str, Any]:
    """The CronJob ZenML's kubernetes orchestrator creates for a scheduled run.

    Mirrors ``KubernetesOrchestrator._submit_orchestrator_job`` (ZenML 0.98) with ZenML's own
    manifest builders; the API calls (creating the token secret and the CronJob) are left out.

    Returns:
        The manifest, as ``kubectl`` reads it (with the orchestrator's namespace).

    Raises:
        RecipeError: No ``service_account_name`` (ZenML would create one through the API).
    """
    from kubernetes.client import ApiClient
    from zenml.client import Client
    from zenml.constants import DYNAMIC_PIPELINE_RUN_FAILED_EXIT_CODE
    from zenml.integrations.kubernetes import kube_utils
    from zenml.integrations.kubernetes.constants import (
        KUBERNETES_SECRET_TOKEN_KEY_NAME,
        ORCHESTRATOR_ANNOTATION_KEY,
    )
    from zenml.integrations.kubernetes.manifest_utils import (
        build_cron_job_manifest,
        job_template_manifest_from_job,
    )
    from zenml.integrations.kubernetes.orchestrators.kubernetes_orchestrator_entrypoint_configuration import (  # noqa: E501
        KubernetesOrchestratorEntrypointConfiguration as Entrypoint,
    )
    from zenml.integrations.kubernetes.pod_settings import KubernetesPodSettings

    settings = _default_settings(orchestrator)
    if not settings.service_account_name:
        raise RecipeError(
            f"orchestrator {orchestrator.name!r}: set service_account_name (without it ZenML "
            "creates `zenml-service-account` through the cluster's API at submission)"
        )
    snapshot_id = uuid.uuid4()  # the snapshot ZenML stores at submission
    environment = {
        "ZENML_STORE_URL": EXAMPLE_SERVER_URL,
        "ZENML_STORE_API_TOKEN": EXAMPLE_API_TOKEN,
    }
    pod_settings = (settings.orchestrator_pod_settings or KubernetesPodSettings()).model_copy(
        deep=True
    )
    if orchestrator.config.pass_zenml_token_as_secret:
        environment.pop("ZENML_STORE_API_TOKEN")
        secret_ref = {
            "name": orchestrator.get_token_secret_name(snapshot_id),
            "key": KUBERNETES_SECRET_TOKEN_KEY_NAME,
        }
        pod_settings.env.append(
            {"name": "ZENML_STORE_API_TOKEN", "valueFrom": {"secretKeyRef": secret_ref}}
        )
    labels = {
        "project_id": kube_utils.sanitize_label_value(str(Client().active_project.id)),
        "pipeline": kube_utils.sanitize_label_value(pipeline_name),
    }
    failure_policy = {
        "rules": [
            {
                "action": "Ignore",
                "onPodConditions": [{"type": "DisruptionTarget", "status": "True"}],
            },
            {
                "action": "FailJob",
                "onExitCodes": {
                    "containerName": "main",
                    "operator": "In",
                    "values": [DYNAMIC_PIPELINE_RUN_FAILED_EXIT_CODE],
                },
            },
            {
                "action": "Count",
                "onExitCodes": {"containerName": "main", "operator": "NotIn", "values": [0]},
            },
        ]
    }
    job = orchestrator._prepare_job_manifest(
        name=orchestrator._get_job_name(settings, pipeline_name=pipeline_name),
        command=Entrypoint.get_entrypoint_command(),
        args=Entrypoint.get_entrypoint_arguments(snapshot_id=snapshot_id),
        image=image,
        environment=environment,
        labels=labels,
        annotations={ORCHESTRATOR_ANNOTATION_KEY: str(orchestrator.id)},
        settings=settings,
        pod_settings=pod_settings,
        backoff_limit=settings.orchestrator_job_backoff_limit,
        pod_failure_policy=failure_policy,
    )
    cron_job = build_cron_job_manifest(
        cron_expression=cron_expression,
        job_template=job_template_manifest_from_job(job),
        successful_jobs_history_limit=settings.successful_jobs_history_limit,
        failed_jobs_history_limit=settings.failed_jobs_history_limit,
        concurrency_policy=settings.concurrency_policy,
        starting_deadline_seconds=settings.starting_deadline_seconds,
    )
    manifest: dict[str, Any] = ApiClient().sanitize_for_serialization(cron_job)
    manifest["metadata"]["namespace"] = orchestrator.config.kubernetes_namespace
    return manifest


class _Response:
    """What ``ApiClient.deserialize`` reads: a response with a JSON ``data`` body."""

    def __init__(self, body: Any) -> None:
        self.data = json.dumps(body)


_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
CRON_JOB_NAME_MAX = 52
"""Kubernetes refuses CronJob names longer than this (it appends 11 characters per job)."""


def check_cron_job(path: Path, *, cron_expression: str, image: str, config: Any) -> Any:
    """Read a rendered CronJob back into the Kubernetes client's ``V1CronJob`` and check it.

    Args:
        path: The rendered ``cronjob.yaml``.
        cron_expression: The schedule it must have.
        image: The image its container must run.
        config: The orchestrator's ``KubernetesOrchestratorConfig``.

    Returns:
        The ``V1CronJob``.

    Raises:
        RecipeError: It does not deserialise, or its schedule, image, command, service account,
            concurrency policy, name or token handling is not what the recipe asks for.
    """
    from kubernetes.client import ApiClient
    from zenml.integrations.kubernetes.orchestrators.kubernetes_orchestrator_entrypoint_configuration import (  # noqa: E501
        KubernetesOrchestratorEntrypointConfiguration as Entrypoint,
    )

    manifest = yaml.safe_load(path.read_text())
    try:
        cron_job = ApiClient().deserialize(_Response(manifest), "V1CronJob")
    except (ValueError, TypeError) as error:
        raise RecipeError(f"{path}: not a valid V1CronJob: {error}") from None
    pod = cron_job.spec.job_template.spec.template.spec
    [container] = pod.containers
    expectations = [
        ("kind", cron_job.kind, "CronJob"),
        ("apiVersion", cron_job.api_version, "batch/v1"),
        ("spec.schedule", cron_job.spec.schedule, cron_expression),
        ("spec.concurrencyPolicy", cron_job.spec.concurrency_policy, config.concurrency_policy),
        ("metadata.namespace", cron_job.metadata.namespace, config.kubernetes_namespace),
        ("the container's image", container.image, image),
        ("the container's command", container.command, Entrypoint.get_entrypoint_command()),
        ("serviceAccountName", pod.service_account_name, config.service_account_name),
        ("restartPolicy", pod.restart_policy, "Never"),
    ]
    for what, got, want in expectations:
        if got != want:
            raise RecipeError(f"{path}: {what} is {got!r}, expected {want!r}")
    name = cron_job.metadata.name or ""
    if not _DNS_SUBDOMAIN.match(name) or len(name) > CRON_JOB_NAME_MAX:
        raise RecipeError(
            f"{path}: Kubernetes refuses the CronJob name {name!r} ({len(name)} characters; a "
            f"DNS subdomain of at most {CRON_JOB_NAME_MAX}): shorten job_name_prefix"
        )
    if "--snapshot_id" not in (container.args or []):
        raise RecipeError(f"{path}: the container's args {container.args} name no snapshot")
    tokens = [var for var in container.env or [] if var.name == "ZENML_STORE_API_TOKEN"]
    if config.pass_zenml_token_as_secret and not (
        tokens and all(var.value is None and var.value_from for var in tokens)
    ):
        raise RecipeError(f"{path}: ZENML_STORE_API_TOKEN is not read from a Secret")
    return cron_job


def render_dag(
    orchestrator: Any,
    *,
    image: str,
    cron_expression: str,
    pipeline: ProjectPipeline,
    settings: Mapping[str, Any],
    out_dir: Path,
) -> Path:
    """The DAG zip ZenML's airflow orchestrator writes for a scheduled run.

    Mirrors ``AirflowOrchestrator.submit_pipeline`` (ZenML 0.98) with ZenML's own DAG generator,
    task and DAG configuration classes, schedule translation and zip writer; the zip goes to
    ``out_dir`` instead of the ``dag_output_dir`` bucket.

    Args:
        orchestrator: The airflow orchestrator (a stack component).
        image: The image every step runs in.
        cron_expression: The schedule.
        pipeline: The project's pipeline.
        settings: Pipeline-level orchestrator settings the project adds (the DAG id).
        out_dir: Where to write the zip.

    Returns:
        The zip's path.
    """
    from zenml.config.schedule import Schedule
    from zenml.entrypoints import StepEntrypointConfiguration
    from zenml.integrations.airflow.orchestrators.airflow_orchestrator import (
        get_dag_generator_values,
    )
    from zenml.orchestrators.utils import get_orchestrator_run_name
    from zenml.utils import pydantic_utils

    merged = pydantic_utils.update_model(_default_settings(orchestrator), update=dict(settings))
    generator = get_dag_generator_values(merged.custom_dag_generator)
    snapshot_id = uuid.uuid4()
    environment = {
        "ZENML_STORE_URL": EXAMPLE_SERVER_URL,
        "ZENML_STORE_API_TOKEN": EXAMPLE_API_TOKEN,
    }
    tasks = [
        generator.task_configuration_class(
            id=step,
            zenml_step_name=step,
            upstream_steps=upstream,
            docker_image=image,
            command=StepEntrypointConfiguration.get_entrypoint_command(),
            arguments=StepEntrypointConfiguration.get_entrypoint_arguments(
                step_name=step, snapshot_id=snapshot_id
            ),
            environment=dict(environment),
            operator_source=merged.operator,
            operator_args=dict(merged.operator_args),
        )
        for step, upstream in pipeline.steps.items()
    ]
    schedule = Schedule(name=pipeline.schedule_name, cron_expression=cron_expression)
    dag_config = generator.dag_configuration_class(
        id=merged.dag_id or get_orchestrator_run_name(pipeline_name=pipeline.name),
        local_stores_path=None,
        tasks=tasks,
        tags=merged.dag_tags,
        dag_args=merged.dag_args,
        **orchestrator._translate_schedule(schedule),
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    orchestrator._write_dag(dag_config, dag_generator_values=generator, output_dir=str(out_dir))
    return out_dir / f"{dag_config.id}.zip"


def check_dag(
    path: Path,
    *,
    cron_expression: str,
    image: str,
    pipeline: ProjectPipeline,
    dag_id: str,
    config: Any,
) -> Any:
    """Open a rendered DAG zip and validate its ``config.json`` with ZenML's ``DagConfiguration``.

    Args:
        path: The rendered zip.
        cron_expression: The schedule it must have.
        image: The image every task must run.
        pipeline: The pipeline whose steps must be its tasks.
        dag_id: Its DAG id.
        config: The orchestrator's ``AirflowOrchestratorConfig``.

    Returns:
        The ``DagConfiguration``.

    Raises:
        RecipeError: The zip's files, schedule, tasks, images, operator or its arguments are not
            what the recipe and the pipeline ask for.
    """
    from zenml.integrations.airflow.orchestrators.dag_generator import (
        CONFIG_FILENAME,
        DagConfiguration,
    )

    with zipfile.ZipFile(path) as archive:
        names = sorted(archive.namelist())
        if names != sorted(["dag.py", CONFIG_FILENAME]):
            raise RecipeError(f"{path}: holds {names}, expected dag.py and {CONFIG_FILENAME}")
        try:
            dag = DagConfiguration.model_validate_json(archive.read(CONFIG_FILENAME))
        except ValidationError as error:
            raise RecipeError(f"{path}: {CONFIG_FILENAME}: {_first_error(error)}") from None
        try:
            compile(archive.read("dag.py"), f"{path}/dag.py", "exec")
        except SyntaxError as error:
            raise RecipeError(f"{path}: dag.py does not compile: {error}") from None
    seen: set[str] = set()
    for task in dag.tasks:
        if not set(task.upstream_steps) <= seen:
            raise RecipeError(f"{path}: task {task.id} comes before its upstream steps")
        seen.add(task.id)
    expectations = [
        ("the schedule", dag.schedule, cron_expression),
        ("the DAG id", dag.id, dag_id),
        ("the tasks", {t.id: t.upstream_steps for t in dag.tasks}, pipeline.steps),
        ("the images", {t.docker_image for t in dag.tasks}, {image}),
        ("the operators", {t.operator_source for t in dag.tasks}, {config.operator}),
        (
            "the operators' arguments",
            [t.operator_args for t in dag.tasks],
            [config.operator_args] * len(dag.tasks),
        ),
        ("dag_args", dag.dag_args, config.dag_args),
    ]
    for what, got, want in expectations:
        if got != want:
            raise RecipeError(f"{path}: {what} is {got!r}, expected {want!r}")
    return dag


def render(
    recipe_id: str,
    recipe: Recipe,
    stack: Any,
    instances: Mapping[str, Any],
    out_dir: Path,
    report: Report,
) -> None:
    """Step 3: render and check what the orchestrator would submit for the recipe's schedule."""
    from zenml.stack import StackComponent

    [model] = stack.components[_component_type("orchestrator")]
    orchestrator: Any = instances.get("orchestrator") or StackComponent.from_model(model)
    pipeline = project_pipeline(recipe.schedule.game)
    cron = recipe.schedule.cron_expression
    target = out_dir / recipe_id
    target.mkdir(parents=True, exist_ok=True)
    if model.flavor_name == "kubernetes":
        manifest = render_cron_job(
            orchestrator,
            image=recipe.parent_image,
            cron_expression=cron,
            pipeline_name=pipeline.name,
        )
        path = target / "cronjob.yaml"
        path.write_text(yaml.safe_dump(manifest, sort_keys=False))
        check_cron_job(
            path, cron_expression=cron, image=recipe.parent_image, config=orchestrator.config
        )
        report.checked.append(
            f"rendered the CronJob of a scheduled run with ZenML's manifest code; read back as "
            f"V1CronJob: schedule {cron!r}, the parent image, ZenML's entrypoint, the service "
            "account, the concurrency policy, a valid name"
            + (
                ", the API token from a Secret"
                if orchestrator.config.pass_zenml_token_as_secret
                else ""
            )
        )
    else:
        _project_on_path()
        from pipelines.schedules import dag_id, orchestrator_settings

        settings = orchestrator_settings(stack, pipeline.schedule_name).get("orchestrator", {})
        path = render_dag(
            orchestrator,
            image=recipe.parent_image,
            cron_expression=cron,
            pipeline=pipeline,
            settings=settings,
            out_dir=target,
        )
        check_dag(
            path,
            cron_expression=cron,
            image=recipe.parent_image,
            pipeline=pipeline,
            dag_id=dag_id(pipeline.schedule_name),
            config=orchestrator.config,
        )
        report.checked.append(
            f"rendered the DAG zip of a scheduled run with ZenML's DAG generator; config.json "
            f"validated with DagConfiguration: schedule {cron!r}, the pipeline's "
            f"{len(pipeline.steps)} steps in order, the parent image, the operator and its args"
        )
        report.notes.append(
            "ZenML's default DAG generator writes each task's environment, including the "
            "schedule's ZenML API token, into config.json: keep the DAG bucket private"
        )
    report.outputs.append(path)


# ---------------------------------------------------------------------------------------------
# the whole check


@dataclass
class Report:
    """What was checked for one recipe, what could not be, and the files written."""

    recipe: str
    checked: list[str] = field(default_factory=list)
    not_checked: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    outputs: list[Path] = field(default_factory=list)

    def format(self) -> str:
        """The report as indented lines."""
        lines = [f"{self.recipe}: OK"]
        lines += [f"  checked: {line}" for line in self.checked]
        lines += [f"  not checked here: {line}" for line in self.not_checked]
        lines += [f"  note: {line}" for line in self.notes]
        lines += [f"  wrote: {path}" for path in self.outputs]
        return "\n".join(lines)


UNCHECKED_CLOUD = "that the cloud resources exist and the credentials reach them (no cloud access)"
UNCHECKED_AIRFLOW = (
    "the DAG inside Airflow: dag.py imports airflow and the KubernetesPodOperator, whose "
    "arguments only the provider can check (Airflow is not installed here)"
)
UNCHECKED_IMAGE = "building and pulling the runtime image (no registry access)"


def check_recipe(recipe: RecipeFile | str | Path, out_dir: Path) -> Report:
    """Run the three checks on one recipe (placeholders filled with their examples).

    Args:
        recipe: The recipe, its path or its id.
        out_dir: Where the rendered manifests go (``<out_dir>/<recipe id>/``).

    Returns:
        The report.

    Raises:
        RecipeError: The first problem found.
    """
    recipe = recipe if isinstance(recipe, RecipeFile) else load_recipe(recipe)
    report = Report(recipe.id)
    filled = fill(recipe)
    configs = validate_recipe(recipe.id, filled, report)
    with registered(recipe.id, filled, report) as stack:
        instances = check_registered(recipe.id, filled, configs, stack, report)
        render(recipe.id, filled, stack, instances, out_dir, report)
    report.not_checked.append(
        UNCHECKED_CLOUD
        + (
            "; the connectors were registered and connected with --no-verify"
            if filled.connectors
            else ""
        )
    )
    if filled.component("orchestrator").flavor == "airflow":
        report.not_checked.append(UNCHECKED_AIRFLOW)
    report.not_checked.append(UNCHECKED_IMAGE)
    stale = [path for path in sync(write=False) if path.parent == recipe.folder]
    if stale:
        raise RecipeError(
            f"{recipe.id}: {', '.join(p.name for p in stale)} out of date; run "
            "`python stacks/recipes/check.py --sync`"
        )
    report.checked.append("README commands and register script match the recipe")
    return report


def _throwaway_zenml_home() -> Path:
    """Point ZenML at a new temporary directory (before ZenML is imported)."""
    if "zenml" in sys.modules:
        raise RuntimeError("ZenML was imported before its throwaway config path was set")
    home = Path(tempfile.mkdtemp(prefix="zenrl-recipes-zenml-"))
    os.environ["ZENML_CONFIG_PATH"] = str(home)
    os.environ["ZENML_ANALYTICS_OPT_IN"] = "false"
    os.environ.setdefault("ZENML_LOGGING_VERBOSITY", "ERROR")
    for name in list(os.environ):
        if name.startswith("ZENML_STORE_") or name == "ZENML_ACTIVE_STACK_ID":
            del os.environ[name]
    return home


def main(argv: list[str] | None = None) -> int:
    """The command line; see the module docstring."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument(
        "recipes", nargs="*", help="recipe ids (default: all), e.g. kubernetes-aws/eks"
    )
    parser.add_argument(
        "--out", type=Path, help="directory for the rendered manifests (default: a new temp dir)"
    )
    parser.add_argument(
        "--resolve",
        action="store_true",
        help="also resolve each runtime image's requirements with pip --dry-run (needs PyPI)",
    )
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--commands", action="store_true", help="print the recipes' zenml commands")
    action.add_argument(
        "--sync", action="store_true", help="rewrite register-*.sh and the README blocks"
    )
    action.add_argument(
        "--requirements",
        action="store_true",
        help="print one recipe's runtime image requirements.txt",
    )
    args = parser.parse_args(argv)
    try:
        recipes = [load_recipe(r) for r in args.recipes] or [load_recipe(p) for p in recipe_files()]
        if args.commands:
            print("\n\n".join(f"# {recipe.id}\n{readme_commands(recipe)}" for recipe in recipes))
            return 0
        if args.requirements:
            if len(args.recipes) != 1:
                raise RecipeError(
                    "--requirements takes exactly one recipe, e.g. kubernetes-aws/eks"
                )
            print("\n".join(runtime_requirements(recipes[0])))
            return 0
        if args.sync:
            for path in sync(write=True):
                print(f"rewrote {path.relative_to(ROOT)}")
            return 0
        home = _throwaway_zenml_home()
        out_dir = args.out or Path(tempfile.mkdtemp(prefix="zenrl-recipes-rendered-"))
        try:
            for recipe in recipes:
                report = check_recipe(recipe, out_dir)
                if args.resolve:
                    count = resolve_requirements(recipe)
                    report.checked.append(
                        f"the runtime image's requirements resolve together ({count} "
                        "distributions, pip install --dry-run against the package index)"
                    )
                print(report.format(), flush=True)
        finally:
            shutil.rmtree(home, ignore_errors=True)
    except RecipeError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
