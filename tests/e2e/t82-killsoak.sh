#!/usr/bin/env bash
# t82-killsoak: `kill -9` at random moments of `imgvault archive` of a
# five-image tree (two pulls from a loopback registry, three builds; two
# of them a few MB of random data, so compressing takes a moment), again
# and again: after every kill the manifest (when there is one) is valid
# and each of its entries verifies, no file under a final name is partial,
# and no ssh or forked child of the killed run lives on; then a rerun
# completes, leaves no temporary and `verify --deep` passes, orphans
# included.
#
# Each trial starts from one of three folders, in turn: a fresh one; the
# previous trial's folder as its kill left it (partial, with its
# temporaries and lock file); the previous trial's complete archive, with
# --force. --compress alternates, so archives mix both codecs and forced
# runs both keep and switch the codec of the files they replace; every
# fifth trial goes over ssh.
# The delay before each kill is drawn uniformly from 0 to a clean run's
# duration (measured here, per codec) with bash's $RANDOM, seeded from
# SOAK_SEED or the clock and printed: the same seed replays the same draws,
# as fractions of that run's clean duration. A kill counts as mid-export
# when a temporary of an archive file named with the killed pid is left.
#
#   SOAK_TRIALS=N   trials (default 50), checked in groups of 10
#   SOAK_SEED=S     the seed for the delays (0..32767)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../lib/services.sh"

TRIALS=${SOAK_TRIALS:-50}
SEED=${SOAK_SEED:-$(($(date +%s%N) / 1000 % 32768))}
case $TRIALS$SEED in *[!0-9]*) echo "SOAK_TRIALS and SOAK_SEED must be whole numbers"; exit 2 ;; esac
# The draws come first, so nothing else can consume $RANDOM before them.
RANDOM=$SEED
FRACTION=()
for ((i = 1; i <= TRIALS; i++)); do FRACTION[i]=$RANDOM; done
echo "# kill soak: $TRIALS trials, seed $SEED (SOAK_SEED=$SEED replays these draws)"

engine_env ssh || exit 1
SSH_ENV=(DOCKER_HOST="ssh://root@127.0.0.1:$SVC_SSH_PORT" IMGVAULT_SSH_CONFIG="$SVC/ssh_config")
ms_now() { echo $(($(date +%s%N) / 1000000)); }
secs() { printf '%d.%02d' $(($1 / 1000)) $(($1 % 1000 / 10)); } # secs MS

# --- the tree -------------------------------------------------------------------
#
# a-small pulls a tiny image, b-rand pulls one with 4 MB of random data,
# c-rand builds one with 6 MB of random data, d-noname builds one with no
# image: (saved under two names), e-text builds one with 3 MB of text.

# push_image NAME DIR: build DIR as NAME, push it, remove it from the engine.
push_image() {
	dk build -q -t "$1" "$2" >"$T/push.log" 2>&1 && dk push "$1" >>"$T/push.log" 2>&1 &&
		dk rmi "$1" >>"$T/push.log" 2>&1 || { cat "$T/push.log"; return 1; }
}
mkdir -p "$T/ctx-small" "$T/ctx-rand"
printf 'FROM base:1\nRUN echo small > /small\n' >"$T/ctx-small/Dockerfile"
printf 'FROM base:1\nCOPY rand.bin /rand.bin\n' >"$T/ctx-rand/Dockerfile"
head -c 4M /dev/urandom >"$T/ctx-rand/rand.bin"
push_image "$REG/soak/small:1" "$T/ctx-small" && push_image "$REG/soak/rand:1" "$T/ctx-rand" ||
	{ echo "cannot seed the registry"; exit 1; }

tree=$T/tree
mkdir -p "$tree/a-small" "$tree/b-rand" "$tree/c-rand" "$tree/d-noname" "$tree/e-text"
printf 'services:\n  small:\n    image: %s\n' "$REG/soak/small:1" >"$tree/a-small/docker-compose.yaml"
printf 'services:\n  rand:\n    image: %s\n' "$REG/soak/rand:1" >"$tree/b-rand/docker-compose.yaml"
printf 'services:\n  rand:\n    build: .\n    image: local/soak-rand:1\n' >"$tree/c-rand/docker-compose.yaml"
printf 'FROM base:1\nCOPY rand.bin /rand.bin\n' >"$tree/c-rand/Dockerfile"
head -c 6M /dev/urandom >"$tree/c-rand/rand.bin"
printf 'services:\n  svc:\n    build: .\n' >"$tree/d-noname/docker-compose.yaml"
printf 'FROM base:1\nRUN echo noname > /noname\n' >"$tree/d-noname/Dockerfile"
printf 'services:\n  text:\n    build: .\n    image: local/soak-text:1\n' >"$tree/e-text/docker-compose.yaml"
printf 'FROM base:1\nCOPY text.txt /text.txt\n' >"$tree/e-text/Dockerfile"
seq -f 'line %.0f of a text that compresses well' 1 80000 >"$tree/e-text/text.txt"
IMAGES=5
ENGINE_ARCH=$(dk info --format '{{.Architecture}}')

# --- helpers ----------------------------------------------------------------------

# entries_agree AD: manifest.json is a manifest; each entry's file is there,
# a regular file, with the recorded size and sha256 (files without an entry
# are not looked at here).
entries_agree() {
	local f sum size got
	jq -e '.images | type == "array"' "$1/manifest.json" >/dev/null 2>&1 ||
		{ echo "$1/manifest.json is not a manifest:"; head -c 300 "$1/manifest.json"; echo; return 1; }
	while IFS=$'\t' read -r f sum size; do
		[ -f "$1/$f" ] && [ ! -L "$1/$f" ] || { echo "$f is in the manifest but not on disk"; return 1; }
		[ "$(stat -c %s "$1/$f")" = "$size" ] || { echo "$f: size $(stat -c %s "$1/$f"), manifest says $size"; return 1; }
		got=$(sha256sum <"$1/$f") got=${got%% *}
		[ "$got" = "$sum" ] || { echo "$f: sha256 $got, manifest says $sum"; return 1; }
	done < <(jq -r '.images[] | [.file, .sha256, (.size | tostring)] | @tsv' "$1/manifest.json")
}

# whole AD: every file under a final name (project/NAME.tar.gz or .tar.zst)
# that no manifest entry names (an entry's sha256 vouches for the others)
# decompresses in full to a tar that reaches the save's manifest.json.
whole() {
	local f
	while IFS= read -r f; do
		[ -e "$1/manifest.json" ] && jq -e --arg f "${f#"$1"/}" 'any(.images[]; .file == $f)' \
			"$1/manifest.json" >/dev/null 2>&1 && continue
		case $f in
		*.zst) zstd -dcq -- "$f" ;;
		*) gzip -dc -- "$f" ;;
		esac 2>"$T/whole.err" | tar -t >"$T/whole.list" 2>>"$T/whole.err"
		[ "${PIPESTATUS[0]}${PIPESTATUS[1]}" = 00 ] && grep -qx manifest.json "$T/whole.list" ||
			{ echo "${f#"$1"/} is partial:"; cat "$T/whole.err"; return 1; }
	done < <(find "$1" -mindepth 2 -maxdepth 2 -type f \( -name '*.tar.gz' -o -name '*.tar.zst' \) ! -name '.*')
}

# temps AD [PID]: the temporaries under AD (a killed run's own, with PID).
temps() { find "$1" -name ".*.tmp-${2:+$2-}*" 2>/dev/null; }

# survivors TEXT: pids of processes whose command line holds TEXT (a
# forked copy of a killed imgvault still has its command line; the ssh it
# runs has -F $SVC/ssh_config).
survivors() {
	local f pid args
	for f in /proc/[0-9]*/cmdline; do
		pid=${f#/proc/} pid=${pid%/cmdline}
		[ "$pid" = $$ ] && continue
		mapfile -d '' args 2>/dev/null <"$f" || continue
		case " ${args[*]} " in *"$1"*) echo "$pid" ;; esac
	done
}

# verify_counts FILE: the numbers of verify's summary line, as "checked ok
# mismatched missing corrupt orphans".
verify_counts() {
	sed -n 's/^Checked: \([0-9]*\), ok: \([0-9]*\), mismatched: \([0-9]*\), missing: \([0-9]*\), corrupt: \([0-9]*\), orphans: \([0-9]*\)$/\1 \2 \3 \4 \5 \6/p' "$1"
}

# --- a clean run, and how long one takes -------------------------------------------

# clean CODEC BASE: a whole run into an empty BASE; its duration in ms in CLEAN_MS.
clean() {
	local s
	s=$(ms_now)
	run 0 "$IMGVAULT" archive --root="$tree" --build-tag=t1 --output-dir="$2" --compress="$1" || return 1
	CLEAN_MS=$(($(ms_now) - s))
	has "$OUT" "New: $IMAGES images" && has "$OUT" "Failures: 0" &&
		run 0 "$IMGVAULT" verify --deep --archive-dir="$2/$ENGINE_ARCH" &&
		[ "$(verify_counts "$OUT")" = "$IMAGES $IMAGES 0 0 0 0" ] || { cat "$OUT"; return 1; }
}

check "a first run pulls and builds the five images and archives them; verify --deep passes" \
	clean gzip "$T/warm"
rm -rf "$T/warm"

# Timed in this shell (check runs its command in a subshell).
declare -A DUR
for codec in gzip zstd; do
	if clean "$codec" "$T/clean-$codec" >"$T/clean-$codec.log" 2>&1; then
		DUR[$codec]=$CLEAN_MS
	else
		DUR[$codec]=0
	fi
	rm -rf "$T/clean-$codec"
done
check "clean runs, gzip and zstd, complete and verify (they set the kill delays)" \
	eval '[ ${DUR[gzip]} -gt 0 ] && [ ${DUR[zstd]} -gt 0 ] ||
		{ cat $T/clean-gzip.log $T/clean-zstd.log; exit 1; }'
echo "# clean run: gzip $(secs "${DUR[gzip]}") s, zstd $(secs "${DUR[zstd]}") s"

# --- regression: a kill in a --force run that switches codec ------------------------
#
# Such a run drops the image's old entry, renames the new file into place,
# records it, then removes the old file. Killed in between, the old file
# (and the new one, until recorded) had no entry, and no later run removed
# it: verify reported an orphan for good. Now the next run that archives or
# skips the image removes its file under the other codec's name when no
# entry names it.

# kill_on_appear FILE PID: let PID (stopped) go on, and SIGKILL it the
# moment FILE appears; 0 when killed. The window is a few syncs long: PID
# waits until the watcher watches, and the watcher runs at the highest
# priority (as root), so a loaded machine does not make it late.
kill_on_appear() {
	nice -n -20 /usr/bin/python3 - "$1" "$2" <<-'PY'
		import os, signal, sys, time
		path, pid = sys.argv[1], int(sys.argv[2])
		os.kill(pid, signal.SIGCONT)
		def gone():
		    try:
		        with open(f"/proc/{pid}/stat") as f:
		            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
		    except FileNotFoundError:
		        return True
		end = time.time() + 120
		while time.time() < end:
		    if os.path.exists(path):
		        os.kill(pid, signal.SIGKILL)
		        sys.exit(0)
		    if gone():
		        sys.exit(2)
		sys.exit(1)
	PY
}
SWA=$T/switch/$ENGINE_ARCH SWF=c-rand/local_soak-rand_1.tar
clean gzip "$T/switch" >"$T/switch.log" 2>&1
exec 3>&2 2>/dev/null # no "Killed" notice from bash for the job below
# imgvault, stopped until the watcher starts it
bash -c 'kill -STOP $$ && exec "$@"' stopped "$IMGVAULT" archive --root="$tree" --build-tag=t1 \
	--output-dir="$T/switch" --compress=zstd --force >"$T/switch.out" 2>&1 &
SW_PID=$!
for _ in $(seq 1000); do
	[ "$(cut -d' ' -f3 "/proc/$SW_PID/stat" 2>/dev/null)" = T ] && break
	sleep 0.01
done
kill_on_appear "$SWA/$SWF.zst" "$SW_PID"
SW_KILL=$?
wait "$SW_PID"
SW_RC=$?
exec 2>&3 3>&-
cp -a "$T/switch" "$T/switch2"
# switched SECOND-CODEC BASE: the kill landed between the rename and the
# old file's removal; a rerun with that codec completes, and verify --deep
# finds every entry whole and no orphan.
switched() {
	[ "$SW_KILL" -eq 0 ] && [ "$SW_RC" -eq 137 ] ||
		{ echo "no kill as the .tar.zst appeared (watcher $SW_KILL, run $SW_RC):"; cat "$T/switch.log" "$T/switch.out"; return 1; }
	[ -f "$2/$ENGINE_ARCH/$SWF.gz" ] && [ -f "$2/$ENGINE_ARCH/$SWF.zst" ] ||
		{ echo "the kill did not leave both files:"; ls -la "$2/$ENGINE_ARCH/c-rand"; return 1; }
	run 0 "$IMGVAULT" archive --root="$tree" --build-tag=t1 --output-dir="$2" --compress="$1" &&
		has "$OUT" "Failures: 0" &&
		run 0 "$IMGVAULT" verify --deep --archive-dir="$2/$ENGINE_ARCH" &&
		[ "$(verify_counts "$OUT")" = "$IMAGES $IMAGES 0 0 0 0" ] || { cat "$OUT" "$ERR"; return 1; }
	[ -z "$(temps "$2")" ] || { echo "temporaries left: $(temps "$2")"; return 1; }
}
check "kill -9 as a --force gzip-to-zstd run renames a file into place: a zstd rerun leaves no orphan, verify --deep passes" \
	switched zstd "$T/switch"
check "the same kill, then a gzip rerun: no orphan either, verify --deep passes" \
	switched gzip "$T/switch2"
rm -rf "$T/switch" "$T/switch2"

# --- the trials --------------------------------------------------------------------

SOAK=$T/soak
mkdir -p "$SOAK"
PREV_FINAL='' PREV_KILLED=''
N_KILLED=0 N_MIDEXPORT=0 N_MANIFEST=0 N_ENDED=0 N_RERUN=0 N_DEEP=0 N_ORPHANS=0
MIN_MS='' MAX_MS=0

# trial_fail WHY: the trial failed; WHY and what the runs said go to $TLOG.
trial_fail() {
	TRIAL_OK=0
	{
		echo "trial $I failed (seed $SEED, delay $(secs "$DELAY_MS") s, $KIND, --compress=$CODEC$FORCE${SSH:+, over ssh}): $1"
		echo "  replay: SOAK_SEED=$SEED SOAK_TRIALS=$TRIALS (the draw is trial $I's)"
		for f in killed.out killed.err after-kill.verify rerun.out rerun.err deep.out deep.err; do
			[ -s "$SOAK/$f" ] || continue
			echo "  --- $f:"
			tail -8 "$SOAK/$f" | sed 's/^/  /'
		done
	} >>"$TLOG"
}

# trial I: one kill and its rerun, from a folder made as the trial's kind says.
trial() {
	local base=$SOAK/t$I ad rc pid left c env=() force=() checked ok mism miss corr orphans
	ad=$base/$ENGINE_ARCH
	TRIAL_OK=1
	CODEC=$([ $((I % 2)) -eq 1 ] && echo gzip || echo zstd)
	SSH=$([ $((I % 5)) -eq 0 ] && echo 1)
	FORCE=
	case $(((I - 1) % 3)) in
	0) KIND="fresh folder" ;;
	1)
		KIND="previous trial's folder as its kill left it"
		[ -n "$PREV_KILLED" ] && [ -d "$PREV_KILLED" ] && cp -a "$PREV_KILLED" "$base"
		;;
	2)
		KIND="previous trial's complete archive"
		FORCE=" --force" force=(--force)
		[ -n "$PREV_FINAL" ] && cp -a "$PREV_FINAL" "$base"
		;;
	esac
	[ -n "$SSH" ] && env=("${SSH_ENV[@]}")
	DELAY_MS=$((FRACTION[I] * DUR[$CODEC] / 32768))
	[ -z "$MIN_MS" ] || [ "$DELAY_MS" -lt "$MIN_MS" ] && MIN_MS=$DELAY_MS
	[ "$DELAY_MS" -gt "$MAX_MS" ] && MAX_MS=$DELAY_MS
	rm -f "$SOAK"/*.out "$SOAK"/*.err "$SOAK"/*.verify

	env "${env[@]}" "$IMGVAULT" archive --root="$tree" --build-tag=t1 --output-dir="$base" \
		--compress="$CODEC" "${force[@]}" >"$SOAK/killed.out" 2>"$SOAK/killed.err" &
	pid=$!
	sleep "$(secs "$DELAY_MS")"
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	rc=$?

	# What the kill interrupted: an archive being written (its temporary is
	# there, named with the pid), the manifest being written, or neither.
	if [ "$rc" -eq 137 ]; then
		N_KILLED=$((N_KILLED + 1))
		if temps "$ad" "$pid" | grep -qv '/\.manifest\.json\.tmp-'; then
			N_MIDEXPORT=$((N_MIDEXPORT + 1))
		elif [ -n "$(temps "$ad" "$pid")" ]; then
			N_MANIFEST=$((N_MANIFEST + 1))
		fi
	elif [ "$rc" -eq 0 ]; then
		N_ENDED=$((N_ENDED + 1))
	else
		trial_fail "the run ended with $rc before the kill"
	fi

	# No forked copy of the killed run (an ssh child not yet exec'd) and no
	# ssh it started lives on.
	for _ in $(seq 100); do
		left=$(survivors "--output-dir=$base "; [ -z "$SSH" ] || survivors "-F $SVC/ssh_config ")
		[ -z "$left" ] && break
		sleep 0.1
	done
	if [ -n "$left" ]; then
		trial_fail "processes of the killed run live on 10 s after: $(for p in $left; do
			tr '\0' ' ' <"/proc/$p/cmdline"; echo; done)"
		for p in $left; do kill -9 "$p" 2>/dev/null; done
	fi

	# As the kill left it.
	if [ -e "$ad/manifest.json" ]; then
		entries_agree "$ad" >"$SOAK/agree.log" 2>&1 ||
			trial_fail "after the kill, a manifest entry does not agree with its file: $(cat "$SOAK/agree.log")"
		"$IMGVAULT" verify --archive-dir="$ad" >"$SOAK/after-kill.verify" 2>&1
		rc=$?
		c=$(verify_counts "$SOAK/after-kill.verify")
		read -r checked ok mism miss corr orphans <<<"${c:-x x x x x x}"
		# Only orphans may fail: an archive renamed into place just before
		# the manifest named it (archived again by the rerun).
		if [ "$checked" = "$ok" ] && [ "$mism$miss$corr" = 000 ] &&
			{ [ "$rc" -eq 0 ] || { [ "$rc" -eq 1 ] && [ "$orphans" -gt 0 ]; }; }; then
			[ "$orphans" -eq 0 ] || N_ORPHANS=$((N_ORPHANS + 1))
		else
			trial_fail "after the kill, verify exits $rc: ${c:-no summary}"
		fi
	fi
	[ -d "$ad" ] && { whole "$ad" >"$SOAK/whole.log" 2>&1 || trial_fail "after the kill: $(cat "$SOAK/whole.log")"; }
	rm -rf "$SOAK/killed"
	[ -d "$base" ] && cp -a "$base" "$SOAK/killed"

	# The rerun: no kill, no --force.
	if timeout 300 env "${env[@]}" "$IMGVAULT" archive --root="$tree" --build-tag=t1 \
		--output-dir="$base" --compress="$CODEC" >"$SOAK/rerun.out" 2>"$SOAK/rerun.err" &&
		grep -qx 'Failures: 0' "$SOAK/rerun.out" && grep -qx "Total: $IMAGES images, .*" "$SOAK/rerun.out"; then
		N_RERUN=$((N_RERUN + 1))
	else
		trial_fail "the rerun did not complete"
	fi
	left=$(temps "$ad")
	[ -z "$left" ] || trial_fail "temporaries after the rerun: $left"
	"$IMGVAULT" verify --deep --archive-dir="$ad" >"$SOAK/deep.out" 2>"$SOAK/deep.err"
	rc=$?
	if [ "$rc" -eq 0 ] && [ "$(verify_counts "$SOAK/deep.out")" = "$IMAGES $IMAGES 0 0 0 0" ]; then
		N_DEEP=$((N_DEEP + 1))
	else
		trial_fail "verify --deep after the rerun: exit $rc, $(verify_counts "$SOAK/deep.out")"
	fi

	# Keep the previous trial's final folder and its killed state; drop the rest.
	[ -n "$PREV_FINAL" ] && rm -rf "$PREV_FINAL"
	rm -rf "$SOAK/prev-killed"
	[ -d "$SOAK/killed" ] && mv "$SOAK/killed" "$SOAK/prev-killed"
	PREV_FINAL=$base PREV_KILLED=$SOAK/prev-killed
	[ "$TRIAL_OK" = 1 ]
}

GROUP=10
for ((g = 1; g <= TRIALS; g += GROUP)); do
	last=$((g + GROUP - 1 < TRIALS ? g + GROUP - 1 : TRIALS))
	TLOG=$T/soak-$g.log
	: >"$TLOG"
	FIRST=
	for ((I = g; I <= last; I++)); do
		if ! trial && [ -z "$FIRST" ]; then
			FIRST=$I
			cp "$TLOG" "$TLOG.first"
		fi
	done
	check "kill -9 in trials $g-$last: entries verify after each kill, no child lives on, the rerun completes and verify --deep passes" \
		eval '[ -z "$FIRST" ] || { grep "^trial .* failed" $TLOG; echo "trial $FIRST:"; sed 1d $TLOG.first; exit 1; }'
done

range="$(secs "${MIN_MS:-0}")–$(secs "$MAX_MS") s"
reruns=$([ "$N_RERUN" -eq "$TRIALS" ] && echo "all reruns complete" || echo "$N_RERUN/$TRIALS reruns complete")
echo "# kill soak: $TRIALS kills (seed $SEED), delays $range, $N_MIDEXPORT landed mid-export" \
	"($N_MANIFEST mid-manifest-write, $((N_KILLED - N_MIDEXPORT - N_MANIFEST)) between, $N_ENDED after the run had ended;" \
	"$N_ORPHANS left an orphan), $reruns, verify --deep passed $N_DEEP/$TRIALS"

check "no run left a sanitizer report" \
	no_sanitizer_reports

finish
