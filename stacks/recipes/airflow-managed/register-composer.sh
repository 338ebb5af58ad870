#!/usr/bin/env bash
# Registers the ZenML stack `zenrl-composer`: Airflow orchestrator on Cloud Composer (KubernetesPodOperator), GCS artifact store, Artifact Registry; key in a ZenML secret.
# Generated from composer.yaml by `python stacks/recipes/check.py --sync`; do not edit.
# Log in to your ZenML server first (`zenml login <url>`); see README.md.
set -euo pipefail

need() { [ -n "${!1:-}" ] || { echo "set $1: $2" >&2; exit 2; }; }
need ZENRL_PROJECT 'Google Cloud project id'
need ZENRL_LOCATION 'region of the Artifact Registry repository'
need ZENRL_COMPOSER_BUCKET 'the environment'"'"'s bucket (gcloud composer environments describe ... --format='"'"'value(config.dagGcsPrefix)'"'"')'
need ZENRL_BUCKET 'Cloud Storage bucket of the artifact store'
need ZENRL_REPOSITORY 'Artifact Registry Docker repository'
need ZENRL_KEY_FILE 'JSON key of a service account with Storage Object Admin on both buckets'
need ZENRL_IMAGE_TAG 'tag of the runtime image pushed to Artifact Registry'

zenml secret create zenrl-composer-gcs --token="@${ZENRL_KEY_FILE}"
zenml orchestrator register zenrl-composer \
    --flavor=airflow \
    --local=false \
    --dag_output_dir="gs://${ZENRL_COMPOSER_BUCKET}/dags" \
    --operator=airflow.providers.cncf.kubernetes.operators.pod.KubernetesPodOperator \
    --operator_args='{"namespace": "composer-user-workloads", "kubernetes_conn_id": "kubernetes_default", "config_file": "/home/airflow/composer_kube_config", "get_logs": true, "on_finish_action": "delete_succeeded_pod", "startup_timeout_seconds": 900}' \
    --dag_args='{"max_active_runs": 1}' \
    --dag_tags='["zenrl"]'
zenml artifact-store register zenrl-composer-gcs \
    --flavor=gcp \
    --path="gs://${ZENRL_BUCKET}/zenrl" \
    --authentication_secret=zenrl-composer-gcs
zenml container-registry register zenrl-composer-gar \
    --flavor=gcp \
    --uri="${ZENRL_LOCATION}-docker.pkg.dev/${ZENRL_PROJECT}/${ZENRL_REPOSITORY}"
zenml image-builder register zenrl-composer-builder --flavor=local
zenml stack register zenrl-composer \
    -o zenrl-composer \
    -a zenrl-composer-gcs \
    -c zenrl-composer-gar \
    -i zenrl-composer-builder
python -c "from zenml.client import Client; Client().update_stack(\"zenrl-composer\", labels={\"zenrl.parent_image\": \"${ZENRL_LOCATION}-docker.pkg.dev/${ZENRL_PROJECT}/${ZENRL_REPOSITORY}/zenrl-runtime:${ZENRL_IMAGE_TAG}\"})"
