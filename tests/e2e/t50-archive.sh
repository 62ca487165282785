#!/usr/bin/env bash
# t50-archive: pull and build every image of a tree on a real engine (a
# private dockerd, over its socket and over ssh, with a loopback registry)
# and stream each into a compressed `docker save` file with a
# manifest.json: the layout, how the base folder is chosen, the manifest
# format, loading the files back with plain `docker load` (gzip and zstd),
# skipping, --force, [update], --delete, --dry-run, --rebuild-manifest,
# an invalid manifest, the folder lock, SIGINT/SIGTERM/kill -9 mid-export,
# a full disk (a small tmpfs, so run as root) and the engine killed
# mid-export (restarted after).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../lib/services.sh"

engine_env ssh || exit 1
image_id() { dk image inspect --format '{{.Id}}' "$1" 2>/dev/null; }

# $REG/demo/kv:2.1 in the registry (a small image of its own), not on the engine.
KV=$REG/demo/kv:2.1
KVFILE=kv/127.0.0.1_${SVC_REGISTRY_PORT}_demo_kv_2.1.tar.gz
# push_kv TEXT: build a kv image holding TEXT, push it as $KV.
push_kv() {
	mkdir -p "$T/kvctx" && printf 'FROM base:1\nRUN echo %s > /kv\n' "$1" >"$T/kvctx/Dockerfile" &&
		dk build -q -t "$KV" "$T/kvctx" >"$T/kv.log" 2>&1 && dk push "$KV" >>"$T/kv.log" 2>&1 ||
		{ cat "$T/kv.log"; return 1; }
}
push_kv one && dk rmi "$KV" >/dev/null || { echo "cannot seed the registry"; exit 1; }

# The tree: a build with image: shared by two services, a pull, a build
# with no image: (named noname-svc:t1, also noname-svc:latest), and a
# ~48 MB build (containerd's binary, there wherever dockerd is) that sorts
# last, for the cases that need an export in progress.
tree=$T/tree
mkdir -p "$tree/app" "$tree/kv" "$tree/noname" "$tree/zbig"
printf 'services:\n  app:\n    build: .\n    image: local/app:1\n  side:\n    image: local/app:1\n' \
	>"$tree/app/docker-compose.yaml"
printf 'FROM base:1\nRUN echo app > /app\n' >"$tree/app/Dockerfile"
printf 'services:\n  kv:\n    image: %s\n' "$KV" >"$tree/kv/docker-compose.yaml"
printf 'services:\n  svc:\n    build: .\n' >"$tree/noname/docker-compose.yaml"
printf 'FROM base:1\nRUN echo noname > /noname\n' >"$tree/noname/Dockerfile"
printf 'services:\n  big:\n    build: .\n    image: local/big:1\n' >"$tree/zbig/docker-compose.yaml"
printf 'FROM base:1\nCOPY containerd /big/containerd\n' >"$tree/zbig/Dockerfile"
cp "$(command -v containerd)" "$tree/zbig/" || exit 1

archive() { "$IMGVAULT" archive --root="$tree" --build-tag=t1 "$@"; }
A=$T/arch AD=$T/arch/x86_64 M=$T/arch/x86_64/manifest.json
ENGINE_ARCH=$(dk info --format '{{.Architecture}}')
FILES="app/local_app_1.tar.gz $KVFILE noname/noname-svc_t1.tar.gz zbig/local_big_1.tar.gz"

# agree DIR: manifest.json is valid JSON; each entry's file is there with
# that size and sha256; every archive file in DIR has an entry.
agree() {
	local f sum size got n=0
	jq -e '.images | type == "array"' "$1/manifest.json" >/dev/null ||
		{ echo "$1/manifest.json is not a manifest:"; head -c 300 "$1/manifest.json"; return 1; }
	while IFS=$'\t' read -r f sum size; do
		[ -f "$1/$f" ] || { echo "$f is in the manifest but not on disk"; return 1; }
		got=$(sha256sum <"$1/$f") got=${got%% *}
		[ "$got" = "$sum" ] || { echo "$f: sha256 $got, manifest says $sum"; return 1; }
		[ "$(stat -c %s "$1/$f")" = "$size" ] || { echo "$f: size $(stat -c %s "$1/$f"), manifest says $size"; return 1; }
		n=$((n + 1))
	done < <(jq -r '.images[] | [.file, .sha256, (.size|tostring)] | @tsv' "$1/manifest.json")
	got=$(cd "$1" && find . -mindepth 2 -name '*.tar.*' ! -name '.*' | wc -l)
	[ "$got" -eq "$n" ] || { echo "$got archive files, $n manifest entries:"; (cd "$1" && find . -type f); return 1; }
}
# no_temps DIR: no temporary (.NAME.tmp-PID-RANDOM) under DIR.
no_temps() {
	local left
	left=$(find "$1" -name '.*.tmp-*')
	[ -z "$left" ] || { echo "temporaries left: $left"; return 1; }
}
# wait_temp DIR: a temporary appears in DIR; sets TEMP to it.
wait_temp() {
	local f
	TEMP=
	for _ in $(seq 1200); do
		for f in "$1"/.*.tmp-*; do
			[ -e "$f" ] && { TEMP=$f; return 0; }
		done
		sleep 0.05
	done
	return 1
}
# entries FILE: the manifest's entries, without the archived_at times.
entries() { jq -cS '.images | map(del(.archived_at)) | sort_by(.project, .image)' "$1"; }
# loads FILE ID TAG…: remove the TAGs (the image is gone), `docker load` the
# file (zstd is decompressed first: Engine 20.10 loads no zstd), then the
# image ID is ID and every TAG names it.
loads() {
	local file=$1 id=$2 t got
	shift 2
	dk rmi "$@" >/dev/null || return 1
	! dk image inspect "$id" >/dev/null 2>&1 || { echo "$id is still on the engine"; return 1; }
	case $file in
	*.zst) zstd -dcq "$file" | dk load ;;
	*) dk load <"$file" ;;
	esac >"$T/load.log" 2>&1 || { echo "docker load $file failed:"; cat "$T/load.log"; return 1; }
	for t; do
		got=$(image_id "$t")
		[ "$got" = "$id" ] || { echo "after loading $file, $t is '$got', wanted $id"; return 1; }
	done
}
id_of() { jq -r --arg i "$2" '.images[] | select(.image == $i) | .docker_id' "$1"; }
sha_of() { jq -r --arg i "$2" '.images[] | select(.image == $i) | .sha256' "$1"; }
# bg_archive ARGS…: `imgvault archive` in the background, its output in
# $T/bg.out and bg.err; BG is imgvault's own pid (for signals and the lock).
# With BG_SIGINT=1 it runs with SIGINT at its default, as from a terminal
# (a script's background jobs start with it ignored).
bg_archive() {
	local pre=()
	[ "${BG_SIGINT:-}" = 1 ] && pre=(env --default-signal=INT)
	"${pre[@]}" "$IMGVAULT" archive --root="$tree" --build-tag=t1 "$@" >"$T/bg.out" 2>"$T/bg.err" &
	BG=$!
}
bg_wait() {
	wait "$BG" 2>/dev/null
	BG_RC=$?
}
# bg_was CODE TEMP: the background run saw a temporary (TEMP is not empty)
# and ended with CODE; else say what happened.
bg_was() {
	[ -n "$2" ] && [ "$BG_RC" -eq "$1" ] && return 0
	echo "the background run ended with $BG_RC (wanted $1); temporary seen: ${2:-none}"
	echo "--- its stdout:"; tail -8 "$T/bg.out"
	echo "--- its stderr:"; tail -8 "$T/bg.err"
	return 1
}

# --- the plan, with no engine ---------------------------------------------------

check "--dry-run lists each image with its file, needs no engine and writes nothing" \
	eval 'run 0 archive --dry-run -H unix:///nonexistent --output-dir=$T/dry &&
		has "$OUT" "=== kv ===" && has "$OUT" "[pull+save] $KV -> $KVFILE" &&
		has "$OUT" "[build+save] local/app:1 -> app/local_app_1.tar.gz" &&
		has "$OUT" "[build+save] noname-svc:t1 -> noname/noname-svc_t1.tar.gz" &&
		has "$OUT" "[build+save] local/big:1 -> zbig/local_big_1.tar.gz" && [ ! -e $T/dry ]'

check "an image by digest: '/', ':' and '@' all become '_' in its file name" \
	eval 'mkdir -p $T/digest/d && printf "services:\n  d:\n    image: $REG/demo/kv@sha256:%s\n" $(printf "%064d" 7) \
		>$T/digest/d/docker-compose.yaml &&
		run 0 "$IMGVAULT" archive --root=$T/digest --dry-run -H unix:///nonexistent --output-dir=$T/dry &&
		has "$OUT" "[pull+save] $REG/demo/kv@sha256:$(printf "%064d" 7) -> d/127.0.0.1_${SVC_REGISTRY_PORT}_demo_kv_sha256_$(printf "%064d" 7).tar.gz"'

check "--dry-run --compress=zstd names .tar.zst files and creates no default folder" \
	eval 'run 0 archive --dry-run --compress=zstd -H unix:///nonexistent &&
		has "$OUT" "[pull+save] $KV -> ${KVFILE%.gz}.zst" && [ ! -e $tree/_archive ]'

check "an unknown --compress is a usage error, exit 2" \
	eval 'run 2 archive --compress=lz4 --output-dir=$T/bad && has "$ERR" lz4 && [ ! -e $T/bad ]'

check "an engine that cannot be reached: exit 2 with a line naming it" \
	eval 'run 2 archive -H unix://$T/nothing.sock --output-dir=$T/noengine &&
		has "$ERR" "unix://$T/nothing.sock" && [ ! -e $T/noengine/x86_64 ]'

# --- a first run -----------------------------------------------------------

check "a first run pulls, builds and saves every image, with a summary" \
	eval 'run 0 archive --output-dir=$A && has "$OUT" "=== app ===" &&
		grep -qE "^\[build\+save\] local/app:1 -> app/local_app_1.tar.gz: [0-9]+\.[0-9] MB$" "$OUT" &&
		has "$OUT" "[pull+save] $KV -> $KVFILE: " &&
		has "$OUT" "[build+save] noname-svc:t1 -> noname/noname-svc_t1.tar.gz: " &&
		has "$OUT" "[build+save] local/big:1 -> zbig/local_big_1.tar.gz: " &&
		grep -qE "^New: 4 images, [0-9]+\.[0-9] MB$" "$OUT" && grep -qE "^Total: 4 images, " "$OUT" &&
		has "$OUT" "Skipped: 0" && has "$OUT" "Failures: 0" && has "$OUT" "Archive: $AD"'

check "files are <base>/<engine arch>/<project>/<ref with / : @ as _>.tar.gz" \
	eval '[ "$ENGINE_ARCH" = x86_64 ] && for f in $FILES; do [ -f "$AD/$f" ] || { echo "no $AD/$f"; exit 1; }; done'

check "manifest.json names the arch, context, ssh host and folder" \
	eval 'jq_is $M "[.arch, .docker_context, .ssh_host, .output_dir]" "[\"x86_64\",\"default\",\"\",\"$AD\"]" &&
		jq_is $M ".archived_at | test(\"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\")" true'

check "each manifest entry has project, image, action, file and the services that use it" \
	eval 'jq_is $M "[.images[] | [.project, .image, .action, .file, .services]] | sort" \
		"[[\"app\",\"local/app:1\",\"build+save\",\"app/local_app_1.tar.gz\",[\"app\",\"side\"]],[\"kv\",\"$KV\",\"pull+save\",\"$KVFILE\",[\"kv\"]],[\"noname\",\"noname-svc:t1\",\"build+save\",\"noname/noname-svc_t1.tar.gz\",[\"svc\"]],[\"zbig\",\"local/big:1\",\"build+save\",\"zbig/local_big_1.tar.gz\",[\"big\"]]]" &&
		jq_is $M "all(.images[]; (.size | type) == \"number\" and (.sha256 | test(\"^[0-9a-f]{64}$\")) and
			(.archived_at | test(\"^[0-9]{4}-[0-9]{2}-[0-9]{2}T\")))" true'

check "the manifest's size and sha256 are those of each file" agree "$AD"

check "docker_id is the engine's image ID of each image" \
	eval 'for i in local/app:1 $KV noname-svc:t1 local/big:1; do
		[ "$(id_of $M $i)" = "$(image_id $i)" ] || { echo "$i: manifest $(id_of $M $i), engine $(image_id $i)"; exit 1; }; done'

check "every .tar.gz passes gzip -t" \
	eval 'for f in $FILES; do gzip -t "$AD/$f" || exit 1; done'

check "each archive loads with plain docker load, with its image ID and name" \
	eval 'loads $AD/app/local_app_1.tar.gz "$(id_of $M local/app:1)" local/app:1 &&
		loads $AD/$KVFILE "$(id_of $M $KV)" $KV &&
		loads $AD/zbig/local_big_1.tar.gz "$(id_of $M local/big:1)" local/big:1'

check "a built image with no image: loads as <project>-<service>:<tag> and <compose project>-<service>:latest" \
	eval 'loads $AD/noname/noname-svc_t1.tar.gz "$(id_of $M noname-svc:t1)" noname-svc:t1 noname-svc:latest'

# --- a failing image ----------------------------------------------------------

bad=$T/bad
mkdir -p "$bad/a-missing" "$bad/b-fine"
printf 'services:\n  m:\n    image: %s/demo/not-there:1\n' "$REG" >"$bad/a-missing/docker-compose.yaml"
printf 'services:\n  f:\n    image: %s\n' "$KV" >"$bad/b-fine/docker-compose.yaml"
check "an image that cannot be pulled fails with the reason, the others are archived; exit 1" \
	eval 'run 1 "$IMGVAULT" archive --root=$bad --output-dir=$T/badarch &&
		has "$OUT" "[pull+save] $REG/demo/not-there:1: failed: " && has "$OUT" "manifest unknown" &&
		has "$OUT" "[pull+save] $KV -> b-fine/" && has "$OUT" "New: 1 images" &&
		grep -A1 "^Failures: 1$" "$OUT" | grep -q "$REG/demo/not-there:1: " &&
		agree $T/badarch/x86_64 && jq_is $T/badarch/x86_64/manifest.json "[.images[].image]" "[\"$KV\"]"'

# --- skipping, --force, [update] ----------------------------------------------

cp "$M" "$T/m.first"
check "a second run skips every archived image and rewrites no file" \
	eval 'sha256sum $AD/*/* >$T/sums.before && run 0 archive --output-dir=$A &&
		has "$OUT" "[skip] local/app:1 (already archived, " && has "$OUT" "[skip] $KV (already archived, " &&
		has "$OUT" "[skip] noname-svc:t1 (already archived, " && has "$OUT" "[skip] local/big:1 (already archived, " &&
		has "$OUT" "New: 0 images, 0.0 MB" && has "$OUT" "Total: 4 images" && has "$OUT" "Skipped: 4" &&
		has "$OUT" "Failures: 0" && sha256sum $AD/*/* | cmp - $T/sums.before && [ "$(entries $M)" = "$(entries $T/m.first)" ]'

check "--force archives every image again" \
	eval 'run 0 archive --output-dir=$A --force --level=1 && has "$OUT" "New: 4 images" && has "$OUT" "Skipped: 0" &&
		lacks "$OUT" "[skip]" && agree $AD'

check "an entry whose file is gone is archived again" \
	eval 'rm $AD/$KVFILE && run 0 archive --output-dir=$A --project=kv &&
		has "$OUT" "[pull+save] $KV -> $KVFILE: " && has "$OUT" "New: 1 images" && agree $AD'

cp "$M" "$T/m.pre-nosha"
check "an entry with no sha256 is archived again" \
	eval 'jq "del(.images[] | select(.image == \"local/app:1\") | .sha256)" $M >$T/m.nosha && cp $T/m.nosha $M &&
		run 0 archive --output-dir=$A --project=app && has "$OUT" "[build+save] local/app:1 -> app/local_app_1.tar.gz: " &&
		has "$OUT" "New: 1 images" && agree $AD && [ "$(sha_of $M local/app:1)" != null ]'
# (when that failed, the rest goes on from the manifest as it was)
jq -e 'all(.images[]; has("sha256"))' "$M" >/dev/null || cp "$T/m.pre-nosha" "$M"

check "when the engine holds the name under another image ID: [update], archived again with that ID" \
	eval 'old=$(id_of $M $KV) && push_kv two && new=$(image_id $KV) && [ "$new" != "$old" ] &&
		run 0 archive --output-dir=$A --project=kv &&
		has "$OUT" "[update] $KV: the engine'"'"'s image changed" && has "$OUT" "archiving again" &&
		has "$OUT" "[pull+save] $KV -> $KVFILE: " && [ "$(id_of $M $KV)" = "$new" ] && agree $AD'

# --- --delete ---------------------------------------------------------------

check "--delete removes each image from the engine once its archive is stored" \
	eval 'run 0 archive --output-dir=$A --project=kv --project=noname --force --delete &&
		has "$OUT" "New: 2 images" && agree $AD && [ -z "$(image_id $KV)" ] &&
		[ -z "$(image_id noname-svc:t1)" ] && [ -z "$(image_id noname-svc:latest)" ]'

check "--delete removes skipped images too, both names of a built one" \
	eval 'dk load <$AD/$KVFILE >/dev/null && dk load <$AD/noname/noname-svc_t1.tar.gz >/dev/null &&
		[ -n "$(image_id noname-svc:latest)" ] &&
		run 0 archive --output-dir=$A --project=kv --project=noname --delete &&
		has "$OUT" "[skip] $KV" && has "$OUT" "[skip] noname-svc:t1" && has "$OUT" "Skipped: 2" &&
		[ -z "$(image_id $KV)" ] && [ -z "$(image_id noname-svc:t1)" ] && [ -z "$(image_id noname-svc:latest)" ]'

# --- the manifest: rebuilt, or invalid -------------------------------------------

cp "$M" "$T/m.good"
check "--rebuild-manifest with no manifest.json reproduces every entry, with no engine" \
	eval 'rm $M && run 0 archive --output-dir=$A --rebuild-manifest -H unix:///nonexistent &&
		[ "$(entries $M)" = "$(entries $T/m.good)" ] || { diff <(entries $T/m.good | jq .) <(entries $M | jq .); exit 1; }'

check "--rebuild-manifest corrects wrong sizes, hashes and IDs and restores lost entries" \
	eval 'jq "(.images[] | select(.project == \"app\")) |= (.size = 1 | .sha256 = (\"0\" * 64) | .docker_id = \"sha256:\" + (\"0\" * 64))
		| del(.images[] | select(.project == \"kv\"))" $T/m.good >$M &&
		run 0 archive --output-dir=$A --rebuild-manifest -H unix:///nonexistent &&
		[ "$(entries $M)" = "$(entries $T/m.good)" ] || { diff <(entries $T/m.good | jq .) <(entries $M | jq .); exit 1; }'
cp "$T/m.good" "$M"

check "an invalid manifest.json is never replaced: exit 2, naming it and --rebuild-manifest" \
	eval 'printf "{\"images\": [{\"project\": " >$M && cp $M $T/m.bad &&
		run 2 archive --output-dir=$A --project=kv && has "$ERR" "$M" && has "$ERR" "--rebuild-manifest" &&
		cmp $M $T/m.bad'

check "a manifest that is JSON but not a manifest is refused the same way" \
	eval 'echo "{\"images\": {\"app\": 1}}" >$M && cp $M $T/m.bad &&
		run 2 archive --output-dir=$A --project=app && has "$ERR" "$M" && has "$ERR" "--rebuild-manifest" &&
		cmp $M $T/m.bad'
cp "$T/m.good" "$M"

# --- a second run at once, SIGTERM and SIGINT mid-export ----------------------------
#
# The same image at the same level compresses to the same bytes, so each
# forced run below uses a level that the run before it did not: a file
# replaced without its entry (or the reverse) then shows as a sha256 that
# disagrees. Levels so far: 6 (first run), 1 (--force).

# A run that re-archives all (level 12, one thread: slow) is in zbig's export.
cp "$M" "$T/m.before-term"
bg_archive --output-dir="$A" --force --level=12 --jobs=1
wait_temp "$AD/zbig"
TERM_TEMP=$TEMP
[ -n "$TERM_TEMP" ] && agree "$AD" >"$T/agree.mid" 2>&1
MID_AGREE=$?
check "the manifest is rewritten after each image, before the next is exported" \
	eval '[ -n "$TERM_TEMP" ] || { echo "no temporary appeared"; exit 1; }
		[ $MID_AGREE -eq 0 ] || { cat $T/agree.mid; exit 1; }
		[ "$(sha_of $M local/app:1)" != "$(sha_of $T/m.before-term local/app:1)" ]'

check "a second run on the same arch folder refuses at once, naming the folder and the holder's pid" \
	eval 's=$(date +%s%N) && run 2 timeout 20 "$IMGVAULT" archive --root=$tree --build-tag=t1 --output-dir=$A &&
		[ $(( ($(date +%s%N) - s) / 1000000 )) -lt 5000 ] && has "$ERR" "$AD" && has "$ERR" "pid $BG" && lines "$ERR" 1'

kill -TERM "$BG" 2>/dev/null
bg_wait
check "SIGTERM during an export: exit 143, the temporary is gone, every earlier entry stays" \
	eval 'bg_was 143 "$TERM_TEMP" && [ ! -e "$TERM_TEMP" ] && no_temps $AD && agree $AD && jq_is $M ".images | length" 4 &&
		[ "$(sha_of $M local/app:1)" != "$(sha_of $T/m.before-term local/app:1)" ] &&
		[ "$(sha_of $M local/big:1)" = "$(sha_of $T/m.before-term local/big:1)" ]'

cp "$M" "$T/m.before-int"
BG_SIGINT=1 bg_archive --output-dir="$A" --force --level=9 --jobs=1
wait_temp "$AD/zbig"
INT_TEMP=$TEMP
kill -INT "$BG" 2>/dev/null
bg_wait
check "SIGINT during an export: exit 130, the temporary is gone, every earlier entry stays" \
	eval 'bg_was 130 "$INT_TEMP" && [ ! -e "$INT_TEMP" ] && no_temps $AD && agree $AD && jq_is $M ".images | length" 4 &&
		[ "$(sha_of $M local/app:1)" != "$(sha_of $T/m.before-int local/app:1)" ]'

# --- kill -9 ------------------------------------------------------------------------

bg_archive --output-dir="$A" --force --project=zbig --level=11 --jobs=1
wait_temp "$AD/zbig"
KILL_TEMP=$TEMP KILL_PID=$BG
kill -9 "$BG" 2>/dev/null
bg_wait
check "kill -9 mid-export leaves only a temporary; the next run removes it and completes" \
	eval 'bg_was 137 "$KILL_TEMP" && { [ -e "$KILL_TEMP" ] || { echo "$KILL_TEMP is gone"; exit 1; }; } &&
		case $KILL_TEMP in */.local_big_1.tar.gz.tmp-$KILL_PID-*) ;; *) echo "temp $KILL_TEMP"; exit 1;; esac &&
		run 0 archive --output-dir=$A && has "$OUT" "Failures: 0" && no_temps $AD && agree $AD'

# kill_on_rename FILE PID: SIGKILL PID the moment FILE is replaced.
kill_on_rename() {
	/usr/bin/python3 - "$1" "$2" <<-'PY'
		import os, signal, sys, time
		path, pid = sys.argv[1], int(sys.argv[2])
		def ino():
		    try:
		        return os.stat(path).st_ino
		    except FileNotFoundError:
		        return None
		first, end = ino(), time.time() + 30
		while time.time() < end:
		    if ino() != first:
		        try:
		            os.kill(pid, signal.SIGKILL)
		        except ProcessLookupError:
		            sys.exit(2)
		        sys.exit(0)
		sys.exit(1)
	PY
}
bg_archive --output-dir="$A" --force --project=zbig --level=4 --jobs=1
wait_temp "$AD/zbig" && kill_on_rename "$AD/zbig/local_big_1.tar.gz" "$BG"
RENAME_KILLED=$? RENAME_TEMP=$TEMP
bg_wait
check "kill -9 just as an archive is renamed into place: the next run leaves files and manifest agreeing" \
	eval '{ [ $RENAME_KILLED -eq 0 ] || echo "the watcher ended with $RENAME_KILLED"; } && bg_was 137 "$RENAME_TEMP" &&
		run 0 archive --output-dir=$A && has "$OUT" "Failures: 0" && no_temps $AD && agree $AD'

# (whatever the kill above left, a forced run sets right for the next check)
archive --output-dir="$A" --force --project=zbig --level=5 >/dev/null 2>&1

# Kills at several moments of a run that re-archives everything, each at
# another level than the one before, so a file replaced but not recorded
# would show.
: >"$T/kill9.log"
lvl=2
for d in 0.3 0.9 1.6 2.4; do
	bg_archive --output-dir="$A" --force --level=$lvl --jobs=1
	sleep "$d"
	kill -9 "$BG" 2>/dev/null
	bg_wait
	if ! archive --output-dir="$A" >"$T/k.out" 2>"$T/k.err"; then
		echo "after a kill at ${d}s, the next run failed:" >>"$T/kill9.log"
		cat "$T/k.out" "$T/k.err" >>"$T/kill9.log"
	fi
	no_temps "$AD" >>"$T/kill9.log" 2>&1 && agree "$AD" >>"$T/kill9.log" 2>&1 ||
		echo "  (after a kill -9 at ${d}s, level $lvl)" >>"$T/kill9.log"
	lvl=$((5 - lvl))
done
check "kill -9 at any moment: each next run removes the temporaries, files agree with the manifest" \
	eval '[ ! -s $T/kill9.log ] || { cat $T/kill9.log; exit 1; }'

# --- where the archive goes ---------------------------------------------------------

check "IMAGE_ARCHIVE_DIR is the base when --output-dir is absent" \
	eval 'IMAGE_ARCHIVE_DIR=$T/envbase run 0 archive --project=kv && [ -f $T/envbase/x86_64/$KVFILE ] &&
		has "$OUT" "Archive: $T/envbase/x86_64"'

check "--output-dir wins over IMAGE_ARCHIVE_DIR" \
	eval 'IMAGE_ARCHIVE_DIR=$T/envbase2 run 0 archive --project=kv --output-dir=$T/flagbase &&
		[ -f $T/flagbase/x86_64/$KVFILE ] && [ ! -e $T/envbase2 ]'

check "IMAGE_ARCHIVE_DIR= in <root>/.env_default is the base with no context and no env" \
	eval 'echo "IMAGE_ARCHIVE_DIR=$T/dotenv" >$tree/.env_default && run 0 archive --project=kv &&
		[ -f $T/dotenv/x86_64/$KVFILE ] && jq_is $T/dotenv/x86_64/manifest.json .docker_context "\"default\""'

check "the environment's IMAGE_ARCHIVE_DIR wins over .env_<context>" \
	eval 'echo "IMAGE_ARCHIVE_DIR=$T/dotenv2" >$tree/.env_default &&
		IMAGE_ARCHIVE_DIR=$T/envbase3 run 0 archive --project=kv && [ -f $T/envbase3/x86_64/$KVFILE ] && [ ! -e $T/dotenv2 ]'

check "a docker context's .env_<name> gives the base, and the manifest names the context" \
	eval 'svc_docker_context myctx "$SVC_DOCKER_HOST" && echo "IMAGE_ARCHIVE_DIR=$T/ctxbase" >$tree/.env_myctx &&
		unset DOCKER_HOST && DOCKER_CONFIG=$SVC_DOCKER_CONFIG DOCKER_CONTEXT=myctx run 0 archive --project=kv &&
		[ -f $T/ctxbase/x86_64/$KVFILE ] && jq_is $T/ctxbase/x86_64/manifest.json .docker_context "\"myctx\""'

check "with no setting at all the base is <root>/_archive/images" \
	eval 'rm -f $tree/.env_default $tree/.env_myctx && run 0 archive --project=kv &&
		[ -f $tree/_archive/images/x86_64/$KVFILE ] && has "$OUT" "Archive: $tree/_archive/images/x86_64"'

# --- zstd ----------------------------------------------------------------------------

Z=$T/zst/x86_64
check "--compress=zstd writes .tar.zst files that pass zstd -t" \
	eval 'run 0 archive --output-dir=$T/zst --compress=zstd --exclude=zbig && has "$OUT" "New: 3 images" &&
		for f in app/local_app_1.tar.zst ${KVFILE%.gz}.zst noname/noname-svc_t1.tar.zst; do
			zstd -tq $Z/$f || { echo "$f fails zstd -t"; exit 1; }; done && agree $Z && ! ls $Z/*/*.gz 2>/dev/null'

check "a .tar.zst holds a docker save stream that loads, decompressed, with its ID and both names" \
	eval 'loads $Z/noname/noname-svc_t1.tar.zst "$(id_of $Z/manifest.json noname-svc:t1)" noname-svc:t1 noname-svc:latest &&
		loads $Z/app/local_app_1.tar.zst "$(id_of $Z/manifest.json local/app:1)" local/app:1'

# --- over ssh --------------------------------------------------------------------------

S=$T/ssh/x86_64
check "over DOCKER_HOST=ssh://… the same archive works; ssh_host is user@host" \
	eval 'DOCKER_HOST=ssh://root@127.0.0.1:$SVC_SSH_PORT IMGVAULT_SSH_CONFIG=$SVC/ssh_config \
		run 0 archive --output-dir=$T/ssh --exclude=zbig && has "$OUT" "New: 3 images" && has "$OUT" "Failures: 0" &&
		agree $S && jq_is $S/manifest.json .ssh_host "\"root@127.0.0.1\"" &&
		for f in $S/*/*.tar.gz; do gzip -t $f || exit 1; done &&
		for i in local/app:1 $KV noname-svc:t1; do
			[ "$(id_of $S/manifest.json $i)" = "$(image_id $i)" ] || { echo "$i: $(id_of $S/manifest.json $i) vs $(image_id $i)"; exit 1; }; done'

# --- a full disk ---------------------------------------------------------------------------

full=$T/full
mkdir -p "$full"
if mount -t tmpfs -o size=6m imgvault-t50 "$full"; then
	eval "set -- $(trap -p EXIT)"
	# shellcheck disable=SC2064 # fixed now, on purpose
	trap "umount -l '$full' 2>/dev/null; $3" EXIT
fi
check "disk full: that image fails naming 'No space left on device', no partial file, earlier entries kept, exit 1" \
	eval 'mountpoint -q $full && run 1 archive --output-dir=$full &&
		has "$OUT" "[build+save] local/big:1: failed: " && has "$OUT" "No space left on device" &&
		grep -A1 "^Failures: 1$" "$OUT" | grep -q "local/big:1: .*No space left on device" &&
		[ ! -e $full/x86_64/zbig/local_big_1.tar.gz ] && no_temps $full &&
		agree $full/x86_64 && jq_is $full/x86_64/manifest.json "[.images[].image] | sort" "[\"$KV\",\"local/app:1\",\"noname-svc:t1\"]"'
umount "$full" 2>/dev/null

# --- the engine dies mid-export -------------------------------------------------------------

E=$T/eng/x86_64
bg_archive --output-dir="$T/eng" --level=12 --jobs=1
wait_temp "$E/zbig" && sleep 0.5 && svc_stop_dockerd KILL
ENG_TEMP=$TEMP
bg_wait
check "the engine stopped mid-export: the image fails naming the cause; no partial file; earlier entries stay" \
	eval 'bg_was 1 "$ENG_TEMP" && cp $T/bg.out $OUT && has "$OUT" "[build+save] local/big:1: failed: " && has "$OUT" "Failures: 1" &&
		grep -E "^\[build\+save\] local/big:1: failed: .*$SVC/docker.sock.*(closed|reset|EOF|end of|refused)" "$OUT" &&
		[ ! -e $E/zbig/local_big_1.tar.gz ] && no_temps $E && agree $E &&
		jq_is $E/manifest.json "[.images[].image] | sort" "[\"$KV\",\"local/app:1\",\"noname-svc:t1\"]"'

svc_start_dockerd >/dev/null 2>&1
check "with the engine back, the next run archives what failed and skips the rest" \
	eval 'run 0 archive --output-dir=$T/eng && has "$OUT" "[build+save] local/big:1 -> zbig/local_big_1.tar.gz: " &&
		has "$OUT" "Skipped: 3" && has "$OUT" "New: 1 images" && agree $E'

check "no run left a sanitizer report" \
	no_sanitizer_reports

finish
