# syntax=docker/dockerfile:1
#
# docker build -t customer-gateway .                              the gateway (the last stage)
# docker build --target vendorsim -t customer-gateway-vendorsim .  the vendor simulator
#
# Both images are distroless: a static binary (CGO off, the zone database compiled in), CA
# certificates, no shell, user nonroot. The gateway keeps its SQLite store in /data, a volume
# owned by nonroot. cmd/gateway/deploy_test.go checks this file against go.mod and
# docker-compose.yml.

# The builder runs on the build machine's platform and cross-compiles, so a multi-platform
# build (--platform linux/amd64,linux/arm64) needs no emulation. Its Go is go.mod's go line.
FROM --platform=$BUILDPLATFORM golang:1.26.8-bookworm AS build
WORKDIR /src
# Modules in their own layer: it is rebuilt only when go.mod or go.sum change.
COPY go.mod go.sum ./
RUN go mod download && go mod verify
COPY . .
ARG TARGETOS TARGETARCH
# -trimpath keeps the build machine's paths out of the binaries; -s -w drops the symbol tables.
RUN --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath -ldflags="-s -w" -o /out/ ./cmd/gateway ./cmd/vendorsim
# The gateway's data directory: distroless has no shell to make it in the runtime stage.
RUN mkdir -p /out/data

# The simulator: HappyTalk, LadiFlow and EngageLab on :9090, with the sandbox credentials.
FROM gcr.io/distroless/static-debian12:nonroot AS vendorsim
COPY --from=build /out/vendorsim /vendorsim
# The simulator has no health subcommand and the image no curl: the gateway binary's
# healthcheck takes any URL.
COPY --from=build /out/gateway /gateway
USER nonroot:nonroot
EXPOSE 9090
HEALTHCHECK --interval=10s --timeout=5s --start-period=5s --retries=3 \
    CMD ["/gateway", "healthcheck", "-url", "http://127.0.0.1:9090/_sim/healthz"]
ENTRYPOINT ["/vendorsim"]

# The gateway: the default target, so it must stay the last stage.
FROM gcr.io/distroless/static-debian12:nonroot AS gateway
COPY --from=build /out/gateway /gateway
# The store: vendor refs, Idempotency-Key replies, audit events and queued deliveries. nonroot
# (65532) must own /data to write it; a new named volume mounted there takes that owner.
COPY --from=build --chown=65532:65532 /out/data /data
ENV GATEWAY_DATABASE_URL=sqlite:///data/gateway.db
VOLUME /data
USER nonroot:nonroot
EXPOSE 8080
# Asks http://127.0.0.1<GATEWAY_ADDR port>/readyz: 503 while starting or draining.
HEALTHCHECK --interval=10s --timeout=5s --start-period=10s --retries=3 \
    CMD ["/gateway", "healthcheck"]
ENTRYPOINT ["/gateway"]
