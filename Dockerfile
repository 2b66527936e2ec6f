# freqd in a container: a static binary in an otherwise empty image, run as
# an unprivileged user, serving the embedded SUBTLEX-US table on port 7379.
#
#   docker build -t freqd .
#   docker run -p 127.0.0.1:7379:7379 freqd
#   docker run -p 127.0.0.1:7379:7379 -v "$PWD:/data:ro" freqd \
#       serve --listen 0.0.0.0:7379 --protected-mode no --data /data/words.freq
#
# Inside the container freqd must listen on every interface to be reached
# through a published port, and does so without a password, as Redis's own
# image does: publish the port to loopback as above, or set
# FREQD_REQUIREPASS (docker run -e FREQD_REQUIREPASS=...) to require one.
#
# make image builds this with podman and tests the result. The version
# reported by freqd version, INFO and /metrics comes from the VERSION,
# COMMIT and DATE build arguments (make image passes what make build
# stamps); GO_IMAGE may name any image with Go 1.26 and a shell.
ARG GO_IMAGE=docker.io/library/golang:1.26-bookworm

FROM ${GO_IMAGE} AS build
WORKDIR /src
# The modules first, as a layer of their own that a change of the source
# does not invalidate.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=
ARG COMMIT=
ARG DATE=
# CGO_ENABLED=0: a static binary, which needs no libc in the image. The
# user and group are files, as the image has no tools to create them.
RUN pkg=github.com/freqd/freqd/internal/version && \
    CGO_ENABLED=0 go build -trimpath -buildvcs=false \
        -ldflags "-s -w -X $pkg.version=${VERSION} -X $pkg.commit=${COMMIT} -X $pkg.date=${DATE}" \
        -o /out/usr/local/bin/freqd ./cmd/freqd && \
    /out/usr/local/bin/freqd version && \
    mkdir -p /out/etc /out/data && \
    echo 'freqd:x:65532:65532:freqd:/data:/nonexistent' >/out/etc/passwd && \
    echo 'freqd:x:65532:' >/out/etc/group

FROM scratch
COPY --from=build /out/usr /usr
COPY --from=build /out/etc /etc
# /data belongs to freqd, so that a new named volume does too and
# freqd build can write tables into it.
COPY --from=build --chown=65532:65532 /out/data /data
USER 65532:65532
WORKDIR /data
VOLUME ["/data"]
EXPOSE 7379
# freqd stops gracefully on SIGTERM, the signal docker stop sends.
ENTRYPOINT ["/usr/local/bin/freqd"]
CMD ["serve", "--listen", "0.0.0.0:7379", "--protected-mode", "no"]
