#!/usr/bin/env bash
# t90-demo: scripts/demo (what `make demo` runs after installing and
# building) in its quiet, non-terminal form, with a private dockerd standing
# in for the user's engine. That engine already holds an image, one of whose
# names the demo builds and pushes too. The demo's registry takes
# 127.0.0.1:5000, so that port must be free. Proves: the summary names every
# example image and the archive folder; manifest.json there lists them and
# `imgvault verify` passes; the engine's image list is the same before and
# after (the moved name put back); no registry or dockerd is left running;
# the docker CLI is never run; KEEP=1 keeps the images and the archive;
# with no engine answering, the demo starts its own dockerd, says so, passes,
# and leaves none behind; port 5000 taken by something else fails at once,
# naming the step.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../lib/services.sh"

DEMO=$(cd "$(dirname "$0")/../.." && pwd)/scripts/demo
EXAMPLES=$(cd "$(dirname "$0")/../.." && pwd)/examples

# port_free: nothing listens on 127.0.0.1:5000 (curl's "could not connect").
port_free() {
	local rc=0
	curl -s --noproxy '*' --max-time 3 -o /dev/null http://127.0.0.1:5000/ || rc=$?
	[ "$rc" = 7 ] && return 0
	echo "127.0.0.1:5000 is taken (curl exit $rc): the demo needs it for its registry; stop what listens there:"
	ss -ltnp 'sport = :5000' 2>/dev/null
	return 1
}
check "port 127.0.0.1:5000 is free for the demo's registry" port_free
[ "$_failed" = 0 ] || { finish; exit 1; }

svc_init
svc_start_dockerd || exit 1
export DOCKER_HOST=$SVC_DOCKER_HOST DOCKER_CONFIG=$T/no-docker-config
unset DOCKER_CONTEXT DOCKER_TLS_VERIFY DOCKER_CERT_PATH IMAGE_ARCHIVE_DIR IMGVAULT_ROOT \
	IMGVAULT_BUILD_TAG KEEP QUIET DEMO_ARCHIVE_DIR
api() { curl -sf --noproxy '*' --unix-socket "$SVC/docker.sock" "$@"; }
# the engine's images: IDs and names, all of them (intermediate ones too)
engine_images() {
	api 'http://engine/images/json?all=1' |
		jq -S '[.[] | {Id, RepoTags: (((.RepoTags // []) - ["<none>:<none>"]) | sort)}] | sort_by(.Id)'
}

# The user's engine holds an image, also named as one the demo makes.
svc_base_image user/base:1 &&
	api -X POST 'http://engine/images/user/base:1/tag?repo=127.0.0.1%3A5000%2Fdemo%2Fbusybox&tag=1.36' ||
	{ echo "cannot make the user's image"; exit 1; }
engine_images >"$T/before.json" || exit 1

# the demo's temp folders, and so its processes' command lines, under $T/tmp;
# a docker CLI that tells on its caller
mkdir -p "$T/tmp" "$T/bin"
printf '#!/bin/sh\necho "docker $*" >>"%s/docker-used"\nexit 1\n' "$T" >"$T/bin/docker"
chmod +x "$T/bin/docker"
demo() {
	TMPDIR=$T/tmp PATH=$T/bin:$PATH QUIET=1 IMGVAULT=$IMGVAULT timeout 300 "$DEMO" </dev/null
}
# nothing still running from the demo (dockerd, containerd, registry)
nothing_left() {
	local f cmd bad=0
	for f in /proc/[0-9]*/cmdline; do
		cmd=$(tr '\0' ' ' <"$f" 2>/dev/null) || continue
		case $cmd in *"$T/tmp/"*) echo "still running: ${f%/cmdline}: $cmd" && bad=1 ;; esac
	done
	port_free || bad=1
	return "$bad"
}
demo_ok() { # demo_ok N: run N exited 0
	[ "$(cat "$T/rc$1")" = 0 ] && return 0
	echo "exit $(cat "$T/rc$1")"; echo "--- stderr:"; tail -20 "$T/err$1"; echo "--- stdout:"; tail -30 "$T/out$1"
	return 1
}
names_all() { # names_all FILE: FILE names every image of the examples
	local img
	for img in $("$IMGVAULT" catalog --root="$EXAMPLES" --json | jq -r '.[].image' | sort -u); do
		has "$1" "$img" || return 1
	done
}
catalog_images() { "$IMGVAULT" catalog --root="$EXAMPLES" --json | jq -c '[.[].image] | unique'; }

# 1. Quiet, on the user's engine, archiving into a folder of ours.
DEMO_ARCHIVE_DIR=$T/archive demo >"$T/out1" 2>"$T/err1"
echo $? >"$T/rc1"
ARCH=$(api http://engine/info | jq -r .Architecture)
AD=$T/archive/$ARCH
check "the demo passes in its quiet form on the user's engine" demo_ok 1
check "quiet: nothing on stderr, only the summary on stdout" \
	eval '[ ! -s "$T/err1" ] && [ "$(grep -c "^== " "$T/out1")" = 1 ] && has "$T/out1" "== Summary"'
check "the summary names every example image" names_all "$T/out1"
check "the summary names the archive folder" has "$T/out1" "Archive folder: $AD"
check "the summary times each step" eval 'has "$T/out1" "  archive " && has "$T/out1" "  restore " && has "$T/out1" "  total "'
check "manifest.json in the archive folder lists every example image" \
	jq_is "$AD/manifest.json" '[.images[].image] | unique' "$(catalog_images)"
check "imgvault verify --deep passes on the archive folder" \
	run 0 "$IMGVAULT" verify --deep --archive-dir="$AD"
check "the engine holds the same images, under the same names, as before the demo" \
	eval 'engine_images >"$T/after1.json" && diff "$T/before.json" "$T/after1.json"'
check "the demo left no container on the engine" \
	eval '[ "$(api "http://engine/containers/json?all=1" | jq -c "[.[].Id]")" = "[]" ]'
check "no registry or dockerd left running, port 5000 free again" nothing_left
check "the demo removed its temp folder" eval '[ -z "$(ls -A "$T/tmp")" ] || ls -la "$T/tmp"'
check "the demo never ran the docker CLI" eval '[ ! -e "$T/docker-used" ] || cat "$T/docker-used"'

# 2. KEEP=1 keeps the images on the engine and the archive folder.
KEEP=1 demo >"$T/out2" 2>"$T/err2"
echo $? >"$T/rc2"
KEPT=$(sed -n 's/^Archive folder: \(.*\) (kept)$/\1/p' "$T/out2")
check "KEEP=1: the demo passes" demo_ok 2
check "KEEP=1: the archive folder is kept, where the summary says, and verifies" \
	eval '[ -n "$KEPT" ] && [ -f "$KEPT/manifest.json" ] && run 0 "$IMGVAULT" verify --archive-dir="$KEPT"'
kept_on_engine() {
	local img id got
	jq -r '.images[] | [.image, .docker_id] | @tsv' "$KEPT/manifest.json" >"$T/kept.tsv" || return 1
	[ -s "$T/kept.tsv" ] || { echo "empty manifest"; return 1; }
	while IFS=$'\t' read -r img id; do
		got=$(api "http://engine/images/$img/json" | jq -r .Id)
		[ "$got" = "$id" ] || { echo "$img: on the engine as '$got', archived as $id"; return 1; }
	done <"$T/kept.tsv"
}
check "KEEP=1: every archived image stays on the engine" kept_on_engine
check "KEEP=1: no registry or dockerd left running" nothing_left
engine_images >"$T/after2.json"

# 3. No engine answers: a private dockerd of the demo's own, gone after.
DOCKER_HOST=unix:///nonexistent.sock demo >"$T/out3" 2>"$T/err3"
echo $? >"$T/rc3"
check "no engine: the demo passes on a private dockerd" demo_ok 3
check "no engine: the summary says it started a private dockerd, and why" \
	eval 'has "$T/out3" "a private dockerd the demo started" && has "$T/out3" "unix:///nonexistent.sock (DOCKER_HOST)"'
check "no engine: the summary names every example image" names_all "$T/out3"
check "no engine: no dockerd, containerd or registry left running" nothing_left
check "no engine: its temp folder is gone (only KEEP=1's stays)" \
	eval '[ "$(ls -A "$T/tmp" | wc -l)" = 1 ] || ls -la "$T/tmp"'
check "no engine: the user's engine was not touched" \
	eval 'engine_images >"$T/after3.json" && diff "$T/after2.json" "$T/after3.json"'

# 4. Port 5000 taken by something that is not a registry.
mkdir -p "$T/www"
/usr/bin/python3 -m http.server --bind 127.0.0.1 --directory "$T/www" 5000 >"$T/www.log" 2>&1 &
www=$!
svc_wait 10 curl -s --noproxy '*' -o /dev/null http://127.0.0.1:5000/
engine_images >"$T/before4.json"
demo >"$T/out4" 2>"$T/err4"
echo $? >"$T/rc4"
kill "$www" 2>/dev/null
wait "$www" 2>/dev/null
check "port 5000 taken: the demo fails at once, its last line naming the step" \
	eval '[ "$(cat "$T/rc4")" = 1 ] && has "$T/err4" "port 5000 is taken" &&
		[ "$(tail -1 "$T/err4")" = "demo: step '\''registry on 127.0.0.1:5000'\'' failed (exit 1)" ] ||
		{ cat "$T/err4"; false; }'
check "port 5000 taken: the engine is left as it was" \
	eval 'engine_images >"$T/after4.json" && diff "$T/before4.json" "$T/after4.json"'

finish
