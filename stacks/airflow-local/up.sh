#!/usr/bin/env bash
# Bring up the local "remote" ZenML stack `zenrl-airflow` on 127.0.0.1 and make it the active
# stack of the CURRENT ZenML client config ($ZENML_CONFIG_PATH is respected).
#
#   bash stacks/airflow-local/up.sh          # idempotent: a warm re-run only checks and re-registers
#   source "$ZENRL_STACK_HOME/stack.env"     # ports, URLs, bucket, image, DAGs folder, credentials file
#   bash stacks/airflow-local/down.sh        # stop it all and give the disk back
#
# Services (each only on 127.0.0.1, each started only when not already answering):
#   dockerd (if `docker info` fails)  overlay2, else fuse-overlayfs, else vfs
#   registry      Debian's docker-registry               127.0.0.1:5000 ($ZENRL_REGISTRY_PORT)
#   S3            moto_server (own venv), one bucket     127.0.0.1:5001 ($ZENRL_S3_PORT)
#   ZenML server  uvicorn zen_server_api:app, SQLite     127.0.0.1:8238 ($ZENRL_ZENML_PORT)
#   Airflow 3     api-server + scheduler + dag-processor 127.0.0.1:8080 ($ZENRL_AIRFLOW_PORT)
# and the workers' runtime image 127.0.0.1:5000/zenrl-runtime:<hash of pyproject.toml>, built
# FROM a debootstrapped bookworm base (no Docker Hub), pushed to the registry.
#
# Everything runtime-ish lives in ${ZENRL_STACK_HOME:-$HOME/.zenrl/airflow-local} (mode 0700).
# A port taken by another process makes the first up.sh of a state dir take the next free one
# (so a test's stack can run beside a developer's); later runs keep the ports in $STATE/ports.env.
# Only services whose pid files are in this state dir are reused or stopped.
set -euo pipefail

T0=$(date +%s)
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
STATE=${ZENRL_STACK_HOME:-$HOME/.zenrl/airflow-local}
PY=${ZENRL_PYTHON:-$REPO/.venv/bin/python}
HOST=127.0.0.1
AIRFLOW_VERSION=${ZENRL_AIRFLOW_VERSION:-3.3.2}
MOTO_SPEC=${ZENRL_MOTO_SPEC:-moto[server]>=5,<6}
STACK_NAME=zenrl-airflow
BUCKET=zenrl-artifacts
S3_SECRET=zenrl-s3
SERVICE_ACCOUNT=zenrl-airflow
BASE_IMAGE=zenrl-base:bookworm

RUN=$STATE/run LOGS=$STATE/logs SECRETS=$STATE/secrets
AIRFLOW_HOME=$STATE/airflow
DAGS=$AIRFLOW_HOME/dags
WORKER_ENV=$SECRETS/worker-credentials
API_KEY_FILE=$SECRETS/zenml-api-key
AIRFLOW_PASSWORDS=$SECRETS/airflow-passwords.json

log() { printf '[up %3ss] %s\n' "$(($(date +%s) - T0))" "$*"; }
die() { printf 'up.sh: %s\n' "$*" >&2; exit 1; }

[ -x "$PY" ] || die "no project Python at $PY: set up the repo venv first (pip install -e '.[local,remote]')"
# the interpreter for the Airflow and moto venvs: python3.11, else the one behind the repo venv
VENV_PY=${ZENRL_VENV_PYTHON:-$(command -v python3.11 || "$PY" -c 'import sys; print(sys._base_executable)')}
umask 077
mkdir -p "$STATE" "$RUN" "$LOGS" "$SECRETS" "$AIRFLOW_HOME" "$DAGS"
chmod 700 "$STATE" "$SECRETS"
# one up.sh at a time per state dir
exec 8>"$STATE/.up-lock"
flock -w 3600 8 || die "another up.sh has held $STATE/.up-lock for an hour"

# --------------------------------------------------------------------------- helpers
# pid file of a service we started: a process group leader (setsid), so down.sh can end the group
alive() { local f=$RUN/$1.pid; [ -f "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null; }

# start NAME CMD...: in its own session, output to $LOGS/NAME.log, pid to $RUN/NAME.pid
start() {
    local name=$1; shift
    # (not inheriting the lock fds 7 and 8)
    setsid "$@" >>"$LOGS/$name.log" 2>&1 < /dev/null 7>&- 8>&- &
    echo $! > "$RUN/$name.pid"
}

stop_group() {  # stop a service we started (by its pid file), its whole process group
    local f=$RUN/$1.pid pid
    [ -f "$f" ] || return 0
    pid=$(cat "$f")
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
        kill -KILL -- "-$pid" 2>/dev/null || true
    fi
    rm -f "$f"
}

# wait_for NAME SECONDS CMD...: poll CMD until it succeeds
wait_for() {
    local name=$1 secs=$2; shift 2
    local end=$(($(date +%s) + secs))
    until "$@" >/dev/null 2>&1; do
        if [ "$(date +%s)" -ge "$end" ]; then
            [ -f "$LOGS/$name.log" ] && tail -n 30 "$LOGS/$name.log" >&2
            die "$name did not come up within ${secs}s (log: $LOGS/$name.log)"
        fi
        sleep 1
    done
}

http_ok() { curl -fsS -o /dev/null --max-time 3 "$1" 2>/dev/null; }
port_busy() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }
port_owner() { ss -ltnpH "sport = :$1" 2>/dev/null | grep -o 'users:.*' | head -n 1; }

# ours_up NAME URL: the service is one we started (pid file in this state dir) and answers
ours_up() { alive "$1" && http_ok "$2"; }

# claim NAME PORT: make sure PORT is free before starting our NAME on it
claim() {
    stop_group "$1"
    if port_busy "$2"; then
        die "port $2 (for $1) is in use by another process $(port_owner "$2"): stop it, or use another ZENRL_STACK_HOME (or the ZENRL_*_PORT variables)"
    fi
}

# --------------------------------------------------------------------------- 0. ports
# $ZENRL_<SERVICE>_PORT, else what this state dir used before, else the default if free, else
# the next free port above it
PORTS_FILE=$STATE/ports.env
[ -f "$PORTS_FILE" ] && . "$PORTS_FILE"
TAKEN=" "
# ours_port PORT: the process listening on PORT is in the process group of one of our services
ours_port() {
    local pid pgid f
    pid=$(ss -ltnpH "sport = :$1" 2>/dev/null | grep -o 'pid=[0-9]*' | head -n 1 | cut -d= -f2)
    [ -n "$pid" ] || return 1
    pgid=$(ps -o pgid= -p "$pid" 2>/dev/null | tr -d ' ')
    for f in "$RUN"/*.pid; do
        [ -f "$f" ] && [ "$(cat "$f")" = "$pgid" ] && return 0
    done
    return 1
}
pick_port() {  # pick_port VAR DEFAULT
    local var=$1 port=$2 forced saved
    forced=$(eval "echo \${ZENRL_${var}:-}")
    saved=$(eval "echo \${SAVED_${var}:-}")
    if [ -n "$forced" ]; then port=$forced
    elif [ -n "$saved" ]; then port=$saved
    else
        while { port_busy "$port" && ! ours_port "$port"; } || [[ $TAKEN == *" $port "* ]]; do
            port=$((port + 1))
        done
    fi
    TAKEN="$TAKEN$port "
    printf -v "$var" '%s' "$port"
}
pick_port REGISTRY_PORT 5000
pick_port S3_PORT 5001
pick_port ZENML_PORT 8238
pick_port AIRFLOW_PORT 8080
cat > "$PORTS_FILE" <<EOF
SAVED_REGISTRY_PORT=$REGISTRY_PORT
SAVED_S3_PORT=$S3_PORT
SAVED_ZENML_PORT=$ZENML_PORT
SAVED_AIRFLOW_PORT=$AIRFLOW_PORT
EOF
REGISTRY=$HOST:$REGISTRY_PORT
RUNTIME_REPO=$REGISTRY/zenrl-runtime

random_secret() { head -c 32 /dev/urandom | base64 | tr -d '/+=\n' | head -c 40; }

# --------------------------------------------------------------------------- 1. apt packages
need_pkgs=()
# dockerd, not only the client: a machine may have a docker CLI without an engine
{ command -v dockerd >/dev/null && command -v docker >/dev/null; } || need_pkgs+=(docker.io)
command -v docker-registry >/dev/null || need_pkgs+=(docker-registry)
command -v debootstrap >/dev/null || need_pkgs+=(debootstrap)
command -v fuse-overlayfs >/dev/null || need_pkgs+=(fuse-overlayfs)
command -v curl >/dev/null || need_pkgs+=(curl)
if [ ${#need_pkgs[@]} -gt 0 ]; then
    log "apt-get install ${need_pkgs[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >"$LOGS/apt.log" 2>&1
    apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >>"$LOGS/apt.log" 2>&1 \
        || { tail -n 20 "$LOGS/apt.log" >&2; die "apt-get install failed"; }
fi

# --------------------------------------------------------------------------- 2. dockerd
if ! docker info >/dev/null 2>&1; then
    started=""
    for driver in overlay2 fuse-overlayfs vfs; do
        log "starting dockerd (storage driver $driver)"
        stop_group dockerd
        start dockerd dockerd --iptables=false --ip-masq=false --bridge=none \
            --storage-driver="$driver" --host=unix:///var/run/docker.sock
        for _ in $(seq 1 30); do
            docker info >/dev/null 2>&1 && { started=$driver; break; }
            alive dockerd || break
            sleep 1
        done
        [ -n "$started" ] && break
        log "dockerd did not start with $driver (log: $LOGS/dockerd.log)"
    done
    [ -n "$started" ] || die "could not start dockerd with overlay2, fuse-overlayfs or vfs"
fi
DRIVER=$(docker info --format '{{.Driver}}')
log "docker: storage driver $DRIVER"

# --------------------------------------------------------------------------- 3. registry
start_registry() {
    claim registry "$REGISTRY_PORT"
    mkdir -p "$STATE/registry/data"
    cat > "$STATE/registry/config.yml" <<EOF
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $STATE/registry/data
  delete:
    enabled: true
http:
  addr: $REGISTRY
EOF
    log "starting docker-registry on $REGISTRY"
    start registry docker-registry serve "$STATE/registry/config.yml"
    wait_for registry 30 http_ok "http://$REGISTRY/v2/"
}
ours_up registry "http://$REGISTRY/v2/" || start_registry

# --------------------------------------------------------------------------- 4. S3 (moto)
S3_ENDPOINT=http://$HOST:$S3_PORT
if [ ! -f "$STATE/moto-venv/.installed" ]; then
    log "installing $MOTO_SPEC into $STATE/moto-venv"
    rm -rf "$STATE/moto-venv"
    "$VENV_PY" -m venv "$STATE/moto-venv"
    "$STATE/moto-venv/bin/pip" install -q "$MOTO_SPEC" boto3 >"$LOGS/moto-pip.log" 2>&1 \
        || { tail -n 20 "$LOGS/moto-pip.log" >&2; die "pip install moto failed"; }
    touch "$STATE/moto-venv/.installed"
fi
if ! ours_up moto "$S3_ENDPOINT/moto-api/"; then
    claim moto "$S3_PORT"
    log "starting moto_server on $S3_ENDPOINT"
    # objects over a few MB spill from memory into (unlinked) temp files: keep them in the state dir
    mkdir -p "$STATE/s3-spool"
    start moto env TMPDIR="$STATE/s3-spool" "$STATE/moto-venv/bin/moto_server" -H "$HOST" -p "$S3_PORT"
    wait_for moto 30 http_ok "$S3_ENDPOINT/moto-api/"
fi
# moto accepts any credentials: these throwaway ones only create the bucket; the stack's own
# live only in the ZenML secret
created=$(AWS_ACCESS_KEY_ID=bootstrap AWS_SECRET_ACCESS_KEY=bootstrap AWS_DEFAULT_REGION=us-east-1 \
"$STATE/moto-venv/bin/python" - "$S3_ENDPOINT" "$BUCKET" <<'EOF'
import sys, boto3
s3 = boto3.client("s3", endpoint_url=sys.argv[1])
if sys.argv[2] not in [b["Name"] for b in s3.list_buckets().get("Buckets", [])]:
    s3.create_bucket(Bucket=sys.argv[2])
    print("created")
EOF
) || die "could not create the bucket on $S3_ENDPOINT"
# moto keeps its objects in memory: a new bucket means every artifact is gone, so the ZenML DB
# (runs, artifact versions, models pointing at them) and the DAGs of its snapshots go too
if [ "$created" = created ] && [ -f "$STATE/zenml-server/zenml.db" ]; then
    log "S3 started empty: resetting the ZenML server's DB and the DAGs to match"
    stop_group zenml-server
    rm -f "$STATE"/zenml-server/zenml.db* "$API_KEY_FILE" "$WORKER_ENV" "$DAGS"/*.zip
fi

# --------------------------------------------------------------------------- 5. ZenML server
ZENML_URL=http://$HOST:$ZENML_PORT
ZSERVER=$STATE/zenml-server
mkdir -p "$ZSERVER/config"
if [ ! -f "$SECRETS/zenml-server.env" ]; then
    {
        echo "ZENML_SERVER_JWT_SECRET_KEY=$(random_secret)"
        echo "ZENML_SECRETS_STORE_ENCRYPTION_KEY=$(random_secret)"
        echo "ZENML_DEFAULT_USER_NAME=admin"
        echo "ZENML_DEFAULT_USER_PASSWORD=$(random_secret)"
    } > "$SECRETS/zenml-server.env"
    chmod 600 "$SECRETS/zenml-server.env"
fi
if ! ours_up zenml-server "$ZENML_URL/health"; then
    claim zenml-server "$ZENML_PORT"
    log "starting the ZenML server on $ZENML_URL"
    (
        set -a; . "$SECRETS/zenml-server.env"; set +a
        export ZENML_CONFIG_PATH=$ZSERVER/config ZENML_SERVER=true \
            ZENML_STORE_URL="sqlite:///$ZSERVER/zenml.db" \
            ZENML_SERVER_AUTO_ACTIVATE=true ZENML_ANALYTICS_OPT_IN=false \
            ZENML_SERVER_DEPLOYMENT_TYPE=other \
            ZENML_SERVER_AUTH_SCHEME=OAUTH2_PASSWORD_BEARER
        unset ZENML_STORE_API_KEY ZENML_STORE_API_TOKEN ZENML_STORE_USERNAME ZENML_STORE_PASSWORD
        cd "$ZSERVER"
        start zenml-server "$PY" -m uvicorn zenml.zen_server.zen_server_api:app \
            --host "$HOST" --port "$ZENML_PORT" --log-level warning --no-server-header
    )
    wait_for zenml-server 120 http_ok "$ZENML_URL/health"
fi
# the stack's service account and API key, as the server's admin in a config of its own
(
    set -a; . "$SECRETS/zenml-server.env"; set +a
    export ZENML_CONFIG_PATH=$ZSERVER/admin-client ZENML_STORE_URL=$ZENML_URL \
        ZENML_STORE_USERNAME=$ZENML_DEFAULT_USER_NAME ZENML_STORE_PASSWORD=$ZENML_DEFAULT_USER_PASSWORD \
        ZENML_ANALYTICS_OPT_IN=false ZENRL_SERVICE_ACCOUNT=$SERVICE_ACCOUNT \
        ZENRL_API_KEY_FILE=$API_KEY_FILE ZENRL_WORKER_ENV_FILE=$WORKER_ENV
    unset ZENML_SERVER_JWT_SECRET_KEY ZENML_SECRETS_STORE_ENCRYPTION_KEY
    "$PY" "$HERE/zenml_setup.py" admin >>"$LOGS/zenml-setup.log" 2>&1 \
        || { tail -n 30 "$LOGS/zenml-setup.log" >&2; exit 1; }
) || die "creating the service account failed"

# --------------------------------------------------------------------------- 6. Airflow
AF=$STATE/airflow-venv/bin
if [ ! -f "$STATE/airflow-venv/.installed-$AIRFLOW_VERSION" ]; then
    log "installing apache-airflow==$AIRFLOW_VERSION + the docker provider into $STATE/airflow-venv (a few minutes)"
    rm -rf "$STATE/airflow-venv"
    "$VENV_PY" -m venv "$STATE/airflow-venv"
    "$AF/pip" install -q "apache-airflow==$AIRFLOW_VERSION" apache-airflow-providers-docker \
        >"$LOGS/airflow-pip.log" 2>&1 \
        || { tail -n 20 "$LOGS/airflow-pip.log" >&2; die "pip install apache-airflow failed"; }
    touch "$STATE/airflow-venv/.installed-$AIRFLOW_VERSION"
fi
if [ ! -f "$SECRETS/airflow.env" ]; then
    {
        echo "AIRFLOW__API_AUTH__JWT_SECRET=$(random_secret)"
        echo "AIRFLOW__API__SECRET_KEY=$(random_secret)"
        echo "AIRFLOW__CORE__FERNET_KEY=$("$PY" -c 'import base64,os;print(base64.urlsafe_b64encode(os.urandom(32)).decode())')"
    } > "$SECRETS/airflow.env"
fi
AIRFLOW_USER=admin
if [ ! -s "$AIRFLOW_PASSWORDS" ]; then
    printf '{"%s": "%s"}\n' "$AIRFLOW_USER" "$(random_secret)" > "$AIRFLOW_PASSWORDS"
fi
chmod 600 "$SECRETS"/*
AIRFLOW_URL=http://$HOST:$AIRFLOW_PORT
cat > "$AIRFLOW_HOME/airflow.env" <<EOF
AIRFLOW_HOME=$AIRFLOW_HOME
AIRFLOW__CORE__DAGS_FOLDER=$DAGS
AIRFLOW__CORE__LOAD_EXAMPLES=False
AIRFLOW__CORE__EXECUTOR=LocalExecutor
AIRFLOW__CORE__PARALLELISM=4
AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION=False
AIRFLOW__CORE__AUTH_MANAGER=airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager
AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS=$AIRFLOW_USER:admin
AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE=$AIRFLOW_PASSWORDS
AIRFLOW__CORE__EXECUTION_API_SERVER_URL=$AIRFLOW_URL/execution/
AIRFLOW__API__BASE_URL=$AIRFLOW_URL
AIRFLOW__API__HOST=$HOST
AIRFLOW__API__PORT=$AIRFLOW_PORT
AIRFLOW__API__WORKERS=1
AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL=5
AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL=10
AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK=False
AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT=3600
AIRFLOW__LOGGING__LOGGING_LEVEL=INFO
ZENRL_WORKER_ENV_FILE=$WORKER_ENV
EOF
airflow_env() { set -a; . "$AIRFLOW_HOME/airflow.env"; . "$SECRETS/airflow.env"; set +a; }
if ! { ours_up airflow-api-server "$AIRFLOW_URL/api/v2/monitor/health" \
        && alive airflow-scheduler && alive airflow-dag-processor; }; then
    for c in airflow-scheduler airflow-dag-processor; do stop_group "$c"; done
    claim airflow-api-server "$AIRFLOW_PORT"
    log "migrating the Airflow DB"
    ( airflow_env; "$AF/airflow" db migrate >"$LOGS/airflow-db.log" 2>&1 ) \
        || { tail -n 30 "$LOGS/airflow-db.log" >&2; die "airflow db migrate failed"; }
    log "starting Airflow (api-server, scheduler, dag-processor) on $AIRFLOW_URL"
    # The components of `airflow standalone`, run one by one so that the scheduler's log server
    # (which listens on every interface) can be switched off: task logs are read from local files.
    (
        airflow_env
        start airflow-api-server "$AF/airflow" api-server --host "$HOST" --port "$AIRFLOW_PORT" --workers 1
        start airflow-scheduler "$AF/airflow" scheduler --skip-serve-logs
        start airflow-dag-processor "$AF/airflow" dag-processor
    )
    wait_for airflow-api-server 180 http_ok "$AIRFLOW_URL/api/v2/monitor/health"
fi

# --------------------------------------------------------------------------- 7. images
# The images are shared by every state dir on this docker daemon (one build per machine, under
# a lock); each stack pushes its own tag to its own registry.
exec 7>/tmp/.zenrl-images.lock
flock -w 3600 7 || die "another up.sh has been building images for an hour"
# the base: a debootstrapped Debian bookworm (python3.11) with the host's CA bundle and a venv
if ! docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
    ROOTFS=$STATE/base/rootfs
    if [ ! -x "$ROOTFS/usr/bin/python3" ]; then
        log "debootstrap --variant=minbase bookworm (a few minutes)"
        rm -rf "$ROOTFS"; mkdir -p "$STATE/base"
        debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
            bookworm "$ROOTFS" "${ZENRL_DEBIAN_MIRROR:-http://deb.debian.org/debian}" \
            >"$LOGS/debootstrap.log" 2>&1 \
            || { tail -n 20 "$LOGS/debootstrap.log" >&2; die "debootstrap failed"; }
    fi
    log "creating the base image $BASE_IMAGE"
    cp /etc/ssl/certs/ca-certificates.crt "$ROOTFS/etc/ssl/certs/ca-certificates.crt"
    chroot "$ROOTFS" /usr/bin/python3 -m venv /opt/venv
    rm -rf "$ROOTFS"/var/cache/apt/archives/*.deb "$ROOTFS"/var/lib/apt/lists/* \
        "$ROOTFS"/usr/share/doc/* "$ROOTFS"/usr/share/man/* "$ROOTFS"/usr/share/locale/*
    tar -C "$ROOTFS" -c . | docker import \
        -c 'ENV PATH=/opt/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        -c 'ENV VIRTUAL_ENV=/opt/venv' -c 'ENV PYTHONUNBUFFERED=1' -c 'ENV LANG=C.UTF-8' \
        -c 'ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt' \
        -c 'ENV REQUESTS_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt' \
        -c 'ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt' \
        -c 'WORKDIR /app' -c 'CMD ["/bin/bash"]' - "$BASE_IMAGE" >/dev/null
    rm -rf "$STATE/base"
fi

# the runtime: the base + the project's worker dependencies (core + `remote` extra, no project code:
# each step downloads the client's code from the artifact store), tagged by a hash of pyproject.toml
BUILD=$(mktemp -d)
trap 'rm -rf "$BUILD"' EXIT
"$PY" - "$REPO/pyproject.toml" > "$BUILD/requirements.txt" <<'EOF'
import sys, tomllib
project = tomllib.load(open(sys.argv[1], "rb"))["project"]
print("\n".join(project["dependencies"] + project["optional-dependencies"]["remote"]))
EOF
cat > "$BUILD/Dockerfile" <<EOF
FROM $BASE_IMAGE
COPY requirements.txt /tmp/requirements.txt
RUN pip install --no-cache-dir --disable-pip-version-check -r /tmp/requirements.txt \\
 && rm /tmp/requirements.txt \\
 && python -m compileall -q -j 0 /opt/venv >/dev/null \\
 && python -c "import zenml, tensorflow, s3fs, ale_py, gymnasium"
ENV ZENML_ANALYTICS_OPT_IN=false ZENML_LOGGING_COLORS_DISABLED=true TF_CPP_MIN_LOG_LEVEL=2
WORKDIR /app
EOF
TAG=$(cat "$BUILD/requirements.txt" "$BUILD/Dockerfile" | sha256sum | cut -c1-12)
LOCAL_IMAGE=zenrl-runtime:$TAG
PARENT_IMAGE=$RUNTIME_REPO:$TAG
if ! docker image inspect "$LOCAL_IMAGE" >/dev/null 2>&1; then
    log "building $LOCAL_IMAGE (pip install of the worker dependencies, a few minutes)"
    tb=$(date +%s)
    DOCKER_BUILDKIT=0 docker build --network host --rm --force-rm -t "$LOCAL_IMAGE" "$BUILD" \
        >"$LOGS/image-build.log" 2>&1 \
        || { tail -n 30 "$LOGS/image-build.log" >&2; die "docker build failed (log: $LOGS/image-build.log)"; }
    log "built in $(($(date +%s) - tb))s: $(docker image inspect -f '{{.Size}}' "$LOCAL_IMAGE" | awk '{printf "%.2f GB", $1/1e9}')"
    # older runtime images (another pyproject.toml) and dangling layers
    docker image ls --format '{{.Repository}}:{{.Tag}}' | grep -E '(^|/)zenrl-runtime:' \
        | grep -v ":$TAG\$" | xargs -r docker image rm >/dev/null 2>&1 || true
    docker image prune -f >/dev/null 2>&1 || true
fi
docker tag "$LOCAL_IMAGE" "$PARENT_IMAGE"
if ! curl -fsS -o /dev/null -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
        "http://$REGISTRY/v2/zenrl-runtime/manifests/$TAG" 2>/dev/null; then
    if [ -n "$(ls -A "$STATE/registry/data" 2>/dev/null)" ]; then
        # the registry holds only the runtime image: drop the old one's blobs with it
        log "emptying the registry (an older runtime image)"
        stop_group registry
        rm -rf "$STATE/registry/data"
        start_registry
    fi
    log "pushing $PARENT_IMAGE"
    docker push "$PARENT_IMAGE" >"$LOGS/image-push.log" 2>&1 \
        || { tail -n 20 "$LOGS/image-push.log" >&2; die "docker push failed"; }
fi
exec 7>&-

# --------------------------------------------------------------------------- 8. ZenML stack
log "registering the stack $STACK_NAME in the client config (${ZENML_CONFIG_PATH:-default config path})"
ZENML_SERVER_URL=$ZENML_URL ZENRL_API_KEY_FILE=$API_KEY_FILE ZENRL_STACK_NAME=$STACK_NAME \
ZENRL_S3_SECRET=$S3_SECRET ZENRL_S3_BUCKET=$BUCKET ZENRL_S3_ENDPOINT=$S3_ENDPOINT \
ZENRL_REGISTRY=$REGISTRY ZENRL_DAGS_FOLDER=$DAGS ZENRL_WORKER_ENV_FILE=$WORKER_ENV \
ZENRL_PARENT_IMAGE=$PARENT_IMAGE ZENRL_STACK_HOME=$STATE ZENML_ANALYTICS_OPT_IN=false \
ZENRL_AIRFLOW_API=$AIRFLOW_URL/api/v2 \
    "$PY" "$HERE/zenml_setup.py" client 2>&1 | tee -a "$LOGS/zenml-setup.log" | grep -v '^\s*$' \
    || die "registering the ZenML stack failed (log: $LOGS/zenml-setup.log)"
[ "${PIPESTATUS[0]}" = 0 ] || die "registering the ZenML stack failed (log: $LOGS/zenml-setup.log)"

# --------------------------------------------------------------------------- 9. summary
cat > "$STATE/stack.env" <<EOF
# written by stacks/airflow-local/up.sh; no secrets in here, only where they are
ZENRL_STACK_HOME=$STATE
ZENRL_STACK_NAME=$STACK_NAME
ZENRL_REPO=$REPO
ZENML_SERVER_URL=$ZENML_URL
ZENML_DASHBOARD_URL=$ZENML_URL
ZENML_ADMIN_ENV_FILE=$SECRETS/zenml-server.env
ZENML_API_KEY_FILE=$API_KEY_FILE
ZENRL_WORKER_ENV_FILE=$WORKER_ENV
AIRFLOW_URL=$AIRFLOW_URL
AIRFLOW_API_URL=$AIRFLOW_URL/api/v2
AIRFLOW_TOKEN_URL=$AIRFLOW_URL/auth/token
AIRFLOW_USER=$AIRFLOW_USER
AIRFLOW_PASSWORDS_FILE=$AIRFLOW_PASSWORDS
AIRFLOW_HOME=$AIRFLOW_HOME
AIRFLOW_ENV_FILE=$AIRFLOW_HOME/airflow.env
AIRFLOW_BIN=$AF/airflow
AIRFLOW_DAGS_FOLDER=$DAGS
S3_ENDPOINT=$S3_ENDPOINT
S3_BUCKET=$BUCKET
S3_ARTIFACT_PATH=s3://$BUCKET
S3_SECRET_NAME=$S3_SECRET
REGISTRY=$REGISTRY
BASE_IMAGE=$BASE_IMAGE
PARENT_IMAGE=$PARENT_IMAGE
DOCKER_STORAGE_DRIVER=$DRIVER
EOF
chmod 600 "$STATE/stack.env"

cat <<EOF

zenrl-airflow is up and active in this ZenML client ($(($(date +%s) - T0))s)
  ZenML dashboard  $ZENML_URL   (admin login: $SECRETS/zenml-server.env)
  Airflow UI/API   $AIRFLOW_URL   (user $AIRFLOW_USER, password in $AIRFLOW_PASSWORDS)
  S3 (moto)        $S3_ENDPOINT   bucket s3://$BUCKET (credentials: ZenML secret $S3_SECRET)
  registry         $REGISTRY      worker image $PARENT_IMAGE
  DAGs folder      $DAGS
  docker driver    $DRIVER
  summary          $STATE/stack.env
EOF
