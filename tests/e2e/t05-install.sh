#!/usr/bin/env bash
# install: `make install PREFIX=… DESTDIR=…` puts the binary, its image-*
# names and the man pages in place, and the installed names work; every man
# page renders without a warning, and each command's page documents every
# long option its help prints.
. "$(dirname "$0")/lib.sh"

top=$(cd "$(dirname "$0")/../.." && pwd)
dest=$T/dest
man1=$dest/opt/iv/share/man/man1

installs() {
	make -s -C "$top" install PREFIX=/opt/iv DESTDIR="$dest" >"$T/install.log" 2>&1 || { cat "$T/install.log"; return 1; }
	[ -x "$dest/opt/iv/bin/imgvault" ] || return 1
	for n in image-catalog image-build image-archive image-restore; do
		[ "$(readlink "$dest/opt/iv/bin/$n")" = imgvault ] || { echo "$n is not a link to imgvault"; return 1; }
	done
	[ -f "$man1/imgvault.1" ]
}
check "make install PREFIX DESTDIR installs imgvault, the image-* links and imgvault(1)" installs

check "the installed image-catalog runs the catalog" \
	eval 'run 0 "$dest/opt/iv/bin/image-catalog" --root="$FIXTURES/tree" --build-tag=t1 --json && jq_is "$OUT" "length" "15"'

check "the man page renders without groff warnings" \
	eval 'groff -man -ww -z "$top/man/imgvault.1" 2>"$T/groff.log" && [ ! -s "$T/groff.log" ]'

# The commands `imgvault --help` lists, one a line.
commands() {
	"$IMGVAULT" --help | sed -n '/^Commands:/,/^$/p' | awk 'NF && $1 != "Commands:" { print $1 }'
}

# The long options a text mentions, hyphens escaped (\-) or not, one a line.
long_flags() {
	sed 's/\\-/-/g' "$1" | grep -o -- '--[a-z][a-z-]*' | sort -u
}

every_command_has_a_page() {
	local c n=0
	for c in $(commands); do
		n=$((n + 1))
		[ -f "$top/man/imgvault-$c.1" ] || { echo "no man/imgvault-$c.1 for the command '$c'"; return 1; }
	done
	[ "$n" -ge 5 ] || { echo "imgvault --help lists only $n commands"; return 1; }
}
check "every command imgvault --help lists has its page man/imgvault-COMMAND.1" every_command_has_a_page

installs_every_page() {
	local p n=0
	for p in "$top"/man/*.1; do
		n=$((n + 1))
		cmp "$p" "$man1/${p##*/}" || { echo "${p##*/} is not installed as it is in man/"; return 1; }
	done
	[ "$n" -ge 2 ] || { echo "only $n pages in man/"; return 1; }
}
check "make install installs every man/*.1 page, imgvault.1 and each imgvault-COMMAND.1" installs_every_page

renders_without_warnings() {
	local p bad=0
	for p in "$man1"/imgvault*.1; do
		groff -man -ww -z "$p" 2>"$T/groff.log"
		LC_ALL=C.UTF-8 MANROFFSEQ='' MANWIDTH=80 man --warnings -E UTF-8 -l "$p" >/dev/null 2>"$T/man.log"
		if [ -s "$T/groff.log" ] || [ -s "$T/man.log" ]; then
			echo "${p##*/}:"
			cat "$T/groff.log" "$T/man.log"
			bad=1
		fi
	done
	return $bad
}
check "every installed man page renders without a groff -ww or man --warnings warning" renders_without_warnings

documents_every_flag() {
	local p c f bad=0
	for p in "$top"/man/imgvault-*.1; do
		c=${p##*/imgvault-}
		c=${c%.1}
		"$IMGVAULT" help "$c" >"$T/help.txt" 2>"$T/help.err" || { echo "imgvault help $c failed:"; cat "$T/help.err"; bad=1; continue; }
		long_flags "$p" >"$T/page.flags"
		for f in $(grep -o -- '--[a-z][a-z-]*' "$T/help.txt" | sort -u); do
			grep -qxF -- "$f" "$T/page.flags" || { echo "man/imgvault-$c.1 lacks $f"; bad=1; }
		done
	done
	return $bad
}
check "each imgvault-COMMAND.1 names every long option 'imgvault help COMMAND' prints" documents_every_flag

main_page_points_to_every_page() {
	local p c bad=0
	sed -n '/^\.SH COMMANDS/,/^\.SH /p' "$top/man/imgvault.1" >"$T/commands.roff"
	sed -n '/^\.SH SEE ALSO/,$p' "$top/man/imgvault.1" | sed 's/\\-/-/g' >"$T/seealso.roff"
	for p in "$top"/man/imgvault-*.1; do
		c=${p##*/imgvault-}
		c=${c%.1}
		grep -qx ".B $c" "$T/commands.roff" || { echo "imgvault.1 COMMANDS lacks $c"; bad=1; }
		grep -qF "imgvault-$c (1)" "$T/seealso.roff" || { echo "imgvault.1 SEE ALSO lacks imgvault-$c(1)"; bad=1; }
	done
	return $bad
}
check "imgvault.1 lists every command and names each imgvault-COMMAND(1) in SEE ALSO" main_page_points_to_every_page

links_every_command() {
	local c bad=0
	for c in $(commands); do
		[ "$(readlink "$dest/opt/iv/bin/image-$c")" = imgvault ] || { echo "image-$c is not installed as a link to imgvault"; bad=1; }
	done
	return $bad
}
check "make install links image-COMMAND to imgvault for every command imgvault --help lists" links_every_command

finish
