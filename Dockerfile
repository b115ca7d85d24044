# syntax=docker/dockerfile:1
#
# broadcast: one image for every command (worker, publish, status, sequences, ...).
#
#   docker build -t broadcast .
#   docker run --rm broadcast --help
#   docker run --rm -e BROADCAST_BOOTSTRAP_SERVERS=kafka:9092 broadcast worker --devices /etc/broadcast/devices.yaml
#
# The build stage uses the official Swift image on Debian bookworm, so that the librdkafka the binary
# is compiled against (Debian's librdkafka-dev 2.0.2) is the one the runtime stage installs
# (librdkafka1 from the same Debian release). Keep SWIFT_VERSION on the toolchain the project is
# developed with (6.3 at the time of writing; any 6.x bookworm tag that builds the package works).

ARG SWIFT_VERSION=6.3
ARG DEBIAN_RELEASE=bookworm

# ---------------------------------------------------------------------------------------------------
FROM swift:${SWIFT_VERSION}-${DEBIAN_RELEASE} AS build

# librdkafka-dev: the CRdKafka system library (found through pkg-config);
# libsqlite3-dev: GRDB (the sequences store and the status board's projection).
RUN export DEBIAN_FRONTEND=noninteractive \
 && apt-get update \
 && apt-get install -y --no-install-recommends librdkafka-dev libsqlite3-dev pkg-config \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /src

# Dependencies first: this layer is reused until Package.swift or Package.resolved change.
COPY Package.swift Package.resolved ./
RUN swift package resolve

# Then the sources (Tests too: the manifest declares the test targets and SwiftPM checks their folders).
COPY . .

# --static-swift-stdlib links the Swift runtime and Foundation into the binary; librdkafka, SQLite and
# the C/C++ runtimes stay shared and come from Debian in the runtime stage.
RUN swift build -c release --static-swift-stdlib --product broadcast \
 && mkdir -p /staging \
 && bin="$(swift build -c release --static-swift-stdlib --show-bin-path)" \
 && cp "$bin/broadcast" /staging/ \
 && find -L "$bin" -maxdepth 1 -name '*.resources' -exec cp -Ra {} /staging/ \;

# ---------------------------------------------------------------------------------------------------
FROM debian:${DEBIAN_RELEASE}-slim AS runtime

# librdkafka1 brings libssl3, libsasl2-2, zstd, lz4 and zlib (SASL_SSL needs nothing more for
# PLAIN / SCRAM; add libsasl2-modules-gssapi-mit for Kerberos). ca-certificates: TLS to Kafka and to
# graph.facebook.com. tzdata: device time zones (greetings, quiet hours).
RUN export DEBIAN_FRONTEND=noninteractive \
 && apt-get update \
 && apt-get install -y --no-install-recommends librdkafka1 libsqlite3-0 libstdc++6 ca-certificates tzdata \
 && rm -rf /var/lib/apt/lists/*

# A fixed numeric uid/gid so Kubernetes' runAsNonRoot can verify it without reading /etc/passwd.
RUN groupadd --system --gid 10001 broadcast \
 && useradd --system --uid 10001 --gid broadcast --home-dir /data --no-create-home --shell /usr/sbin/nologin broadcast \
 && mkdir -p /data /etc/broadcast \
 && chown broadcast:broadcast /data

COPY --from=build /staging/ /usr/local/bin/

# /data holds SQLite files (sequences store, status board projection) when a volume is mounted there.
WORKDIR /data
ENV BROADCAST_LOG_LEVEL=info
USER 10001:10001

# SIGTERM is what both Docker and Kubernetes send; the worker stops fetching, lets sends in flight
# finish, commits and leaves the group, all within --shutdown-grace-seconds (default 30). Give it
# longer than that (10 s more).
STOPSIGNAL SIGTERM
ENTRYPOINT ["broadcast"]
CMD ["--help"]
