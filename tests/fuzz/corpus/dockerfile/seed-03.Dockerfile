# syntax=docker/dockerfile:1
ARG REGISTRY
ARG UNSET_ARG=fallback-from-dockerfile
ARG NODE=20 DISTRO="bookworm-slim"
FROM --platform=$BUILDPLATFORM ${REGISTRY}/node:${NODE}-${DISTRO} AS build
WORKDIR /src
FROM ${UNSET_ARG}/runtime:1
FROM build AS test
FROM Build
