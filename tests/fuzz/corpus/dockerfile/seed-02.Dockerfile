FROM 127.0.0.1:5000/demo/busybox:1.36 AS gen
RUN echo "listen=8080" > /config
FROM scratch
COPY --from=gen /config /config
