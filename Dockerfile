# The workload image: the nekoctl binary built by goreleaser, running
# `nekoctl serve` as an unprivileged user. The process writes nothing to
# disk, so it runs with a read-only root filesystem.

# CA certificates only (MongoDB Atlas and Redis over TLS), taken on the
# build platform so that no emulation is needed.
FROM --platform=$BUILDPLATFORM alpine:3.22 AS certs

FROM scratch
ARG TARGETPLATFORM
COPY --from=certs /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY $TARGETPLATFORM/nekoctl /usr/bin/nekoctl
# 65532 is the conventional "nonroot" user; numeric, so Kubernetes can
# verify runAsNonRoot without a passwd file.
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["/usr/bin/nekoctl"]
CMD ["serve"]
