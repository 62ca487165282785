#!/usr/bin/python3
"""gen-tree.py ROOT [--projects N]

Write the catalog benchmark's input under ROOT (which must exist and be
empty): N compose projects proj-000 ... proj-NNN (default 100), each with

  docker-compose.yaml  2-4 services, chosen deterministically from the index:
                       ${X_IMAGE}:${X_VERSION} pulls, hardcoded pulls
                       (nginx:1.25 ...), `build: .`, `build: {context, args}`
                       with and without image:, a `profiles: [tools]`
                       service, an `x-common: &common` anchor merged with
                       `<<: *common`;
  .env-dist            exactly 100 lines: comments, blanks, KEY=value, some
                       quoted values, `export`, the image variables
                       (PROJ_007_IMAGE=ghcr.io/org/app7, PROJ_007_VERSION=...);
  Dockerfile(s)        one per built service, each with an ARG before FROM,
                       some multi-stage.

Every variable a compose file or Dockerfile FROM uses is defined (or has a
default), so a correct catalog has no unset-variable warnings.

After writing, the tree is checked: each compose file must load with PyYAML
yaml.safe_load, have the planned services (merge keys resolved), and each
built service must have its Dockerfile. Prints one summary line to stdout:
  projects=100 services=N pull=N build=N build_with_image=N profiled=N dockerfiles=N
Needs Debian's /usr/bin/python3 with python3-yaml (only for the check).
"""

import os
import sys

ENV_LINES = 100

# Hardcoded pulls, picked by index.
HARDCODED = ["nginx:1.25", "redis:7.2-alpine", "postgres:16.2",
             "docker.io/library/traefik:v3.0", "quay.io/prometheus/node-exporter:v1.7.0"]

# Kinds for services after the first (the first is always a variable pull).
# Five kinds, picked with step 2 mod 5, so one project never repeats a kind.
POOL = ["hardcoded", "build_dot", "build_map_image", "build_map_noimage", "tools"]


def plan(i):
    """The services of project i: list of (name, kind)."""
    n = 2 + i % 3
    services = [("app", "pull_var_build" if i % 4 == 0 else "pull_var")]
    names = {"hardcoded": "proxy", "build_dot": "worker", "build_map_image": "api",
             "build_map_noimage": "jobs", "tools": "tools"}
    for j in range(1, n):
        kind = POOL[(i + 2 * j) % len(POOL)]
        services.append((names[kind], kind))
    return services


def compose_text(i, services):
    """The docker-compose.yaml of project i, and the Dockerfiles it needs
    as {relative path: (service, multi-stage?)}."""
    p = "PROJ_%03d" % i
    out = []
    dockerfiles = {}
    out.append("# Compose file for project %d (generated for the catalog benchmark)." % i)
    if i % 5 == 0:
        out.append("name: bench-proj-%d" % i)
    out.append("")
    out.append("x-common: &common")
    out.append("  restart: unless-stopped")
    out.append("  logging:")
    out.append("    driver: json-file")
    out.append("    options:")
    out.append('      max-size: "10m"')
    out.append("      max-file: \"3\"")
    out.append("  environment:")
    out.append("    TZ: ${TZ:-UTC}")
    out.append("")
    out.append("services:")
    for name, kind in services:
        out.append("  %s:" % name)
        if kind in ("pull_var", "pull_var_build"):
            out.append("    <<: *common")
            if kind == "pull_var_build":
                out.append("    build:")
                out.append("      context: .")
                out.append("      args:")
                out.append("        APP_VERSION: ${%s_VERSION}" % p)
                dockerfiles["Dockerfile"] = (name, i % 8 == 0)
            out.append("    image: ${%s_IMAGE}:${%s_VERSION}" % (p, p))
            out.append("    env_file: .env")
            out.append("    ports:")
            out.append('      - "${%s_PORT:-8080}:8080"' % p)
            out.append("    healthcheck:")
            out.append('      test: ["CMD", "wget", "-qO-", "http://localhost:8080/health"]')
            out.append("      interval: 30s")
        elif kind == "hardcoded":
            out.append("    <<: *common")
            out.append("    image: %s" % HARDCODED[i % len(HARDCODED)])
            out.append("    depends_on:")
            out.append("      - app")
            out.append("    volumes:")
            out.append("      - ./conf:/etc/conf:ro")
        elif kind == "build_dot":
            # Shares the root Dockerfile with app when app builds too.
            out.append("    build: .")
            if "Dockerfile" not in dockerfiles:
                dockerfiles["Dockerfile"] = (name, i % 3 == 0)
            out.append("    command: [\"worker\", \"--queue\", \"default\"]")
            out.append("    restart: on-failure")
        elif kind == "build_map_image":
            out.append("    build:")
            out.append("      context: ./api")
            if i % 2:
                out.append("      dockerfile: Dockerfile.prod")
                df = "api/Dockerfile.prod"
            else:
                df = "api/Dockerfile"
            out.append("      args:")
            if i % 3:
                out.append("        BASE_VERSION: ${%s_BASE_VERSION}" % p)
                out.append("        BUILD_ENV: production")
            else:
                out.append("        - BASE_VERSION=${%s_BASE_VERSION}" % p)
                out.append("        - BUILD_ENV=production")
            out.append("    image: ${%s_API_IMAGE}:${%s_VERSION}" % (p, p))
            out.append("    expose:")
            out.append('      - "9000"')
            dockerfiles[df] = (name, i % 2 == 1)
        elif kind == "build_map_noimage":
            out.append("    build:")
            out.append("      context: .")
            out.append("      dockerfile: jobs.Dockerfile")
            if i % 4 == 1:
                out.append("      target: runtime")
            out.append("      args:")
            out.append("        GO_VERSION: \"${%s_GO_VERSION:-1.22}\"" % p)
            out.append("    <<: *common")
            dockerfiles["jobs.Dockerfile"] = (name, True)
        elif kind == "tools":
            out.append("    profiles: [tools]")
            if i % 2:
                out.append("    image: ${%s_TOOLS_IMAGE:-busybox}:${%s_TOOLS_VERSION:-1.36}" % (p, p))
            else:
                out.append("    build:")
                out.append("      context: ./tools")
                out.append("      args:")
                out.append("        ALPINE_VERSION: ${%s_ALPINE_VERSION}" % p)
                dockerfiles["tools/Dockerfile"] = (name, False)
            out.append("    entrypoint: [\"/bin/sh\"]")
            out.append("    stdin_open: true")
            out.append("    tty: true")
        else:
            raise AssertionError(kind)
        out.append("")
    out.append("volumes:")
    out.append("  data: {}")
    return "\n".join(out) + "\n", dockerfiles


def env_text(i):
    """The 100-line .env-dist of project i."""
    p = "PROJ_%03d" % i
    ver = "1.%d.%d" % (i % 10, i % 7)
    lines = [
        "# .env-dist for project %d" % i,
        "# Copy to .env and adjust. Values here are the defaults.",
        "",
        "## Images",
        "%s_IMAGE=ghcr.io/org/app%d" % (p, i),
        "%s_VERSION=%s" % (p, ver),
        "%s_API_IMAGE=${%s_IMAGE}-api" % (p, p),
        "%s_BASE_VERSION=\"3.12-slim\"" % p,
        "%s_ALPINE_VERSION=3.19" % p,
        "%s_GO_VERSION='1.22'" % p,
        "%s_TOOLS_IMAGE=docker.io/library/busybox # pinned below" % p,
        "%s_TOOLS_VERSION=1.36.1" % p,
        "",
        "## Network",
        "%s_PORT=%d" % (p, 8000 + i),
        "%s_HOST=proj%d.example.org" % (p, i),
        "TZ=Europe/Berlin",
        "",
    ]
    n = 0
    while len(lines) < ENV_LINES:
        k = len(lines)
        if k % 17 == 0:
            lines.append("")
            lines.append("## Section %d: settings for subsystem %d" % (n, n))
        elif k % 13 == 0:
            lines.append("# %s_OPTIONAL_%d=" % (p, n))
        elif k % 11 == 0:
            lines.append("%s_SECRET_%d='$2y$05$abc%ddef/xyz.%d'" % (p, n, i, n))
        elif k % 7 == 0:
            lines.append("%s_MESSAGE_%d=\"Hello from project %d, setting %d\"" % (p, n, i, n))
        elif k % 5 == 0:
            lines.append("export %s_FLAG_%d=true" % (p, n))
        elif k % 3 == 0:
            lines.append("%s_URL_%d=https://${%s_HOST}/api/v%d" % (p, n, p, n % 3 + 1))
        else:
            lines.append("%s_SETTING_%d=value-%d-%d" % (p, n, i, n))
        n += 1
    lines = lines[:ENV_LINES]
    assert len(lines) == ENV_LINES
    return "\n".join(lines) + "\n"


def dockerfile_text(i, service, multi):
    """A Dockerfile: ARGs before FROM, multi-stage when multi."""
    if not multi:
        return (
            "# syntax=docker/dockerfile:1\n"
            "ARG ALPINE_VERSION=3.19\n"
            "ARG BASE_VERSION=3.12-slim\n"
            "FROM python:${BASE_VERSION}\n"
            "ARG APP_VERSION=dev\n"
            "WORKDIR /app\n"
            "COPY requirements.txt .\n"
            "RUN pip install --no-cache-dir -r requirements.txt\n"
            "COPY . .\n"
            "LABEL org.opencontainers.image.version=$APP_VERSION service=%s\n"
            "CMD [\"python\", \"-m\", \"proj%d\"]\n" % (service, i))
    return (
        "# syntax=docker/dockerfile:1\n"
        "ARG GO_VERSION=1.22\n"
        "ARG RUNTIME_IMAGE=gcr.io/distroless/static-debian12\n"
        "FROM --platform=$BUILDPLATFORM golang:${GO_VERSION}-alpine AS build\n"
        "WORKDIR /src\n"
        "COPY go.mod go.sum ./\n"
        "RUN go mod download\n"
        "COPY . .\n"
        "RUN CGO_ENABLED=0 go build -o /out/%s \\\n"
        "      ./cmd/%s\n"
        "\n"
        "FROM build AS test\n"
        "RUN go test ./...\n"
        "\n"
        "FROM ${RUNTIME_IMAGE}:nonroot AS runtime\n"
        "COPY --from=build /out/%s /usr/local/bin/%s\n"
        "USER nonroot\n"
        "ENTRYPOINT [\"/usr/local/bin/%s\"]\n" % ((service,) * 5))


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def main(argv):
    args = argv[1:]
    nproj = 100
    if len(args) == 3 and args[1] == "--projects":
        nproj = int(args[2])
        args = args[:1]
    if len(args) != 1:
        sys.exit("usage: gen-tree.py ROOT [--projects N]")
    root = args[0]
    if not os.path.isdir(root) or os.listdir(root):
        sys.exit("gen-tree.py: %s must be an existing empty folder" % root)

    plans = {}
    for i in range(nproj):
        d = os.path.join(root, "proj-%03d" % i)
        services = plan(i)
        text, dockerfiles = compose_text(i, services)
        write(os.path.join(d, "docker-compose.yaml"), text)
        write(os.path.join(d, ".env-dist"), env_text(i))
        for rel, (svc, multi) in dockerfiles.items():
            write(os.path.join(d, rel), dockerfile_text(i, svc, multi))
        plans[i] = (services, dockerfiles)

    # Check what was written.
    import yaml
    counts = dict(projects=0, services=0, pull=0, build=0, build_with_image=0,
                  profiled=0, dockerfiles=0)
    for i, (services, dockerfiles) in plans.items():
        d = os.path.join(root, "proj-%03d" % i)
        with open(os.path.join(d, "docker-compose.yaml")) as f:
            doc = yaml.safe_load(f)
        got = doc["services"]
        assert list(got) == [name for name, _ in services], (i, list(got))
        with open(os.path.join(d, ".env-dist")) as f:
            assert sum(1 for _ in f) == ENV_LINES, i
        for name, svc in got.items():
            if "<<" in str(list(svc)):
                raise AssertionError("merge key not resolved in proj-%03d/%s" % (i, name))
            b = svc.get("build")
            if b is None:
                assert "image" in svc, (i, name)
                counts["pull"] += 1
            else:
                ctx = b if isinstance(b, str) else b.get("context", ".")
                df = "Dockerfile" if isinstance(b, str) else b.get("dockerfile", "Dockerfile")
                p = os.path.normpath(os.path.join(d, ctx, df))
                assert os.path.isfile(p), p
                with open(p) as f:
                    first = [ln.split()[0] for ln in f if ln.strip() and not ln.startswith("#")]
                assert first[0] == "ARG" and "FROM" in first, p
                counts["build"] += 1
                counts["build_with_image"] += "image" in svc
            counts["profiled"] += "profiles" in svc
            counts["services"] += 1
        counts["dockerfiles"] += len(dockerfiles)
        counts["projects"] += 1
    print(" ".join("%s=%d" % kv for kv in counts.items()))


if __name__ == "__main__":
    main(sys.argv)
