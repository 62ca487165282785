#!/usr/bin/env bash
# t80-faults: I/O fault injection. A preloaded shim (tests/fault/failshim.c,
# built here into the temp folder) makes the Nth `write`, `fsync`,
# `rename`, `open` or `malloc` of the imgvault process fail. Over a small
# tree on a private dockerd (a build with image:, and a pull from a
# loopback registry), for each call kind a run without a fault first counts
# the calls C, then `imgvault archive` (into a fresh folder, and into a copy
# of an earlier complete archive, where the built image is [update]d and
# the pulled one [skip]ped) and `imgvault restore` (the images removed
# first) run under the shim for N = 1..C, and after each run:
#   - the exit status is 0, 1 or 2 (never a signal, a sanitizer's or a
#     timeout's); a run that failed said so in a line ("imgvault: …" on
#     stderr, "[…] IMAGE: failed: …" or restore's "[refused] IMAGE: …" on
#     stdout) naming the cause (strerror's words for the injected errno);
#     a run that exited 0 did all its work;
#   - archive: manifest.json, when there is one, is JSON whose entries all
#     have every key, of the right type; every entry's file is there with
#     its size and sha256; no *.tar.gz that no entry names, unless it is the
#     earlier archive's file, untouched; no temporary (.*.tmp-*) left; then
#     a run without the shim exits 0 and `verify --deep` passes;
#   - restore: no image name on the engine under an ID other than the
#     manifest's, the manifest untouched; then a run without the shim
#     restores every image.
# write faults run twice, with EIO and with ENOSPC (fresh folder). Only
# calls on regular files and folders under the test's work folder count
# (never the engine's socket, stdout or stderr). A kind a command makes no
# call of (restore writes nothing) is reported, not checked.
#
# malloc counts every allocation from main() on, the libraries' included,
# thousands a run: N is every one with FAULTS_FULL=1 (the release
# measurement, hours), else FAULTS_SAMPLES (default 15) spread evenly over
# 1..C, to keep the script near 3 minutes. After a failed allocation a
# crash is tolerated only inside a library that was handed the failure
# itself (jansson 2.14's lexer, OpenSSL 3.0's initialisation: the shim logs
# where it crashed); a run failing without naming memory is listed, not
# failed, since libraries do not always say (jansson may even return a
# truncated string). Under AddressSanitizer the shim cannot stand in front
# of ASan's allocator, so the malloc kind is skipped there.
#
# The last line counts the trials: "# faults: archive fresh write 1..9, …:
# 152 trials". FAULTS_KINDS="write open" runs only those kinds;
# FAULTS_VERBOSE=1 lists the faults no output mentioned, the unclear
# reasons and the library crashes; FAULTS_NS="12 345" tries only those N
# (to replay a failure); FAULTS_RUNS="archive-fresh archive-existing
# restore" (the default) picks what runs; FAULTS_SHARD=I/K tries only the N
# with N mod K = I (tests/fault/sweep runs K such copies side by side);
# FAULTS_CRASH_LOGS=DIR keeps the shim's log of every crash there.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../lib/services.sh"

SRC=$(cd "$(dirname "$0")/../.." && pwd)
FULL=${FAULTS_FULL:-0}
SAMPLES=${FAULTS_SAMPLES:-15}

# --- the shim, and whether it can run in front of this binary -------------------------

SHIM=$T/failshim.so
PRELOAD=$SHIM
ASAN=0
if nm -D "$IMGVAULT" 2>/dev/null | grep -q __asan_init || nm "$IMGVAULT" 2>/dev/null | grep -q __asan_init; then
	ASAN=1
	# ASan must come first among the loaded libraries; the shim then sits
	# between it and libc (ASan's own write/open wrappers call the shim's).
	libasan=$(ldd "$IMGVAULT" | awk '/libasan/ { print $3; exit }')
	[ -n "$libasan" ] && PRELOAD=$libasan:$SHIM
fi
if ! cc -shared -fPIC -O1 -o "$SHIM" "$SRC/tests/fault/failshim.c" -ldl >"$T/cc.log" 2>&1; then
	echo "not ok - the fault shim builds"
	cat "$T/cc.log"
	exit 1
fi

engine_env || exit 1

# Everything the shim may fail lives under $W; stdout and stderr do not.
W=$T/w
KV=$REG/demo/kv:1
mkdir -p "$T/kvctx" && printf 'FROM base:1\nRUN echo kv > /kv\n' >"$T/kvctx/Dockerfile" &&
	dk build -q -t "$KV" "$T/kvctx" >"$T/kv.log" 2>&1 && dk push "$KV" >>"$T/kv.log" 2>&1 &&
	dk rmi "$KV" >/dev/null || { echo "cannot seed the registry:"; cat "$T/kv.log"; exit 1; }
tree=$W/tree
mkdir -p "$tree/app" "$tree/kv"
printf 'services:\n  app:\n    build: .\n    image: local/app:1\n' >"$tree/app/docker-compose.yaml"
printf 'FROM base:1\nRUN echo app0 > /app\n' >"$tree/app/Dockerfile"
printf 'services:\n  kv:\n    image: %s\n' "$KV" >"$tree/kv/docker-compose.yaml"
IMAGES="local/app:1 $KV"
ENGINE_ARCH=$(dk info --format '{{.Architecture}}')

archive() { timeout 120 "$IMGVAULT" archive --root="$tree" --build-tag=t1 "$@"; }
restore() { timeout 120 "$IMGVAULT" restore "$@"; }

# The earlier complete archive (app as it was), then app changes: archiving
# into a copy of it updates app and skips the others.
PRISTINE=$T/pristine
archive --output-dir="$PRISTINE" >"$T/pristine.log" 2>&1 ||
	{ echo "cannot make the first archive:"; tail -20 "$T/pristine.log"; exit 1; }
# It also holds a project no longer in the tree, whose entry every run over
# it must keep: a manifest is never rewritten from less than was read.
PA=$PRISTINE/$ENGINE_ARCH
RETIRED=retired/$(jq -r --arg i "$KV" '.images[] | select(.image == $i) | .file | sub(".*/"; "")' "$PA/manifest.json")
mkdir -p "$PA/retired" && cp "$PA/$(jq -r --arg i "$KV" '.images[] | select(.image == $i) | .file' "$PA/manifest.json")" "$PA/$RETIRED" &&
	jq --arg i "$KV" --arg f "$RETIRED" '.images += [.images[] | select(.image == $i) | .project = "retired" | .file = $f]' \
		"$PA/manifest.json" >"$T/m.new" && mv "$T/m.new" "$PA/manifest.json" ||
	{ echo "cannot add the retired project to the first archive"; exit 1; }
printf 'FROM base:1\nRUN echo app1 > /app\n' >"$tree/app/Dockerfile"
# What restore loads: a complete archive of the tree as it is now.
RBASE=$W/rarch RA=$W/rarch/$ENGINE_ARCH RM=$W/rarch/$ENGINE_ARCH/manifest.json
archive --output-dir="$RBASE" >"$T/rarch.log" 2>&1 ||
	{ echo "cannot make the archive to restore from:"; tail -20 "$T/rarch.log"; exit 1; }
cp "$RM" "$T/rarch.manifest"
RIDS=$(jq -r '[.images[].docker_id] | unique | join(" ")' "$RM")

# --- running under the shim ------------------------------------------------------------------

# shim KIND N CMD…: CMD with the shim failing call N of KIND (0: none, only
# count, into $T/count); its failure log in $T/shim.log.
shim() {
	local kind=$1 n=$2
	shift 2
	rm -f "$T/count" "$T/shim.log"
	LD_PRELOAD=$PRELOAD FAILSHIM_CALL=$kind FAILSHIM_N=$n FAILSHIM_ERRNO=${ERRNO:-EIO} \
		FAILSHIM_PATH=$W FAILSHIM_COUNT_FILE=$T/count FAILSHIM_LOG=$T/shim.log "$@"
}

# count_calls KIND CMD…: how many KIND calls CMD makes under the shim (it must exit 0).
count_calls() {
	local kind=$1
	shift
	shim "$kind" 0 "$@" >"$T/count.out" 2>"$T/count.err" ||
		{ echo "a run with no fault failed:" >&2; tail -n 5 "$T/count.err" "$T/count.out" >&2; return 1; }
	cat "$T/count" 2>/dev/null || { echo "the shim wrote no count" >&2; return 1; }
}

# trial_ns KIND C: the N to try, one a line: every one, but for malloc (and
# any kind making more than 300 calls) $SAMPLES spread evenly over 1..C,
# unless FAULTS_FULL=1.
trial_ns() {
	local c=$2 k
	if [ -n "${FAULTS_NS:-}" ]; then
		for k in $FAULTS_NS; do [ "$k" -le "$c" ] && echo "$k"; done
		return 0
	fi
	if [ "$FULL" = 1 ] || { [ "$1" != malloc ] && [ "$c" -le 300 ]; } || [ "$c" -le "$SAMPLES" ]; then
		seq 1 "$c" | shard
		return
	fi
	for k in $(seq 0 $((SAMPLES - 1))); do echo $((1 + (c - 1) * k / (SAMPLES - 1))); done | uniq
}

# shard: the N on stdin that are this shard's (FAULTS_SHARD=I/K: those with
# N mod K = I), so K copies of this script, each on its own dockerd, share
# a sweep (tests/fault/sweep).
shard() {
	case ${FAULTS_SHARD:-} in
	'') cat ;;
	*/*) awk -v i="${FAULTS_SHARD%/*}" -v k="${FAULTS_SHARD#*/}" '$1 % k == i' ;;
	esac
}

# why_exit RC: empty when RC is 0, 1 or 2; else what it means.
why_exit() {
	case $1 in
	0 | 1 | 2) ;;
	124) echo "timed out (exit 124)" ;;
	23) echo "exit 23 (a sanitizer report: $(cat "$T"/asan.* 2>/dev/null | grep -m1 ERROR))" ;;
	*) [ "$1" -gt 128 ] && echo "killed by signal $(($1 - 128)) ($(kill -l $(($1 - 128)) 2>/dev/null))" ||
		echo "exit $1" ;;
	esac
}

# said_why OUT ERR RC KIND N: a failed run said why, in one line:
# "imgvault: …" on stderr, or on stdout "[ACTION] IMAGE: failed: …" or
# restore's "[refused] IMAGE: …" / "[missing] IMAGE: …"; and when the shim
# failed a write, fsync, rename or open, the line gives its cause
# (strerror's words). After a failed allocation the cause is not always
# known (jansson, for one, may hand back a truncated string instead of
# failing): such lines are listed with FAULTS_VERBOSE=1, not failed; and a
# library that ends the process itself says so in its own words (libarchive:
# "Fatal Internal Error in libarchive: Out of memory", exit 1).
said_why() {
	local cause
	grep -qE '^imgvault: .+' "$2" || grep -qE '^\[[^]]+\] [^ ]+: (failed: )?.+' "$1" ||
		{ [ "$4" = malloc ] && grep -qiE '^fatal .*out of memory' "$2"; } ||
		{ echo "exit $3 without a line saying why"; return 1; }
	[ -s "$T/shim.log" ] || return 0
	cause=$(cause_of "$4")
	grep -qiE -- "$cause" "$1" "$2" && return 0
	if [ "$4" = malloc ]; then
		echo "$4 N=$5 exit $3: $(grep -hE '^imgvault: |: failed: |^\[(refused|missing)\]' "$2" "$1" |
			head -1 | cut -c1-200)" >>"$T/unclear"
		return 0
	fi
	echo "exit $3, and no line gives the cause ($cause)"
	return 1
}

# cause_of KIND: what a message about the failure the shim injects says.
cause_of() {
	case $1:${ERRNO:-EIO} in
	malloc:*) echo "out of memory|allocat" ;;
	*:ENOSPC) echo "no space left on device" ;;
	*) echo "input/output error" ;;
	esac
}

# silent KIND N RC: a fault the shim injected that no output mentions
# (the run may still be right: a lock file's pid is only a hint); listed
# with FAULTS_VERBOSE=1.
silent() {
	[ -s "$T/shim.log" ] && ! grep -qiE -- "$(cause_of "$1")" "$T/f.out" "$T/f.err" &&
		echo "$1 N=$2 exit $3: $(head -1 "$T/shim.log" | sed 's/^failshim: pid [0-9]*: //')" >>"$T/silent"
	return 0
}

sanitizer_report() {
	if ls "$T"/asan.* "$T"/ubsan.* >/dev/null 2>&1; then
		head -30 "$T"/asan.* "$T"/ubsan.* 2>/dev/null
		mkdir -p "$T/reports" && mv "$T"/asan.* "$T"/ubsan.* "$T/reports/" 2>/dev/null
		return 0
	fi
	return 1
}

sha_file() { local s; s=$(sha256sum <"$1") && echo "${s%% *}"; }

# manifest_entries MANIFEST: when it is JSON and every entry has every key,
# of its type, one line per entry on stdout: "file<TAB>size<TAB>sha256<TAB>image".
# (One jq for the lot: the full sweep runs this 20 000 times.)
manifest_entries() {
	jq -er 'if (.images | type == "array") and all(.images[];
		(.project | type == "string") and (.image | type == "string") and
		(.action == "pull+save" or .action == "build+save") and (.file | type == "string") and
		(.size | type == "number") and (.sha256 | test("^[0-9a-f]{64}$")) and
		(.docker_id | test("^sha256:[0-9a-f]{64}$")) and (.services | type == "array") and
		(.archived_at | type == "string"))
		then "valid", (.images[] | "\(.file)\t\(.size)\t\(.sha256)\t\(.image)") else "invalid" end' \
		"$1" 2>/dev/null >"$T/entries" && [ "$(head -1 "$T/entries")" = valid ] ||
		{ echo "manifest $1 is not valid, or has an incomplete entry:"; head -c 2000 "$1"; return 1; }
	sed 1d "$T/entries"
}

# folder_ok DIR [EARLIER [keep-temps]]: DIR (an arch folder) holds only
# whole work: its manifest's entries all match their files, any archive
# file no entry names is EARLIER's same file, unchanged, and (unless
# keep-temps) no temporary is left. The manifest's images are left in
# $T/images.
folder_ok() {
	local dir=$1 earlier=${2:-} m=$1/manifest.json f file size sha image
	local -A named=()
	: >"$T/images"
	if [ -e "$m" ]; then
		manifest_entries "$m" >"$T/list" || { cat "$T/list"; return 1; }
		while IFS=$'\t' read -r file size sha image; do
			f=$dir/$file
			[ -f "$f" ] || { echo "the manifest names $file, which is not there"; return 1; }
			[ "$(stat -c %s "$f")" = "$size" ] && [ "$(sha_file "$f")" = "$sha" ] ||
				{ echo "$file: not the size ($size) or sha256 ($sha) the manifest records"; return 1; }
			named[$file]=1
			echo "$image" >>"$T/images"
		done <"$T/list"
	fi
	while read -r f; do
		file=${f#"$dir"/}
		[ -n "${named[$file]:-}" ] && continue
		[ -n "$earlier" ] && [ -f "$earlier/$file" ] && cmp -s "$f" "$earlier/$file" && continue
		echo "$file is under its final name, but no manifest entry names it"
		return 1
	done < <(find "$dir" -mindepth 2 -maxdepth 2 -type f \( -name '*.tar.gz' -o -name '*.tar.zst' \) 2>/dev/null | sort)
	[ "${3:-}" = keep-temps ] || temps_none "$dir"
}

temps_none() {
	local left
	[ -d "$1" ] || return 0
	left=$(find "$1" -name '.*.tmp-*')
	[ -z "$left" ] || { echo "temporaries left: $left"; return 1; }
}

# complete: every image of the tree is in the manifest folder_ok read last.
complete() {
	local i
	for i in $IMAGES; do
		grep -qxF -- "$i" "$T/images" || { echo "$i is not in the manifest"; return 1; }
	done
}

# frame_objects: the object of each backtrace line on stdin (as
# backtrace_symbols_fd writes them), the shim's, libc's and the loader's
# left out.
frame_objects() {
	sed -n 's|^\([^([]*\)[([].*|\1|p' | sed 's|.*/||' |
		grep -vxE 'failshim\.so|libc\.so\.6|ld-linux.*|linux-vdso.*' || true
}

# alloc_caller LOG: the object that asked for the failed allocation: the
# first frame of the shim's backtrace past the shim, libc, the loader and
# imgvault's counting allocator for jansson (counting_malloc in
# src/util/jsonsafe.c, through which jansson makes every allocation).
alloc_caller() {
	local frame obj off
	sed -n '/failing /,/crashed with signal/p' "$1" | sed '1d;$d' | while read -r frame; do
		obj=$(printf '%s\n' "$frame" | frame_objects)
		[ -n "$obj" ] || continue
		if [ "$obj" = "$(basename "$IMGVAULT")" ]; then
			off=$(printf '%s\n' "$frame" | sed -n 's/.*(+\(0x[0-9a-f]*\)).*/\1/p')
			[ -n "$off" ] && [ "$(addr2line -f -e "$IMGVAULT" "$off" | head -1)" = counting_malloc ] &&
				continue
		fi
		echo "$obj"
		break
	done
}

# library_crash RC: the run was killed by signal RC-128; 0 (tolerated) when
# a library broke on the allocation failure it was handed (the failed
# allocation was the library's own, and the crash is not in imgvault's code:
# jansson 2.14's lexer overruns its buffer after a failed allocation,
# OpenSSL 3.0 leaves a lock NULL when its initialisation cannot allocate
# one); prints what happened either way. Only for malloc faults: the shim
# logs a crash's backtrace then.
library_crash() {
	local rc=$1 log=$T/shim.log top caller heap=
	grep -q 'crashed with signal' "$log" 2>/dev/null ||
		{ echo "killed by signal $((rc - 128)) (no backtrace)"; return 1; }
	top=$(sed -n '/crashed with signal/,$p' "$log" | sed 1d | frame_objects | head -1)
	caller=$(alloc_caller "$log")
	grep -qE '^(malloc|free|realloc|malloc_consolidate|munmap_chunk)\(\)|double free|corrupted ' \
		"$T/f.err" && heap=" (the heap was found corrupt)"
	if [ "$top" = "$(basename "$IMGVAULT")" ] && [ -z "$heap" ]; then
		echo "crashed in imgvault's code (signal $((rc - 128))), after a failed allocation in $caller:"
		sed -n '/crashed with signal/,$p' "$log" | sed 1d | grep -F "$(basename "$IMGVAULT")(" | head -8
		return 1
	fi
	if [ -n "$caller" ] && [ "$caller" != "$(basename "$IMGVAULT")" ]; then
		echo "signal $((rc - 128)) in ${top:-?}$heap, after a failed allocation in $caller"
		return 0
	fi
	echo "signal $((rc - 128)) in ${top:-?}$heap, after a failed allocation in imgvault's code"
	return 1
}

# One trial's verdict: "" when all is well, else what went wrong (on stdout).
# archive_trial MODE KIND N: MODE fresh (no folder) or existing (a copy of
# the earlier archive).
archive_trial() {
	local mode=$1 kind=$2 n=$3 rc base=$W/arch dir=$W/arch/$ENGINE_ARCH earlier= crashed=
	rm -rf "$base"
	if [ "$mode" = existing ]; then
		cp -a "$PRISTINE" "$base"
		earlier=$PRISTINE/$ENGINE_ARCH
	fi
	shim "$kind" "$n" archive --output-dir="$base" >"$T/f.out" 2>"$T/f.err"
	rc=$?
	{
		trial_exit "$kind" "$n" $rc || return
		[ $rc -le 2 ] || crashed=1
		# A crash (inside a library) is a kill -9: its temporary stays until the next run.
		folder_ok "$dir" "$earlier" ${crashed:+keep-temps} || return
		[ -z "$earlier" ] || grep -qF "\"$RETIRED\"" "$dir/manifest.json" ||
			{ echo "the entry of project 'retired' was dropped from the manifest"; return; }
		if [ $rc -eq 0 ]; then
			complete || { echo "(exit 0)"; return; }
		else
			run 0 archive --output-dir="$base" || { echo "(the run without the shim)"; return; }
			! sanitizer_report || return
		fi
		run 0 "$IMGVAULT" verify --deep --archive-dir="$dir" || { echo "(verify --deep)"; return; }
		temps_none "$dir" || return
	} 2>&1
}

# trial_exit KIND N RC: the exit status and what the run said are right.
trial_exit() {
	local kind=$1 n=$2 rc=$3 why
	why=$(why_exit "$rc")
	if [ -n "$why" ]; then
		[ "$rc" -le 128 ] || [ -z "${FAULTS_CRASH_LOGS:-}" ] ||
			cp "$T/shim.log" "$FAULTS_CRASH_LOGS/$kind.$n.log" 2>/dev/null || true
		if [ "$kind" = malloc ] && [ "$rc" -gt 128 ] && why=$(library_crash "$rc"); then
			echo "$kind N=$n: $why" >>"$T/libcrash"
			return 0
		fi
		echo "$why"
		return 1
	fi
	! sanitizer_report || return 1
	[ "$rc" -eq 0 ] || said_why "$T/f.out" "$T/f.err" "$rc" "$kind" "$n" || return 1
	silent "$kind" "$n" "$rc"
}

# remove_all: the restore archive's images off the engine.
remove_all() {
	local id
	for id in $RIDS; do
		api -X DELETE "http://engine/images/$id?force=1" >/dev/null 2>&1
	done
	api "http://engine/images/json" | jq -e --arg ids "$RIDS" \
		'[.[].Id] - ($ids | split(" ")) == [.[].Id]' >/dev/null ||
		{ echo "cannot remove the images of $RM"; return 1; }
}

# held_right [all]: no image of the restore archive on the engine under
# another ID than the manifest's; with "all", every one there. (One
# request and one jq: the full sweep runs this 6 000 times.)
held_right() {
	api "http://engine/images/json" | jq -r --slurpfile m "$RM" --arg all "${1:-}" '
		[.[] | .Id as $id | (.RepoTags // [])[] | {key: ., value: $id}] | from_entries as $held
		| $m[0].images[] | .image as $i | .docker_id as $want | ($held[$i] // "") as $got
		| select(($got == "" and $all == "all") or ($got != "" and $got != $want))
		| "the engine holds \"\($got)\" as \($i), the manifest says \($want)"' >"$T/held" ||
		{ echo "cannot list the engine's images"; return 1; }
	[ ! -s "$T/held" ] || { cat "$T/held"; return 1; }
}

restore_trial() {
	local kind=$2 n=$3 rc
	remove_all || return
	shim "$kind" "$n" restore --archive-dir="$RA" >"$T/f.out" 2>"$T/f.err"
	rc=$?
	{
		trial_exit "$kind" "$n" $rc || return
		held_right || return
		cmp -s "$RM" "$T/rarch.manifest" || { echo "restore changed the manifest"; return; }
		if [ $rc -eq 0 ]; then
			held_right all || { echo "(exit 0)"; return; }
		elif ! held_right all >/dev/null; then
			run 0 restore --archive-dir="$RA" || { echo "(the run without the shim)"; return; }
			held_right all || return
		fi
	} 2>&1
}

# faults CMD MODE KIND: count, then every trial; 0 when all pass. Prints the
# failing N with what went wrong (the first in full), and records the trials.
faults() {
	local cmd=$1 mode=$2 kind=$3 c n verdict bad=0 first= f
	local -a args
	case $cmd in
	archive)
		rm -rf "$W/arch"
		[ "$mode" = existing ] && cp -a "$PRISTINE" "$W/arch"
		args=(archive --output-dir="$W/arch")
		;;
	restore)
		remove_all || return 1
		args=(restore --archive-dir="$RA")
		;;
	esac
	c=$(count_calls "$kind" "${args[@]}") || return 1
	[ "$cmd" = restore ] || rm -rf "$W/arch"
	for n in $(trial_ns "$kind" "$c"); do
		verdict=$("${cmd}_trial" "$mode" "$kind" "$n")
		[ -z "$verdict" ] && continue
		bad=$((bad + 1))
		if [ -z "$first" ]; then
			first=$n
			echo "$cmd ($mode) $kind ${ERRNO:-EIO}: N=$n of $c: $verdict"
			echo "--- the shim:"; head -12 "$T/shim.log" 2>/dev/null
			echo "--- stderr:"; head -10 "$T/f.err"
			echo "--- stdout:"; head -20 "$T/f.out"
		else
			echo "also N=$n: $(printf '%s' "$verdict" | head -1)"
		fi
	done
	echo "$cmd $mode $kind ${ERRNO:-EIO} $c $(trial_ns "$kind" "$c" | wc -l)" >>"$T/trials"
	for f in silent unclear libcrash; do
		[ ! -s "$T/$f" ] || sed "s/^/# $f: $cmd $mode ${ERRNO:-EIO} /" "$T/$f" >>"$T/$f.all"
		[ ! -s "$T/$f" ] || wc -l <"$T/$f" | sed "s/^/$f /" >>"$T/tally"
		rm -f "$T/$f"
	done
	[ "$bad" -eq 0 ] || { echo "$bad of $(trial_ns "$kind" "$c" | wc -l) trials failed"; return 1; }
}

# --- the shim itself ------------------------------------------------------------------

# Can the shim run in front of this binary at all? (Under ASan it might not.)
rm -f "$T/count"
LD_PRELOAD=$PRELOAD FAILSHIM_CALL=open FAILSHIM_PATH=$W FAILSHIM_COUNT_FILE=$T/count \
	"$IMGVAULT" --version >"$T/probe.out" 2>&1
if [ "$ASAN" = 1 ] && [ ! -s "$T/count" ]; then
	echo "# skipped under ASan: the fault shim does not load in front of this binary:"
	head -3 "$T/probe.out" | sed 's/^/#   /'
	finish
	exit
fi

check "the shim counts imgvault's opens under the work folder and fails the Nth" \
	eval 'c=$(count_calls open "$IMGVAULT" catalog --root="$tree" --summary) && [ "$c" -ge 3 ] &&
		{ shim open 2 "$IMGVAULT" catalog --root="$tree" --summary >$OUT 2>$ERR; true; } &&
		grep -q "failing open.* #2 ($W/" $T/shim.log && [ "$(cat $T/count)" -ge 2 ] ||
		{ echo "count ${c:-none}"; cat $T/shim.log $ERR; exit 1; }'

KINDS=${FAULTS_KINDS:-write fsync rename open malloc}
if [ "$ASAN" = 1 ]; then
	KINDS=${KINDS/malloc/}
	echo "# malloc faults skipped under ASan (its allocator cannot be interposed)"
fi

# --- archive ------------------------------------------------------------------------------

# label KIND: the errno of the fault, in a check's name.
label() { [ "$1" = malloc ] && echo "$1" || echo "$1 (${ERRNO:-EIO})"; }

# running RUN: RUN (archive-fresh, archive-existing, restore) is in FAULTS_RUNS.
running() { case " ${FAULTS_RUNS:-archive-fresh archive-existing restore} " in *" $1 "*) ;; *) false ;; esac; }

running archive-fresh && for kind in $KINDS; do
	check "archive into a fresh folder, the Nth $(label "$kind") failing: exit 0-2, a reason, only whole files, a valid manifest, a clean rerun" \
		faults archive fresh "$kind"
done
running archive-fresh && case " $KINDS " in *" write "*)
	check "archive into a fresh folder, the Nth write failing with ENOSPC: the same" \
		eval 'ERRNO=ENOSPC faults archive fresh write'
esac
running archive-existing && for kind in $KINDS; do
	check "archive over an earlier archive ([update] and [skip]), the Nth $(label "$kind") failing: the same, earlier files kept or replaced whole" \
		faults archive existing "$kind"
done

# --- restore --------------------------------------------------------------------------------

running restore && for kind in $KINDS; do
	if ! remove_all >"$T/rm.log" || ! c=$(count_calls "$kind" restore --archive-dir="$RA" 2>"$T/rm.log"); then
		check "restore runs under the shim ($kind counted)" eval 'cat $T/rm.log; false'
	elif [ "$c" -eq 0 ]; then
		echo "# restore makes no $kind call under the archive folder: nothing to fail"
		echo "restore - $kind EIO 0 0" >>"$T/trials"
	else
		check "restore, the Nth $(label "$kind") failing: exit 0-2, a reason, no image under a wrong ID, a clean rerun restores all" \
			faults restore - "$kind"
	fi
done

# Only a sanitizer build can leave a report.
[ "$ASAN" = 0 ] ||
	check "no run left a sanitizer report" \
		eval 'no_sanitizer_reports "$T/reports" && no_sanitizer_reports'

[ "${FAULTS_VERBOSE:-0}" != 1 ] || cat "$T/silent.all" "$T/unclear.all" "$T/libcrash.all" 2>/dev/null

# "# faults: archive fresh write 1..37 …: N trials"
if [ -s "$T/trials" ]; then
	awk '{
		label = $1 ($2 == "-" ? "" : " " $2) " " $3 ($4 == "EIO" ? "" : " " $4)
		range = ($6 == $5 ? "1.." $5 : $6 " of 1.." $5)
		if ($5 == 0) range = "no calls"
		parts = parts (parts ? ", " : "") label " " range
		total += $6
	} END { printf "# faults: %s: %d trials", parts, total }' "$T/trials"
	# and how many of them ended in a library's crash or an unclear reason
	awk '$1 == "libcrash" { c += $2 } $1 == "unclear" { u += $2 }
		END { if (c) printf ", %d crashed inside a library after its own allocation failed", c
		      if (u) printf ", %d failed allocations reported without naming memory", u
		      printf "\n" }' "$T/tally" 2>/dev/null || echo
fi

finish
