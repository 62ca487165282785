#!/usr/bin/env bash
# t10-cli: the command-line contract — help and version, usage errors,
# option forms, the image-COMMAND aliases, how the root and the build tag
# are chosen, the three output modes, and a failing standard output.
# Fixture trees are built in $T; nothing here needs a container engine.
. "$(dirname "$0")/lib.sh"

unset IMGVAULT_ROOT IMGVAULT_BUILD_TAG

# project DIR IMAGE: a one-service compose project pulling IMAGE.
project() {
	mkdir -p "$1"
	cat >"$1/compose.yaml" <<EOF
services:
  web:
    image: $2
EOF
}

# Three projects a, b, c, each pulling one pinned image.
for p in a b c; do project "$T/abc/$p" "nginx:1.25-$p"; done
# Two more trees told apart by their project names.
project "$T/envroot/from-env" nginx:1.25
project "$T/flagroot/from-flag" nginx:1.25
# A tree with a _scripts folder holding the alias, the way d.rymcg.tech does.
project "$T/tree/from-tree" nginx:1.25
mkdir -p "$T/tree/_scripts" "$T/bin" "$T/elsewhere"
ln -s "$IMGVAULT" "$T/tree/_scripts/image-catalog"
ln -s "$IMGVAULT" "$T/bin/image-catalog"
ln -s "$IMGVAULT" "$T/bin/image-bogus"
project "$T/tree/_scripts/inside-scripts" nginx:1.25
# A project whose service is built without image:, for the build tag.
mkdir -p "$T/build/app"
cat >"$T/build/app/compose.yaml" <<'EOF'
services:
  web:
    build: .
EOF
echo 'FROM alpine:3.19' >"$T/build/app/Dockerfile"

# projects_are JSON_FILE EXPECTED: the sorted unique project names, compact.
projects_are() { jq_is "$1" '[.[].project] | unique' "$2"; }

# stdout_is_usage CMD…: exit 0, usage on stdout, nothing on stderr.
stdout_is_usage() {
	run 0 "$@" && has "$OUT" "usage: imgvault" && lines "$ERR" 0
}

# --- help and version -------------------------------------------------------

check "--help prints the usage on stdout and exits 0" \
	stdout_is_usage "$IMGVAULT" --help
check "-h prints the usage on stdout and exits 0" \
	stdout_is_usage "$IMGVAULT" -h
t_help_catalog() {
	stdout_is_usage "$IMGVAULT" help catalog && has "$OUT" "usage: imgvault catalog" &&
		has "$OUT" "--build-tag"
}
check "'help catalog' prints the catalog usage and exits 0" t_help_catalog
t_catalog_help() {
	stdout_is_usage "$IMGVAULT" catalog --help && has "$OUT" "usage: imgvault catalog" &&
		cp "$OUT" "$T/catalog-help" &&
		run 0 "$IMGVAULT" catalog -h && cmp "$OUT" "$T/catalog-help" &&
		run 0 "$IMGVAULT" help catalog && cmp "$OUT" "$T/catalog-help"
}
check "'catalog --help', 'catalog -h' and 'help catalog' print the same usage" t_catalog_help
t_version() {
	run 0 "$IMGVAULT" --version && lines "$OUT" 1 && lines "$ERR" 0 || return 1
	grep -qE '^imgvault [0-9]+\.[0-9]+\.[0-9]+([-+.][0-9A-Za-z.]+)?$' "$OUT" ||
		{ echo "not 'imgvault <version>':"; cat "$OUT"; return 1; }
}
check "--version prints 'imgvault <version>' and exits 0" t_version
t_no_args() {
	run 2 "$IMGVAULT" && lines "$OUT" 0 && has "$ERR" "usage: imgvault"
}
check "no arguments prints the usage on stderr and exits 2" t_no_args

# --- usage errors -----------------------------------------------------------

t_unknown_command() {
	run 2 "$IMGVAULT" frobnicate && lines "$OUT" 0 && lines "$ERR" 1 &&
		has "$ERR" "'frobnicate'" && has "$ERR" "--help"
}
check "an unknown command is one stderr line naming it with a --help hint, exit 2" \
	t_unknown_command
t_unknown_flag() {
	run 2 "$IMGVAULT" catalog --root="$T/abc" --bogus && lines "$OUT" 0 && lines "$ERR" 1 &&
		has "$ERR" "'--bogus'" && has "$ERR" "--help"
}
check "an unknown flag is one stderr line naming it, exit 2" t_unknown_flag
t_unknown_top_flag() {
	run 2 "$IMGVAULT" --bogus && lines "$OUT" 0 && lines "$ERR" 1 && has "$ERR" "'--bogus'"
}
check "an unknown flag before the command is one line naming it, exit 2" t_unknown_top_flag
t_missing_value() {
	run 2 "$IMGVAULT" catalog --root && lines "$OUT" 0 && lines "$ERR" 1 &&
		has "$ERR" "--root"
}
check "--root without a value at the end exits 2 naming --root" t_missing_value
t_flag_value() {
	run 2 "$IMGVAULT" catalog --root="$T/abc" --json=1 && lines "$OUT" 0 &&
		lines "$ERR" 1 && has "$ERR" "--json"
}
check "a value given to a flag (--json=1) exits 2 naming the flag" t_flag_value
t_positional() {
	run 2 "$IMGVAULT" catalog --root="$T/abc" extra && lines "$OUT" 0 && lines "$ERR" 1 &&
		has "$ERR" "'extra'"
}
check "an unexpected positional argument exits 2 naming it" t_positional
t_help_unknown() {
	run 2 "$IMGVAULT" help frobnicate && lines "$ERR" 1 && has "$ERR" "'frobnicate'"
}
check "'help' for an unknown command exits 2 naming it" t_help_unknown

# --- option forms -----------------------------------------------------------

t_root_forms() {
	run 0 "$IMGVAULT" catalog --json --root="$T/abc" && cp "$OUT" "$T/root-eq" &&
		run 0 "$IMGVAULT" catalog --json --root "$T/abc" && cmp "$OUT" "$T/root-eq" &&
		projects_are "$OUT" '["a","b","c"]'
}
check "--root=DIR and --root DIR give the same output" t_root_forms
t_project_repeat() {
	run 0 "$IMGVAULT" catalog --json --root="$T/abc" --project=a --project b &&
		projects_are "$OUT" '["a","b"]'
}
check "--project is repeatable (--project=a --project b lists a and b only)" t_project_repeat
t_exclude_repeat() {
	run 0 "$IMGVAULT" catalog --json --root="$T/abc" --exclude=a --exclude b &&
		projects_are "$OUT" '["c"]'
}
check "--exclude is repeatable (--exclude=a --exclude b leaves c)" t_exclude_repeat

# --- the image-COMMAND aliases ----------------------------------------------

t_alias_catalog() {
	run 0 "$IMGVAULT" catalog --root="$T/abc" && cp "$OUT" "$T/via-imgvault" &&
		run 0 "$T/bin/image-catalog" --root="$T/abc" && cmp "$OUT" "$T/via-imgvault" &&
		run 0 "$T/bin/image-catalog" --root="$T/abc" --json && projects_are "$OUT" '["a","b","c"]'
}
check "a symlink named image-catalog behaves as 'imgvault catalog'" t_alias_catalog
t_alias_help() {
	stdout_is_usage "$T/bin/image-catalog" --help && has "$OUT" "usage: imgvault catalog"
}
check "'image-catalog --help' prints the catalog usage" t_alias_help
t_alias_bogus() {
	run 2 "$T/bin/image-bogus" && lines "$OUT" 0 && lines "$ERR" 1 && has "$ERR" "bogus"
}
check "a symlink named image-bogus exits 2 naming the unknown command" t_alias_bogus

# --- which root -------------------------------------------------------------

t_flag_beats_env() {
	IMGVAULT_ROOT="$T/envroot" run 0 "$IMGVAULT" catalog --json --root="$T/flagroot" &&
		projects_are "$OUT" '["from-flag"]'
}
check "--root beats IMGVAULT_ROOT" t_flag_beats_env
t_env_used() {
	cd "$T/elsewhere" && IMGVAULT_ROOT="$T/envroot" run 0 "$IMGVAULT" catalog --json &&
		projects_are "$OUT" '["from-env"]'
}
check "IMGVAULT_ROOT is the root when --root is not given" t_env_used
t_env_beats_scripts() {
	cd "$T/elsewhere" &&
		IMGVAULT_ROOT="$T/envroot" run 0 "$T/tree/_scripts/image-catalog" --json &&
		projects_are "$OUT" '["from-env"]'
}
check "IMGVAULT_ROOT beats the _scripts rule" t_env_beats_scripts
t_flag_beats_scripts() {
	cd "$T/tree/_scripts" &&
		run 0 "$T/tree/_scripts/image-catalog" --json --root="$T/flagroot" &&
		projects_are "$OUT" '["from-flag"]'
}
check "--root beats the _scripts rule" t_flag_beats_scripts
t_scripts_full_path() {
	cd "$T/elsewhere" && run 0 "$T/tree/_scripts/image-catalog" --json &&
		projects_are "$OUT" '["from-tree"]'
}
check "_scripts/image-catalog run by full path from another folder catalogs the _scripts parent" \
	t_scripts_full_path
t_scripts_via_path() {
	cd "$T/tree/_scripts" && PATH="$T/tree/_scripts:$PATH" run 0 image-catalog --json &&
		projects_are "$OUT" '["from-tree"]'
}
check "image-catalog found on PATH with cwd _scripts catalogs the _scripts parent" t_scripts_via_path
t_scripts_relative() {
	cd "$T/tree/_scripts" && run 0 ./image-catalog --json && projects_are "$OUT" '["from-tree"]'
}
check "./image-catalog with cwd _scripts catalogs the _scripts parent" t_scripts_relative
t_scripts_relative_up() {
	cd "$T/tree" && run 0 _scripts/image-catalog --json && projects_are "$OUT" '["from-tree"]'
}
check "_scripts/image-catalog by relative path from the tree catalogs the tree" t_scripts_relative_up
t_cwd_default() {
	cd "$T/abc" && run 0 "$IMGVAULT" catalog --json && projects_are "$OUT" '["a","b","c"]'
}
check "plain 'imgvault catalog' catalogs the current folder" t_cwd_default
t_cwd_scripts_plain() {
	cd "$T/tree/_scripts" && run 0 "$IMGVAULT" catalog --json &&
		projects_are "$OUT" '["inside-scripts"]'
}
check "plain 'imgvault catalog' inside _scripts catalogs _scripts itself (the rule is for image-*)" \
	t_cwd_scripts_plain
t_missing_root() {
	run 2 "$IMGVAULT" catalog --root="$T/no-such-folder" && lines "$OUT" 0 && lines "$ERR" 1 &&
		has "$ERR" "'$T/no-such-folder'"
}
check "a nonexistent root is one error line naming the folder, exit 2" t_missing_root
t_missing_env_root() {
	IMGVAULT_ROOT="$T/no-such-env-folder" run 2 "$IMGVAULT" catalog && lines "$ERR" 1 &&
		has "$ERR" "'$T/no-such-env-folder'"
}
check "a nonexistent IMGVAULT_ROOT is one error line naming the folder, exit 2" t_missing_env_root
t_file_root() {
	run 2 "$IMGVAULT" catalog --root="$T/abc/a/compose.yaml" && lines "$ERR" 1 &&
		has "$ERR" "'$T/abc/a/compose.yaml'"
}
check "a root that is a file is one error line naming it, exit 2" t_file_root

# --- build tag --------------------------------------------------------------

# built_image_is WANTED…: the built service's image is one of WANTED.
built_image_is() {
	local got
	got=$(jq -r '.[] | select(.service == "web") | .image' "$OUT")
	for want; do [ "$got" = "$want" ] && return 0; done
	echo "image '$got', wanted one of: $*"
	return 1
}
t_tag_default() {
	local before after
	before=$(date +%Y%m%d)
	run 0 "$IMGVAULT" catalog --json --root="$T/build" || return 1
	after=$(date +%Y%m%d)
	built_image_is "app-web:d-rymcg-tech-$before" "app-web:d-rymcg-tech-$after"
}
check "an image built without image: is <project>-<service>:d-rymcg-tech-YYYYMMDD by default" \
	t_tag_default
t_tag_flag() {
	run 0 "$IMGVAULT" catalog --json --root="$T/build" --build-tag=v1.2_rc && built_image_is app-web:v1.2_rc &&
		run 0 "$IMGVAULT" catalog --json --root="$T/build" --build-tag v9 && built_image_is app-web:v9
}
check "--build-tag=TAG and --build-tag TAG set the tag of built images" t_tag_flag
t_tag_env() {
	IMGVAULT_BUILD_TAG=from-env run 0 "$IMGVAULT" catalog --json --root="$T/build" &&
		built_image_is app-web:from-env
}
check "IMGVAULT_BUILD_TAG sets the tag of built images" t_tag_env
t_tag_flag_beats_env() {
	IMGVAULT_BUILD_TAG=from-env run 0 "$IMGVAULT" catalog --json --root="$T/build" --build-tag=from-flag &&
		built_image_is app-web:from-flag
}
check "--build-tag beats IMGVAULT_BUILD_TAG" t_tag_flag_beats_env
t_tag_no_effect_on_pull() {
	run 0 "$IMGVAULT" catalog --json --root="$T/abc" --build-tag=zzz &&
		jq_is "$OUT" '[.[].image]' '["nginx:1.25-a","nginx:1.25-b","nginx:1.25-c"]'
}
check "--build-tag leaves images with image: alone" t_tag_no_effect_on_pull
# bad_tag TEXT CMD…: exit 2, one line quoting the tag and calling it invalid, no output.
bad_tag() {
	local tag=$1
	shift
	run 2 "$@" && lines "$OUT" 0 && lines "$ERR" 1 && has "$ERR" "'$tag'" &&
		has "$ERR" "not a valid image tag"
}
check "--build-tag='a b' exits 2 with a clear message" \
	bad_tag "a b" "$IMGVAULT" catalog --root="$T/build" --build-tag='a b'
check "--build-tag=-x exits 2 with a clear message" \
	bad_tag "-x" "$IMGVAULT" catalog --root="$T/build" --build-tag=-x
check "--build-tag='.x' exits 2 with a clear message" \
	bad_tag ".x" "$IMGVAULT" catalog --root="$T/build" --build-tag=.x
t_tag_too_long() {
	local long
	long=$(printf 'x%.0s' {1..129})
	bad_tag "$long" "$IMGVAULT" catalog --root="$T/build" --build-tag="$long" &&
		long=${long%x} && run 0 "$IMGVAULT" catalog --json --root="$T/build" --build-tag="$long" &&
		built_image_is "app-web:$long"
}
check "a 128-character build tag is accepted and a 129-character one exits 2" t_tag_too_long
t_tag_env_invalid() {
	IMGVAULT_BUILD_TAG='a b' bad_tag "a b" "$IMGVAULT" catalog --root="$T/build"
}
check "an invalid IMGVAULT_BUILD_TAG exits 2 with a clear message" t_tag_env_invalid

# --- output modes -----------------------------------------------------------

t_json_only() {
	run 0 "$IMGVAULT" catalog --json --root="$T/abc" &&
		jq_is "$OUT" 'type' '"array"' &&
		{ jq -s -e 'length == 1' "$OUT" >/dev/null || { echo "more than one JSON value"; return 1; }; } &&
		jq_is "$OUT" 'length' '3' &&
		lacks "$OUT" "Summary" && lacks "$OUT" "PROJECT" && lines "$ERR" 0
}
check "--json prints one valid JSON array and nothing else on stdout" t_json_only
t_summary_only() {
	run 0 "$IMGVAULT" catalog --summary --root="$T/abc" && lacks "$OUT" "PROJECT" &&
		head -1 "$OUT" | grep -qx "Summary" && has "$OUT" "Projects scanned:        3"
}
check "--summary prints the summary only, no table header" t_summary_only
t_default_table() {
	run 0 "$IMGVAULT" catalog --root="$T/abc" || return 1
	head -1 "$OUT" | grep -qE '^PROJECT +SERVICE +SOURCE +IMAGE +ENV VAR +PINNED$' ||
		{ echo "bad header:"; head -1 "$OUT"; return 1; }
	# Three rows, then a blank line, then the summary.
	sed -n 2,4p "$OUT" | grep -cE '^[abc] +web +pull +nginx:1\.25-[abc] +- +yes$' | grep -qx 3 ||
		{ echo "bad rows:"; sed -n 2,4p "$OUT"; return 1; }
	sed -n 5p "$OUT" | grep -qx '' && sed -n 6p "$OUT" | grep -qx 'Summary' ||
		{ echo "no summary after the table:"; cat "$OUT"; return 1; }
}
check "the default output is the table (PROJECT SERVICE SOURCE IMAGE ENV VAR PINNED) then the summary" \
	t_default_table

# --- a full standard output -------------------------------------------------

# fails_on_full CMD…: with stdout on /dev/full, exit non-zero and say so.
fails_on_full() {
	local rc
	"$@" >/dev/full 2>"$ERR"
	rc=$?
	[ "$rc" -ne 0 ] || { echo "exit 0 writing to /dev/full: $*"; return 1; }
	has "$ERR" "standard output"
}
check "catalog to a full device exits non-zero with an error about standard output" \
	fails_on_full "$IMGVAULT" catalog --root="$T/abc"
check "catalog --json to a full device exits non-zero with an error about standard output" \
	fails_on_full "$IMGVAULT" catalog --json --root="$T/abc"
check "--help to a full device exits non-zero with an error about standard output" \
	fails_on_full "$IMGVAULT" --help
check "--version to a full device exits non-zero with an error about standard output" \
	fails_on_full "$IMGVAULT" --version

# --- build's command line (no engine needed) ----------------------------------

t_build_help() {
	stdout_is_usage "$IMGVAULT" build --help && has "$OUT" "usage: imgvault build" &&
		has "$OUT" "--pull-only" && has "$OUT" "--registry=PREFIX"
}
check "'build --help' prints the build usage" t_build_help
t_build_alias() {
	ln -sf "$IMGVAULT" "$T/bin/image-build" &&
		run 0 "$T/bin/image-build" --root="$T/abc" --dry-run && has "$OUT" "Dry run"
}
check "a symlink named image-build behaves as 'imgvault build'" t_build_alias
check "build with a stray argument exits 2 naming it" \
	eval 'run 2 "$IMGVAULT" build --root="$T/abc" extra && lines "$ERR" 1 && has "$ERR" "unexpected argument '"'"'extra'"'"'"'
check "build --push with a registry prefix that makes no valid name exits 2" \
	eval 'run 2 "$IMGVAULT" build --root="$T/abc" --push --registry="Bad Prefix" && lines "$ERR" 1 &&
		has "$ERR" "registry prefix '"'"'Bad Prefix'"'"'"'
check "build with an unknown --project exits 2 before touching an engine" \
	eval 'run 2 "$IMGVAULT" build --root="$T/abc" --project=nope -H unix:///nonexistent.sock && has "$ERR" nope &&
		lacks "$ERR" "cannot reach"'
check "build --dry-run with an engine that is not there still prints the plan" \
	eval 'DOCKER_HOST=unix:///nonexistent.sock run 0 "$IMGVAULT" build --root="$T/abc" --dry-run && has "$OUT" "=== a ==="'

finish
