# The team server: `docker build -t insights .`, then see compose.yaml.
# cli/docker_test.go reads this file: it builds the binary with the flags of the `go build` line below and
# runs it against PostgreSQL until its health check passes. Keep that command on one RUN line.

FROM golang:1.26-bookworm AS build
WORKDIR /src
# Modules first, so that a change to the code does not download them again.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
# cgo for go-sqlite3, and the sqlite_fts5 tag without which it has no FTS5 (the solo commands in the image
# need it). No -trimpath: cli/docker_test.go builds with exactly these flags and must share the Go build
# cache with the test build, which -trimpath would not.
RUN CGO_ENABLED=1 go build -tags sqlite_fts5 -ldflags "-s -w -X main.version=${VERSION}" -o /out/insights .

# The same Debian as the build stage: the binary links against its glibc.
FROM debian:bookworm-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ca-certificates tzdata \
 && rm -rf /var/lib/apt/lists/*
# The home directory holds the daily Parquet snapshots (exports/) and any state; mount a volume there to keep them.
RUN useradd --system --uid 10001 --home-dir /var/lib/insights insights \
 && mkdir -p /var/lib/insights \
 && chown insights: /var/lib/insights
COPY --from=build /out/insights /usr/local/bin/insights
USER 10001
WORKDIR /var/lib/insights
# 8080: the upload and query API (team.api_addr); 8081: the team dashboard.
EXPOSE 8080 8081
ENV INSIGHTS_MODE=team
# The daily Parquet snapshots (export.time_of_day, 02:00 UTC), in the volume.
ENV INSIGHTS_EXPORT_DIR=/var/lib/insights/exports
# No curl in the image: the binary checks its own /healthz (INSIGHTS_HEALTHCHECK_URL when the API moved).
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 CMD ["insights", "healthcheck"]
ENTRYPOINT ["insights"]
# The database comes from INSIGHTS_DB (a postgres:// DSN); any command replaces this one, e.g. `user list`.
CMD ["--mode", "team"]
