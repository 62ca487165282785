#!/usr/bin/env bash
# build: pull and build every catalogued image on a real engine — a
# private dockerd reached over its socket, over ssh, through contexts and
# over TCP with TLS — with a loopback registry (open and with htpasswd)
# and a git daemon serving a remote context.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../lib/services.sh"

svc_init
SVC_TLS=1 svc_start_dockerd || exit 1
svc_start_registry || exit 1
REG=127.0.0.1:$SVC_REGISTRY_PORT
svc_start_registry alice s3cret || exit 1
AREG=127.0.0.1:$SVC_AUTH_REGISTRY_PORT
svc_start_sshd || exit 1
svc_start_gitd || exit 1
svc_base_image base:1 || exit 1

export DOCKER_HOST=$SVC_DOCKER_HOST DOCKER_CONFIG=$T/no-docker-config
unset DOCKER_CONTEXT DOCKER_TLS_VERIFY DOCKER_CERT_PATH IMAGE_REGISTRY REGISTRY_USERNAME \
	REGISTRY_PASSWORD IMGVAULT_SSH_CONFIG
api() { curl -sf --unix-socket "$SVC/docker.sock" "$@"; }
# Put base:1 into a registry as NAME, then forget it locally.
seed_registry() {
	api -X POST "http://x/images/base:1/tag?repo=$1&tag=1" &&
		api -X POST -H "X-Registry-Auth: $2" "http://x/images/$1/push?tag=1" >"$T/push.log" &&
		! grep -q '"error"' "$T/push.log" && api -X DELETE "http://x/images/$1:1" >/dev/null
}
seed_registry "$REG/pulled" e30= || { echo "cannot seed the registry"; exit 1; }
AUTH=$(printf '{"username":"alice","password":"s3cret","serveraddress":"%s"}' "$AREG" | base64 -w0 | tr '+/' '-_')
seed_registry "$AREG/private" "$AUTH" || { echo "cannot seed the auth registry"; exit 1; }
in_image() { docker -H "$SVC_DOCKER_HOST" run --rm "$1" sh -c "$2"; }
forget() { api -X DELETE "http://x/images/$1?force=1" >/dev/null 2>&1; true; }

# The tree: a local build (.dockerignore, args, target, a hook), a pull,
# and a remote git context.
tree=$T/tree
mkdir -p "$tree/app" "$tree/web" "$tree/remote" "$T/gitctx"
cat >"$tree/app/docker-compose.yaml" <<-'EOF'
	services:
	  app:
	    build:
	      context: .
	      args:
	        GREETING: hello
	      target: final
	    image: local/app:1
	  sidecar:
	    image: local/app:1
EOF
cat >"$tree/app/Dockerfile" <<-'EOF'
	FROM base:1 AS first
	ARG GREETING=none
	RUN echo "$GREETING" > /greeting
	FROM first AS final
	COPY . /ctx
	FROM base:1 AS unused
	RUN touch /unused
EOF
printf 'secret.txt\n*.log\n' >"$tree/app/.dockerignore"
echo secret >"$tree/app/secret.txt"
echo kept >"$tree/app/kept.txt"
echo log >"$tree/app/debug.log"
printf 'build-hook-pre:\n\techo generated > hook.out\n' >"$tree/app/Makefile"
printf 'services:\n  web:\n    image: ${REG}/pulled:1\n' >"$tree/web/docker-compose.yaml"
echo "REG=$REG" >"$tree/web/.env-dist"
printf 'FROM base:1\nRUN echo from-git > /origin\n' >"$T/gitctx/Dockerfile"
svc_git_repo ctx "$T/gitctx" || exit 1
printf 'services:\n  r:\n    build: git://127.0.0.1:%s/ctx.git\n    image: local/remote:1\n' \
	"$SVC_GIT_PORT" >"$tree/remote/docker-compose.yaml"

build() { "$IMGVAULT" build --root="$tree" "$@"; }

# --- the plan -----------------------------------------------------------

check "--dry-run prints the plan and needs no engine" \
	eval 'run 0 build --dry-run -H unix://$T/nothing.sock &&
		has "$OUT" "[build] local/app:1" && has "$OUT" "[pull] $REG/pulled:1" &&
		has "$OUT" "[build] local/remote:1" && has "$OUT" "=== app ===" && lacks "$OUT" hook'

check "services that share an image are one job" \
	eval 'run 0 build --dry-run && [ "$(grep -c "local/app:1" "$OUT")" -eq 1 ]'

# --- a build over the local socket ---------------------------------------

check "build pulls and builds everything over the socket, with a summary" \
	eval 'run 0 build && has "$OUT" "[build] local/app:1: built sha256:" &&
		has "$OUT" "[pull] $REG/pulled:1: pulled" && has "$OUT" "[build] local/remote:1: built" &&
		has "$OUT" "Built: 2" && has "$OUT" "Pulled: 1" && has "$OUT" "Failures: 0"'

check "build args reach the build" \
	eval '[ "$(in_image local/app:1 "cat /greeting")" = hello ]'

check "the target stage is the image: later stages are not built into it" \
	eval 'in_image local/app:1 "test -d /ctx && test ! -e /unused"'

check "a file .dockerignore excludes is absent from the image, others are there" \
	eval 'in_image local/app:1 "test -f /ctx/kept.txt && test ! -e /ctx/secret.txt && test ! -e /ctx/debug.log"'

check "the build-hook-pre target ran in the project folder before the build" \
	eval 'has "$tree/app/hook.out" generated && in_image local/app:1 "test -f /ctx/hook.out"'

check "a remote git context is built by the engine" \
	eval '[ "$(in_image local/remote:1 "cat /origin")" = from-git ]'

check "--verbose shows the engine's build steps and pull status" \
	eval 'run 0 build --verbose && has "$OUT" "Step 1/" && has "$OUT" "Status: Image is up to date"'

check "--no-cache builds without the layer cache" \
	eval 'run 0 build --project=app --no-cache --verbose && lacks "$OUT" "Using cache"'

check "--pull-only pulls and skips builds" \
	eval 'run 0 build --pull-only && has "$OUT" "[skip] local/app:1" && has "$OUT" "Skipped: 2" &&
		has "$OUT" "Pulled: 1" && has "$OUT" "Built: 0"'

check "--project limits the run to one project" \
	eval 'run 0 build --project=web && lacks "$OUT" local/app && has "$OUT" "Pulled: 1"'

check "a plain run prints no terminal control codes" \
	eval 'run 0 build --project=web && ! grep -q $'"'"'\033'"'"' "$OUT"'

check "on a terminal, progress is drawn live and cleared" \
	eval 'script -qec "$IMGVAULT build --root=$tree --project=app" /dev/null >"$OUT" &&
		grep -q "step [0-9]/" "$OUT" && has "$OUT" "built sha256:"'

# --- push ----------------------------------------------------------------

check "--push needs a registry" \
	eval 'run 2 build --push && has "$ERR" "--push needs --registry=PREFIX or IMAGE_REGISTRY"'

check "--push tags PREFIX/name:tag and pushes to the registry" \
	eval 'run 0 build --project=app --push --registry=$REG/team && has "$OUT" "[push] $REG/team/app:1: pushed" &&
		has "$OUT" "Pushed: 1" && curl -sf http://$REG/v2/team/app/tags/list | grep -q "\"1\""'

check "IMAGE_REGISTRY gives the prefix when --registry is absent" \
	eval 'IMAGE_REGISTRY=$REG/env run 0 build --project=app --push && curl -sf http://$REG/v2/env/app/tags/list | grep -q "\"1\""'

check "pushing to a registry with htpasswd and no credentials fails, named" \
	eval 'run 1 build --project=app --push --registry=$AREG/team && has "$OUT" "[push] $AREG/team/app:1: failed:" &&
		has "$OUT" "Failures: 1"'

check "REGISTRY_USERNAME and REGISTRY_PASSWORD log in and push" \
	eval 'REGISTRY_USERNAME=alice REGISTRY_PASSWORD=s3cret run 0 build --project=app --push --registry=$AREG/team &&
		has "$OUT" "Pushed: 1"'

check "a wrong REGISTRY_PASSWORD is a failure naming the registry and user" \
	eval 'REGISTRY_USERNAME=alice REGISTRY_PASSWORD=wrong run 1 build --project=app --push --registry=$AREG/team &&
		has "$OUT" "logging in to" && has "$OUT" "as '"'"'alice'"'"'"'

# --- credentials from the docker config -----------------------------------

mkdir -p "$T/authcfg"
privtree=$T/privtree
mkdir -p "$privtree/priv"
printf 'services:\n  p:\n    image: %s/private:1\n' "$AREG" >"$privtree/priv/docker-compose.yaml"

check "a pull from a registry with htpasswd fails without credentials" \
	eval 'run 1 "$IMGVAULT" build --root=$privtree && has "$OUT" "[pull] $AREG/private:1: failed:"'

check "a pull uses the auths of config.json" \
	eval 'printf "{\"auths\":{\"%s\":{\"auth\":\"%s\"}}}" "$AREG" "$(printf alice:s3cret | base64)" >"$T/authcfg/config.json" &&
		DOCKER_CONFIG=$T/authcfg run 0 "$IMGVAULT" build --root=$privtree && has "$OUT" "Pulled: 1"'

# --- failures ----------------------------------------------------------------

bad=$T/bad
mkdir -p "$bad/a-fails" "$bad/b-missing" "$bad/c-hook" "$bad/d-fine"
printf 'services:\n  x:\n    build: .\n    image: local/fails:1\n' >"$bad/a-fails/docker-compose.yaml"
printf 'FROM base:1\nRUN echo about to fail; exit 3\n' >"$bad/a-fails/Dockerfile"
printf 'services:\n  m:\n    image: %s/not-there:1\n' "$REG" >"$bad/b-missing/docker-compose.yaml"
printf 'services:\n  h:\n    build: .\n    image: local/hooked:1\n' >"$bad/c-hook/docker-compose.yaml"
printf 'FROM base:1\n' >"$bad/c-hook/Dockerfile"
printf 'build-hook-pre:\n\t@echo hook output; exit 4\n' >"$bad/c-hook/Makefile"
printf 'services:\n  f:\n    image: %s/pulled:1\n' "$REG" >"$bad/d-fine/docker-compose.yaml"

check "a failing RUN and a missing image are failures; the run goes on; exit 1" \
	eval 'run 1 "$IMGVAULT" build --root=$bad &&
		has "$OUT" "[build] local/fails:1: failed:" && has "$OUT" "returned a non-zero code: 3" &&
		has "$OUT" "[pull] $REG/not-there:1: failed:" && has "$OUT" "manifest unknown" &&
		has "$OUT" "[pull] $REG/pulled:1: pulled" && has "$OUT" "Failures: 2"'

check "a failing build-hook-pre is a warning and the build still runs" \
	eval 'run 0 "$IMGVAULT" build --root=$bad --project=c-hook &&
		has "$ERR" "warning: project '"'"'c-hook'"'"': '"'"'make build-hook-pre'"'"' failed (exit 2)" &&
		has "$ERR" "hook output" && has "$OUT" "[build] local/hooked:1: built"'

check "--fail-fast stops at the first failure" \
	eval 'run 1 "$IMGVAULT" build --root=$bad --fail-fast && has "$OUT" "Failures: 1" &&
		lacks "$OUT" not-there && lacks "$OUT" "=== d-fine ==="'

check "an engine that is not there: one line naming it and -H, exit 2" \
	eval 'run 2 build -H unix://$T/nothing.sock && lines "$ERR" 1 &&
		has "$ERR" "cannot reach the Docker engine at unix://$T/nothing.sock (-H)" &&
		has "$ERR" "No such file or directory"'

check "an engine that refuses: the message says it came from DOCKER_HOST" \
	eval 'DOCKER_HOST=tcp://127.0.0.1:1 run 2 build && has "$ERR" "(DOCKER_HOST)" && has "$ERR" "Connection refused"'

# --- over ssh ----------------------------------------------------------------

SSH_HOST=ssh://root@127.0.0.1:$SVC_SSH_PORT
check "over DOCKER_HOST=ssh://… the same build works" \
	eval 'forget local/app:1; DOCKER_HOST=$SSH_HOST IMGVAULT_SSH_CONFIG=$SVC/ssh_config run 0 build &&
		has "$OUT" "Built: 2" && has "$OUT" "Pulled: 1" && in_image local/app:1 "test -f /ctx/kept.txt"'

check "one ssh connection serves the whole run; --verbose shows its command" \
	eval 'DOCKER_HOST=$SSH_HOST IMGVAULT_SSH_CONFIG=$SVC/ssh_config run 0 build --verbose &&
		[ "$(grep -c "^imgvault: ssh: " "$ERR")" -eq 1 ] && has "$ERR" "docker system dial-stdio"'

check "a host key that does not match is refused, never accepted" \
	eval 'ssh-keygen -q -t ed25519 -N "" -f $T/other_key &&
		echo "[127.0.0.1]:$SVC_SSH_PORT $(cat $T/other_key.pub)" >$T/bad_known_hosts &&
		sed "s|$SVC/known_hosts|$T/bad_known_hosts|" $SVC/ssh_config >$T/bad_ssh_config &&
		cp $T/bad_known_hosts $T/bad_known_hosts.before &&
		DOCKER_HOST=$SSH_HOST IMGVAULT_SSH_CONFIG=$T/bad_ssh_config run 2 build &&
		has "$ERR" "Host key verification failed" && has "$ERR" "$SSH_HOST (DOCKER_HOST)" &&
		cmp $T/bad_known_hosts $T/bad_known_hosts.before'

check "an ssh user the server refuses: ssh's reason is shown" \
	eval 'DOCKER_HOST=ssh://nobody@127.0.0.1:$SVC_SSH_PORT IMGVAULT_SSH_CONFIG=$SVC/ssh_config run 2 build --project=web &&
		has "$ERR" "Permission denied"'

# --- contexts ------------------------------------------------------------------

svc_docker_context ssh-ctx "$SSH_HOST"
svc_docker_context tls-ctx "tcp://127.0.0.1:$SVC_TLS_PORT" "$SVC_CERT_PATH"
svc_docker_context local-ctx "$SVC_DOCKER_HOST"

check "DOCKER_CONTEXT chooses a context's ssh endpoint" \
	eval 'unset DOCKER_HOST; DOCKER_CONFIG=$SVC/dockercfg DOCKER_CONTEXT=ssh-ctx IMGVAULT_SSH_CONFIG=$SVC/ssh_config \
		run 0 build --project=web --verbose && has "$ERR" "imgvault: ssh: " && has "$OUT" "Pulled: 1"'

check "currentContext in config.json chooses the context" \
	eval 'svc_docker_config_current local-ctx && unset DOCKER_HOST && DOCKER_CONFIG=$SVC/dockercfg \
		run 0 build --project=web && has "$OUT" "Pulled: 1"'

check "a context with TLS material reaches the engine over tcp with TLS" \
	eval 'unset DOCKER_HOST; DOCKER_CONFIG=$SVC/dockercfg DOCKER_CONTEXT=tls-ctx run 0 build && has "$OUT" "Built: 2"'

check "a context that does not exist is named in a one-line error" \
	eval 'unset DOCKER_HOST; DOCKER_CONFIG=$SVC/dockercfg DOCKER_CONTEXT=nope run 2 build && lines "$ERR" 1 &&
		has "$ERR" nope'

# --- tcp with TLS ---------------------------------------------------------------

check "DOCKER_HOST=tcp:// with DOCKER_TLS_VERIFY and DOCKER_CERT_PATH builds over TLS" \
	eval 'DOCKER_HOST=tcp://127.0.0.1:$SVC_TLS_PORT DOCKER_TLS_VERIFY=1 DOCKER_CERT_PATH=$SVC_CERT_PATH \
		run 0 build && has "$OUT" "Built: 2" && has "$OUT" "Pulled: 1"'

check "a client certificate from another CA is refused, exit 2" \
	eval 'DOCKER_HOST=tcp://127.0.0.1:$SVC_TLS_PORT DOCKER_TLS_VERIFY=1 DOCKER_CERT_PATH=$SVC_WRONG_CERT_PATH \
		run 2 build && lines "$ERR" 1 && has "$ERR" "tcp://127.0.0.1:$SVC_TLS_PORT (DOCKER_HOST)"'

check "plain HTTP to a TLS port fails with a clear line" \
	eval 'DOCKER_HOST=tcp://127.0.0.1:$SVC_TLS_PORT run 2 build && lines "$ERR" 1 && has "$ERR" "HTTP request to an HTTPS server"'

finish
