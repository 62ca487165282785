#!/usr/bin/env bash
# install: `make install PREFIX=… DESTDIR=…` puts the binary, its image-*
# names and the man page in place, and the installed names work.
. "$(dirname "$0")/lib.sh"

top=$(cd "$(dirname "$0")/../.." && pwd)
dest=$T/dest

installs() {
	make -s -C "$top" install PREFIX=/opt/iv DESTDIR="$dest" >"$T/install.log" 2>&1 || { cat "$T/install.log"; return 1; }
	[ -x "$dest/opt/iv/bin/imgvault" ] || return 1
	for n in image-catalog image-build image-archive image-restore; do
		[ "$(readlink "$dest/opt/iv/bin/$n")" = imgvault ] || { echo "$n is not a link to imgvault"; return 1; }
	done
	[ -f "$dest/opt/iv/share/man/man1/imgvault.1" ]
}
check "make install PREFIX DESTDIR installs imgvault, the image-* links and imgvault(1)" installs

check "the installed image-catalog runs the catalog" \
	eval 'run 0 "$dest/opt/iv/bin/image-catalog" --root="$FIXTURES/tree" --build-tag=t1 --json && jq_is "$OUT" "length" "15"'

check "the man page renders without groff warnings" \
	eval 'groff -man -ww -z "$top/man/imgvault.1" 2>"$T/groff.log" && [ ! -s "$T/groff.log" ]'

finish
