#!/usr/bin/env bash
# Registers the ZenML stack `zenrl-gke`: Kubernetes orchestrator on GKE, GCS artifact store, Artifact Registry; key in a ZenML secret.
# Generated from gke.yaml by `python stacks/recipes/check.py --sync`; do not edit.
# Log in to your ZenML server first (`zenml login <url>`); see README.md.
set -euo pipefail

need() { [ -n "${!1:-}" ] || { echo "set $1: $2" >&2; exit 2; }; }
need ZENRL_PROJECT 'Google Cloud project id'
need ZENRL_LOCATION 'region of the cluster and of the Artifact Registry repository'
need ZENRL_GKE_CLUSTER 'name of the GKE cluster'
need ZENRL_BUCKET 'Cloud Storage bucket of the artifact store'
need ZENRL_REPOSITORY 'Artifact Registry Docker repository'
need ZENRL_KEY_FILE 'JSON key of a service account with Storage Object Admin on the bucket'
need ZENRL_IMAGE_TAG 'tag of the runtime image pushed to Artifact Registry'

zenml secret create zenrl-gcs --token="@${ZENRL_KEY_FILE}"
zenml orchestrator register zenrl-gke \
    --flavor=kubernetes \
    --kubernetes_context="gke_${ZENRL_PROJECT}_${ZENRL_LOCATION}_${ZENRL_GKE_CLUSTER}" \
    --kubernetes_namespace=zenrl \
    --service_account_name=zenrl-runner \
    --pass_zenml_token_as_secret=true \
    --concurrency_policy=Forbid \
    --starting_deadline_seconds=3600 \
    --successful_jobs_history_limit=3 \
    --failed_jobs_history_limit=5 \
    --orchestrator_pod_settings='{"resources": {"requests": {"cpu": "500m", "memory": "1Gi"}}}' \
    --pod_settings='{"resources": {"requests": {"cpu": "2", "memory": "8Gi"}, "limits": {"memory": "12Gi"}}}'
zenml artifact-store register zenrl-gcs \
    --flavor=gcp \
    --path="gs://${ZENRL_BUCKET}/zenrl" \
    --authentication_secret=zenrl-gcs
zenml container-registry register zenrl-gar \
    --flavor=gcp \
    --uri="${ZENRL_LOCATION}-docker.pkg.dev/${ZENRL_PROJECT}/${ZENRL_REPOSITORY}"
zenml image-builder register zenrl-gke-builder --flavor=local
zenml stack register zenrl-gke -o zenrl-gke -a zenrl-gcs -c zenrl-gar -i zenrl-gke-builder
python -c "from zenml.client import Client; Client().update_stack(\"zenrl-gke\", labels={\"zenrl.parent_image\": \"${ZENRL_LOCATION}-docker.pkg.dev/${ZENRL_PROJECT}/${ZENRL_REPOSITORY}/zenrl-runtime:${ZENRL_IMAGE_TAG}\"})"
