#!/usr/bin/env bash
# t65-output: how the commands speak. --json reports of archive, restore,
# verify and status validated against the schemas in schema/; --quiet
# (failures and the summary only); plain lines with no control codes when
# stdout is not a terminal; under a pseudo-terminal (script(1)) the live
# progress line with its (N/M) count, bytes, and colour, which NO_COLOR
# and --no-progress turn off. Then `imgvault status`: archived, missing
# (never archived, file gone), stale (another tag in the catalog, another
# image on the engine), orphaned (service gone, project gone), its exit
# codes, and going on without an engine.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../lib/services.sh"

top=$(cd "$(dirname "$0")/../.." && pwd)
VALIDATE=$top/tests/lib/validate-json
REPORT_SCHEMA=$top/schema/report.schema.json STATUS_SCHEMA=$top/schema/status.schema.json

engine_env || exit 1

# Two tags of a pulled image in the registry, not on the engine.
for v in 1 2; do
	mkdir -p "$T/kvctx$v" && printf 'FROM base:1\nRUN echo kv%s > /kv\n' "$v" >"$T/kvctx$v/Dockerfile" &&
		dk build -q -t "$REG/demo/kv:$v" "$T/kvctx$v" >"$T/kv.log" 2>&1 &&
		dk push "$REG/demo/kv:$v" >>"$T/kv.log" 2>&1 && dk rmi "$REG/demo/kv:$v" >/dev/null ||
		{ echo "cannot seed the registry:"; cat "$T/kv.log"; exit 1; }
done

# The tree: a ~8 MB build with image:, a pull, and a second project.
tree=$T/tree
mkdir -p "$tree/app" "$tree/kv" "$tree/extra"
printf 'services:\n  app:\n    build: .\n    image: local/app:1\n' >"$tree/app/docker-compose.yaml"
printf 'FROM base:1\nCOPY blob /blob\n' >"$tree/app/Dockerfile"
head -c 8000000 /dev/urandom >"$tree/app/blob"
printf 'services:\n  kv:\n    image: %s/demo/kv:1\n' "$REG" >"$tree/kv/docker-compose.yaml"
printf 'services:\n  x:\n    build: .\n    image: local/extra:1\n' >"$tree/extra/docker-compose.yaml"
printf 'FROM base:1\nRUN echo extra > /extra\n' >"$tree/extra/Dockerfile"

ENGINE_ARCH=$(dk info --format '{{.Architecture}}')
A=$T/arch AD=$T/arch/$ENGINE_ARCH M=$T/arch/$ENGINE_ARCH/manifest.json
iv() { timeout 120 "$IMGVAULT" "$@"; }
valid() { "$VALIDATE" "$1" "$2"; }

# ---- --json ------------------------------------------------------------------

check "archive --json prints one report that fits schema/report.schema.json" \
	eval 'run 0 iv archive --root="$tree" --output-dir="$A" --json && valid "$REPORT_SCHEMA" "$OUT" &&
		jq_is "$OUT" "[.command, .dry_run, (.images | length), .summary.new_images, .summary.failures]" \
			"[\"archive\",false,3,3,[]]"'
cp "$OUT" "$T/archive.json"

check "archive --json reports each image archived with the manifest's file, size, sha256 and ID" \
	eval 'for i in local/app:1 "$REG/demo/kv:1" local/extra:1; do
		want=$(jq -c --arg i "$i" ".images[] | select(.image == \$i) | [.project, .file, .size, .sha256, .docker_id]" "$M")
		got=$(jq -c --arg i "$i" ".images[] | select(.image == \$i) | [.project, .file, .bytes, .sha256, .docker_id]" "$T/archive.json")
		[ -n "$want" ] && [ "$want" = "$got" ] || { echo "$i: manifest $want, report $got"; exit 1; }
		jq -e --arg i "$i" ".images[] | select(.image == \$i) | .outcome == \"archived\" and .seconds >= 0" "$T/archive.json" >/dev/null || exit 1
	done'

check "archive --json prints nothing but the report on stdout" \
	eval 'jq -e . "$T/archive.json" >/dev/null && [ "$(head -c1 "$T/archive.json")" = "{" ] &&
		! grep -q "^\[" "$T/archive.json"'

check "archive --json again reports every image skipped" \
	eval 'run 0 iv archive --root="$tree" --output-dir="$A" --json && valid "$REPORT_SCHEMA" "$OUT" &&
		jq_is "$OUT" "[.images[].outcome] | unique" "[\"skipped\"]"'

check "archive --dry-run --json lists the plan and fits the schema" \
	eval 'run 0 iv archive --root="$tree" --output-dir="$T/other" --dry-run --json && valid "$REPORT_SCHEMA" "$OUT" &&
		jq_is "$OUT" "[.dry_run, ([.images[].outcome] | unique), .summary.planned]" "[true,[\"planned\"],3]" &&
		[ ! -e "$T/other" ]'

check "archive --json with --rebuild-manifest is a usage error" \
	eval 'run 2 iv archive --root="$tree" --output-dir="$A" --json --rebuild-manifest && has "$ERR" "--json does not apply"'

check "a failed pull appears in the --json report with its error, and exit 1" \
	eval 'mkdir -p "$T/badtree/bad" && printf "services:\n  b:\n    image: %s/demo/nope:1\n" "$REG" >"$T/badtree/bad/docker-compose.yaml" &&
		run 1 iv archive --root="$T/badtree" --output-dir="$T/badarch" --json && valid "$REPORT_SCHEMA" "$OUT" &&
		jq_is "$OUT" "[.images[0].outcome, .images[0].action, (.images[0].error | length > 0), (.summary.failures | length)]" \
			"[\"failed\",\"pull+save\",true,1]"'

check "verify --json reports every file ok and fits the schema" \
	eval 'run 0 iv verify --archive-dir="$AD" --json && valid "$REPORT_SCHEMA" "$OUT" &&
		jq_is "$OUT" "[.command, .deep, .summary.checked, .summary.ok, ([.images[].outcome] | unique)]" "[\"verify\",false,3,3,[\"ok\"]]" &&
		jq -e "all(.images[]; .sha256 | test(\"^[0-9a-f]{64}$\"))" "$OUT" >/dev/null'

check "verify --json names a mismatch and an orphan, and exits 1" \
	eval 'rm -rf "$T/vcopy" && cp -a "$AD" "$T/vcopy" && f=$(jq -r ".images[0].file" "$M") &&
		printf "x" | dd of="$T/vcopy/$f" bs=1 seek=100 conv=notrunc 2>/dev/null &&
		cp "$T/vcopy/$f" "$T/vcopy/${f%%/*}/stray.tar.gz" &&
		run 1 iv verify --archive-dir="$T/vcopy" --json && valid "$REPORT_SCHEMA" "$OUT" &&
		jq_is "$OUT" "[.images[].outcome] | sort" "[\"mismatch\",\"ok\",\"ok\",\"orphan\"]" &&
		jq_is "$OUT" "[.images[] | select(.outcome == \"orphan\") | .file, .image]" "[\"${f%%/*}/stray.tar.gz\",null]"'

check "verify --deep --json fits the schema" \
	eval 'run 0 iv verify --archive-dir="$AD" --deep --json && valid "$REPORT_SCHEMA" "$OUT" && jq_is "$OUT" ".deep" "true"'

check "restore --dry-run --json reports each image verified" \
	eval 'dk rmi local/extra:1 >/dev/null &&
		run 0 iv restore --archive-dir="$AD" --dry-run --json && valid "$REPORT_SCHEMA" "$OUT" &&
		jq_is "$OUT" "[.images[] | [.image, .outcome]] | sort" "[[\"$REG/demo/kv:1\",\"skipped\"],[\"local/app:1\",\"skipped\"],[\"local/extra:1\",\"verified\"]]"'

check "restore --json reports the loaded image restored, the others skipped" \
	eval 'run 0 iv restore --archive-dir="$AD" --json && valid "$REPORT_SCHEMA" "$OUT" &&
		jq_is "$OUT" "[.summary.restored, .summary.skipped, ([.images[] | select(.outcome == \"restored\") | .image])]" "[1,2,[\"local/extra:1\"]]" &&
		dk image inspect local/extra:1 >/dev/null'

check "restore --json names a mismatched file as failed, with the other images restored" \
	eval 'dk rmi local/extra:1 >/dev/null && rm -rf "$T/rcopy" && cp -a "$AD" "$T/rcopy" &&
		f=$(jq -r ".images[] | select(.image == \"local/app:1\") | .file" "$M") &&
		printf "x" | dd of="$T/rcopy/$f" bs=1 seek=100 conv=notrunc 2>/dev/null &&
		run 1 iv restore --archive-dir="$T/rcopy" --force --json && valid "$REPORT_SCHEMA" "$OUT" &&
		jq_is "$OUT" "[.images[] | [.image, .outcome]] | sort" "[[\"$REG/demo/kv:1\",\"restored\"],[\"local/app:1\",\"failed\"],[\"local/extra:1\",\"restored\"]]"'

# ---- --quiet, no terminal ----------------------------------------------------------

check "archive --quiet prints only the summary when all goes well" \
	eval 'run 0 iv archive --root="$tree" --output-dir="$A" --force --quiet &&
		! grep -E "^\[|^===" "$OUT" && has "$OUT" "New: 3 images" && has "$OUT" "Failures: 0"'

check "archive --quiet still prints a failure line" \
	eval 'run 1 iv archive --root="$T/badtree" --output-dir="$T/badarch" -q &&
		grep -q "^\[pull+save\] $REG/demo/nope:1: failed:" "$OUT" && ! grep -q "^===" "$OUT" && has "$OUT" "Failures: 1"'

check "verify --quiet prints only problems and the summary" \
	eval 'run 1 iv verify --archive-dir="$T/vcopy" -q && ! grep -q "^ok " "$OUT" && grep -q "^MISMATCH" "$OUT" &&
		grep -q "^ORPHAN" "$OUT" && has "$OUT" "Checked: 3, ok: 2"'

check "restore --quiet prints only the summary when all goes well" \
	eval 'run 0 iv restore --archive-dir="$AD" -q && ! grep -E "^\[|^===|^Restoring" "$OUT" && has "$OUT" "Skipped: 3"'

check "build --quiet prints only the summary" \
	eval 'run 0 iv build --root="$tree" -q && ! grep -E "^\[|^===" "$OUT" && has "$OUT" "Built: 2"'

check "not on a terminal: no carriage returns, escape codes or colour in any output" \
	eval 'iv archive --root="$tree" --output-dir="$A" --force >"$T/plain.out" 2>&1 &&
		iv verify --archive-dir="$AD" >>"$T/plain.out" 2>&1 && iv restore --archive-dir="$AD" --force >>"$T/plain.out" 2>&1 &&
		! grep -q $'"'"'[\r\033]'"'"' "$T/plain.out" && grep -q "^\[build+save\] local/app:1 -> app/" "$T/plain.out"'

# ---- a terminal (script(1) gives the run a pseudo-terminal) ---------------------------

# on_tty FILE cmd…: run cmd with stdout on a pseudo-terminal, its output in FILE.
on_tty() {
	local file=$1 cmd
	shift
	printf -v cmd '%q ' "$@"
	TERM=xterm script -qefc "$cmd" /dev/null </dev/null >"$file" 2>&1
}
# tty_has FILE ERE / tty_lacks FILE ERE: the raw output (has no) match; else show it.
tty_has() {
	grep -qaE -- "$2" "$1" && return 0
	echo "no match for: $(printf %s "$2" | cat -v)"; cat -v "$1" | head -30; return 1
}
tty_lacks() {
	! grep -qaE -- "$2" "$1" && return 0
	echo "unwanted match for: $(printf %s "$2" | cat -v)"; cat -v "$1" | head -30; return 1
}

check "on a terminal, archive draws a live line with (N/M), MB and rate, and colours its tags" \
	eval 'on_tty "$T/tty.out" "$IMGVAULT" archive --root="$tree" --output-dir="$A" --force &&
		tty_has "$T/tty.out" $'"'"'\r\033\[K\(1/3\) \[build\] local/app:1'"'"' &&
		tty_has "$T/tty.out" $'"'"'\r\033\[K\([0-9]/3\) \[save\] [^\r]* [0-9.]+(/[0-9.]+)? MB'"'"' &&
		tty_has "$T/tty.out" $'"'"'\033\[32m\[build\+save\]\033\[0m local/app:1 -> '"'"''

check "on a terminal, restore draws the hashing and load lines" \
	eval 'on_tty "$T/tty2.out" "$IMGVAULT" restore --archive-dir="$AD" --force &&
		tty_has "$T/tty2.out" $'"'"'\r\033\[K\[hash\] 3 files'"'"' &&
		tty_has "$T/tty2.out" $'"'"'\r\033\[K\([1-3]/3\) \[load\] '"'"''

check "on a terminal, verify draws its live line" \
	eval 'on_tty "$T/tty3.out" "$IMGVAULT" verify --archive-dir="$AD" &&
		tty_has "$T/tty3.out" $'"'"'\r\033\[K\[verify\] 3 files'"'"''

check "NO_COLOR turns colour off on a terminal; the live line stays" \
	eval 'NO_COLOR=1 on_tty "$T/tty4.out" "$IMGVAULT" archive --root="$tree" --output-dir="$A" --force &&
		tty_lacks "$T/tty4.out" $'"'"'\033\[3[0-9]m'"'"' && tty_has "$T/tty4.out" $'"'"'\r\033\[K'"'"''

check "--no-progress on a terminal: no live line, one plain line per event" \
	eval 'on_tty "$T/tty5.out" "$IMGVAULT" archive --root="$tree" --output-dir="$A" --force --no-progress &&
		tty_lacks "$T/tty5.out" $'"'"'\r\033\[K'"'"' && { [ "$(grep -ac " -> " "$T/tty5.out")" = 3 ] || { cat -v "$T/tty5.out"; false; }; }'

check "--json on a terminal is still plain JSON" \
	eval 'on_tty "$T/tty6.out" "$IMGVAULT" verify --archive-dir="$AD" --json &&
		tr -d "\r" <"$T/tty6.out" >"$T/tty6.json" && valid "$REPORT_SCHEMA" "$T/tty6.json"'

# ---- status ---------------------------------------------------------------------------

check "status: everything archived and current exits 0 and fits the schema" \
	eval 'run 0 iv status --root="$tree" --output-dir="$A" && has "$OUT" "[archived] local/app:1" &&
		has "$OUT" "Archived: 3 images" && has "$OUT" "Missing: 0" &&
		run 0 iv status --root="$tree" --output-dir="$A" --json && valid "$STATUS_SCHEMA" "$OUT" &&
		jq_is "$OUT" "[.engine_checked, ([.images[].state] | unique), .summary.archived]" "[true,[\"archived\"],3]"'

check "status sums the archived sizes as the manifest records them" \
	eval 'run 0 iv status --root="$tree" --output-dir="$A" --json &&
		[ "$(jq ".summary.archived_bytes" "$OUT")" = "$(jq "[.images[].size] | add" "$M")" ]'

check "status: a new tag in the catalog is stale, naming the tag archived; exit 1" \
	eval 'sed -i "s|demo/kv:1|demo/kv:2|" "$tree/kv/docker-compose.yaml" &&
		run 1 iv status --root="$tree" --output-dir="$A" &&
		has "$OUT" "[stale] $REG/demo/kv:2: archived as '"'"'$REG/demo/kv:1'"'"'" && has "$OUT" "Stale: 1" &&
		has "$OUT" "Orphaned: 0 images"'
sed -i "s|demo/kv:2|demo/kv:1|" "$tree/kv/docker-compose.yaml"

check "status: the engine holding another image under the name is stale" \
	eval 'printf "FROM base:1\nRUN echo changed > /extra\n" >"$tree/extra/Dockerfile" && run 0 iv build --root="$tree" --project=extra &&
		run 1 iv status --root="$tree" --output-dir="$A" && has "$OUT" "[stale] local/extra:1: the engine holds sha256:" &&
		run 0 iv status --root="$tree" --output-dir="$A" --no-engine && has "$OUT" "[archived] local/extra:1"'

check "status: a file gone and an image never archived are missing" \
	eval 'mv "$AD/$(jq -r ".images[] | select(.image == \"local/app:1\") | .file" "$M")" "$T/app.away" &&
		printf "  more:\n    image: %s/demo/kv:2\n" "$REG" >>"$tree/kv/docker-compose.yaml" &&
		run 1 iv status --root="$tree" --output-dir="$A" --no-engine &&
		grep -q "^\[missing\] local/app:1: its file .* is gone" "$OUT" &&
		has "$OUT" "[missing] $REG/demo/kv:2: not archived" && has "$OUT" "Missing: 2" &&
		run 1 iv status --root="$tree" --output-dir="$A" --no-engine --json && valid "$STATUS_SCHEMA" "$OUT"'
mv "$T/app.away" "$AD/$(jq -r '.images[] | select(.image == "local/app:1") | .file' "$M")"
printf 'services:\n  kv:\n    image: %s/demo/kv:1\n' "$REG" >"$tree/kv/docker-compose.yaml"

check "status: a service and a project gone from the tree leave orphans, which do not fail it" \
	eval 'mv "$tree/extra" "$T/extra.away" &&
		run 0 iv status --root="$tree" --output-dir="$A" --no-engine &&
		has "$OUT" "=== extra (not in the tree) ===" && grep -q "^\[orphaned\] local/extra:1 -> extra/" "$OUT" &&
		has "$OUT" "Orphaned: 1 images" &&
		run 0 iv status --root="$tree" --output-dir="$A" --no-engine --json && valid "$STATUS_SCHEMA" "$OUT" &&
		jq_is "$OUT" "[.images[] | select(.state == \"orphaned\") | .project]" "[\"extra\"]"'
mv "$T/extra.away" "$tree/extra"

check "status --project looks only at that project, in the tree and the manifest" \
	eval 'run 0 iv status --root="$tree" --output-dir="$A" --no-engine --project=kv &&
		has "$OUT" "Archived: 1 images" && ! has "$OUT" "extra" 2>/dev/null'

check "status --quiet prints only the totals" \
	eval 'run 0 iv status --root="$tree" --output-dir="$A" --no-engine -q && ! grep -E "^\[|^===" "$OUT" && has "$OUT" "Archived: 3"'

check "status with no archive yet: all missing, exit 1" \
	eval 'run 1 iv status --root="$tree" --output-dir="$T/none" --no-engine && has "$OUT" "Missing: 3" && [ ! -e "$T/none" ]'

check "status goes on without an engine that cannot be reached, with a warning" \
	eval 'DOCKER_HOST=unix://$T/nothing.sock run 0 iv status --root="$tree" --archive-dir="$AD" &&
		has "$ERR" "going on without the engine" && has "$OUT" "Archived: 3"'

check "status refuses an invalid manifest with exit 2" \
	eval 'mkdir -p "$T/badman/$ENGINE_ARCH" && echo "{ not json" >"$T/badman/$ENGINE_ARCH/manifest.json" &&
		run 2 iv status --root="$tree" --output-dir="$T/badman" --no-engine && has "$ERR" "manifest.json"'

check "no sanitizer reports" no_sanitizer_reports

svc_stop_all
finish
