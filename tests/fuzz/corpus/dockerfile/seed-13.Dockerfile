ARG EMPTY
ARG BASE_VERSION=ignored-because-build-arg-wins
FROM ubuntu:${BASE_VERSION}${EMPTY:-x}
RUN echo \
