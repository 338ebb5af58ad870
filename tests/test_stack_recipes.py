"""The cloud stack recipes (``stacks/recipes``), checked as far as this machine allows.

Each recipe's configuration is validated with ZenML's flavor config classes, its own ``zenml``
commands run against the session's throwaway SQLite store (``tests/conftest.py``) and are deleted
again, and the CronJob or DAG zip its orchestrator would submit for a schedule is rendered with
ZenML's code and checked. The other tests show that each check refuses what it should.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from stacks.recipes import check

RECIPES = [f"{path.parent.name}/{path.stem}" for path in check.recipe_files()]


@pytest.fixture(scope="module")
def checked(
    zenml_client: Any, tmp_path_factory: pytest.TempPathFactory
) -> Callable[[str], check.Report]:
    """``checked(recipe_id)``: the recipe's full check, run once per module (in the session's
    throwaway store; ``zenml_client`` asserts it is not the user's)."""
    out_dir = tmp_path_factory.mktemp("rendered")
    reports: dict[str, check.Report] = {}

    def run(recipe_id: str) -> check.Report:
        if recipe_id not in reports:
            reports[recipe_id] = check.check_recipe(recipe_id, out_dir)
        return reports[recipe_id]

    return run


def variant(
    tmp_path: Path, recipe_id: str, change: Callable[[dict[str, Any]], None]
) -> check.RecipeFile:
    """A copy of a recipe, changed by ``change(raw)``, in ``tmp_path/<folder>/<variant>.yaml``
    (with the stand-in key file beside it, where the recipes expect it)."""
    raw = yaml.safe_load((check.RECIPES_DIR / f"{recipe_id}.yaml").read_text())
    change(raw)
    path = tmp_path / f"{recipe_id}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    key = check.RECIPES_DIR / "example-service-account.json"
    shutil.copy(key, tmp_path / key.name)
    return check.load_recipe(path)


def component(raw: dict[str, Any], component_type: str) -> dict[str, Any]:
    """The raw recipe's component of a type."""
    return next(c for c in raw["components"] if c["type"] == component_type)


def validate(recipe: check.RecipeFile) -> dict[str, Any]:
    """Step 1 of the check on a recipe (placeholders filled with their examples)."""
    return check.validate_recipe(recipe.id, check.fill(recipe), check.Report(recipe.id))


# --------------------------------------------------------------------------------- the recipes


@pytest.mark.parametrize("recipe_id", RECIPES)
def test_recipe_passes_every_check(
    recipe_id: str, checked: Callable[[str], check.Report], zenml_client: Any
) -> None:
    report = checked(recipe_id)

    checked_lines = "\n".join(report.checked)
    for step in ("config classes", "dry run: the recipe's", "deleted again", "rendered the"):
        assert step in checked_lines
    [output] = report.outputs
    assert output.is_file()
    # the dry run left nothing behind in the store
    recipe = check.fill(check.load_recipe(recipe_id))
    assert check._existing(recipe) == []
    assert recipe.stack.name not in {s.name for s in zenml_client.list_stacks(size=100).items}


@pytest.mark.parametrize("recipe_id", [r for r in RECIPES if r.startswith("kubernetes")])
def test_cron_job_runs_the_parent_image_on_the_schedule(
    recipe_id: str, checked: Callable[[str], check.Report]
) -> None:
    recipe = check.fill(check.load_recipe(recipe_id))
    [path] = checked(recipe_id).outputs
    manifest = yaml.safe_load(path.read_text())

    assert manifest["kind"] == "CronJob"
    assert manifest["spec"]["schedule"] == recipe.schedule.cron_expression == "0 3 * * *"
    assert manifest["spec"]["concurrencyPolicy"] == "Forbid"
    pod = manifest["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    [container] = pod["containers"]
    assert container["image"] == recipe.parent_image
    assert container["command"][-1].endswith("kubernetes_orchestrator_entrypoint")
    token = next(v for v in container["env"] if v["name"] == "ZENML_STORE_API_TOKEN")
    assert "value" not in token and token["valueFrom"]["secretKeyRef"]["name"].startswith("zenml-")


@pytest.mark.parametrize("recipe_id", [r for r in RECIPES if r.startswith("airflow")])
def test_dag_runs_every_step_in_the_parent_image_on_the_schedule(
    recipe_id: str, checked: Callable[[str], check.Report]
) -> None:
    from zenml.integrations.airflow.orchestrators.dag_generator import DagConfiguration

    recipe = check.fill(check.load_recipe(recipe_id))
    [path] = checked(recipe_id).outputs
    with zipfile.ZipFile(path) as archive:
        dag = DagConfiguration.model_validate_json(archive.read("config.json"))

    assert path.name == "dqn_breakout_schedule.zip"
    assert dag.schedule == "0 3 * * *"
    assert [task.id for task in dag.tasks][:2] == ["game_wrap", "build_dqn"]
    assert "train" in dag.tasks[-1].upstream_steps or "evaluate" in dag.tasks[-1].upstream_steps
    assert {task.docker_image for task in dag.tasks} == {recipe.parent_image}
    assert {task.operator_source for task in dag.tasks} == {
        "airflow.providers.cncf.kubernetes.operators.pod.KubernetesPodOperator"
    }
    assert dag.dag_args == {"max_active_runs": 1}


def test_cron_job_schedule_is_the_cron_expression_given(tmp_path: Path, zenml_client: Any) -> None:
    def nightly_at_4_15_on_mondays(raw: dict[str, Any]) -> None:
        raw["schedule"]["cron_expression"] = "15 4 * * 1"

    recipe = variant(tmp_path, "kubernetes-aws/eks", nightly_at_4_15_on_mondays)
    report = check.check_recipe(recipe, tmp_path / "rendered")
    [path] = report.outputs

    assert yaml.safe_load(path.read_text())["spec"]["schedule"] == "15 4 * * 1"
    config = validate(recipe)["zenrl-eks"]
    image = check.fill(recipe).parent_image
    cron_job = check.check_cron_job(path, cron_expression="15 4 * * 1", image=image, config=config)
    assert cron_job.spec.schedule == "15 4 * * 1"
    with pytest.raises(check.RecipeError, match=r"spec.schedule is '15 4 \* \* 1', expected"):
        check.check_cron_job(path, cron_expression="0 3 * * *", image=image, config=config)


def test_rendered_manifests_that_differ_from_the_recipe_are_refused(
    checked: Callable[[str], check.Report], tmp_path: Path
) -> None:
    recipe = check.load_recipe("kubernetes-aws/eks")
    config = validate(recipe)["zenrl-eks"]
    image = check.fill(recipe).parent_image
    [path] = checked("kubernetes-aws/eks").outputs
    manifest = yaml.safe_load(path.read_text())
    container = manifest["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
    container["image"] = "docker.io/library/python:3.11"
    container["env"] = [{"name": "ZENML_STORE_API_TOKEN", "value": "plain text"}]
    tampered = tmp_path / "cronjob.yaml"
    tampered.write_text(yaml.safe_dump(manifest))
    with pytest.raises(check.RecipeError, match=r"the container's image is 'docker\.io"):
        check.check_cron_job(tampered, cron_expression="0 3 * * *", image=image, config=config)
    container["image"] = image
    tampered.write_text(yaml.safe_dump(manifest))
    with pytest.raises(check.RecipeError, match="ZENML_STORE_API_TOKEN is not read from a Secret"):
        check.check_cron_job(tampered, cron_expression="0 3 * * *", image=image, config=config)
    del manifest["spec"]["schedule"]
    tampered.write_text(yaml.safe_dump(manifest))
    with pytest.raises(check.RecipeError, match="not a valid V1CronJob"):
        check.check_cron_job(tampered, cron_expression="0 3 * * *", image=image, config=config)

    mwaa = check.load_recipe("airflow-managed/mwaa")
    [zip_path] = checked("airflow-managed/mwaa").outputs
    with zipfile.ZipFile(zip_path) as archive:
        config_json = json.loads(archive.read("config.json"))
        dag_py = archive.read("dag.py")
    config_json["tasks"][3]["docker_image"] = "docker.io/library/python:3.11"
    tampered_zip = tmp_path / zip_path.name
    with zipfile.ZipFile(tampered_zip, "w") as archive:
        archive.writestr("dag.py", dag_py)
        archive.writestr("config.json", json.dumps(config_json))
    with pytest.raises(check.RecipeError, match="the images is"):
        check.check_dag(
            tampered_zip,
            cron_expression="0 3 * * *",
            image=check.fill(mwaa).parent_image,
            pipeline=check.project_pipeline("breakout"),
            dag_id="dqn_breakout_schedule",
            config=validate(mwaa)["zenrl-mwaa"],
        )


def test_a_cron_job_name_kubernetes_refuses_fails_the_check_and_leaves_nothing_behind(
    tmp_path: Path,
) -> None:
    def long_prefix(raw: dict[str, Any]) -> None:
        component(raw, "orchestrator")["configuration"]["job_name_prefix"] = (
            "zenrl-continual-training-of-the-breakout-agent"
        )

    recipe = variant(tmp_path, "kubernetes-aws/eks", long_prefix)
    with pytest.raises(
        check.RecipeError, match=r"Kubernetes refuses the CronJob name .* at most 52"
    ):
        check.check_recipe(recipe, tmp_path / "rendered")
    assert check._existing(check.fill(recipe)) == []


# ------------------------------------------------------------------- what the checks refuse


def test_a_wrong_configuration_key_is_refused_by_the_flavor_config_class(tmp_path: Path) -> None:
    def typo(raw: dict[str, Any]) -> None:
        component(raw, "orchestrator")["configuration"]["kubernetes_namespce"] = "zenrl"

    recipe = variant(tmp_path, "kubernetes-aws/eks", typo)
    with pytest.raises(
        check.RecipeError,
        match=r"orchestrator 'zenrl-eks' \(flavor kubernetes\): unknown configuration keys "
        r"\['kubernetes_namespce'\]; KubernetesOrchestratorConfig has",
    ):
        validate(recipe)


def test_a_wrong_configuration_key_is_refused_by_zenml_in_the_dry_run(
    tmp_path: Path, zenml_client: Any
) -> None:
    def typo(raw: dict[str, Any]) -> None:
        component(raw, "artifact_store")["configuration"]["pth"] = "s3://<bucket>/zenrl"

    recipe = check.fill(variant(tmp_path, "airflow-managed/mwaa", typo))
    report = check.Report("airflow-managed/mwaa")
    with (
        pytest.raises(check.RecipeError, match=r"Invalid configuration keys \['pth'\]"),
        check.registered("airflow-managed/mwaa", recipe, report),
    ):
        pytest.fail("the dry run registered an artifact store with an unknown key")
    assert check._existing(recipe) == []


# ZenML's own artifact store check still calls pydantic's deprecated `schema()` for its message
@pytest.mark.filterwarnings("ignore:The `schema` method is deprecated")
def test_a_value_the_flavor_refuses_is_named(tmp_path: Path) -> None:
    def http_path(raw: dict[str, Any]) -> None:
        component(raw, "artifact_store")["configuration"]["path"] = "https://<bucket>/zenrl"

    with pytest.raises(check.RecipeError, match=r"artifact_store 'zenrl-gcs'.*gs://"):
        validate(variant(tmp_path, "kubernetes-gcp/gke", http_path))


def test_a_connector_key_its_auth_method_lacks_is_refused(tmp_path: Path) -> None:
    def typo(raw: dict[str, Any]) -> None:
        raw["connectors"][0]["configuration"]["aws_secret_key"] = "x"

    with pytest.raises(check.RecipeError, match=r"unknown configuration keys \['aws_secret_key'\]"):
        validate(variant(tmp_path, "kubernetes-aws/eks", typo))


def test_a_gcp_secret_whose_token_is_not_a_key_is_refused(tmp_path: Path) -> None:
    def plain_token(raw: dict[str, Any]) -> None:
        raw["secrets"][0]["values"]["token"] = "not-json"
        del raw["placeholders"]["key-file"]

    with pytest.raises(check.RecipeError, match=r"secret 'zenrl-composer-gcs'.*GCPSecretSchema"):
        validate(variant(tmp_path, "airflow-managed/composer", plain_token))


def test_the_parent_image_must_be_in_the_stacks_registry(tmp_path: Path) -> None:
    def docker_hub(raw: dict[str, Any]) -> None:
        raw["stack"]["labels"]["zenrl.parent_image"] = "docker.io/zenrl/zenrl-runtime:<image-tag>"

    with pytest.raises(check.RecipeError, match="must be a tagged image in the container registry"):
        validate(variant(tmp_path, "kubernetes-aws/eks", docker_hub))


def test_the_runtime_image_must_have_what_the_components_import(tmp_path: Path) -> None:
    def no_extras(raw: dict[str, Any]) -> None:
        raw["runtime_packages"] = ["Jinja2", "gcsfs", "google-cloud-storage"]

    with pytest.raises(check.RecipeError, match=r"kubernetes' imports \['kubernetes'\]"):
        validate(variant(tmp_path, "kubernetes-gcp/gke", no_extras))


def test_the_dag_folder_must_be_writable_by_the_artifact_store(tmp_path: Path) -> None:
    def gcs_dags(raw: dict[str, Any]) -> None:
        component(raw, "orchestrator")["configuration"]["dag_output_dir"] = "gs://<mwaa-bucket>/d"

    with pytest.raises(check.RecipeError, match="dag_output_dir 'gs://zenrl-mwaa/d' must be a s3"):
        validate(variant(tmp_path, "airflow-managed/mwaa", gcs_dags))


def test_an_invalid_cron_expression_is_refused(tmp_path: Path) -> None:
    def bad_cron(raw: dict[str, Any]) -> None:
        raw["schedule"]["cron_expression"] = "0 25 * * *"

    with pytest.raises(check.RecipeError, match="hour field '25' is invalid"):
        validate(variant(tmp_path, "kubernetes-aws/eks", bad_cron))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda raw: raw["stack"]["labels"].update({"zenrl.parent_image": "<registry>/x:1"}),
            r"uses placeholders \['registry'\] that `placeholders` does not declare",
        ),
        (
            lambda raw: raw["placeholders"].update({"unused": {"example": "x", "help": "y"}}),
            r"declares placeholders \['unused'\] it never uses",
        ),
        (lambda raw: raw.update({"stacks": {}}), "stacks: Extra inputs are not permitted"),
        (
            lambda raw: raw["components"].pop(),
            "needs exactly one image_builder component, has 0",
        ),
    ],
    ids=["undeclared placeholder", "unused placeholder", "unknown key", "missing component"],
)
def test_a_malformed_recipe_is_refused_in_one_line(
    tmp_path: Path, change: Callable[[dict[str, Any]], None], message: str
) -> None:
    with pytest.raises(check.RecipeError, match=message) as error:
        variant(tmp_path, "kubernetes-aws/eks", change)
    assert "\n" not in str(error.value)


def test_the_dry_run_refuses_a_store_that_is_not_a_throwaway_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    recipe = check.fill(check.load_recipe("kubernetes-aws/eks"))
    monkeypatch.setenv("ZENML_CONFIG_PATH", str(Path.home() / ".config" / "zenml"))
    with (
        pytest.raises(check.RecipeError, match="refusing the dry run"),
        check.registered("kubernetes-aws/eks", recipe, check.Report("x")),
    ):
        pytest.fail("registered in a store outside the temporary directory")


# ------------------------------------------------------------------- the generated commands


def test_readmes_and_register_scripts_are_generated_from_the_recipes() -> None:
    assert check.sync(write=False) == [], "run `python stacks/recipes/check.py --sync`"


@pytest.mark.parametrize("recipe_id", RECIPES)
def test_register_script_is_bash_and_names_a_missing_placeholder(recipe_id: str) -> None:
    script = check.load_recipe(recipe_id).script
    assert subprocess.run(["bash", "-n", str(script)], check=False).returncode == 0
    done = subprocess.run(
        ["bash", str(script)],
        capture_output=True,
        text=True,
        env={"PATH": os.environ["PATH"]},
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.startswith("set ZENRL_")


def test_the_label_is_the_one_the_pipeline_reads() -> None:
    from stacks.runtime import PARENT_IMAGE_LABEL

    assert check.PARENT_IMAGE_LABEL == PARENT_IMAGE_LABEL


def test_commands_carry_every_configuration_value() -> None:
    recipe = check.load_recipe("airflow-managed/mwaa")
    text = check.readme_commands(recipe)
    assert "zenml orchestrator register zenrl-mwaa" in text
    assert "--dag_output_dir='s3://<mwaa-bucket>/dags'" in text
    assert '"startup_timeout_seconds": 900' in text
    assert "zenml stack register zenrl-mwaa" in text
    assert '"zenrl.parent_image": "<account-id>.dkr.ecr.<region>.amazonaws.com' in text
