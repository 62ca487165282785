#!/usr/bin/env bash
# catalog: how a tree of compose projects resolves — every rule of the
# catalog command, on the fixture trees under tests/fixtures.
. "$(dirname "$0")/lib.sh"

tree=$FIXTURES/tree
errors=$FIXTURES/errors
json() { "$IMGVAULT" catalog --root="$tree" --build-tag=t1 --json "$@"; }

catalog_matches_expected_json() {
	run 0 json || return 1
	sed "s|$tree|@ROOT@|g" "$OUT" >"$T/got.json"
	diff <(jq -S . "$FIXTURES/tree.expected.json") <(jq -S . "$T/got.json")
}
check "the fixture tree resolves exactly to the expected JSON" catalog_matches_expected_json

check "projects are sorted by folder name and services keep file order" \
	eval 'run 0 json && jq_is "$OUT" "[.[] | .project + \"/\" + .service]" \
	"[\"My_App.v2/Web\",\"alpha/whoami\",\"alpha/cache\",\"alpha/proxy\",\"alpha/debug\",\"beta/web\",\"beta/worker\",\"beta/plain\",\"delta/one\",\"delta/two\",\"delta/three\",\"gamma/tool\",\"gamma/remote\",\"gamma/unresolved\",\"zeta/app\"]"'

check "folders starting with . or _ and folders without a compose file are not projects" \
	eval 'run 0 json && lacks "$OUT" "should/not:appear" && lacks "$OUT" notaproject'

check "compose.yaml wins over docker-compose.yaml in the same folder" \
	eval 'run 0 json --project=delta && jq_is "$OUT" "[.[].service]" "[\"one\",\"two\",\"three\"]"'

check "variables come from .env-dist with export, spaces and inline comments handled" \
	eval 'run 0 json --project=alpha && jq_is "$OUT" ".[0].image_resolved" "\"traefik/whoami:v1.11.0\""'

check "the shell environment is never consulted for variables" \
	eval 'ALPHA_IMAGE=evil/image ZETA_VERSION=9 run 0 json && lacks "$OUT" evil/image && jq_is "$OUT" "[.[] | select(.project==\"zeta\") | .image_resolved]" "[\"example/zeta:\"]"'

check "defaults apply when the variable is unset" \
	eval 'run 0 json --project=alpha && jq_is "$OUT" ".[3].image_resolved" "\"busybox:latest\""'

check "anchors, aliases and merge keys resolve before interpolation; explicit keys override merged ones" \
	eval 'run 0 json --project=delta && jq_is "$OUT" "[.[].image_resolved]" "[\"ghcr.io/example/delta:3.1\",\"ghcr.io/example/other@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\",\"ghcr.io/example/delta:3.1\"]"'

check "the top-level name: sets the compose project, normalised" \
	eval 'run 0 json --project=delta && jq_is "$OUT" ".[0].compose_project" "\"delta-stack\""'

check "a folder name is normalised as Compose does for built image names" \
	eval 'run 0 json --project=My_App.v2 && jq_is "$OUT" ".[0].image" "\"my_appv2-Web:t1\""'

check "a build without image: is named <project>-<service>:<build tag>" \
	eval 'run 0 json --project=beta && jq_is "$OUT" "[.[].image]" "[\"beta-web:t1\",\"registry.example.com:5000/beta/worker:2.0.1\",\"beta-plain:t1\"]"'

check "the build tag defaults to d-rymcg-tech-YYYYMMDD of today" \
	eval 'run 0 "$IMGVAULT" catalog --root="$tree" --project=beta --json && jq_is "$OUT" ".[0].image" "\"beta-web:d-rymcg-tech-$(date +%Y%m%d)\""'

check "IMGVAULT_BUILD_TAG sets the build tag, --build-tag beats it" \
	eval 'IMGVAULT_BUILD_TAG=envtag run 0 "$IMGVAULT" catalog --root="$tree" --project=beta --json && jq_is "$OUT" ".[0].image" "\"beta-web:envtag\"" &&
	IMGVAULT_BUILD_TAG=envtag run 0 json --project=beta && jq_is "$OUT" ".[0].image" "\"beta-web:t1\""'

check "build mapping: context, dockerfile, args and target are resolved" \
	eval 'run 0 json --project=beta && jq_is "$OUT" ".[0] | [.build_context, .dockerfile, .build_args, .build_target]" "[\"$tree/beta/app\",\"Dockerfile.web\",{\"NODE_VERSION\":\"20\",\"EMPTY_ARG\":null},\"runtime\"]"'

check "build args as a K=V list, and a bare K taken from .env-dist" \
	eval 'run 0 json --project=beta && jq_is "$OUT" ".[2].build_args" "{\"BASE\":\"alpine\",\"FROM_ENV\":\"from-dotenv\"}"'

check "base images: build args override ARG defaults; stages and scratch are left out" \
	eval 'run 0 json --project=beta && jq_is "$OUT" ".[0].base_images" "[\"node:20-bookworm\",\"gcr.io/distroless/nodejs20-debian12\"]"'

check "dockerfile_from keeps the raw FROM lines" \
	eval 'run 0 json --project=beta && jq_is "$OUT" ".[0].dockerfile_from[0]" "\"FROM --platform=\$BUILDPLATFORM node:\${NODE_VERSION}-\${DISTRO} AS build\""'

check "an ARG after the first FROM is not seen by a later FROM; repeats are listed once" \
	eval 'run 0 json --project=beta && jq_is "$OUT" ".[1].base_images" "[\"python:3.12-slim\"]"'

check "dockerfile_inline is read for base images" \
	eval 'run 0 json --project=beta && jq_is "$OUT" ".[2].base_images" "[\"alpine:3.19\"]"'

check "image: plus build: with the build-only profile is build-only" \
	eval 'run 0 json --project=gamma && jq_is "$OUT" ".[0] | [.source, .profiles]" "[\"build-only\",[\"build-only\"]]"'

check "a URL context is build-remote, and so is an unresolved context naming a git repo" \
	eval 'run 0 json --project=gamma && jq_is "$OUT" "[.[1].source, .[1].build_context, .[2].source]" "[\"build-remote\",\"https://github.com/example/remote.git#v1.2:docker\",\"build-remote\"]"'

check "profiles are catalogued and listed" \
	eval 'run 0 json --project=alpha && jq_is "$OUT" ".[3].profiles" "[\"tools\",\"debug\"]"'

check "env_var prefers a name with IMAGE, then VERSION, and env_default is its .env-dist value" \
	eval 'run 0 json --project=alpha && jq_is "$OUT" ".[0] | [.env_var, .env_default]" "[\"ALPHA_IMAGE\",\"traefik/whoami\"]" &&
	run 0 json --project=beta && jq_is "$OUT" ".[1] | [.env_var, .env_default]" "[\"BETA_VERSION\",\"2.0.1\"]"'

check "version_pinned: a tag other than latest, or a digest" \
	eval 'run 0 json --project=alpha --project=delta && jq_is "$OUT" "[.[].version_pinned]" "[true,true,false,false,true,true,true]"'

check "an unset variable warns once naming file, service and variable; exit stays 0" \
	eval 'run 0 json --project=zeta && has "$ERR" "zeta/docker-compose.yaml" && has "$ERR" "service '"'"'app'"'"'" && has "$ERR" "'"'"'ZETA_VERSION'"'"'" &&
	[ "$(grep -c ZETA_VERSION "$ERR")" -eq 1 ]'

check "unset variables in other fields warn too (environment:)" \
	eval 'run 0 json --project=zeta && has "$ERR" "'"'"'ZETA_LEVEL'"'"'"'

check "\${VAR:?msg} unset: that entry carries the error and a null image; the others resolve; exit 1" \
	eval 'run 1 "$IMGVAULT" catalog --root="$errors" --project=req --json &&
	jq_is "$OUT" "[.[] | [.service, .image_resolved, .error]]" "[[\"needs\",null,\"required variable REQ_IMAGE is missing a value: set REQ_IMAGE in .env-dist\"],[\"needs-nomsg\",null,\"required variable REQ_TAG is missing a value\"],[\"fine\",\"example/fine:1.0\",null]]"'

check "entries without problems have no error key" \
	eval 'run 0 json && jq_is "$OUT" "[.[] | has(\"error\")] | any" "false"'

check "malformed YAML: one line with file:line:column, project skipped, others catalogued, exit 1" \
	eval 'run 1 "$IMGVAULT" catalog --root="$errors" --json && has "$ERR" "badyaml/docker-compose.yaml:4:4:" &&
	[ "$(grep -c badyaml "$ERR")" -eq 1 ] && jq_is "$OUT" "[.[].project] | unique" "[\"good\",\"req\"]"'

check "malformed interpolation: file:line:column and the field, project skipped" \
	eval 'run 1 "$IMGVAULT" catalog --root="$errors" --project=badinterp --json && has "$ERR" "badinterp/docker-compose.yaml:5:12:" && has "$ERR" "services.web.environment.A" && jq_is "$OUT" "length" "0"'

check "a broken .env-dist names its file and line, and the project is skipped" \
	eval 'run 1 "$IMGVAULT" catalog --root="$errors" --project=badenv --json && has "$ERR" "badenv/.env-dist:2: unterminated quoted value"'

check "--exclude removes projects, repeatable" \
	eval 'run 0 json --exclude=alpha --exclude beta && lacks "$OUT" "\"alpha\"" && lacks "$OUT" "\"beta\"" && has "$OUT" "\"gamma\""'

check "--project naming no project is a usage error that names it" \
	eval 'run 2 json --project=alpha --project=nope && has "$ERR" "'"'"'nope'"'"'" && lines "$ERR" 1 && lines "$OUT" 0'

check "--project naming a project that failed to load is not called unknown" \
	eval 'run 1 "$IMGVAULT" catalog --root="$errors" --project=badyaml --json && lacks "$ERR" "no project"'

check "an empty context is read as the project folder, as Compose does" \
	eval 'mkdir -p "$T/ec/p" && printf "services:\n  a:\n    build:\n      context: \${EMPTY}\n" >"$T/ec/p/compose.yaml" &&
	printf "FROM alpine:3.1\n" >"$T/ec/p/Dockerfile" &&
	run 0 "$IMGVAULT" catalog --root="$T/ec" --json && jq_is "$OUT" ".[0] | [.source, .build_context, .base_images]" "[\"build-local\",\"$T/ec/p\",[\"alpine:3.1\"]]"'

check "a local context is never taken for a remote one because its name mentions git" \
	eval 'mkdir -p "$T/gc/p/.github/app" && printf "services:\n  a:\n    build: .github/app\n" >"$T/gc/p/compose.yaml" &&
	printf "FROM alpine:3.2\n" >"$T/gc/p/.github/app/Dockerfile" &&
	run 0 "$IMGVAULT" catalog --root="$T/gc" --json && jq_is "$OUT" ".[0] | [.source, .base_images]" "[\"build-local\",[\"alpine:3.2\"]]"'

check "a name: that normalises to nothing falls back to the folder name" \
	eval 'mkdir -p "$T/nm/proj" && printf "name: \"!!!\"\nservices:\n  a:\n    build: .\n" >"$T/nm/proj/compose.yaml" &&
	printf "FROM alpine\n" >"$T/nm/proj/Dockerfile" &&
	run 0 "$IMGVAULT" catalog --root="$T/nm" --build-tag=t --json && jq_is "$OUT" ".[0].image" "\"proj-a:t\""'

check "FROM x AS x lists x: a FROM only refers to earlier stages" \
	eval 'mkdir -p "$T/st/p" && printf "services:\n  a:\n    build: .\n" >"$T/st/p/compose.yaml" &&
	printf "FROM node:20 AS node\nFROM node\n" >"$T/st/p/Dockerfile" &&
	run 0 "$IMGVAULT" catalog --root="$T/st" --json && jq_is "$OUT" ".[0].base_images" "[\"node:20\"]"'

check "a FROM that uses an ARG nothing defines warns, naming the service and the variable" \
	eval 'mkdir -p "$T/ua/p" && printf "services:\n  web:\n    build: .\n" >"$T/ua/p/compose.yaml" &&
	printf "ARG GOOD=1\nFROM alpine:\${GOOD}\nFROM debian:\${MISSING}\n" >"$T/ua/p/Dockerfile" &&
	run 0 "$IMGVAULT" catalog --root="$T/ua" --json && has "$ERR" "service '"'"'web'"'"'" && has "$ERR" "'"'"'MISSING'"'"'" &&
	lacks "$ERR" "'"'"'GOOD'"'"'" && jq_is "$OUT" ".[0].base_images" "[\"alpine:1\",\"debian:\"]"'

check "a quoted \"<<\" key is an ordinary key, not a merge" \
	eval 'mkdir -p "$T/mq/p" && printf "x: &x {image: a/b:1}\nservices:\n  s:\n    \"<<\": *x\n    image: c/d:2\n" >"$T/mq/p/compose.yaml" &&
	run 0 "$IMGVAULT" catalog --root="$T/mq" --json && jq_is "$OUT" ".[0].image" "\"c/d:2\""'

check "a service with extends: and nothing else says extends is not followed" \
	eval 'mkdir -p "$T/ex/p" && printf "services:\n  s:\n    extends: {file: other.yaml, service: s}\n" >"$T/ex/p/compose.yaml" &&
	run 1 "$IMGVAULT" catalog --root="$T/ex" --json && jq_is "$OUT" ".[0].error | test(\"extends\")" "true"'

summary_has() {
	run 0 "$IMGVAULT" catalog --root="$tree" --build-tag=t1 --summary || return 1
	local want
	for want in "Projects scanned:        6" "Service entries:         15" "Unique images:           14" \
		"Pull-only services:      8" "Build (local) services:  4" "Build (remote) services: 2" \
		"Build-only services:     1" "Unpinned pull images:    3" "Hardcoded pull images:   3" \
		"docker.io                4" "ghcr.io                  2" "nginx (alpha/proxy)" "redis:7.2 (alpha/cache)"; do
		has "$OUT" "$want" || return 1
	done
	lacks "$OUT" PROJECT
}
check "the summary counts projects, entries, images by source, unpinned and hardcoded, registries" summary_has

table_has() {
	run 0 "$IMGVAULT" catalog --root="$tree" --build-tag=t1 || return 1
	head -1 "$OUT" | grep -qE '^PROJECT +SERVICE +SOURCE +IMAGE +ENV VAR +PINNED$' || { head -1 "$OUT"; return 1; }
	grep -qE '^alpha +debug \[tools,debug\] +pull +busybox:latest +DEBUG_IMAGE +no$' "$OUT" || { cat "$OUT"; return 1; }
	has "$OUT" "Summary"
}
check "the table shows PROJECT, SERVICE [profiles], SOURCE, IMAGE, ENV VAR, PINNED, then the summary" table_has

finish
