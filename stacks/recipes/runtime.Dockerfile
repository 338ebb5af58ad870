# The runtime image of the cloud stack recipes, named by the stack label zenrl.parent_image.
# Its contents match the image stacks/airflow-local/up.sh builds: the project's core
# dependencies and its `remote` extra, plus the recipe's runtime_packages. It holds no project
# code: ZenML uploads the client's working tree to the artifact store at submission and every
# step container downloads it (stacks/runtime.py), so the image changes only with the
# dependencies. Build it from an empty context holding the recipe's requirements.txt:
#
#   mkdir -p build/runtime
#   python stacks/recipes/check.py --requirements kubernetes-aws/eks > build/runtime/requirements.txt
#   docker build --platform linux/amd64 -f stacks/recipes/runtime.Dockerfile \
#       -t <registry>/zenrl-runtime:<tag> build/runtime
#   docker push <registry>/zenrl-runtime:<tag>
FROM python:3.11-slim-bookworm

COPY requirements.txt /tmp/requirements.txt
RUN pip install --no-cache-dir --disable-pip-version-check -r /tmp/requirements.txt \
 && rm /tmp/requirements.txt \
 && find /usr/local/lib/python3.11 -name __pycache__ -prune -exec rm -rf {} + \
 && python -c "import zenml, tensorflow, ale_py, gymnasium"

ENV ZENML_ANALYTICS_OPT_IN=false ZENML_LOGGING_COLORS_DISABLED=true TF_CPP_MIN_LOG_LEVEL=2 \
    PYTHONUNBUFFERED=1
WORKDIR /app
