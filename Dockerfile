# syntax=docker/dockerfile:1
# The milvault container image: `milvault serve` (or any other command) as a
# static binary on distroless, run as a non-root user.
#
#   docker build -t milvault \
#     --build-arg VERSION=$(git describe --tags --always --dirty) \
#     --build-arg COMMIT=$(git rev-parse HEAD) \
#     --build-arg BUILD_DATE=$(git log -1 --format=%cI) .
#   (scripts/docker-build.sh does this, and checks `milvault version` in the image)
#
# The binary is the one `make build` makes (same target, same -ldflags), built
# with CGO_ENABLED=0 so that it needs no C library.

ARG GO_VERSION=1.26.8

FROM golang:${GO_VERSION}-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ARG COMMIT=
ARG BUILD_DATE=
RUN CGO_ENABLED=0 make build VERSION="${VERSION}" COMMIT="${COMMIT}" BUILD_DATE="${BUILD_DATE}" \
 && ./bin/milvault version

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /src/bin/milvault /usr/local/bin/milvault
# nonroot is uid 65532 in distroless; Kubernetes' runAsNonRoot needs it numeric.
USER 65532:65532
WORKDIR /var/lib/milvault
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/milvault"]
CMD ["serve", "--config", "/etc/milvault/serve.yaml", "--listen", "0.0.0.0:8080"]
