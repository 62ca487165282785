#!/usr/bin/env bash
# completion: `catalog --list-projects`, and the bash and zsh completions
# under completions/ driven against the real binary — bash by calling its
# completion function as readline would, zsh through a real interactive
# shell in a pseudo-terminal (zsh/zpty).
. "$(dirname "$0")/lib.sh"

top=$(cd "$(dirname "$0")/../.." && pwd)
tree=$FIXTURES/tree

# A tree of its own: a name with a space, one with a newline, hidden and
# underscore folders, a folder without a compose file, a broken project.
ct=$T/ct
mkdir -p "$ct/alpha" "$ct/beta" "$ct/my app" "$ct/_skip" "$ct/.hidden" "$ct/nocompose" \
	"$ct/broken" "$ct/new"$'\n'"line" "$ct/sub dir"
for d in alpha beta "my app" _skip .hidden "new"$'\n'"line"; do
	printf 'services:\n  a:\n    image: busybox\n' >"$ct/$d/compose.yaml"
done
printf 'services: [\n' >"$ct/broken/docker-compose.yml"
printf 'x\n' >"$T/plainfile"

# want FILE LINE…: FILE holds exactly these lines.
want() {
	local f=$1
	shift
	diff <(printf '%s\n' "$@") "$f"
}

## catalog --list-projects

check "--list-projects prints the project folders, one a line, in the catalog's order" \
	eval 'run 0 "$IMGVAULT" catalog --root="$tree" --list-projects &&
	"$IMGVAULT" catalog --root="$tree" --build-tag=t1 --json | jq -r ".[].project" | uniq >"$T/order" &&
	diff "$T/order" "$OUT" && want "$OUT" My_App.v2 alpha beta delta gamma zeta && lines "$ERR" 0'

check "--list-projects skips folders starting with . or _ and folders without a compose file" \
	eval 'run 0 "$IMGVAULT" catalog --root="$tree" --list-projects && lacks "$OUT" _archive &&
	lacks "$OUT" _scripts && lacks "$OUT" .hidden && lacks "$OUT" notaproject'

check "--list-projects applies --exclude and --project" \
	eval 'run 0 "$IMGVAULT" catalog --root="$tree" --list-projects --exclude=alpha --exclude zeta &&
	want "$OUT" My_App.v2 beta delta gamma &&
	run 0 "$IMGVAULT" catalog --root="$tree" --list-projects --project=gamma --project=beta &&
	want "$OUT" beta gamma'

check "--list-projects keeps a name with a space whole and leaves out one with a newline" \
	eval 'run 0 "$IMGVAULT" catalog --root="$ct" --list-projects &&
	want "$OUT" alpha beta broken "my app" && lines "$ERR" 0'

check "--list-projects loads nothing: a broken compose file is listed, nothing is reported" \
	eval 'run 0 "$IMGVAULT" catalog --root="$ct" --list-projects --project=broken &&
	want "$OUT" broken && lines "$ERR" 0'

check "--list-projects reads IMGVAULT_ROOT when there is no --root" \
	eval 'IMGVAULT_ROOT="$ct" run 0 "$IMGVAULT" catalog --list-projects && want "$OUT" alpha beta broken "my app"'

check "--list-projects with a root that cannot be read: one line naming it, exit 2" \
	eval 'run 2 "$IMGVAULT" catalog --root="$T/no-such" --list-projects && lines "$OUT" 0 &&
	lines "$ERR" 1 && has "$ERR" "cannot read root folder '"'"'$T/no-such'"'"'" &&
	run 2 "$IMGVAULT" catalog --root="$T/plainfile" --list-projects && lines "$OUT" 0 && lines "$ERR" 1'

check "--list-projects with --project naming no project is a usage error, exit 2" \
	eval 'run 2 "$IMGVAULT" catalog --root="$tree" --list-projects --project=nope && lines "$OUT" 0 &&
	has "$ERR" "'"'"'nope'"'"'"'

check "the catalog help lists --list-projects and says names with a newline are left out" \
	eval 'run 0 "$IMGVAULT" help catalog && has "$OUT" "--list-projects" && has "$OUT" newline'

## bash

bcomp_file=$top/completions/imgvault.bash
mkdir -p "$T/bin"
ln -s "$IMGVAULT" "$T/bin/image-archive"

# bcomp LINE WORD…: complete at the end of LINE, whose words bash split as
# WORD… (with the default COMP_WORDBREAKS, so "--root=x" is "--root" "="
# "x"); COMPREPLY, one a line, in $OUT.
bcomp() {
	local line=$1
	shift
	(
		. "$bcomp_file" || exit 1
		COMP_WORDBREAKS=$' \t\n"\'><=;|&(:'
		COMP_LINE=$line COMP_POINT=${#line}
		COMP_WORDS=("$@") COMP_CWORD=$(($# - 1))
		COMPREPLY=()
		_imgvault
		((${#COMPREPLY[@]} == 0)) || printf '%s\n' "${COMPREPLY[@]}"
	) >"$OUT" 2>"$ERR"
}
# bcomp_noeq LINE WORD…: the same with '=' taken out of COMP_WORDBREAKS.
bcomp_noeq() {
	local line=$1
	shift
	(
		. "$bcomp_file" || exit 1
		COMP_WORDBREAKS=$' \t\n"\'><;|&(:'
		COMP_LINE=$line COMP_POINT=${#line}
		COMP_WORDS=("$@") COMP_CWORD=$(($# - 1))
		COMPREPLY=()
		_imgvault
		((${#COMPREPLY[@]} == 0)) || printf '%s\n' "${COMPREPLY[@]}"
	) >"$OUT" 2>"$ERR"
}
iv=$IMGVAULT

check "bash: the completion file has valid syntax and registers imgvault and every image-* name" \
	eval 'bash -n "$bcomp_file" && ( . "$bcomp_file" && complete -p imgvault image-catalog image-build \
	image-archive image-restore image-verify image-status ) >"$OUT" && lines "$OUT" 7 &&
	has "$OUT" "complete -F _imgvault imgvault"'

commands_of_help() {
	"$IMGVAULT" --help | sed -n '/^Commands:/,/^$/p' | awk 'NF && !/^Commands:/ {print $1}'
	echo help
}
check "bash: after 'imgvault ' the commands of --help are offered, and help" \
	eval 'bcomp "$iv " "$iv" "" && commands_of_help >"$T/cmds" && diff "$T/cmds" "$OUT" &&
	has "$OUT" catalog && has "$OUT" archive && has "$OUT" verify && has "$OUT" help'

check "bash: 'imgvault arch' completes to archive" \
	eval 'bcomp "$iv arch" "$iv" arch && want "$OUT" archive'

check "bash: 'imgvault help ' offers the commands without help" \
	eval 'bcomp "$iv help " "$iv" help "" && has "$OUT" catalog && has "$OUT" verify && lacks "$OUT" help'

check "bash: 'imgvault archive --co' completes to --compress=, a flag parsed from the help" \
	eval 'bcomp "$iv archive --co" "$iv" archive --co && want "$OUT" --compress='

check "bash: every long flag of 'imgvault help archive' is offered after 'imgvault archive -'" \
	eval 'bcomp "$iv archive -" "$iv" archive - &&
	for f in --root= --project= --exclude= --output-dir= --compress= --force --dry-run --verbose -v -H --help; do
		grep -qx -- "$f" "$OUT" || { echo "missing $f"; cat "$OUT"; exit 1; }; done'

# A stand-in binary whose help has every shape the option column takes.
mkdir -p "$T/fake"
cat >"$T/fake/imgvault" <<'SH'
#!/bin/sh
[ "$1 $2" = "help x" ] || exit 2
cat <<'EOF'
usage: imgvault x [OPTIONS]

Mentions --not-a-flag in the text.

Options:
  --alpha=DIR, --beta=NAME, --gamma
                     as for --delta
  --long-one-flag write things, see --epsilon
  -k, --keep=MODE    keep (see --zeta)
                     --indented-too is description
  --pick=one|two  choices
  -h, --help         show this help
EOF
SH
chmod +x "$T/fake/imgvault"
fk=$T/fake/imgvault

check "bash: flags come from the option column only, with their values and short forms" \
	eval 'bcomp "$fk x -" "$fk" x - && want "$OUT" --alpha= --beta= --gamma --long-one-flag -k --keep= --pick= -h --help'

check "bash: after a short flag that takes a value nothing is offered; after a plain flag the flags are" \
	eval 'bcomp "$fk x -k " "$fk" x -k "" && lines "$OUT" 0 && bcomp "$fk x --gamma " "$fk" x --gamma "" &&
	has "$OUT" --alpha= && bcomp "$fk x --pick o" "$fk" x --pick o && want "$OUT" one'

check "bash: --compress= offers gzip and zstd, --compress z offers zstd" \
	eval 'bcomp "$iv archive --compress=" "$iv" archive --compress = && want "$OUT" gzip zstd &&
	bcomp "$iv archive --compress z" "$iv" archive --compress z && want "$OUT" zstd'

check "bash: --project= offers the projects of the --root=DIR on the line, a space escaped" \
	eval 'bcomp "$iv archive --root=$ct --project=" "$iv" archive --root = "$ct" --project = &&
	want "$OUT" alpha beta broken "my\\ app"'

check "bash: --project=my\\ a completes the name with a space" \
	eval 'bcomp "$iv archive --root=$ct --project=my\\ a" "$iv" archive --root = "$ct" --project = "my\\ a" &&
	want "$OUT" "my\\ app"'

check "bash: --exclude NAME (two words) and --root DIR (two words) work the same" \
	eval 'bcomp "$iv build --root $ct --exclude b" "$iv" build --root "$ct" --exclude b && want "$OUT" beta broken'

check "bash: without --root the projects come from IMGVAULT_ROOT" \
	eval 'IMGVAULT_ROOT="$ct" bcomp "$iv catalog --project=a" "$iv" catalog --project = a && want "$OUT" alpha'

check "bash: with '=' not a word break the whole --project=NAME word is offered" \
	eval 'bcomp_noeq "$iv archive --root=$ct --project=a" "$iv" archive "--root=$ct" --project=a &&
	want "$OUT" --project=alpha && bcomp_noeq "$iv archive --compress=g" "$iv" archive --compress=g &&
	want "$OUT" --compress=gzip'

check "bash: --root= completes folders" \
	eval 'bcomp "$iv archive --root=$ct/my" "$iv" archive --root = "$ct/my" && want "$OUT" "$ct/my\\ app/" &&
	bcomp "$iv archive --output-dir $ct/su" "$iv" archive --output-dir "$ct/su" && want "$OUT" "$ct/sub\\ dir/"'

check "bash: image-archive completes the archive flags, and projects from its root" \
	eval 'bcomp "$T/bin/image-archive --co" "$T/bin/image-archive" --co && want "$OUT" --compress= &&
	bcomp "$T/bin/image-archive --root=$ct --exclude=b" "$T/bin/image-archive" --root = "$ct" --exclude = b &&
	want "$OUT" beta broken'

check "bash: a binary that is not there completes nothing and prints nothing" \
	eval 'bcomp "$T/none/imgvault archive --" "$T/none/imgvault" archive -- && lines "$OUT" 0 && lines "$ERR" 0'

## zsh

zcomp_file=$top/completions/_imgvault

check "zsh: the completion file has valid syntax and names every command" \
	eval 'zsh -n "$zcomp_file" && head -1 "$zcomp_file" >"$OUT" &&
	want "$OUT" "#compdef imgvault image-catalog image-build image-archive image-restore image-verify image-status"'

# ztab LINE…: in an interactive zsh (zsh -f, compinit with completions/ on
# fpath, $IMGVAULT as imgvault and image-archive first on PATH), in a
# pseudo-terminal, type each LINE and a TAB; keep what the terminal showed
# (escape sequences removed) in $OUT, one "=== LINE" block each.
cat >"$T/ztab.zsh" <<'ZSH'
zmodload zsh/zpty zsh/datetime || exit 1
typeset -g got
# wait_for PATTERN SECONDS: read the pty until its output matches PATTERN.
wait_for() {
	local chunk
	local -F end=$(( EPOCHREALTIME + $2 ))
	while [[ $got != $~1 ]]; do
		(( EPOCHREALTIME < end )) || return 1
		if zpty -r -t z chunk; then got+=$chunk; else sleep 0.05; fi
	done
}
zpty z 'zsh -f -i' || exit 1
# TAB completes, then prints a mark: what came before it is the whole answer.
zpty -w z 'stty cols 250; PS1="> "; fpath=($ZCOMP_DIR $fpath); autoload -Uz compinit; compinit -u -D; path=($ZBIN $path); LISTMAX=0; zstyle ":completion:*" list-prompt ""; tab-mark() { zle expand-or-complete; zle -R; print -n "<TAB""DONE>" >/dev/tty; }; zle -N tab-mark; bindkey "^I" tab-mark; print READY$((6*7))'
wait_for '*READY42*> *' 30 || { print -r -- "zsh never got ready: $got"; exit 1; }
for line in "$@"; do
	got=
	zpty -w -n z "$line"$'\t'
	wait_for '*<TABDONE>*' 30 || { print -r -- "no answer to '$line': $got"; exit 1; }
	print -r -- "=== $line"
	print -r -- "${got%%<TABDONE>*}"
	got=
	zpty -w z $'\x15print CLEAR$((6*7))'
	wait_for '*CLEAR42*> *' 30 || { print -r -- "no prompt after '$line': $got"; exit 1; }
done
zpty -d z
ZSH
ztab() {
	mkdir -p "$T/zbin" && ln -sf "$IMGVAULT" "$T/zbin/imgvault" && ln -sf "$IMGVAULT" "$T/zbin/image-archive" &&
	ZCOMP_DIR=$top/completions ZBIN=$T/zbin HOME=$T TERM=xterm zsh -f "$T/ztab.zsh" "$@" >"$T/zraw" 2>"$ERR" || return 1
	sed 's/\x1b\[[0-9;?]*[a-zA-Z]//g; s/\x1b[=>]//g; s/\r//g' "$T/zraw" >"$OUT"
}

# zblock LINE: the terminal output after typing LINE and TAB, from $OUT.
zblock() {
	awk -v want="=== $1" '$0 == want {on = 1; next} /^=== / {on = 0} on' "$OUT"
}

zsh_completes() {
	ztab "imgvault arc" "imgvault archive --co" "imgvault archive --compress=" \
		"imgvault catalog --root=$ct --project=" "image-archive --root $ct --exclude br" || { cat "$ERR" "$OUT"; return 1; }
	cp "$OUT" "$T/zsh.out"
}
check "zsh: an interactive zsh runs in a pseudo-terminal (zpty) and takes each line" \
	eval 'zsh_completes && [ "$(grep -c "^=== " "$T/zsh.out")" -eq 5 ]'

zsh_specs() {
	zsh -f -c 'source <(sed "\$d" "$1") && _imgvault_specs "$2" x && print -rl -- $reply' zsh "$zcomp_file" "$fk" >"$OUT" &&
	want "$OUT" "--alpha=[as for --delta]:dir:_directories" "--beta=[as for --delta]:name: " \
		"--gamma[as for --delta]" "--long-one-flag[write things, see --epsilon]" \
		"(-k --keep)-k+[keep (see --zeta)]:mode: " "(-k --keep)--keep=[keep (see --zeta)]:mode: " \
		"--pick=[choices]:one|two:(one two)" "(-h --help)-h[show this help]" "(-h --help)--help[show this help]"
}
check "zsh: the _arguments specs come from the option column only, with values and short forms" zsh_specs

check "zsh: 'imgvault arc<TAB>' completes to archive" \
	eval 'cp "$T/zsh.out" "$OUT" && zblock "imgvault arc" >"$T/b" && has "$T/b" "imgvault archive"'

check "zsh: 'imgvault archive --co<TAB>' completes to --compress=, a flag parsed from the help" \
	eval 'cp "$T/zsh.out" "$OUT" && zblock "imgvault archive --co" >"$T/b" && has "$T/b" "archive --compress="'

check "zsh: --compress=<TAB> lists gzip and zstd" \
	eval 'cp "$T/zsh.out" "$OUT" && zblock "imgvault archive --compress=" >"$T/b" && has "$T/b" gzip && has "$T/b" zstd'

check "zsh: --project=<TAB> lists the projects of the --root on the line" \
	eval 'cp "$T/zsh.out" "$OUT" && zblock "imgvault catalog --root=$ct --project=" >"$T/b" &&
	has "$T/b" alpha && has "$T/b" beta && has "$T/b" broken && lacks "$T/b" _skip'

check "zsh: image-archive --exclude br<TAB> completes a project of --root DIR" \
	eval 'cp "$T/zsh.out" "$OUT" && zblock "image-archive --root $ct --exclude br" >"$T/b" && has "$T/b" "--exclude broken"'

## install

installs_completions() {
	local dest=$T/dest
	make -s -C "$top" install PREFIX=/opt/iv DESTDIR="$dest" >"$T/install.log" 2>&1 || { cat "$T/install.log"; return 1; }
	cmp "$top/completions/imgvault.bash" "$dest/opt/iv/share/bash-completion/completions/imgvault" &&
	cmp "$top/completions/_imgvault" "$dest/opt/iv/share/zsh/site-functions/_imgvault" &&
	[ "$(readlink "$dest/opt/iv/share/bash-completion/completions/image-archive")" = imgvault ] &&
	make -s -C "$top" uninstall PREFIX=/opt/iv DESTDIR="$dest" >"$T/install.log" 2>&1 &&
	[ -z "$(find "$dest" ! -type d)" ] || { find "$dest"; return 1; }
}
check "make install puts both completions where bash-completion and zsh look; uninstall removes them" \
	installs_completions

finish
