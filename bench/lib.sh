# bench/lib.sh: what the engine benchmarks share, sourced by bench/archive
# and bench/restore: a private dockerd and loopback registry (from
# tests/lib/services.sh), the ~800 MB test image, timing helpers.
#
#   bench_setup_image   start the engine and registry, build IMG (busybox
#                       plus copies of BENCH_SOURCES, default /usr/bin and
#                       /usr/lib/gcc) and push it; sets IMG, W and a
#                       one-project tree $W/tree that pulls it
#   time_of CMD…        the wall seconds of one run (output discarded)
#   rss_of PROG ARGS…   the peak RSS in KiB of one run of a program
#   median              the median of numbers on stdin

bench_repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
. "$bench_repo/tests/lib/services.sh"

now() { date +%s.%N; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
time_of() {
	local s e
	s=$(now)
	"$@" >/dev/null 2>"$W/last.err" || { echo "bench: failed: $*" >&2; cat "$W/last.err" >&2; return 1; }
	e=$(now)
	awk -v s="$s" -v e="$e" 'BEGIN {printf "%.2f\n", e - s}'
}
rss_of() { /usr/bin/time -f %M -o "$W/rss" "$@" >/dev/null 2>&1; cat "$W/rss"; }

bench_setup_image() {
	local n=0 src
	svc_init
	W=$SVC/bench
	mkdir -p "$W/ctx" "$W/tree/big"
	echo "setting up: private engine, registry, the image (about a minute)…"
	svc_start_dockerd
	svc_start_registry
	svc_base_image base:1
	export DOCKER_HOST=$SVC_DOCKER_HOST
	IMG=127.0.0.1:$SVC_REGISTRY_PORT/bench/big:1
	for src in ${BENCH_SOURCES:-/usr/bin /usr/lib/gcc}; do
		n=$((n + 1))
		cp -a "$src" "$W/ctx/part$n"
	done
	printf 'FROM base:1\nCOPY . /big/\n' >"$W/ctx/Dockerfile"
	tar -C "$W/ctx" -cf - . | curl -sf --unix-socket "$SVC/docker.sock" \
		-H 'Content-Type: application/x-tar' --data-binary @- \
		"http://engine/build?t=$(printf %s "$IMG" | jq -sRr @uri)" >"$W/build.log"
	rm -rf "$W/ctx"
	curl -sf --unix-socket "$SVC/docker.sock" -X POST -H 'X-Registry-Auth: e30=' \
		"http://engine/images/$IMG/push?tag=1" >"$W/push.log"
	! grep -q '"error"' "$W/build.log" "$W/push.log"
	printf 'services:\n  big:\n    image: %s\n' "$IMG" >"$W/tree/big/docker-compose.yaml"
}
