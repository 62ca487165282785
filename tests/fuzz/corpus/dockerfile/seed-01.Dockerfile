ARG BASE_VERSION=latest
FROM 127.0.0.1:5000/demo/busybox:${BASE_VERSION}
ARG GREETING=hi
RUN echo "$GREETING" > /greeting
CMD ["cat", "/greeting"]
