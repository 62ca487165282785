FROM \
  # a comment inside the continuation is dropped
  alpine:3.19 \
  AS base

RUN apk add --no-cache \
      curl \
      ca-certificates
from base as final
