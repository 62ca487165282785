# services.sh: real services for end-to-end tests, private to one test run.
#
# Sourced by tests that need a Docker engine, a registry or an SSH server;
# all of them listen on loopback or on sockets under $SVC (a temp folder),
# are started from Debian's packages (scripts/install-deps installs them)
# and are stopped by pid, never by name. Nothing here touches the user's
# own engine.
#
#   svc_init                     make $SVC and arrange svc_stop_all at exit
#   svc_start_dockerd            private dockerd; exports SVC_DOCKER_HOST
#   svc_start_registry [USER PW] registry on 127.0.0.1:$SVC_REGISTRY_PORT,
#                                with htpasswd auth when USER and PW are given
#   svc_start_sshd               sshd on 127.0.0.1:$SVC_SSH_PORT whose sessions
#                                reach the private engine; writes $SVC/ssh_config
#   svc_base_image NAME          build NAME (busybox in a scratch image) through
#                                the engine API
#   svc_stop_all                 stop everything started here

svc_init() {
	SVC=$(mktemp -d /tmp/imgvault-svc.XXXXXX)
	SVC_PIDS=()
	trap svc_stop_all EXIT
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

svc_start_dockerd() {
	dockerd --data-root "$SVC/docker" --exec-root "$SVC/exec" --pidfile "$SVC/dockerd.pid" \
		-H "unix://$SVC/docker.sock" --iptables=false --ip-masq=false --bridge=none \
		>"$SVC/dockerd.log" 2>&1 &
	SVC_PIDS+=($!)
	SVC_DOCKER_HOST=unix://$SVC/docker.sock
	export SVC_DOCKER_HOST
	svc_wait 60 curl -sf --unix-socket "$SVC/docker.sock" http://engine/_ping ||
		{ echo "dockerd did not start; its log:" >&2; tail -20 "$SVC/dockerd.log" >&2; return 1; }
}

svc_start_registry() {
	SVC_REGISTRY_PORT=$(svc_free_port)
	export SVC_REGISTRY_PORT
	{
		echo "version: 0.1"
		echo "storage: {filesystem: {rootdirectory: $SVC/registry}}"
		echo "http: {addr: 127.0.0.1:$SVC_REGISTRY_PORT}"
		if [ $# -eq 2 ]; then
			htpasswd -Bbn "$1" "$2" >"$SVC/htpasswd"
			echo "auth: {htpasswd: {realm: imgvault-test, path: $SVC/htpasswd}}"
		fi
	} >"$SVC/registry.yml"
	docker-registry serve "$SVC/registry.yml" >"$SVC/registry.log" 2>&1 &
	SVC_PIDS+=($!)
	svc_wait 30 curl -s -o /dev/null "http://127.0.0.1:$SVC_REGISTRY_PORT/v2/" ||
		{ echo "registry did not start; its log:" >&2; tail -20 "$SVC/registry.log" >&2; return 1; }
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

svc_stop_all() {
	local pid
	for pid in "${SVC_PIDS[@]}"; do
		kill "$pid" 2>/dev/null
	done
	for pid in "${SVC_PIDS[@]}"; do
		svc_wait 20 sh -c "! kill -0 $pid" || kill -9 "$pid" 2>/dev/null
	done
	SVC_PIDS=()
	# dockerd leaves mounts under its data root
	if [ -n "${SVC:-}" ] && [ -d "$SVC" ]; then
		grep " $SVC/" /proc/mounts | awk '{print $2}' | sort -r | xargs -r umount -l 2>/dev/null
		rm -rf "$SVC"
	fi
}
