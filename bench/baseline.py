#!/usr/bin/python3
"""baseline.py ROOT

The Python baseline that bench/catalog compares `imgvault catalog` with.
For each project folder under ROOT (sorted; names starting with '.' or '_'
skipped) it only loads docker-compose.yaml with PyYAML's yaml.safe_load and
reads .env-dist line by line, splitting KEY=value. Nothing else: no
interpolation, no Dockerfiles, no output beyond one count line.
Run with Debian's /usr/bin/python3 (python3-yaml).
"""

import os
import sys

import yaml


def main(root):
    services = 0
    keys = 0
    for name in sorted(os.listdir(root)):
        if name.startswith((".", "_")):
            continue
        d = os.path.join(root, name)
        compose = os.path.join(d, "docker-compose.yaml")
        if not os.path.isfile(compose):
            continue
        with open(compose) as f:
            doc = yaml.safe_load(f)
        services += len(doc.get("services") or {})
        env = {}
        with open(os.path.join(d, ".env-dist")) as f:
            for line in f:
                line = line.strip()
                if not line or line.startswith("#"):
                    continue
                key, sep, value = line.partition("=")
                if sep:
                    env[key.strip()] = value.strip()
        keys += len(env)
    print("services=%d env_keys=%d" % (services, keys))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: baseline.py ROOT")
    main(sys.argv[1])
