#!/usr/bin/env bash
# Take down what stacks/airflow-local/up.sh brought up, and give the disk back.
#
#   bash stacks/airflow-local/down.sh                # default: everything below
#   bash stacks/airflow-local/down.sh --keep-images  # but keep the images, the registry's copy
#                                                    # and the state dir's venvs: the next up.sh
#                                                    # takes ~30 s instead of ~7 min
#
# 1. in the CURRENT ZenML client config: deregister the stack, its components and the S3 secret
#    (when the client is connected to this stack's server), then log out: default local store,
#    default stack;
# 2. stop every service up.sh started (by the pid files in $STATE/run; a dockerd that up.sh did
#    not start is left running), removing the DAG files and the containers of the stack's image;
# 3. remove the stack's images, dangling images, the build cache, and the state dir
#    ($ZENRL_STACK_HOME: venvs, registry blobs, DBs, logs, secrets). Nothing in it outlives the
#    services anyway: S3 (moto) keeps objects in memory, so the next up.sh starts with empty
#    stores whatever is kept.
# Idempotent: running it twice, or on a machine where up.sh never ran, is fine.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
STATE=${ZENRL_STACK_HOME:-$HOME/.zenrl/airflow-local}
PY=${ZENRL_PYTHON:-$REPO/.venv/bin/python}
KEEP_IMAGES=0
for arg in "$@"; do
    case $arg in
        --keep-images) KEEP_IMAGES=1 ;;
        --purge) ;;  # the default now; kept for older callers
        -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
        *) echo "down.sh: unknown option $arg (use --keep-images)" >&2; exit 2 ;;
    esac
done
log() { printf '[down] %s\n' "$*"; }
RUN=$STATE/run

echo "disk before: $(df -h / | awk 'NR==2 {print $3" used, "$4" free"}')"

# --------------------------------------------------------------------------- 1. ZenML client
ZENML_URL="" REGISTRY=""
if [ -f "$STATE/stack.env" ]; then
    ZENML_URL=$(. "$STATE/stack.env"; echo "$ZENML_SERVER_URL")
    REGISTRY=$(. "$STATE/stack.env"; echo "$REGISTRY")
elif [ -f "$STATE/ports.env" ]; then
    ZENML_URL=http://127.0.0.1:$(. "$STATE/ports.env"; echo "$SAVED_ZENML_PORT")
    REGISTRY=127.0.0.1:$(. "$STATE/ports.env"; echo "$SAVED_REGISTRY_PORT")
fi
if [ -x "$PY" ] && [ -n "$ZENML_URL" ]; then
    ZENML_SERVER_URL=$ZENML_URL ZENRL_STACK_NAME=zenrl-airflow ZENRL_S3_SECRET=zenrl-s3 \
    ZENML_ANALYTICS_OPT_IN=false "$PY" "$HERE/zenml_setup.py" teardown 2>&1 \
        | grep -v '^\s*$' | sed 's/^/[down] /' || true
fi

# --------------------------------------------------------------------------- 2. services
stop_group() {
    local f=$RUN/$1.pid pid
    [ -f "$f" ] || return 0
    pid=$(cat "$f")
    if kill -0 "$pid" 2>/dev/null; then
        log "stopping $1 (pid $pid)"
        kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null
        for _ in $(seq 1 75); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
        kill -KILL -- "-$pid" 2>/dev/null || true
    fi
    rm -f "$f"
}
# Airflow first (no new task containers), then the containers still running from the stack's images
for svc in airflow-scheduler airflow-dag-processor airflow-api-server; do stop_group "$svc"; done
rm -f "$STATE"/airflow/dags/*.zip 2>/dev/null
if docker info >/dev/null 2>&1; then
    # the step containers of this stack (labelled by the orchestrator's operator_args)
    ids=$(docker ps -aq --filter "label=zenrl.stack_home=$STATE" 2>/dev/null || true)
    if [ -n "$ids" ]; then
        log "removing $(echo "$ids" | wc -l) step container(s) of this stack"
        echo "$ids" | xargs -r docker rm -f >/dev/null 2>&1 || true
    fi
fi
for svc in zenml-server moto registry; do stop_group "$svc"; done

# --------------------------------------------------------------------------- 3. images, cache
if docker info >/dev/null 2>&1; then
    if [ "$KEEP_IMAGES" = 0 ]; then
        # this stack's tags; the shared local images too unless another stack (another
        # registry port, e.g. a test's) still has a tag of them
        imgs=""
        [ -n "$REGISTRY" ] && imgs=$(docker image ls --format '{{.Repository}}:{{.Tag}}' "$REGISTRY/zenrl-runtime")
        others=$(docker image ls --format '{{.Repository}}:{{.Tag}}' | grep -E '/zenrl-runtime:' \
                 | grep -v "^$REGISTRY/" || true)
        if [ -z "$others" ]; then
            imgs="$imgs $(docker image ls --format '{{.Repository}}:{{.Tag}}' | grep -E '^zenrl-(runtime|base):' || true)"
        else
            log "keeping the shared images: another stack uses them ($(echo $others))"
        fi
        imgs=$(echo $imgs)
        if [ -n "$imgs" ]; then
            log "removing images: $imgs"
            echo "$imgs" | tr ' ' '\n' | xargs -r docker image rm >/dev/null 2>&1 || true
        fi
        rm -rf "$STATE/registry/data" "$STATE/base"
    fi
    # dangling images, stopped build containers and the build cache: never worth keeping
    docker image prune -f >/dev/null 2>&1 || true
    docker builder prune -af >/dev/null 2>&1 || true
fi
if [ -f "$RUN/dockerd.pid" ]; then
    # a dockerd that up.sh started; stop it last, once the images are gone
    stop_group dockerd
fi

if [ -d "$STATE" ]; then
    if [ "$KEEP_IMAGES" = 0 ]; then
        log "deleting $STATE"
        rm -rf "$STATE"
    else
        # what is worth keeping for a fast next up.sh: the venvs and the registry's blobs
        rm -rf "$STATE/base" "$STATE/s3-spool" "$STATE"/airflow/dags/*.zip
        log "kept $STATE (venvs $(du -sh "$STATE" 2>/dev/null | cut -f1) in all)"
    fi
fi
echo "disk after:  $(df -h / | awk 'NR==2 {print $3" used, "$4" free"}')"
