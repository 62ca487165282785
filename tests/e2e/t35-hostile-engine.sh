#!/usr/bin/env bash
# t35-hostile-engine: hostile input, end to end against a real engine (a
# private dockerd, a loopback registry, an sshd), through catalog, build,
# archive, restore, verify and status:
#   - image names that are no valid reference (spaces, ';', "$(…)",
#     backticks, a newline, "../", from compose or from .env-dist): refused,
#     one line naming project and service, never sent to the engine or a
#     shell, no file made for them; the other images go on (exit 1);
#   - project folders with spaces, a newline and shell characters:
#     catalogued, archived under folders of safe characters with their names
#     kept in the manifest, restored, verified, every message on one line;
#   - a build.context that is absolute or climbs out with ../..: shown,
#     sent (allowed, as in Compose), and nothing written inside (read-only,
#     checksummed);
#   - manifests: "file" with ../ or absolute, a project folder symlinked
#     out, an old entry's file through a symlinked folder, a symlinked arch
#     folder, the same entry twice, the same file twice, two images whose
#     names make one file name, sizes of 1e30,
#     2^63, -1 and 1.5, JSON nested 100,000 deep, 40,000 entries, a 50 MB
#     and a 70 MB manifest: each refused or handled by restore, verify,
#     status and archive (which refuses an invalid manifest with exit 2,
#     changing nothing, and never writes or removes through a symlink out);
#   - an ssh host key that changed: build, archive and restore fail with one
#     line naming the host, exit 2, nothing written.
# Every imgvault call runs under `timeout`. Sanitizer reports go to files,
# checked at the end.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../lib/services.sh"

engine_env ssh || exit 1
# A payload that ran with imgvault's folder would leave its file here.
mkdir -p "$T/cwd" && cd "$T/cwd" || exit 1

iv() { timeout 60 "$IMGVAULT" "$@"; }
image_id() { dk image inspect --format '{{.Id}}' "$1" 2>/dev/null; }
ARCH=$(dk info --format '{{.Architecture}}')

# Two small images in the registry, not on the engine.
KV=$REG/demo/kv:1 OTHER=$REG/demo/other:1
for i in kv other; do
	mkdir -p "$T/seed-$i" && printf 'FROM base:1\nRUN echo %s > /%s\n' $i $i >"$T/seed-$i/Dockerfile" &&
		dk build -q -t "$REG/demo/$i:1" "$T/seed-$i" >>"$T/seed.log" 2>&1 &&
		dk push "$REG/demo/$i:1" >>"$T/seed.log" 2>&1 && dk rmi "$REG/demo/$i:1" >/dev/null ||
		{ echo "cannot seed the registry:"; cat "$T/seed.log"; exit 1; }
done

# A proxy on $T/spy.sock in front of the engine writing the first 512
# bytes of each request chunk to $T/spy.log (as in t55-restore).
cat >"$T/spy.py" <<-'PY'
	import socket, sys, threading
	listen, upstream, log = sys.argv[1:4]
	out = open(log, "ab", buffering=0)
	lock = threading.Lock()
	def pipe(a, b, record):
	    try:
	        while True:
	            d = a.recv(65536)
	            if not d:
	                break
	            if record:
	                with lock:
	                    out.write(d[:512] + b"\n")
	            b.sendall(d)
	    except OSError:
	        pass
	    finally:
	        for sock, how in ((b, socket.SHUT_WR), (a, socket.SHUT_RD)):
	            try:
	                sock.shutdown(how)
	            except OSError:
	                pass
	s = socket.socket(socket.AF_UNIX)
	s.bind(listen)
	s.listen(16)
	while True:
	    c, _ = s.accept()
	    u = socket.socket(socket.AF_UNIX)
	    u.connect(upstream)
	    threading.Thread(target=pipe, args=(c, u, True), daemon=True).start()
	    threading.Thread(target=pipe, args=(u, c, False), daemon=True).start()
PY
/usr/bin/python3 "$T/spy.py" "$T/spy.sock" "$SVC/docker.sock" "$T/spy.log" >"$T/spy.err" 2>&1 &
SVC_PIDS+=($!)
svc_wait 10 curl -sf --unix-socket "$T/spy.sock" http://engine/_ping ||
	{ echo "the logging proxy did not start:"; cat "$T/spy.err"; exit 1; }
# spied METHOD PATH N: $T/spy.log shows N requests METHOD …/PATH.
spied() {
	local n
	n=$(grep -ac "^$1 [^ ]*/$2" "$T/spy.log")
	[ "$n" -eq "$3" ] || { echo "$n requests '$1 $2' reached the engine, wanted $3:"; grep -a '^[A-Z]* /' "$T/spy.log"; return 1; }
}

# line TEXT: stdout has the line TEXT, exactly.
line() { grep -qxF -- "$1" "$OUT" || { echo "no line: $1"; echo "--- stdout:"; cat "$OUT"; return 1; }; }
# said REGEX: stdout or stderr has a line matching the extended REGEX.
said() {
	cat "$OUT" "$ERR" | grep -qE -- "$1" ||
		{ echo "nothing matches: $1"; echo "--- stdout:"; cat "$OUT"; echo "--- stderr:"; cat "$ERR"; return 1; }
}
# one_error TEXT…: stderr is exactly one line, holding each TEXT.
one_error() {
	local t
	lines "$ERR" 1 || return 1
	for t; do has "$ERR" "$t" || return 1; done
}
# tree_sum DIR: a digest of every name, type, size, link target and file content under DIR
# (the archive lock, which every run takes, left out).
tree_sum() {
	(cd "$1" && find . ! -name .imgvault.lock -printf '%p %y %s %l\n' | LC_ALL=C sort &&
		find . -type f ! -name .imgvault.lock -exec sha256sum {} + | LC_ALL=C sort) | sha256sum
}

# --- image names that are no valid reference --------------------------------------------

NAMES=$T/names
mkdir -p "$NAMES/good" "$NAMES/meta"
printf 'services:\n  kv:\n    image: %s\n  app:\n    build: .\n    image: local/app:1\n' "$KV" \
	>"$NAMES/good/compose.yaml"
printf 'FROM base:1\nRUN echo app > /app\n' >"$NAMES/good/Dockerfile"
printf 'EVIL_IMAGE=evil;touch PWNED-env\n' >"$NAMES/meta/.env-dist"
cat >"$NAMES/meta/compose.yaml" <<EOF
services:
  semi:
    image: 'a;touch PWNED-semi'
  subst:
    image: 'x\$\$(touch PWNED-subst)'
  tick:
    image: 'y\`touch PWNED-tick\`'
  space:
    image: 'nginx 1.25'
  nl:
    image: "nginx\\n:1.25"
  dotdot:
    image: '../../../PWNED-dotdot:1'
  regdotdot:
    image: '$REG/../PWNED-regdotdot:1'
  fromenv:
    image: \${EVIL_IMAGE}
  badbuild:
    image: 'bad name;touch PWNED-build'
    build: .
  ok:
    image: $OTHER
EOF
printf 'FROM base:1\nRUN echo meta > /meta\n' >"$NAMES/meta/Dockerfile"
# service name, image as shown on one line (a newline as \n)
BAD=(
	"semi|a;touch PWNED-semi"
	"subst|x\$(touch PWNED-subst)"
	"tick|y\`touch PWNED-tick\`"
	"space|nginx 1.25"
	'nl|nginx\n:1.25'
	"dotdot|../../../PWNED-dotdot:1"
	"regdotdot|$REG/../PWNED-regdotdot:1"
	"fromenv|evil;touch PWNED-env"
)
cp -a "$NAMES" "$T/names.before"

# refused WHAT: for each bad name, "[WHAT] IMAGE: failed: not a valid image
# reference (project 'meta', service 'S'): …" on one stdout line and once in
# the failure list; the built one as [build]/[build+save].
refused() {
	local b s i what=$1 build=$2
	for b in "${BAD[@]}" "badbuild|bad name;touch PWNED-build"; do
		s=${b%%|*} i=${b#*|}
		[ "$s" = badbuild ] && what=$build
		grep -qF -- "[$what] $i: failed: not a valid image reference (project 'meta', service '$s'): " "$OUT" &&
			grep -qF -- "  - $what $i: not a valid image reference (project 'meta', service '$s')" "$OUT" ||
			{ echo "no refusal for service $s ($i):"; cat "$OUT"; return 1; }
	done
	[ "$(grep -c 'not a valid image reference' "$OUT")" -eq 18 ] || { echo "not 18 refusal lines:"; cat "$OUT"; return 1; }
	! grep -q '^:1.25' "$OUT" || { echo "a newline split a line:"; cat "$OUT"; return 1; }
}

check "build refuses each image name that is no valid reference, naming project and service; the rest is pulled and built; exit 1" \
	eval ': >$T/spy.log && run 1 iv build --root=$NAMES -H unix://$T/spy.sock && refused pull build &&
		line "[pull] $KV: pulled" && line "[pull] $OTHER: pulled" && has "$OUT" "[build] local/app:1: built sha256:" &&
		line "Built: 1" && line "Pulled: 2" && line "Failures: 9" && [ -n "$(image_id local/app:1)" ]'

check "no request for a refused name reaches the engine: the proxy sees 2 pulls, 1 build, no payload" \
	eval 'spied POST images/create 2 && spied POST build 1 && ! grep -aq PWNED $T/spy.log &&
		! grep -aqi "nginx" $T/spy.log'

check "catalog warns once per bad name, each warning on one line, the newline escaped" \
	eval 'run 0 iv catalog --json --root=$NAMES && lines "$ERR" 9 &&
		has "$ERR" "service '"'"'nl'"'"': image '"'"'nginx\n:1.25'"'"' is not a valid reference" &&
		jq_is "$OUT" "[.[] | select(.service == \"nl\") | .image]" "[\"nginx\\n:1.25\"]"'

A0=$T/arch-names AD0=$T/arch-names/$ARCH M0=$T/arch-names/$ARCH/manifest.json
check "archive refuses the same names, archives the rest, and makes no file for a refused name" \
	eval 'run 1 iv archive --root=$NAMES --output-dir=$A0 && refused pull+save build+save &&
		jq_is $M0 "[.images[] | [.project, .image]]" "[[\"good\",\"$KV\"],[\"good\",\"local/app:1\"],[\"meta\",\"$OTHER\"]]" &&
		[ "$(find $A0 -type f ! -name .imgvault.lock | wc -l)" -eq 4 ] || { find $A0; exit 1; }'

check "status names each refused image as missing, saying why, without asking the engine" \
	eval 'run 1 iv status --root=$NAMES --output-dir=$A0 &&
		has "$OUT" "[missing] nginx\n:1.25: not a valid image reference (project '"'"'meta'"'"', service '"'"'nl'"'"')" &&
		[ "$(grep -c "^\[missing\] .*not a valid image reference" "$OUT")" -eq 9 ] && line "Archived: 3 images, $(
			jq -r "[.images[].size] | add" $M0 | awk "{ printf \"%.1f MB\", \$1 / 1e6 }")"'

check "the hostile tree is left as it was" eval 'diff -r $T/names.before $NAMES'

# --- project folders with spaces, a newline and shell characters ----------------------------

ODD=$T/odd SEMI='semi;q$(touch PWNED-folder) x'
mkdir -p "$ODD/my project" "$ODD/new"$'\n'"line" "$ODD/$SEMI"
printf 'services:\n  kv:\n    image: %s\n  web:\n    build: .\n' "$KV" >"$ODD/my project/compose.yaml"
printf 'FROM base:1\nRUN echo space > /space\n' >"$ODD/my project/Dockerfile"
printf 'services:\n  nl:\n    build: .\n    image: local/nl:1\n' >"$ODD/new"$'\n'"line/compose.yaml"
printf 'FROM base:1\nRUN echo nl > /nl\n' >"$ODD/new"$'\n'"line/Dockerfile"
printf 'services:\n  other:\n    image: %s\n' "$OTHER" >"$ODD/$SEMI/compose.yaml"
AO=$T/arch-odd ADO=$T/arch-odd/$ARCH MO=$T/arch-odd/$ARCH/manifest.json
ODD_IMAGES="$KV myproject-web:t1 local/nl:1 $OTHER"
remove_odd() {
	local i
	for i in $ODD_IMAGES myproject-web:latest; do dk rmi -f "$i" >/dev/null 2>&1; done
	for i in $ODD_IMAGES; do [ -z "$(image_id "$i")" ] || { echo "$i is still there"; return 1; }; done
}

check "catalog's table shows a folder name with a newline escaped: one row per entry" \
	eval 'run 0 iv catalog --root=$ODD --build-tag=t1 &&
		[ "$(grep -c "^new\\\\nline  *nl  *build-local  *local/nl:1 " "$OUT")" -eq 1 ] &&
		[ "$(grep -c "^my project  *web  *build-local  *myproject-web:t1 " "$OUT")" -eq 1 ] &&
		! grep -q "^line" "$OUT" && has "$OUT" "$SEMI/other"'

check "archive stores them under folders of safe characters, their names kept in the manifest, one line per message" \
	eval 'run 0 iv archive --root=$ODD --build-tag=t1 --output-dir=$AO &&
		line "=== new\nline ===" && line "=== my project ===" && line "=== $SEMI ===" &&
		line "[build+save] local/nl:1 -> new_line/local_nl_1.tar.gz: $(jq -r ".images[] | select(.image == \"local/nl:1\") | .size" $MO | awk "{ printf \"%.1f MB\", \$1 / 1e6 }")" &&
		jq_is $MO "[.images[] | [.project, .file]]" "[[\"my project\",\"my_project/${KV//[:\/]/_}.tar.gz\"],[\"my project\",\"my_project/myproject-web_t1.tar.gz\"],[\"new\nline\",\"new_line/local_nl_1.tar.gz\"],[\"$SEMI\",\"semi_q__touch_PWNED-folder__x/${OTHER//[:\/]/_}.tar.gz\"]]" &&
		[ "$(cd $ADO && ls -d */ | tr "\n" " ")" = "my_project/ new_line/ semi_q__touch_PWNED-folder__x/ " ]'

check "restore loads them back, one '=== name ===' line each, the newline escaped" \
	eval 'remove_odd && run 0 iv restore --archive-dir=$ADO && line "=== new\nline ===" &&
		line "=== $SEMI ===" && line "Restored: 4 images" &&
		for i in $ODD_IMAGES; do [ "$(image_id $i)" = "$(jq -r --arg i $i ".images[] | select(.image == \$i) | .docker_id" $MO)" ] || exit 1; done'

check "restore --project selects a project whose name holds a newline" \
	eval 'remove_odd && run 0 iv restore --archive-dir=$ADO --project="new"$'"'"'\n'"'"'"line" &&
		line "Restored: 1 images" && [ -n "$(image_id local/nl:1)" ] && [ -z "$(image_id $OTHER)" ]'

check "verify and status see every image of those projects archived" \
	eval 'run 0 iv verify --archive-dir=$ADO && line "Checked: 4, ok: 4, mismatched: 0, missing: 0, corrupt: 0, orphans: 0" &&
		run 0 iv status --root=$ODD --build-tag=t1 --output-dir=$AO --no-engine && line "=== new\nline ===" &&
		line "Archived: 4 images, $(jq -r "[.images[].size] | add" $MO | awk "{ printf \"%.1f MB\", \$1 / 1e6 }")" && line "Missing: 0"'

check "--rebuild-manifest gives back the projects' own names, not their folders'" \
	eval 'cp $MO $T/mo.good && rm $MO && run 0 iv archive --root=$ODD --build-tag=t1 --output-dir=$AO --rebuild-manifest &&
		jq_is $MO "[.images[] | [.project, .image, .file]]" "$(jq -c "[.images[] | [.project, .image, .file]]" $T/mo.good)"'

# --- build contexts that are absolute or climb out -------------------------------------------

CTX=$T/ctxtree
mkdir -p "$CTX/abs" "$CTX/up" "$T/ctx-abs" "$T/ctx-up"
for c in abs up; do
	printf 'FROM base:1\nCOPY data /data\nRUN test "$(cat /data)" = %s\n' $c >"$T/ctx-$c/Dockerfile"
	echo $c >"$T/ctx-$c/data"
done
printf 'services:\n  a:\n    build: %s\n    image: local/ctx-abs:1\n' "$T/ctx-abs" >"$CTX/abs/compose.yaml"
printf 'services:\n  u:\n    build:\n      context: ../../ctx-up\n    image: local/ctx-up:1\n' \
	>"$CTX/up/compose.yaml"

# readonly_run CMD…: run CMD with $T/ctx-abs and $T/ctx-up mounted read-only
# (a bind mount; only chmod a-w where mounting is not allowed, which root
# ignores), then check both trees are byte for byte as before.
readonly_run() {
	local d rc=0 mounted=() before=()
	for d in "$T/ctx-abs" "$T/ctx-up"; do
		before+=("$(tree_sum "$d")")
		if mount --bind "$d" "$d" 2>/dev/null; then
			if mount -o remount,ro,bind "$d" 2>/dev/null; then
				mounted+=("$d")
				continue
			fi
			umount "$d"
		fi
		chmod -R a-w "$d"
	done
	"$@" || rc=1
	if [ ${#mounted[@]} -gt 0 ] && touch "$T/ctx-abs/probe" 2>/dev/null; then
		echo "the context was not read-only"
		rc=1
	fi
	for d in "${mounted[@]}"; do umount "$d" 2>/dev/null || umount -l "$d"; done
	chmod -R u+w "$T/ctx-abs" "$T/ctx-up"
	[ "$(tree_sum "$T/ctx-abs")" = "${before[0]}" ] || { echo "something changed in $T/ctx-abs"; ls -la "$T/ctx-abs"; rc=1; }
	[ "$(tree_sum "$T/ctx-up")" = "${before[1]}" ] || { echo "something changed in $T/ctx-up"; ls -la "$T/ctx-up"; rc=1; }
	return $rc
}

check "catalog shows an absolute build.context and one that climbs out with ../.. as the folders they name" \
	eval 'run 0 iv catalog --json --root=$CTX &&
		jq_is "$OUT" "[.[] | [.project, .build_context, .source]]" "[[\"abs\",\"$T/ctx-abs\",\"build-local\"],[\"up\",\"$T/ctx-up\",\"build-local\"]]"'

check "build sends both contexts (allowed, as in Compose) and writes nothing inside them (read-only, checksummed)" \
	eval 'readonly_run run 0 iv build --root=$CTX && line "Built: 2" &&
		[ -n "$(image_id local/ctx-abs:1)" ] && [ -n "$(image_id local/ctx-up:1)" ]'

check "archive of those builds writes nothing inside the contexts either, only in the arch folder" \
	eval 'readonly_run run 0 iv archive --root=$CTX --output-dir=$T/arch-ctx --no-cache &&
		jq_is $T/arch-ctx/$ARCH/manifest.json "[.images[].file]" "[\"abs/local_ctx-abs_1.tar.gz\",\"up/local_ctx-up_1.tar.gz\"]"'

# --- manifests ----------------------------------------------------------------------------------
#
# Copies of the archive of $NAMES (good: $KV and local/app:1; meta: $OTHER),
# each under $T/m-NAME/$ARCH, in $C; $B is its base (for archive and status).

IMAGES="$KV local/app:1 $OTHER"
file_of() { jq -r --arg i "$1" '.images[] | select(.image == $i) | .file' "$M0"; }
id_of() { jq -r --arg i "$1" '.images[] | select(.image == $i) | .docker_id' "$M0"; }
copy() { B=$T/m-$1 C=$T/m-$1/$ARCH && rm -rf "$B" && mkdir -p "$B" && cp -a "$AD0" "$C" && rm -f "$C/.imgvault.lock"; }
edit() { jq "$1" "$C/manifest.json" >"$C/m.new" && mv "$C/m.new" "$C/manifest.json"; }
# set_size IMAGE LITERAL: LITERAL as IMAGE's "size", as text (jq would rewrite big numbers).
set_size() {
	jq -c --arg i "$1" '(.images[] | select(.image == $i) | .size) = "@SIZE@"' "$C/manifest.json" |
		sed "s/\"@SIZE@\"/$2/" >"$C/m.new" && mv "$C/m.new" "$C/manifest.json" &&
		grep -qF "\"size\":$2," "$C/manifest.json"
}
remove_all() {
	local i
	for i in $IMAGES; do api -X DELETE "http://engine/images/$(id_of "$i")?force=1" >/dev/null 2>&1; done
	for i in $IMAGES; do [ -z "$(image_id "$(id_of "$i")")" ] || { echo "$i is still there"; return 1; }; done
}
# holds IMAGE…: the engine has each under the archive's ID.
holds() {
	local i
	for i; do [ "$(image_id "$i")" = "$(id_of "$i")" ] || { echo "the engine lacks $i"; return 1; }; done
}
# restored_but IMAGE REGEX: restore (every image removed first) refuses IMAGE
# with a message matching REGEX, loads the two others, exit 1.
restored_but() {
	local i others=()
	for i in $IMAGES; do [ "$i" = "$1" ] || others+=("$i"); done
	remove_all && run 1 iv restore --archive-dir="$C" && said "$2" && line "Restored: 2 images" &&
		holds "${others[@]}" && [ -z "$(image_id "$(id_of "$1")")" ] &&
		sed -n '/^Failures: /,$p' "$OUT" | grep -qF -- "$1" || { echo "no failure listed for $1"; cat "$OUT"; return 1; }
}
# archive_refuses: archive exits 2 naming the manifest and --rebuild-manifest,
# and the arch folder is as it was.
archive_refuses() {
	local before
	before=$(tree_sum "$C")
	run 2 iv archive --root="$NAMES" --project=good --output-dir="$B" &&
		one_error "$C/manifest.json" "--rebuild-manifest" &&
		[ "$(tree_sum "$C")" = "$before" ] || { echo "the arch folder changed"; return 1; }
}
# status_leaves_out IMAGE: status warns that IMAGE's entry is not counted and
# shows IMAGE missing; exit 1.
status_leaves_out() {
	run 1 iv status --root="$NAMES" --output-dir="$B" --no-engine &&
		grep -F "warning: manifest entry " "$ERR" | grep -F "'$1'" | grep -qF "not counted" &&
		grep -qF "[missing] $1: not archived" "$OUT" || { cat "$OUT" "$ERR"; return 1; }
}

check "a manifest file with ../ (to a matching copy): restore refuses it, loads the others; verify CORRUPT; status leaves it out; archive exits 2, changing nothing" \
	eval 'copy dotdot && cp $C/$(file_of local/app:1) $T/m-dotdot/app.tar.gz &&
		edit "(.images[] | select(.image == \"local/app:1\") | .file) = \"../app.tar.gz\"" &&
		restored_but local/app:1 "local/app:1.*\.\." &&
		run 1 iv verify --archive-dir=$C && grep -qF "CORRUPT  manifest entry images[1] (project '"'"'good'"'"', image '"'"'local/app:1'"'"'): \"file\" '"'"'../app.tar.gz'"'"' leaves the archive folder" "$OUT" &&
		status_leaves_out local/app:1 && archive_refuses && cmp $T/m-dotdot/app.tar.gz $AD0/$(file_of local/app:1)'

check "an absolute manifest file: refused by restore and verify, left out by status, archive exits 2" \
	eval 'copy abs && cp $C/$(file_of $KV) $T/m-abs/kv.tar.gz &&
		edit "(.images[] | select(.image == \"$KV\") | .file) = \"$T/m-abs/kv.tar.gz\"" &&
		restored_but $KV "is absolute" && run 1 iv verify --archive-dir=$C && has "$OUT" "is absolute" &&
		status_leaves_out $KV && archive_refuses'

check "a project folder symlinked out: restore and verify refuse its files, status calls them missing, archive will not write there" \
	eval 'copy symdir && rm -rf $T/out-good && mv $C/good $T/out-good && ln -s $T/out-good $C/good &&
		before=$(tree_sum $T/out-good) && remove_all && run 1 iv restore --archive-dir=$C && line "Restored: 1 images" &&
		holds $OTHER && [ -z "$(image_id local/app:1)" ] &&
		run 1 iv verify --archive-dir=$C && [ "$(grep -c "^CORRUPT  good/.*resolves outside the archive folder" "$OUT")" -eq 2 ] &&
		run 1 iv status --root=$NAMES --project=good --output-dir=$B --no-engine &&
		[ "$(grep -c "^\[missing\] .*resolves outside the archive folder" "$OUT")" -eq 2 ] &&
		run 1 iv archive --root=$NAMES --project=good --output-dir=$B --force &&
		[ "$(grep -c "failed: .*/good'"'"': resolves outside the archive folder (to '"'"'$T/out-good'"'"'); imgvault writes only inside the archive folder" "$OUT")" -eq 2 ] &&
		[ "$(tree_sum $T/out-good)" = "$before" ] && [ -L $C/good ]'

check "archive never removes an old entry's file through a symlinked folder when it archives the image again" \
	eval 'copy oldfile && rm -rf $T/out-evil && mkdir $T/out-evil && f=$(file_of $KV) &&
		mv $C/$f $T/out-evil/ && ln -s $T/out-evil $C/evil &&
		edit "(.images[] | select(.image == \"$KV\") | .file) = \"evil/${f#good/}\"" && before=$(tree_sum $T/out-evil) &&
		run 0 iv archive --root=$NAMES --project=good --output-dir=$B &&
		[ "$(tree_sum $T/out-evil)" = "$before" ] && [ -f $C/$f ] &&
		jq_is $C/manifest.json "[.images[] | select(.image == \"$KV\") | .file]" "[\"$f\"]"'

check "a symlinked arch folder is followed: restore, verify and status work, archive writes into its target only" \
	eval 'B=$T/m-syma C=$T/m-syma/$ARCH && rm -rf $B $T/disk2 && mkdir -p $B $T/disk2 && cp -a $AD0 $T/disk2/$ARCH &&
		ln -s $T/disk2/$ARCH $C && remove_all && run 0 iv restore --archive-dir=$C && line "Restored: 3 images" &&
		holds $IMAGES && run 0 iv verify --archive-dir=$C && line "Checked: 3, ok: 3, mismatched: 0, missing: 0, corrupt: 0, orphans: 0" &&
		run 0 iv status --root=$NAMES --project=good --output-dir=$B && line "Missing: 0" &&
		run 0 iv archive --root=$NAMES --project=good --output-dir=$B --force --compress=zstd &&
		[ "$(ls $T/disk2/$ARCH/good | tr "\n" " ")" = "${KV//[:\/]/_}.tar.zst local_app_1.tar.zst " ] &&
		[ "$(ls -A $B)" = "$ARCH" ] && [ -L $C ]'

check "the same project and image twice: restore and verify refuse the repeat, status leaves it out, archive exits 2" \
	eval 'copy dupentry && edit ".images += [.images[1] | .file = \"good/other.tar.gz\"]" &&
		remove_all && run 1 iv restore --archive-dir=$C && has "$ERR" "images[3] (project '"'"'good'"'"', image '"'"'local/app:1'"'"') repeats images[1]" &&
		line "Restored: 3 images" && holds $IMAGES &&
		run 1 iv verify --archive-dir=$C && has "$OUT" "CORRUPT  manifest entry images[3] (project '"'"'good'"'"', image '"'"'local/app:1'"'"') repeats images[1]" &&
		run 0 iv status --root=$NAMES --project=good --output-dir=$B --no-engine && has "$ERR" "repeats images[1]" &&
		archive_refuses'

check "the same file for two images: restore loads it for its own and fails the other naming both; verify calls the second entry CORRUPT; archive leaves the file alone" \
	eval 'copy dupfile && edit ".images += [.images[1] | .image = \"local/twin:1\"]" &&
		remove_all && run 1 iv restore --archive-dir=$C && line "Restored: 3 images" && holds $IMAGES &&
		has "$OUT" "[restore] local/twin:1: failed: after loading, the engine has no image '"'"'local/twin:1'"'"' (the archive names local/app:1)" &&
		run 1 iv verify --archive-dir=$C && line "Checked: 4, ok: 3, mismatched: 0, missing: 0, corrupt: 1, orphans: 0" &&
		line "CORRUPT  $(file_of local/app:1): the entry for '"'"'local/twin:1'"'"' names the file of '"'"'local/app:1'"'"' (project '"'"'good'"'"'), but one file holds one image (run '"'"'imgvault archive --rebuild-manifest'"'"' to list what the files hold); not read" &&
		run 0 iv archive --root=$NAMES --project=good --output-dir=$B &&
		[ "$(tree_sum $T/m-dupfile/$ARCH/good)" = "$(tree_sum $AD0/good)" ]'

# Two images whose names differ only where a file name has '_' meet in one file.
CLASH=$T/clash
mkdir -p "$CLASH/twins"
printf 'services:\n  one:\n    build: .\n    image: twins/img:1\n  two:\n    build: .\n    image: twins_img:1\n' \
	>"$CLASH/twins/compose.yaml"
printf 'FROM base:1\nRUN echo twins > /twins\n' >"$CLASH/twins/Dockerfile"
# … and so do two projects whose folder names differ only there.
mkdir -p "$CLASH/pro j" "$CLASH/pro_j"
printf 'services:\n  kv:\n    image: %s\n' "$KV" | tee "$CLASH/pro j/compose.yaml" >"$CLASH/pro_j/compose.yaml"
KVFILE=$(printf '%s' "$KV" | tr ':/' '__').tar.gz
check "two images or projects that would share a file: archive stores the first, refuses the second naming both, and verify passes" \
	eval 'run 1 iv archive --root=$CLASH --output-dir=$T/clash-out &&
		has "$OUT" "[pull+save] $KV -> pro_j/$KVFILE: " &&
		line "[pull+save] $KV: failed: its file '"'"'pro_j/$KVFILE'"'"' already holds '"'"'$KV'"'"' (project '"'"'pro j'"'"'): the project names differ only where a folder name has '"'"'_'"'"'; rename one project'"'"'s folder" &&
		has "$OUT" "[build+save] twins/img:1 -> twins/twins_img_1.tar.gz: " &&
		line "[build+save] twins_img:1: failed: its file '"'"'twins/twins_img_1.tar.gz'"'"' already holds '"'"'twins/img:1'"'"' (project '"'"'twins'"'"'): the names differ only where a file name has '"'"'_'"'"'; tag one of them differently" &&
		jq_is $T/clash-out/$ARCH/manifest.json "[.images[] | [.project, .image]]" "[[\"pro j\",\"$KV\"],[\"twins\",\"twins/img:1\"]]" &&
		run 0 iv verify --deep --archive-dir=$T/clash-out/$ARCH &&
		run 1 iv archive --root=$CLASH --output-dir=$T/clash-out --force &&
		line "[build+save] twins_img:1: failed: its file '"'"'twins/twins_img_1.tar.gz'"'"' already holds '"'"'twins/img:1'"'"' (project '"'"'twins'"'"'): the names differ only where a file name has '"'"'_'"'"'; tag one of them differently" &&
		run 0 iv verify --deep --archive-dir=$T/clash-out/$ARCH'

# (restore loads for the first; for the others --dry-run shows the same refusal)
t_sizes() {
	local v re="images\[1\] \(project 'good', image 'local/app:1'\): \"size\" (is absurd|must be an integer)"
	for v in 1e30 9223372036854775808 -1 1.5; do
		copy "size$v" && set_size local/app:1 "$v" || return 1
		if [ "$v" = 1e30 ]; then
			restored_but local/app:1 "$re"
		else
			run 1 iv restore --archive-dir="$C" --dry-run && said "$re" && line "Failures: 1"
		fi &&
			run 1 iv verify --archive-dir="$C" && grep -q "^CORRUPT  manifest entry images\[1\] .*\"size\"" "$OUT" &&
			status_leaves_out local/app:1 && archive_refuses || { echo "(size $v)"; return 1; }
	done
}
check "sizes of 1e30, 2^63, -1 and 1.5: that entry refused by restore and verify, left out by status; archive exits 2" t_sizes

check "JSON nested 100,000 deep: restore, verify and status exit 2 naming the manifest, archive too, changing nothing" \
	eval 'copy deep && python3 -c "import sys; d=100000; sys.stdout.write(\"{\\\"x\\\": \" + \"[\" * d + \"]\" * d + \", \\\"images\\\": []}\")" >$C/manifest.json &&
		run 2 iv restore --archive-dir=$C && one_error "$C/manifest.json" "depth" &&
		run 2 iv verify --archive-dir=$C && one_error "$C/manifest.json" &&
		run 2 iv status --root=$NAMES --project=good --output-dir=$B --no-engine && has "$ERR" "$C/manifest.json" &&
		archive_refuses'

# A 50 MB manifest: the three entries and 48 MiB of another tool's data.
t_50mb() {
	copy big && python3 -c 'import json, sys
m = json.load(open(sys.argv[1])); m["x-other-tool"] = {"log": "y" * (48 << 20)}
open(sys.argv[1], "w").write(json.dumps(m))' "$C/manifest.json" &&
		[ "$(stat -c %s "$C/manifest.json")" -gt 50000000 ] || { echo "no 50 MB manifest"; return 1; }
	remove_all && run 0 iv restore --archive-dir="$C" && line "Restored: 3 images" && holds $IMAGES &&
		run 0 iv verify --archive-dir="$C" &&
		line "Checked: 3, ok: 3, mismatched: 0, missing: 0, corrupt: 0, orphans: 0" &&
		run 0 iv status --root="$NAMES" --project=good --output-dir="$B" --no-engine &&
		line "Missing: 0" &&
		rm "$C/$(file_of "$KV")" && run 0 iv archive --root="$NAMES" --project=good --output-dir="$B" &&
		line "New: 1 images, $(jq -r --arg i "$KV" '.images[] | select(.image == $i) | .size' "$M0" |
			awk '{ printf "%.1f MB", $1 / 1e6 }')" && line "Total: 3 images, $(jq -r '[.images[].size] | add' "$M0" |
			awk '{ printf "%.1f MB", $1 / 1e6 }')" &&
		[ "$(stat -c %s "$C/manifest.json")" -gt $((48 << 20)) ] &&
		grep -qF '"log": "yyyyyyyyyyyyyyyy' "$C/manifest.json" || { echo "the other tool's data is gone"; return 1; }
}
check "a 50 MB manifest (48 MiB of another tool's data) is handled by restore, verify, status and archive, which keeps that data" t_50mb

# 40,000 entries of their own projects (files that are not there): status,
# which once compared every entry with every other one, answers in seconds.
t_many() {
	copy many && python3 -c 'import json, sys
m = json.load(open(sys.argv[1])); e = m["images"][0]
m["images"] += [dict(e, project="p%05d" % i, image="r/p%05d:1" % i, file="p%05d/r_p%05d_1.tar.gz" % (i, i))
                for i in range(40000)]
open(sys.argv[1], "w").write(json.dumps(m))' "$C/manifest.json" || return 1
	run 1 timeout 20 "$IMGVAULT" status --root="$NAMES" --output-dir="$B" --no-engine &&
		[ "$(grep -c '^\[orphaned\]' "$OUT")" -eq 40000 ] && line "Missing: 9" &&
		line "Orphaned: 40000 images, $(jq -r '[.images[3:][].size] | add' "$C/manifest.json" |
			awk '{ printf "%.1f MB", $1 / 1e6 }')"
}
check "a manifest of 40,003 entries in 40,001 projects: status answers in seconds" t_many

check "a 70 MB manifest (over the 64 MiB limit) is refused by restore, verify, status and archive with exit 2" \
	eval 'copy huge && python3 -c "import json,sys; m=json.load(open(sys.argv[1])); m[\"x-pad\"]=\"z\"*(70<<20); open(sys.argv[1],\"w\").write(json.dumps(m))" $C/manifest.json &&
		run 2 iv restore --archive-dir=$C && one_error "$C/manifest.json" "too large" &&
		run 2 iv verify --archive-dir=$C && one_error "too large" &&
		run 2 iv status --root=$NAMES --project=good --output-dir=$B --no-engine && has "$ERR" "too large" &&
		archive_refuses'

# --- an ssh host key that changed ------------------------------------------------------------

ssh-keygen -q -t ed25519 -N "" -f "$T/other_key" &&
	echo "[127.0.0.1]:$SVC_SSH_PORT $(cat "$T/other_key.pub")" >"$T/bad_known_hosts" &&
	sed "s|$SVC/known_hosts|$T/bad_known_hosts|" "$SVC/ssh_config" >"$T/bad_ssh_config" &&
	cp "$T/bad_known_hosts" "$T/bad_known_hosts.before" || exit 1
SSH_HOST=ssh://root@127.0.0.1:$SVC_SSH_PORT
# over_bad_ssh CODE CMD…: CMD over ssh with the changed key exits CODE with one
# line naming the host and ssh's reason; known_hosts is left alone.
over_bad_ssh() {
	DOCKER_HOST=$SSH_HOST IMGVAULT_SSH_CONFIG=$T/bad_ssh_config run 2 "$@" &&
		one_error "$SSH_HOST (DOCKER_HOST)" "Host key verification failed" &&
		cmp "$T/bad_known_hosts" "$T/bad_known_hosts.before"
}

check "a changed ssh host key: build fails with one line naming the host, exit 2, nothing built" \
	eval 'dk rmi local/app:1 >/dev/null 2>&1; over_bad_ssh iv build --root=$NAMES --project=good && [ -z "$(image_id local/app:1)" ]'

check "a changed ssh host key: archive fails the same way and writes nothing" \
	eval 'over_bad_ssh iv archive --root=$NAMES --project=good --output-dir=$T/arch-ssh && [ ! -e $T/arch-ssh ]'

check "a changed ssh host key: restore fails the same way and loads nothing" \
	eval 'remove_all && over_bad_ssh iv restore --archive-dir=$AD0 &&
		for i in $IMAGES; do [ -z "$(image_id $(id_of $i))" ] || { echo "$i was loaded"; exit 1; }; done'

# --- nothing ran, nothing strayed ----------------------------------------------------------

check "no payload ran: no file named like one outside the arch folders, none in the current folder" \
	eval 'stray=$(find $T -name "*PWNED*" ! -path "$T/arch-*" ! -path "$T/m-*" ! -path "$ODD/$SEMI" ! -path "$T/names.before/*" 2>/dev/null);
		[ -z "$stray" ] || { echo "stray: $stray"; exit 1; }; [ -z "$(ls -A $T/cwd)" ] &&
		! ls / /tmp | grep -q PWNED'

# (one pattern at a time: `ls A B` fails when either is missing)
check "no run left a sanitizer report" \
	eval 'reports=$(find $T -maxdepth 1 \( -name "asan.*" -o -name "ubsan.*" \)) &&
		{ [ -z "$reports" ] || { head -40 $reports; exit 1; }; }'

finish
