#!/usr/bin/env bash
# Example: a Kubernetes stack with a remote MLflow server and S3-compatible object storage.
# Not run by the tests (no cluster here); adapt the variables and run it once per ZenML server.
#
#   export K8S_CONTEXT=my-cluster  K8S_NAMESPACE=synthir
#   export ARTIFACT_BUCKET=s3://my-bucket/synthir      # or gs://..., az://...
#   export CONTAINER_REGISTRY=123456789.dkr.ecr.eu-west-1.amazonaws.com/synthir
#   export MLFLOW_URI=https://mlflow.example.com  MLFLOW_USERNAME=...  MLFLOW_PASSWORD=...
#   bash infra/kubernetes/register_stack.sh
#
# Needs: `zenml connect` to a deployed ZenML server (a local SQLite store cannot serve a cluster),
# and `zenml integration install kubernetes s3 mlflow -y` (not huggingface / great_expectations:
# those pin old datasets / GX 0.x; synthir uses GX 1.x directly).
set -euo pipefail

: "${K8S_CONTEXT:?set K8S_CONTEXT}" "${K8S_NAMESPACE:=synthir}"
: "${ARTIFACT_BUCKET:?set ARTIFACT_BUCKET}" "${CONTAINER_REGISTRY:?set CONTAINER_REGISTRY}"
: "${MLFLOW_URI:?set MLFLOW_URI}" "${MLFLOW_USERNAME:?set MLFLOW_USERNAME}" "${MLFLOW_PASSWORD:?set MLFLOW_PASSWORD}"

exists() { zenml "$1" describe "$2" >/dev/null 2>&1; }

exists secret mlflow_secret || zenml secret create mlflow_secret \
  --username="$MLFLOW_USERNAME" --password="$MLFLOW_PASSWORD"

exists orchestrator k8s_orchestrator || zenml orchestrator register k8s_orchestrator \
  --flavor=kubernetes --kubernetes_context="$K8S_CONTEXT" --kubernetes_namespace="$K8S_NAMESPACE"

# GPU steps (generation, training) run as separate pods with GPU resources requested per step
# (see configs/stacks/k8s_gpu.yaml: step_operator: k8s_gpu and a resources request per step).
exists step-operator k8s_gpu || zenml step-operator register k8s_gpu \
  --flavor=kubernetes --kubernetes_context="$K8S_CONTEXT" --kubernetes_namespace="$K8S_NAMESPACE"

exists artifact-store remote_store || zenml artifact-store register remote_store \
  --flavor=s3 --path="$ARTIFACT_BUCKET"

exists container-registry registry || zenml container-registry register registry \
  --flavor=default --uri="$CONTAINER_REGISTRY"

exists image-builder kaniko || zenml image-builder register kaniko \
  --flavor=kaniko --kubernetes_context="$K8S_CONTEXT"

exists experiment-tracker mlflow_remote || zenml experiment-tracker register mlflow_remote \
  --flavor=mlflow --tracking_uri="$MLFLOW_URI" \
  --tracking_username='{{mlflow_secret.username}}' --tracking_password='{{mlflow_secret.password}}'

exists model-registry mlflow_registry_remote || zenml model-registry register mlflow_registry_remote --flavor=mlflow

exists stack synthir_k8s || zenml stack register synthir_k8s \
  -o k8s_orchestrator -a remote_store -c registry -i kaniko \
  -e mlflow_remote -r mlflow_registry_remote -s k8s_gpu

zenml stack set synthir_k8s
echo "Stack synthir_k8s is active: the same 'zenml pipeline run ...' commands now run on the cluster."
