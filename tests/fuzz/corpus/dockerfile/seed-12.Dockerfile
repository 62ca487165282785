FROM golang:1.22 AS builder
COPY . .
RUN go build -o /app
FROM gcr.io/distroless/static@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
COPY --from=builder /app /app
ENTRYPOINT ["/app"]
