#!/usr/bin/env bash
# t60-verify: `imgvault verify` against arch folders made here, with no
# engine: docker save tars in both layouts (legacy and OCI, one with a
# gzip-compressed layer blob) written by python3 (tarfile, hashlib, json),
# compressed with the gzip and zstd CLIs, under a manifest.json holding
# their sizes, SHA-256 and image IDs. Covers the ok, MISMATCH, MISSING,
# CORRUPT and ORPHAN lines and the summary, paths that leave the folder,
# --deep (cut streams, a damaged CRC, layers and configs altered under a
# recomputed manifest), --project, --jobs, which folder is verified, the
# archive lock, and the exit codes.
. "$(dirname "$0")/lib.sh"

unset IMAGE_ARCHIVE_DIR IMGVAULT_ROOT DOCKER_HOST DOCKER_CONTEXT DOCKER_TLS_VERIFY DOCKER_CERT_PATH
export DOCKER_CONFIG=$T/no-docker-config
# Sanitizer reports (the ASan+UBSan build) go to files, checked at the end:
# a run meant to exit 1 must not pass by exiting 1 from a report.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}log_path=$T/asan"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}print_stacktrace=1:log_path=$T/ubsan"
ARCH=$(uname -m)

cat >"$T/mksave.py" <<'PY'
# mksave.py: docker-save-like archives and manifest entries for t60-verify,
# with no engine. Subcommands:
#   save LAYOUT OUT.tar SEED [gzlayer] [duplayer]  write a docker save tar
#       (LAYOUT legacy or oci); print the image ID ("sha256:<hex>").
#       gzlayer: the first layer blob is stored gzip-compressed (OCI only);
#       duplayer: a third layer equal to the first (legacy: a symlink).
#   entry ARCHDIR PROJECT IMAGE FILE DOCKER_ID  add or replace the entry in
#       ARCHDIR/manifest.json, size and sha256 from the file as it is.
#   alter IN.tar OUT.tar WHAT  rewrite a save tar with WHAT changed:
#       layer (one byte of the first layer's content) or config (a key
#       added to the image config), names kept.
#   set ARCHDIR FILE KEY JSON  set one key of the entry for FILE.
#   rehash ARCHDIR FILE  the entry for FILE gets the file's size and sha256
#       as it is now (what a rebuilt manifest would say).
import gzip, hashlib, io, json, os, sys, tarfile

def sha(b): return hashlib.sha256(b).hexdigest()

def layer_tar(seed, i):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        data = (f"{seed}-{i}\n".encode() * 4000) + os.urandom(20000)
        ti = tarfile.TarInfo(f"layer{i}/file.txt"); ti.size = len(data); ti.mtime = 0
        t.addfile(ti, io.BytesIO(data))
    return buf.getvalue()

def add(t, name, data=None, link=None):
    ti = tarfile.TarInfo(name); ti.mtime = 0
    if link is not None:
        ti.type = tarfile.SYMTYPE; ti.linkname = link; t.addfile(ti)
    elif data is None:
        ti.type = tarfile.DIRTYPE; ti.mode = 0o755; t.addfile(ti)
    else:
        ti.size = len(data); ti.mode = 0o644; t.addfile(ti, io.BytesIO(data))

def save(layout, out, seed, opts):
    layers = [layer_tar(seed, 0), layer_tar(seed, 1)]
    if "duplayer" in opts: layers.append(layers[0])
    diff_ids = ["sha256:" + sha(l) for l in layers]
    config = json.dumps({"architecture": "amd64", "os": "linux", "config": {"Cmd": ["/bin/sh"]},
                         "rootfs": {"type": "layers", "diff_ids": diff_ids}}).encode()
    cid = sha(config)
    tag = f"demo/{seed}:1"
    with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as t:
        if layout == "legacy":
            names, parent, seen = [], "", {}
            for i, l in enumerate(layers):
                lid = sha((parent + diff_ids[i] + str(i)).encode()); parent = lid
                add(t, lid + "/")
                add(t, lid + "/VERSION", b"1.0")
                add(t, lid + "/json", json.dumps({"id": lid}).encode())
                if diff_ids[i] in seen:
                    add(t, lid + "/layer.tar", link="../" + seen[diff_ids[i]] + "/layer.tar")
                else:
                    add(t, lid + "/layer.tar", l); seen[diff_ids[i]] = lid
                names.append(lid + "/layer.tar")
            add(t, cid + ".json", config)
            m = [{"Config": cid + ".json", "RepoTags": [tag], "Layers": names}]
        else:
            add(t, "blobs/"); add(t, "blobs/sha256/")
            names, descs, done = [], [], set()
            for i, l in enumerate(layers):
                blob = gzip.compress(l, mtime=0) if (i == 0 and "gzlayer" in opts) else l
                h = sha(blob)
                if h not in done:
                    add(t, "blobs/sha256/" + h, blob); done.add(h)
                names.append("blobs/sha256/" + h)
                descs.append({"mediaType": "application/vnd.oci.image.layer.v1.tar" +
                              ("+gzip" if blob is not l else ""), "digest": "sha256:" + h,
                              "size": len(blob)})
            add(t, "blobs/sha256/" + cid, config)
            om = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                             "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                                        "digest": "sha256:" + cid, "size": len(config)},
                             "layers": descs}).encode()
            add(t, "blobs/sha256/" + sha(om), om)
            add(t, "index.json", json.dumps({"schemaVersion": 2, "manifests": [
                {"mediaType": "application/vnd.oci.image.manifest.v1+json",
                 "digest": "sha256:" + sha(om), "size": len(om)}]}).encode())
            add(t, "oci-layout", b'{"imageLayoutVersion": "1.0.0"}')
            m = [{"Config": "blobs/sha256/" + cid, "RepoTags": [tag], "Layers": names}]
        add(t, "manifest.json", json.dumps(m).encode())
        add(t, "repositories", json.dumps({f"demo/{seed}": {"1": cid}}).encode())
    print("sha256:" + cid)

def load(archdir):
    p = os.path.join(archdir, "manifest.json")
    if os.path.exists(p):
        return json.load(open(p))
    return {"archived_at": "2026-11-26T19:00:00+00:00", "arch": os.path.basename(archdir),
            "docker_context": "default", "ssh_host": "", "output_dir": archdir, "images": []}

def store(archdir, m):
    with open(os.path.join(archdir, "manifest.json"), "w") as f:
        json.dump(m, f, indent=2)

def entry(archdir, project, image, file, docker_id):
    m = load(archdir)
    data = open(os.path.join(archdir, file), "rb").read()
    e = {"project": project, "image": image, "action": "pull+save", "file": file,
         "size": len(data), "sha256": sha(data), "docker_id": docker_id,
         "services": [project], "archived_at": "2026-11-26T19:00:00+00:00"}
    m["images"] = [x for x in m["images"] if x["file"] != file] + [e]
    store(archdir, m)

def alter(src, dst, what):
    with tarfile.open(src) as i, tarfile.open(dst, "w", format=tarfile.PAX_FORMAT) as o:
        man = json.load(i.extractfile("manifest.json"))[0]
        target = man["Layers"][0] if what == "layer" else man["Config"]
        for ti in i.getmembers():
            data = i.extractfile(ti).read() if ti.isfile() else None
            if ti.name == target:
                if what == "layer":
                    b = bytearray(data); b[600] ^= 0x20; data = bytes(b)
                else:
                    c = json.loads(data); c["altered"] = True; data = json.dumps(c).encode()
                ti.size = len(data)
            o.addfile(ti, io.BytesIO(data) if data is not None else None)

def rehash(archdir, file):
    data = open(os.path.join(archdir, file), "rb").read()
    setkey(archdir, file, "size", str(len(data)))
    setkey(archdir, file, "sha256", json.dumps(sha(data)))

def setkey(archdir, file, key, value):
    m = load(archdir)
    for e in m["images"]:
        if e["file"] == file:
            e[key] = json.loads(value)
    store(archdir, m)

cmd = sys.argv[1]
if cmd == "save": save(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:])
elif cmd == "entry": entry(*sys.argv[2:7])
elif cmd == "alter": alter(*sys.argv[2:5])
elif cmd == "set": setkey(*sys.argv[2:6])
elif cmd == "rehash": rehash(*sys.argv[2:4])
else: sys.exit("unknown subcommand " + cmd)
PY
mk() { python3 "$T/mksave.py" "$@"; }

# The three source tars, built once; their image IDs.
ID_LEGACY=$(mk save legacy "$T/legacy.tar" one duplayer) &&
	ID_OCI=$(mk save oci "$T/oci.tar" two) &&
	ID_OCIGZ=$(mk save oci "$T/ocigz.tar" three gzlayer) || { echo "cannot make the tars"; exit 1; }

# fresh DIR: a new arch folder DIR with web/legacy.tar.gz (legacy layout, a
# symlinked duplicate layer), web/oci.tar.zst (OCI) and db/ocigz.tar.gz
# (OCI, a gzip layer blob), all intact, in that manifest order.
fresh() {
	rm -rf "$1" && mkdir -p "$1/web" "$1/db" &&
		gzip -n -c "$T/legacy.tar" >"$1/web/legacy.tar.gz" &&
		zstd -q -c "$T/oci.tar" >"$1/web/oci.tar.zst" &&
		gzip -n -c "$T/ocigz.tar" >"$1/db/ocigz.tar.gz" &&
		mk entry "$1" web demo/one:1 web/legacy.tar.gz "$ID_LEGACY" &&
		mk entry "$1" web demo/two:1 web/oci.tar.zst "$ID_OCI" &&
		mk entry "$1" db demo/three:1 db/ocigz.tar.gz "$ID_OCIGZ"
}
# flip FILE OFFSET: xor one bit of the byte at OFFSET (negative: from the end).
flip() {
	python3 -c 'import sys
p, o = sys.argv[1], int(sys.argv[2])
b = bytearray(open(p, "rb").read()); b[o] ^= 1; open(p, "wb").write(b)' "$1" "$2"
}
# add_entry DIR IMAGE FILE: another entry like the first one, for FILE.
add_entry() {
	python3 -c 'import json, sys
p = sys.argv[1] + "/manifest.json"; m = json.load(open(p))
e = dict(m["images"][0]); e["image"] = sys.argv[2]; e["file"] = sys.argv[3]
m["images"].append(e); json.dump(m, open(p, "w"))' "$@"
}
sha() { sha256sum "$1" | cut -d' ' -f1; }
size() { stat -c %s "$1"; }
verify() { "$IMGVAULT" verify "$@"; }
# summary_is C OK MIS MISS COR ORPH: the summary line says so.
summary_is() {
	has "$OUT" "Checked: $1, ok: $2, mismatched: $3, missing: $4, corrupt: $5, orphans: $6"
}

fresh "$T/ok" || { echo "cannot make the arch folder"; exit 1; }

# --- all well ------------------------------------------------------------------

t_all_ok() {
	run 0 verify --archive-dir="$T/ok" && lines "$ERR" 0 &&
		head -1 "$OUT" | grep -qx "Verifying $T/ok (3 entries)" &&
		sed -n 2p "$OUT" | grep -qE '^ok {7}web/legacy\.tar\.gz \([0-9]+\.[0-9] MB\)$' &&
		sed -n 3p "$OUT" | grep -qE '^ok {7}web/oci\.tar\.zst \([0-9]+\.[0-9] MB\)$' &&
		sed -n 4p "$OUT" | grep -qE '^ok {7}db/ocigz\.tar\.gz \([0-9]+\.[0-9] MB\)$' &&
		summary_is 3 3 0 0 0 0 || { cat "$OUT"; return 1; }
}
check "intact archives: 'Verifying DIR (N entries)', one ok line each in manifest order, the summary, exit 0" \
	t_all_ok
t_deep_ok() {
	run 0 verify --archive-dir="$T/ok" --deep && summary_is 3 3 0 0 0 0 && lines "$ERR" 0
}
check "--deep passes intact archives: legacy with a symlinked layer, OCI (zstd), OCI with a gzip layer blob" \
	t_deep_ok
t_relative_dir() {
	cd "$T" && run 0 verify --archive-dir=ok && head -1 "$OUT" | grep -qx "Verifying $T/ok (3 entries)"
}
check "a relative --archive-dir is shown as an absolute path" t_relative_dir

# --- MISMATCH, MISSING ------------------------------------------------------------

t_flipped() {
	local d=$T/flip old
	fresh "$d" && old=$(sha "$d/web/oci.tar.zst") && flip "$d/web/oci.tar.zst" 5000 &&
		run 1 verify --archive-dir="$d" &&
		has "$OUT" "MISMATCH web/oci.tar.zst: sha256 expected $old, got $(sha "$d/web/oci.tar.zst")" &&
		summary_is 3 2 1 0 0 0
}
check "a flipped byte is a MISMATCH naming both SHA-256 values, exit 1" t_flipped
t_truncated() {
	local d=$T/trunc n
	fresh "$d" && n=$(size "$d/web/legacy.tar.gz") && truncate -s -100 "$d/web/legacy.tar.gz" &&
		run 1 verify --archive-dir="$d" &&
		has "$OUT" "MISMATCH web/legacy.tar.gz: size expected $n, got $((n - 100))" &&
		summary_is 3 2 1 0 0 0
}
check "a truncated file is a MISMATCH of size, exit 1" t_truncated
t_missing() {
	local d=$T/missing
	fresh "$d" && rm "$d/db/ocigz.tar.gz" && run 1 verify --archive-dir="$d" &&
		grep -qx 'MISSING  db/ocigz.tar.gz' "$OUT" && summary_is 3 2 0 1 0 0
}
check "a missing file is MISSING, exit 1" t_missing
t_missing_folder() {
	local d=$T/missing-folder
	fresh "$d" && rm -r "$d/db" && run 1 verify --archive-dir="$d" &&
		grep -qx 'MISSING  db/ocigz.tar.gz' "$OUT"
}
check "a missing project folder makes its files MISSING" t_missing_folder

# --- orphans ----------------------------------------------------------------------

t_orphans() {
	local d=$T/orphans
	fresh "$d" && cp "$d/web/legacy.tar.gz" "$d/web/extra.tar.gz" &&
		cp "$d/web/oci.tar.zst" "$d/db/zz.tar.zst" &&
		touch "$d/web/.legacy.tar.gz.tmp-x1y2" "$d/web/notes.txt" "$d/.imgvault.lock" \
			"$d/top.tar.gz" "$d/web/.hidden.tar.gz" && mkdir "$d/web/folder.tar.gz" &&
		run 1 verify --archive-dir="$d" && summary_is 3 3 0 0 0 2 &&
		[ "$(grep -c '^ORPHAN' "$OUT")" -eq 2 ] &&
		sed -n 5p "$OUT" | grep -qx 'ORPHAN   db/zz.tar.zst' &&
		sed -n 6p "$OUT" | grep -qx 'ORPHAN   web/extra.tar.gz' || { cat "$OUT"; return 1; }
}
check "archive files no entry names are ORPHANs, sorted, after the entries; temporaries, hidden files, the lock and other files are not" \
	t_orphans

# --- paths that leave the folder ----------------------------------------------------

t_dotdot() {
	local d=$T/dotdot
	fresh "$d" && cp "$d/web/legacy.tar.gz" "$T/outside.tar.gz" &&
		mk set "$d" web/legacy.tar.gz file '"../outside.tar.gz"' &&
		run 1 verify --archive-dir="$d" &&
		sed -n 2p "$OUT" | grep -qxF "CORRUPT  manifest entry images[0] (project 'web', image 'demo/one:1'): \"file\" '../outside.tar.gz' leaves the archive folder (a '..' component); not read" &&
		summary_is 3 2 0 0 1 1 && has "$OUT" "ORPHAN   web/legacy.tar.gz" || { cat "$OUT"; return 1; }
}
check "a manifest file with '..' is a CORRUPT entry, never read; the other entries are checked" t_dotdot
t_absolute() {
	local d=$T/absolute
	fresh "$d" && mk set "$d" web/oci.tar.zst file "\"$T/outside.tar.gz\"" &&
		run 1 verify --archive-dir="$d" &&
		grep -F "CORRUPT  manifest entry images[1] (project 'web', image 'demo/two:1'): " "$OUT" |
		grep -qF "is absolute" && summary_is 3 2 0 0 1 1
}
check "an absolute manifest file is a CORRUPT entry, never read" t_absolute
t_symlink_dir_out() {
	local d=$T/symdir
	fresh "$d" && mkdir -p "$T/elsewhere" && mkfifo "$T/elsewhere/fifo.tar.gz" &&
		cp "$d/web/legacy.tar.gz" "$T/elsewhere/legacy.tar.gz" && ln -s "$T/elsewhere" "$d/evil" &&
		mk entry "$d" evil demo/evil:1 evil/legacy.tar.gz "$ID_LEGACY" &&
		add_entry "$d" demo/fifo:1 evil/fifo.tar.gz &&
		run 1 verify --archive-dir="$d" &&
		has "$OUT" "CORRUPT  evil/legacy.tar.gz: resolves outside the archive folder (to '$T/elsewhere/legacy.tar.gz'); not read" &&
		has "$OUT" "CORRUPT  evil/fifo.tar.gz: resolves outside the archive folder" &&
		summary_is 5 3 0 0 2 0
}
check "a project folder that is a symlink out of the arch folder makes its files CORRUPT, unread (a FIFO there is never opened)" \
	t_symlink_dir_out
t_symlink_file_out() {
	local d=$T/symfile
	fresh "$d" && ln -s "$T/elsewhere/legacy.tar.gz" "$d/web/link.tar.gz" &&
		ln -s /nonexistent/gone.tar.gz "$d/web/dangling.tar.gz" &&
		mk entry "$d" web demo/link:1 web/link.tar.gz "$ID_LEGACY" &&
		add_entry "$d" demo/dangling:1 web/dangling.tar.gz &&
		run 1 verify --archive-dir="$d" &&
		has "$OUT" "CORRUPT  web/link.tar.gz: resolves outside the archive folder (to '$T/elsewhere/legacy.tar.gz')" &&
		has "$OUT" "CORRUPT  web/dangling.tar.gz: resolves outside the archive folder (to '/nonexistent/gone.tar.gz')"
}
check "a file symlink out of the arch folder, even a dangling one, is CORRUPT, not MISSING" t_symlink_file_out
t_symlink_inside() {
	local d=$T/symin
	fresh "$d" && ln -s ../web/legacy.tar.gz "$d/db/same.tar.gz" &&
		ln -s missing.tar.gz "$d/db/dangling.tar.gz" &&
		mk entry "$d" db demo/same:1 db/same.tar.gz "$ID_LEGACY" &&
		add_entry "$d" demo/dangling:1 db/dangling.tar.gz &&
		run 1 verify --archive-dir="$d" --deep && grep -qE '^ok {7}db/same\.tar\.gz' "$OUT" &&
		grep -qx 'MISSING  db/dangling.tar.gz' "$OUT"
}
check "a symlink that stays inside the arch folder is followed; a dangling one inside is MISSING" \
	t_symlink_inside
t_not_file() {
	local d=$T/notfile
	fresh "$d" && rm "$d/db/ocigz.tar.gz" && mkdir "$d/db/ocigz.tar.gz" &&
		run 1 verify --archive-dir="$d" && has "$OUT" "CORRUPT  db/ocigz.tar.gz: not a regular file"
}
check "a folder where an archive should be is CORRUPT (not a regular file)" t_not_file

# --- --deep -------------------------------------------------------------------------

# deep_only DIR FILE TEXT: plain verify passes, --deep says CORRUPT FILE: …TEXT…
deep_only() {
	run 0 verify --archive-dir="$1" && run 1 verify --archive-dir="$1" --deep &&
		grep -F "CORRUPT  $2: " "$OUT" | grep -qF -- "$3" && summary_is 3 2 0 0 1 0 ||
		{ cat "$OUT"; return 1; }
}
t_deep_cut_gzip() {
	local d=$T/cut-gz
	fresh "$d" && truncate -s -4 "$d/web/legacy.tar.gz" && mk rehash "$d" web/legacy.tar.gz &&
		deep_only "$d" web/legacy.tar.gz "the gzip stream is cut short"
}
check "--deep: a gzip file cut short under a recomputed manifest is CORRUPT" t_deep_cut_gzip
t_deep_cut_zstd() {
	local d=$T/cut-zst
	fresh "$d" && truncate -s -3 "$d/web/oci.tar.zst" && mk rehash "$d" web/oci.tar.zst &&
		deep_only "$d" web/oci.tar.zst "zstd"
}
check "--deep: a zstd file cut short under a recomputed manifest is CORRUPT" t_deep_cut_zstd
t_deep_crc() {
	local d=$T/crc
	fresh "$d" && flip "$d/web/legacy.tar.gz" -8 && mk rehash "$d" web/legacy.tar.gz &&
		deep_only "$d" web/legacy.tar.gz "gzip data is damaged (incorrect data check)"
}
check "--deep: a damaged gzip CRC (which libarchive does not check) is CORRUPT" t_deep_crc
t_deep_trailing() {
	local d=$T/trailing
	fresh "$d" && printf 'garbage' >>"$d/web/oci.tar.zst" && mk rehash "$d" web/oci.tar.zst &&
		deep_only "$d" web/oci.tar.zst "follows the zstd stream"
}
check "--deep: data after the zstd stream is CORRUPT" t_deep_trailing
t_deep_no_end() {
	local d=$T/noend
	fresh "$d" && python3 -c 'import sys
d = open(sys.argv[1], "rb").read()
while d.endswith(bytes(512)): d = d[:-512]
open(sys.argv[2], "wb").write(d)' "$T/legacy.tar" "$T/noend.tar" &&
		gzip -n -c "$T/noend.tar" >"$d/web/legacy.tar.gz" && mk rehash "$d" web/legacy.tar.gz &&
		deep_only "$d" web/legacy.tar.gz "no end-of-archive blocks"
}
check "--deep: a whole gzip stream of a tar cut before its end blocks is CORRUPT" t_deep_no_end
t_deep_members() {
	local d=$T/members
	fresh "$d" && head -c 30000 "$T/legacy.tar" | gzip -n >"$d/web/legacy.tar.gz" &&
		tail -c +30001 "$T/legacy.tar" | gzip -n >>"$d/web/legacy.tar.gz" &&
		mk rehash "$d" web/legacy.tar.gz && run 0 verify --archive-dir="$d" --deep
}
check "--deep reads a gzip file of several members (as the parallel writer makes)" t_deep_members
t_deep_codec() {
	local d=$T/codec
	fresh "$d" && zstd -q -c "$T/legacy.tar" >"$d/web/legacy.tar.gz" &&
		mk rehash "$d" web/legacy.tar.gz && deep_only "$d" web/legacy.tar.gz "not gzip data"
}
check "--deep: zstd data in a .tar.gz file is CORRUPT" t_deep_codec
t_deep_layer_legacy() {
	local d=$T/layer-legacy
	fresh "$d" && mk alter "$T/legacy.tar" "$T/legacy-layer.tar" layer &&
		gzip -n -c "$T/legacy-layer.tar" >"$d/web/legacy.tar.gz" && mk rehash "$d" web/legacy.tar.gz &&
		deep_only "$d" web/legacy.tar.gz "layer 1 of 3 (" &&
		grep -F "CORRUPT  web/legacy.tar.gz: " "$OUT" | grep -qF "but its diff_id in the config is sha256:"
}
check "--deep: a layer altered after archiving (legacy layout) is CORRUPT though sha256 and size were recomputed" \
	t_deep_layer_legacy
t_deep_layer_oci() {
	local d=$T/layer-oci
	fresh "$d" && mk alter "$T/oci.tar" "$T/oci-layer.tar" layer &&
		zstd -q -c "$T/oci-layer.tar" >"$d/web/oci.tar.zst" && mk rehash "$d" web/oci.tar.zst &&
		deep_only "$d" web/oci.tar.zst "layer 1 of 2 ('blobs/sha256/"
}
check "--deep: a layer altered after archiving (OCI layout) is CORRUPT though sha256 and size were recomputed" \
	t_deep_layer_oci
t_deep_layer_gz() {
	local d=$T/layer-gz
	fresh "$d" && mk alter "$T/ocigz.tar" "$T/ocigz-layer.tar" layer &&
		gzip -n -c "$T/ocigz-layer.tar" >"$d/db/ocigz.tar.gz" && mk rehash "$d" db/ocigz.tar.gz &&
		deep_only "$d" db/ocigz.tar.gz "does not decompress: gzip data is damaged"
}
check "--deep: a gzip layer blob that no longer decompresses is CORRUPT" t_deep_layer_gz
t_deep_config() {
	local d=$T/config
	fresh "$d" && mk alter "$T/ocigz.tar" "$T/ocigz-config.tar" config &&
		gzip -n -c "$T/ocigz-config.tar" >"$d/db/ocigz.tar.gz" && mk rehash "$d" db/ocigz.tar.gz &&
		deep_only "$d" db/ocigz.tar.gz "not to the entry's docker_id sha256:${ID_OCIGZ:7:12}"
}
check "--deep: an image config altered after archiving (digest ≠ docker_id) is CORRUPT" t_deep_config
t_deep_docker_id() {
	local d=$T/docker-id
	fresh "$d" && mk set "$d" web/legacy.tar.gz docker_id "\"sha256:$(printf '%064d' 7)\"" &&
		deep_only "$d" web/legacy.tar.gz "not to the entry's docker_id sha256:000000000000"
}
check "--deep: a docker_id that is not the image config's digest is CORRUPT" t_deep_docker_id
t_deep_not_save() {
	local d=$T/notsave
	fresh "$d" && tar -C "$T" -cf "$T/plain.tar" mksave.py &&
		gzip -n -c "$T/plain.tar" >"$d/web/legacy.tar.gz" && mk rehash "$d" web/legacy.tar.gz &&
		deep_only "$d" web/legacy.tar.gz "no manifest.json in the tar"
}
check "--deep: a tar that is not a docker save stream is CORRUPT" t_deep_not_save
t_deep_mismatch_note() {
	local d=$T/mismatch-deep
	fresh "$d" && flip "$d/web/legacy.tar.gz" -8 && run 1 verify --archive-dir="$d" --deep &&
		grep -F "MISMATCH web/legacy.tar.gz: sha256 expected" "$OUT" |
		grep -qF "; the archive itself is also corrupt: gzip data is damaged" &&
		fresh "$d" && gzip -n -c -1 "$T/legacy.tar" >"$d/web/legacy.tar.gz" &&
		mk set "$d" web/legacy.tar.gz size "$(size "$d/web/legacy.tar.gz")" &&
		run 1 verify --archive-dir="$d" --deep &&
		grep -F "MISMATCH web/legacy.tar.gz: " "$OUT" | grep -qF "; the archive itself reads back intact"
}
check "--deep tells a damaged MISMATCH from a replaced but intact file" t_deep_mismatch_note

# --- --project, --jobs --------------------------------------------------------------

t_project() {
	local d=$T/project
	fresh "$d" && cp "$d/web/legacy.tar.gz" "$d/web/extra.tar.gz" &&
		run 0 verify --archive-dir="$d" --project=db &&
		head -1 "$OUT" | grep -qx "Verifying $d (1 entry)" && grep -qE '^ok {7}db/ocigz' "$OUT" &&
		lacks "$OUT" "web/" && summary_is 1 1 0 0 0 0 &&
		run 1 verify --archive-dir="$d" --project=db --project web && summary_is 3 3 0 0 0 1
}
check "--project limits the entries and the orphan search to those projects (repeatable)" t_project
t_project_unknown() {
	run 2 verify --archive-dir="$T/ok" --project=nope && lines "$OUT" 0 && has "$ERR" "'nope'"
}
check "--project naming no project of the folder exits 2" t_project_unknown
t_jobs_same() {
	local d=$T/jobs
	fresh "$d" && for i in 1 2 3 4 5 6; do
		cp "$d/web/legacy.tar.gz" "$d/web/l$i.tar.gz" &&
			mk entry "$d" web "demo/l$i:1" "web/l$i.tar.gz" "$ID_LEGACY" || return 1
	done
	flip "$d/web/l2.tar.gz" 100 && rm "$d/web/l4.tar.gz" && cp "$d/db/ocigz.tar.gz" "$d/db/o.tar.gz" &&
		truncate -s -4 "$d/web/l5.tar.gz" && mk rehash "$d" web/l5.tar.gz || return 1
	run 1 verify --archive-dir="$d" --jobs=1 && cp "$OUT" "$T/jobs1" &&
		run 1 verify --archive-dir="$d" --jobs=4 && cmp "$T/jobs1" "$OUT" &&
		run 1 verify --archive-dir="$d" && cmp "$T/jobs1" "$OUT" && summary_is 9 7 1 1 0 1 &&
		run 1 verify --archive-dir="$d" --jobs=1 --deep && cp "$OUT" "$T/jobs1" &&
		run 1 verify --archive-dir="$d" --jobs=4 --deep && cmp "$T/jobs1" "$OUT" &&
		run 1 verify --archive-dir="$d" --deep && cmp "$T/jobs1" "$OUT" && summary_is 9 6 1 1 1 1
}
check "--jobs=1, --jobs=4 and the default print the same lines in the same order (plain and --deep)" \
	t_jobs_same
for bad in 0 65 x 2x; do
	check "--jobs=$bad exits 2" eval 'run 2 verify --archive-dir="$T/ok" --jobs='"$bad"' && has "$ERR" "--jobs" && lines "$OUT" 0'
done

# --- which folder, which manifest -------------------------------------------------------

t_no_manifest() {
	mkdir -p "$T/empty" && run 2 verify --archive-dir="$T/empty" && lines "$OUT" 0 &&
		has "$ERR" "no manifest.json in '$T/empty'"
}
check "an --archive-dir without manifest.json exits 2" t_no_manifest
t_bad_manifest() {
	local d=$T/badjson
	fresh "$d" && printf '{"images": [' >"$d/manifest.json" && run 2 verify --archive-dir="$d" &&
		lines "$OUT" 0 && has "$ERR" "$d/manifest.json"
}
check "a manifest.json that is not valid JSON exits 2 naming it" t_bad_manifest
t_no_sha() {
	local d=$T/nosha
	fresh "$d" && python3 -c 'import json, sys
p = sys.argv[1] + "/manifest.json"; m = json.load(open(p)); del m["images"][1]["sha256"]
json.dump(m, open(p, "w"))' "$d" && run 1 verify --archive-dir="$d" &&
		has "$OUT" "MISMATCH web/oci.tar.zst: the manifest records no sha256 (the file's is $(sha "$d/web/oci.tar.zst"))" &&
		summary_is 3 2 1 0 0 0
}
check "an entry with no sha256 recorded is a MISMATCH giving the file's" t_no_sha
t_bad_type() {
	local d=$T/badtype
	fresh "$d" && mk set "$d" web/oci.tar.zst size '"12"' && run 1 verify --archive-dir="$d" &&
		grep -F "CORRUPT  manifest entry images[1] (project 'web', image 'demo/two:1'): " "$OUT" |
		grep -qF '"size"' && summary_is 3 2 0 0 1 1 &&
		run 1 verify --archive-dir="$d" --project=db && summary_is 2 1 0 0 1 0
}
check "an entry whose size is a string is a CORRUPT entry, reported whatever --project says" t_bad_type
t_empty_manifest() {
	local d=$T/none
	mkdir -p "$d" && printf '{"images": []}\n' >"$d/manifest.json" && run 0 verify --archive-dir="$d" &&
		head -1 "$OUT" | grep -qx "Verifying $d (0 entries)" && summary_is 0 0 0 0 0 0
}
check "a manifest with no images verifies nothing and exits 0" t_empty_manifest
t_env_base() {
	fresh "$T/envbase/$ARCH" && IMAGE_ARCHIVE_DIR="$T/envbase" run 0 verify &&
		head -1 "$OUT" | grep -qx "Verifying $T/envbase/$ARCH (3 entries)"
}
check "without --archive-dir: IMAGE_ARCHIVE_DIR/<uname -m>" t_env_base
t_root_default() {
	fresh "$T/tree/_archive/images/$ARCH" && run 0 verify --root="$T/tree" &&
		head -1 "$OUT" | grep -qx "Verifying $T/tree/_archive/images/$ARCH (3 entries)" &&
		cd "$T/tree" && run 0 verify &&
		head -1 "$OUT" | grep -qx "Verifying $T/tree/_archive/images/$ARCH (3 entries)"
}
check "without IMAGE_ARCHIVE_DIR: <root>/_archive/images/<uname -m>, --root or the current folder" \
	t_root_default
t_env_file() {
	mkdir -p "$T/tree2" && echo "IMAGE_ARCHIVE_DIR=stash" >"$T/tree2/.env_default" &&
		fresh "$T/tree2/stash/$ARCH" && run 0 verify --root="$T/tree2" &&
		head -1 "$OUT" | grep -qx "Verifying $T/tree2/stash/$ARCH (3 entries)"
}
check "IMAGE_ARCHIVE_DIR= in the root's .env_<context> (relative to the root) names the base" t_env_file
t_only_arch() {
	fresh "$T/other/notmine" && IMAGE_ARCHIVE_DIR="$T/other" run 0 verify &&
		head -1 "$OUT" | grep -qx "Verifying $T/other/notmine (3 entries)"
}
check "no manifest for this machine's arch but one other arch folder has one: that one, named on the first line" \
	t_only_arch
t_several_arch() {
	fresh "$T/several/arm1" && fresh "$T/several/arm2" &&
		IMAGE_ARCHIVE_DIR="$T/several" run 2 verify && lines "$OUT" 0 && has "$ERR" "--archive-dir" &&
		has "$ERR" "arm1" && has "$ERR" "arm2"
}
check "no manifest for this machine's arch and several other arch folders: exit 2 naming them" t_several_arch
t_no_arch() {
	mkdir -p "$T/bare" && IMAGE_ARCHIVE_DIR="$T/bare" run 2 verify && lines "$OUT" 0 &&
		has "$ERR" "no manifest.json in '$T/bare/$ARCH'"
}
check "no manifest anywhere under the base exits 2" t_no_arch

# --- the lock, the command line, standard output -----------------------------------------

t_locked() {
	run 2 flock -x "$T/ok/.imgvault.lock" "$IMGVAULT" verify --archive-dir="$T/ok" &&
		has "$ERR" "is being written by another imgvault" && lines "$OUT" 0 &&
		run 0 flock -s "$T/ok/.imgvault.lock" "$IMGVAULT" verify --archive-dir="$T/ok"
}
check "verify refuses (exit 2) while an archive run holds the folder's lock, and runs beside another reader" \
	t_locked
check "'verify --help' prints its usage and exits 0" \
	eval 'run 0 verify --help && has "$OUT" "usage: imgvault verify" && has "$OUT" "--deep" && lines "$ERR" 0'
t_stray() {
	run 2 verify --archive-dir="$T/ok" extra && has "$ERR" "'extra'" && lines "$OUT" 0
}
check "a stray argument exits 2 naming it" t_stray
t_output_dir() {
	run 2 verify --archive-dir="$T/ok" --output-dir=x && has "$ERR" "--output-dir" && lines "$OUT" 0
}
check "--output-dir is not an option of verify (exit 2)" t_output_dir
t_full() {
	local rc
	verify --archive-dir="$T/ok" >/dev/full 2>"$ERR"
	rc=$?
	[ "$rc" -ne 0 ] && has "$ERR" "standard output"
}
check "verify to a full device exits non-zero with an error about standard output" t_full

check "no sanitizer reports" no_sanitizer_reports

finish
