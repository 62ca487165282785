#!/bin/sh
# kv serve: keep /data (the server service); kv backup: write /data as a
# tar to stdout (the backup service, behind the maintenance profile).
mkdir -p /data
case ${1:-serve} in
serve) echo "kv 2.1 serving /data" && exec sleep 2147483647 ;;
backup) exec tar -C /data -cf - . ;;
*) echo "usage: kv serve|backup" >&2 && exit 2 ;;
esac
