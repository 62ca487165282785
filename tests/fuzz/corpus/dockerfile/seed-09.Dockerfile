FROM alpine:3.19
RUN echo hi \
  there
FROM \
  debian:12
