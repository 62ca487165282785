#!/usr/bin/env bash
# t55-restore: archive a tree (a pull from a loopback registry, builds with
# and without image:, a ~12 MB build) on a private dockerd, remove the
# images from the engine, and load them back with `imgvault restore`:
# every image back under the manifest's ID, with every name the catalog
# lists and the <compose project>-<service>:latest alias; [skip] and
# --force; --dry-run; --project; the default folder; and the proof before
# load: a flipped byte, a changed gzip header, a truncated file, swapped
# files, a missing file, a '../' path, symlinks leading out, wrong types
# and an absurd size in the manifest — each refused, the others restored.
# Then zstd on Engine 20.10, over ssh, and plain `docker load` agreeing.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../lib/services.sh"

engine_env ssh || exit 1
image_id() { dk image inspect --format '{{.Id}}' "$1" 2>/dev/null; }

# $REG/demo/kv:1 in the registry, not on the engine.
KV=$REG/demo/kv:1
mkdir -p "$T/kvctx" && printf 'FROM base:1\nRUN echo kv > /kv\n' >"$T/kvctx/Dockerfile" &&
	dk build -q -t "$KV" "$T/kvctx" >"$T/kv.log" 2>&1 && dk push "$KV" >>"$T/kv.log" 2>&1 &&
	dk rmi "$KV" >/dev/null || { echo "cannot seed the registry:"; cat "$T/kv.log"; exit 1; }

# The tree: a build with image:, a pull, a build with no image: (named
# noname-svc:t1, also noname-svc:latest) and a ~12 MB build.
tree=$T/tree
mkdir -p "$tree/app" "$tree/kv" "$tree/noname" "$tree/zbig"
printf 'services:\n  app:\n    build: .\n    image: local/app:1\n' >"$tree/app/docker-compose.yaml"
printf 'FROM base:1\nRUN echo app > /app\n' >"$tree/app/Dockerfile"
printf 'services:\n  kv:\n    image: %s\n' "$KV" >"$tree/kv/docker-compose.yaml"
printf 'services:\n  svc:\n    build: .\n' >"$tree/noname/docker-compose.yaml"
printf 'FROM base:1\nRUN echo noname > /noname\n' >"$tree/noname/Dockerfile"
printf 'services:\n  big:\n    build: .\n    image: local/big:1\n' >"$tree/zbig/docker-compose.yaml"
printf 'FROM base:1\nCOPY blob /big/blob\n' >"$tree/zbig/Dockerfile"
head -c 12000000 /dev/urandom >"$tree/zbig/blob"

ENGINE_ARCH=$(dk info --format '{{.Architecture}}')
A=$T/arch AD=$T/arch/$ENGINE_ARCH M=$T/arch/$ENGINE_ARCH/manifest.json
APPF=app/local_app_1.tar.gz KVF=kv/127.0.0.1_${SVC_REGISTRY_PORT}_demo_kv_1.tar.gz
NONAMEF=noname/noname-svc_t1.tar.gz BIGF=zbig/local_big_1.tar.gz
IMAGES="local/app:1 $KV noname-svc:t1 local/big:1"
if ! "$IMGVAULT" archive --root="$tree" --build-tag=t1 --output-dir="$A" >"$T/archive.log" 2>&1 ||
	! ls "$AD/$APPF" "$AD/$KVF" "$AD/$NONAMEF" "$AD/$BIGF" >>"$T/archive.log" 2>&1; then
	echo "cannot make the archive to restore from:"
	tail -20 "$T/archive.log"
	exit 1
fi

restore() { timeout 120 "$IMGVAULT" restore "$@"; }
id_of() { jq -r --arg i "$2" '.images[] | select(.image == $i) | .docker_id' "$1"; }
sha_of() { jq -r --arg i "$2" '.images[] | select(.image == $i) | .sha256' "$1"; }
# file_of IMAGE [MANIFEST], mb_of IMAGE [MANIFEST]: its file; its size as "X.Y MB".
file_of() { jq -r --arg i "$1" '.images[] | select(.image == $i) | .file' "${2:-$M}"; }
mb_of() { jq -r --arg i "$1" '.images[] | select(.image == $i) | .size' "${2:-$M}" | awk '{ printf "%.1f MB", $1 / 1e6 }'; }
sha_file() { local s; s=$(sha256sum <"$1") && echo "${s%% *}"; }

# remove_all [MANIFEST]: every image of MANIFEST (default $M) off the engine
# (DELETE /images/ID?force=1, which takes all its names with it).
remove_all() {
	local id
	for id in $(jq -r '.images[].docker_id' "${1:-$M}"); do
		api -X DELETE "http://engine/images/$id?force=1" >/dev/null 2>&1
		! dk image inspect "$id" >/dev/null 2>&1 || { echo "cannot remove $id"; return 1; }
	done
}
# holds NAME…: the engine has each NAME, under the docker_id of $M (or of
# $HOLDS_M when set).
holds() {
	local n got want
	for n; do
		want=$(id_of "${HOLDS_M:-$M}" "$n") got=$(image_id "$n")
		[ -n "$want" ] && [ "$got" = "$want" ] ||
			{ echo "the engine holds '$got' as $n, the manifest says '$want'"; return 1; }
	done
}
# gone NAME…: the image the manifest records for each NAME is not on the engine.
gone() {
	local n
	for n; do
		! dk image inspect "$(id_of "$M" "$n")" >/dev/null 2>&1 ||
			{ echo "$n ($(id_of "$M" "$n")) is on the engine"; dk images; return 1; }
	done
}
# line TEXT: stdout has the line TEXT, exactly.
line() { grep -qxF -- "$1" "$OUT" || { echo "no line: $1"; echo "--- stdout:"; cat "$OUT"; return 1; }; }
# loaded IMAGE…: stdout has "[restore] IMAGE (X MB, verified) <- FILE: loaded" for each.
loaded() {
	local i
	for i; do line "[restore] $i ($(mb_of "$i"), verified) <- $(file_of "$i"): loaded" || return 1; done
}
# tally RESTORED SKIPPED FAILURES: the summary lines.
tally() {
	line "Restored: $1 images" && line "Skipped: $2 (already exist)" && line "Failures: $3"
}
# failed_for IMAGE…: each IMAGE is in the list under "Failures: N".
failed_for() {
	local i
	for i; do
		sed -n '/^Failures: /,$p' "$OUT" | sed 1d | grep '^  - ' | grep -qF -- "$i" ||
			{ echo "no failure listed for $i:"; sed -n '/^Failures: /,$p' "$OUT"; return 1; }
	done
}
# said REGEX: stdout or stderr has a line matching the extended REGEX.
said() {
	cat "$OUT" "$ERR" | grep -qE -- "$1" ||
		{ echo "nothing matches: $1"; echo "--- stdout:"; cat "$OUT"; echo "--- stderr:"; cat "$ERR"; return 1; }
}
# copy NAME: a copy of the arch folder at $T/NAME, in $C.
copy() { C=$T/$1 && rm -rf "$C" && cp -a "$AD" "$C"; }
# edit JQ-FILTER: rewrite $C/manifest.json through jq.
edit() { jq "$1" "$C/manifest.json" >"$C/m.new" && mv "$C/m.new" "$C/manifest.json"; }
# flip FILE OFFSET: invert the byte at OFFSET in place.
flip() {
	local b
	b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ') && [ -n "$b" ] &&
		printf "$(printf '\\%03o' $((255 - b)))" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}
# set_size IMAGE LITERAL: write LITERAL as IMAGE's "size" in $C/manifest.json
# (as text: jq would print 1000000000000000000 as 1e+18).
set_size() {
	jq -c --arg i "$1" '(.images[] | select(.image == $i) | .size) = "@SIZE@"' "$C/manifest.json" |
		sed "s/\"@SIZE@\"/$2/" >"$C/m.new" && mv "$C/m.new" "$C/manifest.json" &&
		grep -qF "\"size\":$2," "$C/manifest.json"
}
# A proxy on $T/spy.sock in front of the engine that writes each chunk of
# the requests it passes on (their first 512 bytes) to $T/spy.log: it shows
# which requests reached the engine, e.g. POST /images/load.
cat >"$T/spy.py" <<-'PY'
	import os, socket, sys, threading
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
# spied N: $T/spy.log shows N requests to /images/load.
spied() {
	local n
	n=$(grep -ac '^POST [^ ]*/images/load' "$T/spy.log")
	[ "$n" -eq "$1" ] || { echo "$n load requests reached the engine, wanted $1:"; grep -a '^[A-Z]* /' "$T/spy.log"; return 1; }
}
# re_of TEXT: TEXT with regex metacharacters escaped.
re_of() { printf '%s' "$1" | sed 's/[][\.*^$/+?(){}|]/\\&/g'; }
KVRE=$(re_of "$KV")

# --- usage and the folder -------------------------------------------------------

check "--help describes restore and its options, exit 0" \
	eval 'run 0 restore --help && for o in --archive-dir --project --dry-run --force --jobs --root -H; do
		has "$OUT" "$o" || exit 1; done'

check "an unknown option or an extra argument is a usage error, exit 2" \
	eval 'run 2 restore --archive-dir=$AD --bogus && has "$ERR" "bogus" &&
		run 2 restore --archive-dir=$AD extra && has "$ERR" "extra"'

check "--jobs=0 and --jobs=x are usage errors, exit 2" \
	eval 'run 2 restore --archive-dir=$AD --jobs=0 && run 2 restore --archive-dir=$AD --jobs=x'

check "a folder with no manifest.json: exit 2, naming the folder" \
	eval 'mkdir -p $T/empty && run 2 restore --archive-dir=$T/empty && has "$ERR" "$T/empty"'

check "a manifest.json that is not JSON: exit 2, naming it, nothing loaded" \
	eval 'remove_all && copy notjson && printf "{\"images\": [" >$C/manifest.json &&
		run 2 restore --archive-dir=$C && has "$ERR" "$C/manifest.json" && gone $IMAGES'

check "an engine that cannot be reached: exit 2 with a line naming it" \
	eval 'run 2 restore --archive-dir=$AD -H unix://$T/nothing.sock && has "$ERR" "unix://$T/nothing.sock"'

check "an unknown --project is a usage error, exit 2, naming it; nothing loaded" \
	eval 'remove_all && run 2 restore --archive-dir=$AD --project=nope && has "$ERR" "nope" && gone $IMAGES'

# --- --dry-run, then a full restore ------------------------------------------------

check "--dry-run verifies and prints [restore] IMAGE (X MB, verified) <- FILE; loads nothing" \
	eval 'remove_all && run 0 restore --archive-dir=$AD --dry-run &&
		for i in $IMAGES; do line "[restore] $i ($(mb_of $i), verified) <- $(file_of $i)" || exit 1; done &&
		lacks "$OUT" ": loaded" && gone $IMAGES'

check "a restore loads every image: [restore] IMAGE (X MB, verified) <- FILE: loaded, and a summary" \
	eval 'remove_all && run 0 restore --archive-dir=$AD && loaded $IMAGES && tally 4 0 0'

check "every restored image has the manifest's docker_id" holds $IMAGES

check "every image the catalog lists is on the engine, and <compose project>-<service>:latest for a build with no image:" \
	eval '"$IMGVAULT" catalog --json --root=$tree --build-tag=t1 >$T/catalog.json &&
		jq -r ".[].image" $T/catalog.json | sort -u >$T/catalog.images && [ "$(wc -l <$T/catalog.images)" -eq 4 ] &&
		while read -r i; do holds "$i" || exit 1; done <$T/catalog.images &&
		jq -r ".[] | select(.image_ref == null) | \"\(.compose_project)-\(.service)\"" $T/catalog.json >$T/aliases &&
		[ "$(cat $T/aliases)" = noname-svc ] &&
		[ "$(image_id noname-svc:latest)" = "$(id_of $M noname-svc:t1)" ]'
for i in $IMAGES noname-svc:latest; do echo "$i $(image_id "$i")"; done >"$T/restored.ids"

check "a second restore skips each image the engine holds under the manifest's ID: [skip] IMAGE (already exists, X MB)" \
	eval 'run 0 restore --archive-dir=$AD && for i in $IMAGES; do line "[skip] $i (already exists, $(mb_of $i))" || exit 1; done &&
		lacks "$OUT" ": loaded" && tally 0 4 0 && holds $IMAGES'

# under_headers: each [skip]/[restore] line of $OUT comes under the
# "=== project ===" header of its manifest entry's project.
under_headers() {
	jq -r '.images[] | "\(.image)\t\(.project)"' $M >$T/projects &&
		awk -F'\t' 'NR == FNR { p[$1] = $2; next }
			/^=== .* ===$/ { cur = substr($0, 5, length($0) - 8); next }
			/^\[(skip|restore)\] / { split($0, w, " "); n++
				if (p[w[2]] != cur) { print "under \"" cur "\": " $0; bad = 1 } }
			END { exit bad || !n }' $T/projects $OUT
}

check "skipped and loaded images alike are listed under their project's === header ===" \
	eval 'api -X DELETE "http://engine/images/$(id_of $M local/app:1)?force=1" >/dev/null &&
		run 0 restore --archive-dir=$AD && loaded local/app:1 && tally 1 3 0 && under_headers &&
		run 0 restore --archive-dir=$AD --dry-run && under_headers'

check "--force loads images the engine already holds" \
	eval 'run 0 restore --archive-dir=$AD --force && loaded $IMAGES && lacks "$OUT" "[skip]" && tally 4 0 0 && holds $IMAGES'

check "a name the engine holds under another image ID is not skipped: loaded, the name then has the manifest's ID" \
	eval 'api -X DELETE "http://engine/images/$(id_of $M local/app:1)?force=1" >/dev/null &&
		dk tag base:1 local/app:1 && run 0 restore --archive-dir=$AD --project=app &&
		lacks "$OUT" "[skip] local/app:1" && loaded local/app:1 && tally 1 0 0 && holds local/app:1'

# --- --project and the default folder ------------------------------------------------

check "--project limits the restore to that project" \
	eval 'remove_all && run 0 restore --archive-dir=$AD --project=kv && loaded $KV && tally 1 0 0 &&
		lacks "$OUT" "local/app:1" && holds $KV && gone local/app:1 noname-svc:t1 local/big:1'

check "--project is repeatable" \
	eval 'remove_all && run 0 restore --archive-dir=$AD --project=app --project=noname && loaded local/app:1 noname-svc:t1 &&
		tally 2 0 0 && holds local/app:1 noname-svc:t1 && gone $KV local/big:1'

check "with no --archive-dir, IMAGE_ARCHIVE_DIR/<engine arch> is the folder" \
	eval 'remove_all && IMAGE_ARCHIVE_DIR=$A run 0 restore --root=$tree --project=kv && loaded $KV && holds $KV'

check "with no env, IMAGE_ARCHIVE_DIR= in <root>/.env_default gives the base" \
	eval 'remove_all && mkdir -p $T/dotenv && cp -a $AD $T/dotenv/ && echo "IMAGE_ARCHIVE_DIR=$T/dotenv" >$tree/.env_default &&
		run 0 restore --root=$tree --project=kv && loaded $KV && holds $KV'

check "the environment's IMAGE_ARCHIVE_DIR wins over .env_default" \
	eval 'remove_all && echo "IMAGE_ARCHIVE_DIR=$T/not-there" >$tree/.env_default &&
		IMAGE_ARCHIVE_DIR=$A run 0 restore --root=$tree --project=kv && loaded $KV && holds $KV'

check "with DOCKER_CONTEXT=NAME, IMAGE_ARCHIVE_DIR= in <root>/.env_NAME gives the base" \
	eval 'remove_all && svc_docker_context myctx "$SVC_DOCKER_HOST" && mkdir -p $T/ctxbase && cp -a $AD $T/ctxbase/ &&
		echo "IMAGE_ARCHIVE_DIR=$T/ctxbase" >$tree/.env_myctx && echo "IMAGE_ARCHIVE_DIR=$T/not-there" >$tree/.env_default &&
		unset DOCKER_HOST && DOCKER_CONFIG=$SVC_DOCKER_CONFIG DOCKER_CONTEXT=myctx run 0 restore --root=$tree --project=kv &&
		loaded $KV && holds $KV'
rm -f "$tree/.env_myctx"

check "with no setting at all the folder is <root>/_archive/images/<engine arch>" \
	eval 'remove_all && rm -f $tree/.env_default && mkdir -p $tree/_archive/images && cp -a $AD $tree/_archive/images/ &&
		run 0 restore --root=$tree --project=kv && loaded $KV && holds $KV'
rm -rf "$tree/_archive" "$tree/.env_default"

# --- proof before load ------------------------------------------------------------------

check "a byte flipped in the middle of one archive: HASH MISMATCH with both hashes, not loaded, the others restored, exit 1" \
	eval 'remove_all && copy flip && flip $C/$BIGF $(( $(stat -c %s $C/$BIGF) / 2 )) &&
		run 1 restore --archive-dir=$C && has "$OUT" "HASH MISMATCH: local/big:1" &&
		has "$OUT" "$(sha_of $M local/big:1)" && has "$OUT" "$(sha_file $C/$BIGF)" &&
		gone local/big:1 && loaded local/app:1 $KV noname-svc:t1 && holds local/app:1 $KV noname-svc:t1 &&
		tally 3 0 1 && failed_for local/big:1'

check "through a logging proxy, the engine gets one load request per good archive, none for the bad one" \
	eval 'remove_all && : >$T/spy.log && run 1 restore -H unix://$T/spy.sock --archive-dir=$T/flip &&
		loaded local/app:1 $KV noname-svc:t1 && gone local/big:1 && spied 3'

check "--dry-run finds the same mismatch: HASH MISMATCH, exit 1, nothing loaded" \
	eval 'remove_all && run 1 restore --archive-dir=$T/flip --dry-run && has "$OUT" "HASH MISMATCH: local/big:1" &&
		line "[restore] local/app:1 ($(mb_of local/app:1), verified) <- $APPF" && gone $IMAGES'

check "a file changed only in its gzip header (it would still load) is refused by its hash" \
	eval 'remove_all && copy header && flip $C/$APPF 4 && gzip -t $C/$APPF &&
		run 1 restore --archive-dir=$C && has "$OUT" "HASH MISMATCH: local/app:1" && gone local/app:1 &&
		holds $KV noname-svc:t1 local/big:1 && tally 3 0 1 && failed_for local/app:1 &&
		dk load <$C/$APPF >/dev/null && holds local/app:1'

check "a truncated archive: HASH MISMATCH with both hashes, the others restored, exit 1" \
	eval 'remove_all && copy trunc && truncate -s $(( $(stat -c %s $C/$APPF) / 2 )) $C/$APPF &&
		run 1 restore --archive-dir=$C && has "$OUT" "HASH MISMATCH: local/app:1" &&
		has "$OUT" "expected sha256 $(sha_of $M local/app:1)" && has "$OUT" "actual   sha256 $(sha_file $C/$APPF)" &&
		gone local/app:1 && holds $KV noname-svc:t1 local/big:1 && tally 3 0 1 && failed_for local/app:1'

check "two archives with their contents swapped are both refused, the others restored (--jobs=1)" \
	eval 'remove_all && copy swap && mv $C/$APPF $C/x && mv $C/$KVF $C/$APPF && mv $C/x $C/$KVF &&
		run 1 restore --archive-dir=$C --jobs=1 && has "$OUT" "HASH MISMATCH: local/app:1" &&
		has "$OUT" "HASH MISMATCH: $KV" && gone local/app:1 $KV && holds noname-svc:t1 local/big:1 &&
		tally 2 0 2 && failed_for local/app:1 $KV'

check "a missing archive file is a failure naming it, the others restored, exit 1" \
	eval 'remove_all && copy missing && rm $C/$KVF && run 1 restore --archive-dir=$C && has "$OUT" "$KVF" &&
		gone $KV && loaded local/app:1 noname-svc:t1 local/big:1 && tally 3 0 1 && failed_for $KV'

check "whatever is wrong with the files (flipped, truncated, header, symlink out), not one load request reaches the engine" \
	eval 'remove_all && copy allbad && flip $C/$BIGF $(( $(stat -c %s $C/$BIGF) / 2 )) &&
		truncate -s $(( $(stat -c %s $C/$APPF) - 1 )) $C/$APPF && flip $C/$NONAMEF 4 &&
		mkdir -p $T/elsewhere2 && mv $C/$KVF $T/elsewhere2/kv.tar.gz && ln -s $T/elsewhere2/kv.tar.gz $C/$KVF &&
		: >$T/spy.log && run 1 restore -H unix://$T/spy.sock --archive-dir=$C && tally 0 0 4 &&
		failed_for $IMAGES && gone $IMAGES && spied 0'

check "a manifest file with ../ is refused with a message naming the entry, the others restored, exit 1" \
	eval 'remove_all && copy dotdot && edit "(.images[] | select(.image == \"local/app:1\") | .file) = \"../dotdot/$APPF\"" &&
		run 1 restore --archive-dir=$C && said "local/app:1.*\.\.|\.\..*local/app:1" && gone local/app:1 &&
		loaded $KV noname-svc:t1 local/big:1 && tally 3 0 1 && failed_for local/app:1'

check "an archive that is a symlink to a file outside the folder (hash matching) is refused, the others restored" \
	eval 'remove_all && copy symfile && mkdir -p $T/elsewhere && mv $C/$APPF $T/elsewhere/ &&
		ln -s $T/elsewhere/local_app_1.tar.gz $C/$APPF && [ "$(sha_file $C/$APPF)" = "$(sha_of $M local/app:1)" ] &&
		run 1 restore --archive-dir=$C && said "local/app:1" && gone local/app:1 &&
		loaded $KV noname-svc:t1 local/big:1 && tally 3 0 1 && failed_for local/app:1'

check "a project folder that is a symlink leading outside the folder is refused, the others restored" \
	eval 'remove_all && copy symdir && mv $C/noname $T/elsewhere-noname && ln -s $T/elsewhere-noname $C/noname &&
		run 1 restore --archive-dir=$C && gone noname-svc:t1 &&
		loaded local/app:1 $KV local/big:1 && tally 3 0 1 && failed_for noname-svc:t1'

check "an entry whose size is a string: an error naming the entry, the others restored, exit 1" \
	eval 'remove_all && copy sizestr && edit "(.images[] | select(.image == \"local/app:1\") | .size) |= tostring" &&
		run 1 restore --archive-dir=$C && said "local/app:1.*size|size.*local/app:1" && gone local/app:1 &&
		loaded $KV noname-svc:t1 local/big:1 && holds $KV noname-svc:t1 local/big:1 && line "Restored: 3 images" &&
		failed_for local/app:1'

check "an entry whose sha256 is a number: an error naming the entry, the others restored, exit 1" \
	eval 'remove_all && copy shanum && edit "(.images[] | select(.image == \"$KV\") | .sha256) = 12345" &&
		run 1 restore --archive-dir=$C && said "$KVRE.*sha256|sha256.*$KVRE" && gone $KV &&
		loaded local/app:1 noname-svc:t1 local/big:1 && line "Restored: 3 images" && failed_for $KV'

check "an entry with an absurd size (1e18): an error naming the entry, the others restored, exit 1" \
	eval 'remove_all && copy absurd && set_size local/big:1 1000000000000000000 &&
		run 1 restore --archive-dir=$C && said "local/big:1.*size|size.*local/big:1" && gone local/big:1 &&
		loaded local/app:1 $KV noname-svc:t1 && line "Restored: 3 images" && failed_for local/big:1'

check "the size written as 1e18 (a JSON real): an error naming the entry, the others restored, exit 1" \
	eval 'remove_all && copy absurd2 && set_size local/big:1 1e18 &&
		run 1 restore --archive-dir=$C && said "local/big:1.*size|size.*local/big:1" && gone local/big:1 &&
		loaded local/app:1 $KV noname-svc:t1 && line "Restored: 3 images" && failed_for local/big:1'

# --- zstd, ssh, and plain docker load ----------------------------------------------------

check "over DOCKER_HOST=ssh://… a restore works, with the manifest's IDs" \
	eval 'remove_all && DOCKER_HOST=ssh://root@127.0.0.1:$SVC_SSH_PORT IMGVAULT_SSH_CONFIG=$SVC/ssh_config \
		run 0 restore --archive-dir=$AD && loaded $IMAGES && tally 4 0 0 && holds $IMAGES &&
		[ "$(image_id noname-svc:latest)" = "$(id_of $M noname-svc:t1)" ]'

check "plain docker load of each archive gives the same image IDs and names as restore" \
	eval 'remove_all && for f in $APPF $KVF $NONAMEF $BIGF; do dk load <$AD/$f >/dev/null || exit 1; done &&
		for i in $IMAGES noname-svc:latest; do echo "$i $(image_id $i)"; done | diff $T/restored.ids -'

# The zstd archive is made from images built again (the builds' cache went
# with remove_all), so its IDs are its own manifest's.
Z=$T/zst/$ENGINE_ARCH ZM=$T/zst/$ENGINE_ARCH/manifest.json
check "zstd archives restore into Engine 20.10 (which loads no zstd itself), with the manifest's IDs" \
	eval 'run 0 "$IMGVAULT" archive --root=$tree --build-tag=t1 --output-dir=$T/zst --compress=zstd &&
		for i in $IMAGES; do f=$(file_of $i $ZM) && case $f in *.tar.zst) ;; *) echo "$i: file $f"; exit 1;; esac &&
			[ "$(od -An -tx1 -N4 $Z/$f | tr -d " ")" = 28b52ffd ] || { echo "$Z/$f is no zstd file"; exit 1; }; done &&
		remove_all $ZM && run 0 restore --archive-dir=$Z && tally 4 0 0 &&
		for i in $IMAGES; do line "[restore] $i ($(mb_of $i $ZM), verified) <- $(file_of $i $ZM): loaded" || exit 1; done &&
		HOLDS_M=$ZM holds $IMAGES && [ "$(image_id noname-svc:latest)" = "$(id_of $ZM noname-svc:t1)" ]'

check "no run left a sanitizer report" \
	no_sanitizer_reports

finish
