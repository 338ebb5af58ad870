#!/usr/bin/env bash
# Registers the ZenML stack `zenrl-mwaa`: Airflow orchestrator on MWAA (KubernetesPodOperator on EKS), S3 artifact store, ECR; key in a ZenML secret.
# Generated from mwaa.yaml by `python stacks/recipes/check.py --sync`; do not edit.
# Log in to your ZenML server first (`zenml login <url>`); see README.md.
set -euo pipefail

need() { [ -n "${!1:-}" ] || { echo "set $1: $2" >&2; exit 2; }; }
need ZENRL_REGION 'AWS region of the environment, the buckets and the registry'
need ZENRL_ACCOUNT_ID '12-digit AWS account id'
need ZENRL_MWAA_BUCKET 'the MWAA environment'"'"'s S3 bucket (its DAG folder is dags/)'
need ZENRL_BUCKET 'S3 bucket of the artifact store'
need ZENRL_AWS_ACCESS_KEY_ID 'access key id allowed to read and write both buckets'
need ZENRL_AWS_SECRET_ACCESS_KEY 'its secret access key'
need ZENRL_IMAGE_TAG 'tag of the runtime image pushed to ECR'

zenml secret create zenrl-s3-credentials \
    --aws_access_key_id="${ZENRL_AWS_ACCESS_KEY_ID}" \
    --aws_secret_access_key="${ZENRL_AWS_SECRET_ACCESS_KEY}"
zenml orchestrator register zenrl-mwaa \
    --flavor=airflow \
    --local=false \
    --dag_output_dir="s3://${ZENRL_MWAA_BUCKET}/dags" \
    --operator=airflow.providers.cncf.kubernetes.operators.pod.KubernetesPodOperator \
    --operator_args='{"namespace": "mwaa", "in_cluster": false, "config_file": "/usr/local/airflow/dags/kube_config.yaml", "cluster_context": "aws", "get_logs": true, "on_finish_action": "delete_succeeded_pod", "startup_timeout_seconds": 900}' \
    --dag_args='{"max_active_runs": 1}' \
    --dag_tags='["zenrl"]'
zenml artifact-store register zenrl-mwaa-s3 \
    --flavor=s3 \
    --path="s3://${ZENRL_BUCKET}/zenrl" \
    --authentication_secret=zenrl-s3-credentials
zenml container-registry register zenrl-mwaa-ecr \
    --flavor=aws \
    --uri="${ZENRL_ACCOUNT_ID}.dkr.ecr.${ZENRL_REGION}.amazonaws.com"
zenml image-builder register zenrl-mwaa-builder --flavor=local
zenml stack register zenrl-mwaa \
    -o zenrl-mwaa \
    -a zenrl-mwaa-s3 \
    -c zenrl-mwaa-ecr \
    -i zenrl-mwaa-builder
python -c "from zenml.client import Client; Client().update_stack(\"zenrl-mwaa\", labels={\"zenrl.parent_image\": \"${ZENRL_ACCOUNT_ID}.dkr.ecr.${ZENRL_REGION}.amazonaws.com/zenrl-runtime:${ZENRL_IMAGE_TAG}\"})"
