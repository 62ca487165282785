# services.sh: real services for end-to-end tests, private to one test run.
#
# Sourced by tests that need a Docker engine, a registry, an SSH server or a
# git server; all of them listen on loopback or on sockets under $SVC (a temp
# folder), are started from Debian's packages (scripts/install-deps installs
# them) and are stopped by pid, never by name. Nothing here touches the
# user's own engine, docker CLI configuration or git configuration.
#
#   svc_init                     make $SVC and arrange svc_stop_all at exit
#                                (after any EXIT trap already set)
#   svc_make_tls                 throwaway CA, server and client certificates
#                                (openssl) in $SVC/tls: ca.pem server-cert.pem
#                                server-key.pem cert.pem key.pem (+ ca-key.pem);
#                                exports SVC_CERT_PATH=$SVC/tls, usable as
#                                DOCKER_CERT_PATH. Also an unrelated CA and
#                                client certificate in $SVC/tls-wrong (ca.pem
#                                cert.pem key.pem); exports SVC_WRONG_CERT_PATH
#   svc_tls_sign CADIR CERT KEY CN EXT
#                                a new key KEY and certificate CERT for CN,
#                                signed by CADIR/ca.pem, with the X509v3
#                                extension lines EXT (e.g. for odd certificates)
#   svc_start_dockerd            private dockerd; exports SVC_DOCKER_HOST. With
#                                SVC_TLS=1 set, or after svc_make_tls, it also
#                                listens on tcp://127.0.0.1:$SVC_TLS_PORT with
#                                --tlsverify; exports SVC_TLS_PORT, SVC_TLS_HOST
#   svc_stop_dockerd [SIGNAL]    stop the private dockerd by its pid with SIGNAL
#                                (default TERM; KILL cuts it off mid-request),
#                                and the containerd it started; a later
#                                svc_start_dockerd starts it again on the same
#                                data root, with the images it had
#   svc_start_registry           registry on 127.0.0.1:$SVC_REGISTRY_PORT
#   svc_start_registry USER PW   another, with htpasswd auth, on
#                                127.0.0.1:$SVC_AUTH_REGISTRY_PORT
#   svc_start_sshd               sshd on 127.0.0.1:$SVC_SSH_PORT whose sessions
#                                reach the private engine; writes $SVC/ssh_config
#   svc_start_gitd               git daemon on 127.0.0.1:$SVC_GIT_PORT serving
#                                $SVC/git, so git://127.0.0.1:$SVC_GIT_PORT/NAME.git
#                                works as a build context
#   svc_git_repo NAME DIR [BRANCH]
#                                commit the files in DIR (DIR itself is left
#                                alone) to BRANCH (default master, which is the
#                                bare repo's HEAD and what Engine 20.10 fetches
#                                when the URL has no #fragment) of the bare repo
#                                $SVC/git/NAME.git, made if missing; fixed author
#                                and dates, so the same files (and parent) give
#                                the same commit id
#   svc_base_image NAME          build NAME (busybox in a scratch image) through
#                                the engine API
#   svc_docker_context NAME HOST [TLSDIR]
#                                a docker CLI context NAME for endpoint HOST in
#                                $SVC_DOCKER_CONFIG (= $SVC/dockercfg, a
#                                DOCKER_CONFIG folder), with TLSDIR's ca.pem
#                                cert.pem key.pem as its TLS material
#   svc_docker_config_current NAME
#                                set currentContext in $SVC_DOCKER_CONFIG/config.json
#   svc_docker_login REGISTRY USER PW
#                                add auths.REGISTRY.auth = base64(USER:PW) there
#                                (both keep whatever else config.json holds)
#   svc_stop_all                 stop everything started here, with anything
#                                those processes left running, and remove $SVC
#
# Helpers: svc_wait SECONDS CMD…, svc_free_port, svc_alive PID,
# svc_descendants PID…, svc_tls_ca DIR CN, svc_docker_config_edit JQ-ARGS….
# ($SVC/tls and $SVC/tls-wrong also hold their CA's ca-key.pem, for svc_tls_sign.)

svc_init() {
	local prev
	SVC=$(mktemp -d /tmp/imgvault-svc.XXXXXX)
	SVC_PIDS=()
	SVC_DOCKER_CONFIG=$SVC/dockercfg
	export SVC SVC_DOCKER_CONFIG
	# keep an EXIT trap set before (tests/e2e/lib.sh removes $T in one)
	prev=$(trap -p EXIT)
	if [ -n "$prev" ]; then
		eval "set -- $prev"
		# shellcheck disable=SC2064 # the old command is fixed now, on purpose
		case $3 in *svc_stop_all*) ;; *) trap "svc_stop_all; $3" EXIT ;; esac
	else
		trap svc_stop_all EXIT
	fi
}

svc_wait() { # svc_wait SECONDS command…
	local n=$(($1 * 10))
	shift
	while [ "$n" -gt 0 ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
		n=$((n - 1))
	done
	return 1
}

svc_free_port() {
	/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# svc_alive PID: PID runs (an exited child not yet reaped does not count).
svc_alive() {
	local stat
	read -r stat 2>/dev/null <"/proc/$1/stat" || return 1
	stat=${stat##*) }
	[ "${stat%% *}" != Z ]
}

# svc_descendants PID…: the pids of every process below the given ones.
svc_descendants() {
	local f line p pp c
	local -A kids=()
	for f in /proc/[0-9]*/stat; do
		read -r line 2>/dev/null <"$f" || continue
		p=${f#/proc/} p=${p%/stat}
		line=${line##*) } # "S PPID …", after the command name
		pp=${line#* } pp=${pp%% *}
		kids[$pp]+=" $p"
	done
	local queue=("$@") out=()
	while [ ${#queue[@]} -gt 0 ]; do
		p=${queue[0]}
		queue=("${queue[@]:1}")
		for c in ${kids[$p]:-}; do
			out+=("$c")
			queue+=("$c")
		done
	done
	echo "${out[@]}"
}

# svc_tls_sign CADIR CERT KEY CN EXT: EXT is X509v3 extension lines.
svc_tls_sign() {
	local ca=$1 cert=$2 key=$3 cn=$4 ext=$5
	printf '%s\n' "$ext" >"$cert.ext"
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout "$key" -subj "/CN=$cn" -out "$cert.csr" 2>"$cert.log" &&
		openssl x509 -req -in "$cert.csr" -CA "$ca/ca.pem" -CAkey "$ca/ca-key.pem" \
			-set_serial "0x$(openssl rand -hex 8)" -days 7 -extfile "$cert.ext" \
			-out "$cert" 2>>"$cert.log" ||
		{ echo "openssl could not make $cert:" >&2; cat "$cert.log" >&2; return 1; }
	chmod 600 "$key"
	rm -f "$cert.csr" "$cert.ext" "$cert.log"
}

# svc_tls_ca DIR CN: a self-signed CA, DIR/ca.pem and DIR/ca-key.pem.
svc_tls_ca() {
	mkdir -p "$1"
	openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout "$1/ca-key.pem" -out "$1/ca.pem" -days 7 -subj "/CN=$2" \
		-addext basicConstraints=critical,CA:TRUE \
		-addext keyUsage=critical,keyCertSign,cRLSign 2>"$1/ca.log" ||
		{ echo "openssl could not make a CA in $1:" >&2; cat "$1/ca.log" >&2; return 1; }
	chmod 600 "$1/ca-key.pem"
	rm -f "$1/ca.log"
}

svc_make_tls() {
	local client='basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=clientAuth'
	SVC_CERT_PATH=$SVC/tls
	SVC_WRONG_CERT_PATH=$SVC/tls-wrong
	export SVC_CERT_PATH SVC_WRONG_CERT_PATH
	[ -f "$SVC/tls/key.pem" ] && [ -f "$SVC/tls-wrong/key.pem" ] && return 0
	svc_tls_ca "$SVC/tls" "imgvault test CA" &&
		svc_tls_sign "$SVC/tls" "$SVC/tls/server-cert.pem" "$SVC/tls/server-key.pem" localhost \
			'basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,DNS:localhost' &&
		svc_tls_sign "$SVC/tls" "$SVC/tls/cert.pem" "$SVC/tls/key.pem" imgvault-client "$client" &&
		svc_tls_ca "$SVC/tls-wrong" "unrelated CA" &&
		svc_tls_sign "$SVC/tls-wrong" "$SVC/tls-wrong/cert.pem" "$SVC/tls-wrong/key.pem" \
			imgvault-client "$client"
}

svc_start_dockerd() {
	local tls=()
	if [ "${SVC_TLS:-}" = 1 ] || [ -f "$SVC/tls/server-cert.pem" ]; then
		svc_make_tls || return 1
		SVC_TLS_PORT=$(svc_free_port)
		SVC_TLS_HOST=tcp://127.0.0.1:$SVC_TLS_PORT
		export SVC_TLS_PORT SVC_TLS_HOST
		tls=(-H "$SVC_TLS_HOST" --tlsverify --tlscacert "$SVC/tls/ca.pem"
			--tlscert "$SVC/tls/server-cert.pem" --tlskey "$SVC/tls/server-key.pem")
	fi
	dockerd --data-root "$SVC/docker" --exec-root "$SVC/exec" --pidfile "$SVC/dockerd.pid" \
		-H "unix://$SVC/docker.sock" "${tls[@]}" --iptables=false --ip-masq=false --bridge=none \
		>>"$SVC/dockerd.log" 2>&1 &
	SVC_DOCKERD_PID=$!
	SVC_PIDS+=($!)
	SVC_DOCKER_HOST=unix://$SVC/docker.sock
	export SVC_DOCKER_HOST
	svc_wait 60 curl -sf --unix-socket "$SVC/docker.sock" http://engine/_ping ||
		{ echo "dockerd did not start; its log:" >&2; tail -20 "$SVC/dockerd.log" >&2; return 1; }
	[ ${#tls[@]} -eq 0 ] ||
		svc_wait 10 curl -sf --cacert "$SVC/tls/ca.pem" --cert "$SVC/tls/cert.pem" \
			--key "$SVC/tls/key.pem" "https://127.0.0.1:$SVC_TLS_PORT/_ping" ||
		{ echo "dockerd's TLS listener does not answer; its log:" >&2; tail -20 "$SVC/dockerd.log" >&2; return 1; }
}

svc_stop_dockerd() {
	local sig=${1:-TERM} pid=${SVC_DOCKERD_PID:-} left p keep=()
	[ -n "$pid" ] || { echo "svc_stop_dockerd: no dockerd started here" >&2; return 1; }
	left=$(svc_descendants "$pid")
	disown "$pid" 2>/dev/null # no "Killed" notice from bash
	kill -"$sig" "$pid" 2>/dev/null
	svc_wait 20 eval "! svc_alive $pid" || kill -9 "$pid" 2>/dev/null
	# its containerd outlives a kill -9
	for p in $left; do
		svc_alive "$p" && kill "$p" 2>/dev/null
	done
	for p in $left; do
		svc_wait 5 eval "! svc_alive $p" || kill -9 "$p" 2>/dev/null
	done
	# An orphan containerd may stay a zombie (when nothing reaps it), which
	# the next dockerd would take for a running one by its pid file.
	rm -f "$SVC/exec/containerd/containerd.pid"
	for p in "${SVC_PIDS[@]}"; do
		[ "$p" = "$pid" ] || keep+=("$p")
	done
	SVC_PIDS=("${keep[@]}")
	SVC_DOCKERD_PID=
}

svc_start_registry() {
	local name=registry port
	port=$(svc_free_port)
	# Without credentials: SVC_REGISTRY_PORT; with them, a second registry
	# (its own storage) on SVC_AUTH_REGISTRY_PORT, so a test can have both.
	if [ $# -eq 2 ]; then
		name=registry-auth
		SVC_AUTH_REGISTRY_PORT=$port
		export SVC_AUTH_REGISTRY_PORT
	else
		SVC_REGISTRY_PORT=$port
		export SVC_REGISTRY_PORT
	fi
	{
		echo "version: 0.1"
		echo "storage: {filesystem: {rootdirectory: $SVC/$name}}"
		echo "http: {addr: 127.0.0.1:$port}"
		if [ $# -eq 2 ]; then
			htpasswd -Bbn "$1" "$2" >"$SVC/htpasswd"
			echo "auth: {htpasswd: {realm: imgvault-test, path: $SVC/htpasswd}}"
		fi
	} >"$SVC/$name.yml"
	docker-registry serve "$SVC/$name.yml" >"$SVC/$name.log" 2>&1 &
	SVC_PIDS+=($!)
	svc_wait 30 curl -s -o /dev/null "http://127.0.0.1:$port/v2/" ||
		{ echo "registry did not start; its log:" >&2; tail -20 "$SVC/$name.log" >&2; return 1; }
}

svc_start_sshd() {
	SVC_SSH_PORT=$(svc_free_port)
	export SVC_SSH_PORT
	ssh-keygen -q -t ed25519 -N '' -f "$SVC/host_key"
	ssh-keygen -q -t ed25519 -N '' -f "$SVC/client_key"
	cp "$SVC/client_key.pub" "$SVC/authorized_keys"
	chmod 600 "$SVC/authorized_keys"
	mkdir -p /run/sshd
	cat >"$SVC/sshd_config" <<-CONF
		ListenAddress 127.0.0.1
		Port $SVC_SSH_PORT
		HostKey $SVC/host_key
		PidFile $SVC/sshd.pid
		AuthorizedKeysFile $SVC/authorized_keys
		PasswordAuthentication no
		PermitRootLogin prohibit-password
		AllowStreamLocalForwarding yes
		StrictModes no
		UsePAM no
		SetEnv DOCKER_HOST=unix://$SVC/docker.sock
	CONF
	/usr/sbin/sshd -D -e -f "$SVC/sshd_config" >"$SVC/sshd.log" 2>&1 &
	SVC_PIDS+=($!)
	echo "[127.0.0.1]:$SVC_SSH_PORT $(cat "$SVC/host_key.pub")" >"$SVC/known_hosts"
	cat >"$SVC/ssh_config" <<-CONF
		Host 127.0.0.1
		  IdentityFile $SVC/client_key
		  UserKnownHostsFile $SVC/known_hosts
		  IdentitiesOnly yes
	CONF
	svc_wait 30 ssh -F "$SVC/ssh_config" -p "$SVC_SSH_PORT" -o BatchMode=yes root@127.0.0.1 true ||
		{ echo "sshd did not start; its log:" >&2; tail -20 "$SVC/sshd.log" >&2; return 1; }
}

svc_start_gitd() {
	SVC_GIT_PORT=$(svc_free_port)
	export SVC_GIT_PORT
	mkdir -p "$SVC/git"
	# git-daemon itself rather than the `git` wrapper, so that $! is the daemon
	GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null \
		"$(git --exec-path)/git-daemon" --export-all --base-path="$SVC/git" \
		--listen=127.0.0.1 --port="$SVC_GIT_PORT" --reuseaddr --informative-errors \
		--verbose >"$SVC/gitd.log" 2>&1 &
	SVC_PIDS+=($!)
	svc_wait 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$SVC_GIT_PORT" ||
		{ echo "git daemon did not start; its log:" >&2; tail -20 "$SVC/gitd.log" >&2; return 1; }
}

svc_git_repo() {
	local name=$1 dir branch=${3:-master}
	dir=$(cd "$2" && pwd) || return 1
	mkdir -p "$SVC/git"
	(
		export GIT_DIR=$SVC/git/$name.git GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
		export GIT_AUTHOR_NAME="imgvault test" GIT_AUTHOR_EMAIL=test@imgvault.invalid
		export GIT_COMMITTER_NAME="imgvault test" GIT_COMMITTER_EMAIL=test@imgvault.invalid
		export GIT_AUTHOR_DATE="2024-01-01T00:00:00Z" GIT_COMMITTER_DATE="2024-01-01T00:00:00Z"
		[ -d "$GIT_DIR" ] || git init -q --bare -b master "$GIT_DIR" || exit 1
		export GIT_INDEX_FILE=$GIT_DIR/svc-index GIT_WORK_TREE=$dir
		cd "$dir" || exit 1
		rm -f "$GIT_INDEX_FILE"
		local tree parent commit
		git add -A . &&
			tree=$(git write-tree) &&
			parent=$(git rev-parse -q --verify "refs/heads/$branch" || true) &&
			commit=$(git commit-tree "$tree" ${parent:+-p "$parent"} -m "svc_git_repo $branch") &&
			git update-ref "refs/heads/$branch" "$commit" &&
			rm -f "$GIT_INDEX_FILE"
	) || { echo "could not commit $dir to $SVC/git/$name.git" >&2; return 1; }
}

# A tiny image with a shell, from busybox-static, built through the API.
svc_base_image() {
	local name=$1 ctx=$SVC/ctx-base
	mkdir -p "$ctx"
	cp /bin/busybox "$ctx/busybox"
	printf 'FROM scratch\nCOPY busybox /bin/busybox\nRUN ["/bin/busybox", "--install", "-s", "/bin"]\n' >"$ctx/Dockerfile"
	tar -C "$ctx" -cf "$SVC/ctx-base.tar" . &&
		curl -sf --unix-socket "$SVC/docker.sock" -H 'Content-Type: application/x-tar' \
			--data-binary @"$SVC/ctx-base.tar" \
			"http://engine/build?t=$(printf %s "$name" | jq -sRr @uri)" >"$SVC/build-base.log" &&
		! grep -q '"error"' "$SVC/build-base.log" ||
		{ echo "building $name failed:" >&2; tail -5 "$SVC/build-base.log" >&2; return 1; }
}

# The docker CLI's context store: contexts/meta/<sha256 of NAME>/meta.json
# and contexts/tls/<sha256 of NAME>/docker/{ca,cert,key}.pem.
svc_docker_context() {
	local name=$1 host=$2 tlsdir=${3:-} id
	id=$(printf %s "$name" | sha256sum) id=${id%% *}
	mkdir -p "$SVC_DOCKER_CONFIG/contexts/meta/$id"
	jq -n --arg n "$name" --arg h "$host" \
		'{Name: $n, Metadata: {}, Endpoints: {docker: {Host: $h, SkipTLSVerify: false}}}' \
		>"$SVC_DOCKER_CONFIG/contexts/meta/$id/meta.json" || return 1
	rm -rf "$SVC_DOCKER_CONFIG/contexts/tls/$id"
	if [ -n "$tlsdir" ]; then
		mkdir -p "$SVC_DOCKER_CONFIG/contexts/tls/$id/docker" &&
			cp "$tlsdir/ca.pem" "$tlsdir/cert.pem" "$tlsdir/key.pem" \
				"$SVC_DOCKER_CONFIG/contexts/tls/$id/docker/" &&
			chmod 600 "$SVC_DOCKER_CONFIG/contexts/tls/$id/docker/key.pem"
	fi
}

# svc_docker_config_edit JQ-ARGS… FILTER: rewrite config.json through jq.
svc_docker_config_edit() {
	local f=$SVC_DOCKER_CONFIG/config.json
	mkdir -p "$SVC_DOCKER_CONFIG"
	[ -s "$f" ] || echo '{}' >"$f"
	jq "$@" "$f" >"$f.new" && mv "$f.new" "$f" ||
		{ rm -f "$f.new"; echo "could not edit $f" >&2; return 1; }
}

# shellcheck disable=SC2016 # $n, $r and $a are jq variables
svc_docker_config_current() {
	svc_docker_config_edit --arg n "$1" '.currentContext = $n'
}

# shellcheck disable=SC2016
svc_docker_login() {
	svc_docker_config_edit --arg r "$1" --arg a "$(printf %s "$2:$3" | base64 -w0)" \
		'.auths[$r] = {auth: $a}'
}

svc_stop_all() {
	local pid left c
	# callers may run with set -e and pipefail (bench/): stopping goes on regardless
	local -
	set +e +o pipefail
	# a running container holds dockerd's shutdown up for its stop timeout (10 s)
	if [ -S "${SVC:-}/docker.sock" ]; then
		curl -s --max-time 5 --unix-socket "$SVC/docker.sock" http://engine/containers/json |
			jq -r '.[].Id' 2>/dev/null | while read -r c; do
				curl -s --max-time 5 --unix-socket "$SVC/docker.sock" -X POST \
					"http://engine/containers/$c/kill" >/dev/null
			done
	fi
	# what the services started (containerd, sshd sessions, git upload-packs)
	left=$(svc_descendants "${SVC_PIDS[@]}")
	for pid in "${SVC_PIDS[@]}"; do
		kill "$pid" 2>/dev/null
	done
	for pid in "${SVC_PIDS[@]}"; do
		svc_wait 20 eval "! svc_alive $pid" || kill -9 "$pid" 2>/dev/null
	done
	# normally gone with their parents; not after a kill -9 or a stuck session
	for pid in $left; do
		svc_alive "$pid" && kill "$pid" 2>/dev/null
	done
	for pid in $left; do
		svc_wait 5 eval "! svc_alive $pid" || kill -9 "$pid" 2>/dev/null
	done
	SVC_PIDS=()
	# dockerd leaves mounts under its data root
	if [ -n "${SVC:-}" ] && [ -d "$SVC" ]; then
		grep -F " $SVC/" /proc/mounts | awk '{print $2}' | sort -r | xargs -r umount -l 2>/dev/null
		rm -rf "$SVC"
	fi
}
