# check=skip=all
# escape=\
ARG BASE_VERSION
FROM --platform=linux/amd64 --link python:${BASE_VERSION}-slim
ARG LATE=ignored
FROM python:${LATE:-3.12}
