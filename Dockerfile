# syntax=docker/dockerfile:1
# twinme: a static binary on distroless (CA certificates, tzdata, a nonroot
# user, no shell). Build: podman build -t twinme .   (or docker build)
FROM docker.io/library/golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# CGO off: the SQLite driver is pure Go, so the binary is fully static.
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/twinme . \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/twinme /usr/local/bin/twinme
# The embedded SQLite database lives here when TWINME_DATABASE_URL is unset.
COPY --from=build --chown=65532:65532 /out/data /data
ENV TWINME_LISTEN=0.0.0.0:8080 \
    TWINME_DATA_DIR=/data
EXPOSE 8080
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/twinme"]
CMD ["serve"]
