# lib.sh: helpers for the end-to-end tests, sourced by each tests/e2e/t*.sh.
#
# Each test is `check "behaviour it proves" command…`; the command's exit
# status decides. `run CODE cmd…` runs imgvault-like commands capturing
# stdout in $OUT and stderr in $ERR and fails unless the exit code is CODE.
# At the end `finish` prints "# <script>: N passed, N failed".
set -u

IMGVAULT=${IMGVAULT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build/imgvault}
FIXTURES=$(cd "$(dirname "${BASH_SOURCE[0]}")/../fixtures" && pwd)
T=$(mktemp -d)
trap 'chmod -R u+rwx "$T" 2>/dev/null; rm -rf "$T"' EXIT
OUT=$T/stdout ERR=$T/stderr
_passed=0 _failed=0 _n=0

check() {
	local name=$1
	shift
	_n=$((_n + 1))
	if ( "$@" ) >"$T/check.log" 2>&1; then
		_passed=$((_passed + 1))
		echo "ok $_n - $name"
	else
		_failed=$((_failed + 1))
		echo "not ok $_n - $name"
		sed 's/^/#   /' "$T/check.log" | head -40
	fi
}

# run CODE cmd… : run, keep stdout/stderr, require exit CODE.
run() {
	local want=$1 got
	shift
	"$@" >"$OUT" 2>"$ERR"
	got=$?
	if [ "$got" -ne "$want" ]; then
		echo "exit $got, wanted $want: $*"
		echo "--- stderr:"; head -20 "$ERR"
		echo "--- stdout:"; head -20 "$OUT"
		return 1
	fi
}

# jq_is FILE FILTER EXPECTED: the filter's compact output equals EXPECTED.
jq_is() {
	local got
	got=$(jq -c "$2" "$1") || { echo "jq failed on $1: $2"; return 1; }
	if [ "$got" != "$3" ]; then
		echo "jq $2"
		echo "  got:    $got"
		echo "  wanted: $3"
		return 1
	fi
}

# has FILE TEXT: FILE contains TEXT (fixed string).
has() {
	grep -qF -- "$2" "$1" || { echo "'$1' lacks: $2"; echo "--- it has:"; head -20 "$1"; return 1; }
}

# lacks FILE TEXT
lacks() {
	! grep -qF -- "$2" "$1" || { echo "'$1' has: $2"; return 1; }
}

# lines FILE N: FILE has exactly N lines.
lines() {
	local n
	n=$(wc -l <"$1")
	[ "$n" -eq "$2" ] || { echo "'$1' has $n lines, wanted $2"; cat "$1"; return 1; }
}

# no_sanitizer_reports [DIR]: no ASan/UBSan report file (asan.*, ubsan.*,
# as log_path=DIR/asan sets) in DIR (default $T); else show them and fail.
no_sanitizer_reports() {
	local dir=${1:-$T} f found=0
	for f in "$dir"/asan.* "$dir"/ubsan.*; do
		[ -e "$f" ] || continue
		found=1
		echo "--- $f"; head -40 "$f"
	done
	[ "$found" -eq 0 ]
}

finish() {
	echo "# $(basename "$0"): $_passed passed, $_failed failed"
	[ "$_failed" -eq 0 ]
}

# engine_env [ssh]: the setup the engine scripts share (call it after
# sourcing tests/lib/services.sh): a private dockerd, a registry ($REG),
# sshd when asked, base:1 on the engine; DOCKER_HOST at it and no docker
# config, context, TLS or imgvault setting of the caller's; sanitizer
# reports (the ASan+UBSan build) into $T, checked at the end: a run meant
# to exit 1 must not pass by exiting 1 from a report. dk and api reach the
# engine.
engine_env() {
	svc_init
	svc_start_dockerd || return 1
	svc_start_registry || return 1
	REG=127.0.0.1:$SVC_REGISTRY_PORT
	if [ "${1:-}" = ssh ]; then
		svc_start_sshd || return 1
	fi
	svc_base_image base:1 || return 1
	export DOCKER_HOST=$SVC_DOCKER_HOST DOCKER_CONFIG=$T/no-docker-config
	unset DOCKER_CONTEXT DOCKER_TLS_VERIFY DOCKER_CERT_PATH IMAGE_ARCHIVE_DIR IMGVAULT_SSH \
		IMGVAULT_SSH_CONFIG IMGVAULT_ROOT IMGVAULT_BUILD_TAG NO_COLOR FAILSHIM_CALL FAILSHIM_N \
		FAILSHIM_PATH FAILSHIM_LOG FAILSHIM_COUNT_FILE FAILSHIM_ERRNO FAILSHIM_PROG
	export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}log_path=$T/asan"
	export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}print_stacktrace=1:log_path=$T/ubsan"
}
dk() { docker -H "$SVC_DOCKER_HOST" "$@"; }
api() { curl -sf --unix-socket "$SVC/docker.sock" "$@"; }
