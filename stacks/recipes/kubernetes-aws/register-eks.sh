#!/usr/bin/env bash
# Registers the ZenML stack `zenrl-eks`: Kubernetes orchestrator on EKS, S3 artifact store, ECR; one AWS service connector.
# Generated from eks.yaml by `python stacks/recipes/check.py --sync`; do not edit.
# Log in to your ZenML server first (`zenml login <url>`); see README.md.
set -euo pipefail

need() { [ -n "${!1:-}" ] || { echo "set $1: $2" >&2; exit 2; }; }
need ZENRL_REGION 'AWS region of the cluster, the bucket and the registry'
need ZENRL_ACCOUNT_ID '12-digit AWS account id (aws sts get-caller-identity)'
need ZENRL_EKS_CLUSTER 'name of the EKS cluster'
need ZENRL_BUCKET 'S3 bucket of the artifact store'
need ZENRL_AWS_ACCESS_KEY_ID 'access key id of an IAM identity allowed to use the cluster, the bucket and ECR'
need ZENRL_AWS_SECRET_ACCESS_KEY 'its secret access key'
need ZENRL_IMAGE_TAG 'tag of the runtime image pushed to ECR'

zenml service-connector register zenrl-aws \
    --type=aws \
    --auth-method=secret-key \
    --region="${ZENRL_REGION}" \
    --aws_access_key_id="${ZENRL_AWS_ACCESS_KEY_ID}" \
    --aws_secret_access_key="${ZENRL_AWS_SECRET_ACCESS_KEY}"
zenml orchestrator register zenrl-eks \
    --flavor=kubernetes \
    --kubernetes_namespace=zenrl \
    --service_account_name=zenrl-runner \
    --pass_zenml_token_as_secret=true \
    --concurrency_policy=Forbid \
    --starting_deadline_seconds=3600 \
    --successful_jobs_history_limit=3 \
    --failed_jobs_history_limit=5 \
    --orchestrator_pod_settings='{"resources": {"requests": {"cpu": "500m", "memory": "1Gi"}}}' \
    --pod_settings='{"resources": {"requests": {"cpu": "2", "memory": "8Gi"}, "limits": {"memory": "12Gi"}}}'
zenml orchestrator connect zenrl-eks --connector=zenrl-aws --resource-id="${ZENRL_EKS_CLUSTER}"
zenml artifact-store register zenrl-s3 --flavor=s3 --path="s3://${ZENRL_BUCKET}/zenrl"
zenml artifact-store connect zenrl-s3 --connector=zenrl-aws
zenml container-registry register zenrl-ecr \
    --flavor=aws \
    --uri="${ZENRL_ACCOUNT_ID}.dkr.ecr.${ZENRL_REGION}.amazonaws.com"
zenml container-registry connect zenrl-ecr --connector=zenrl-aws
zenml image-builder register zenrl-eks-builder --flavor=local
zenml stack register zenrl-eks -o zenrl-eks -a zenrl-s3 -c zenrl-ecr -i zenrl-eks-builder
python -c "from zenml.client import Client; Client().update_stack(\"zenrl-eks\", labels={\"zenrl.parent_image\": \"${ZENRL_ACCOUNT_ID}.dkr.ecr.${ZENRL_REGION}.amazonaws.com/zenrl-runtime:${ZENRL_IMAGE_TAG}\"})"
