# Tenantry: a multi-stage build. The builder compiles the release binary (the PostgreSQL client
# library is linked, SQLite is bundled); the runtime image holds the binary, libpq and CA roots.
#
#   docker build -t tenantry .
#   docker run -p 8080:8080 -v tenantry-data:/data tenantry
#
# Configuration is by environment (README.md, docs/metrics.md): TENANTRY_DATA_DIR=/data and
# TENANTRY_BIND=0.0.0.0:8080 are set here; set DATABASE_URL for PostgreSQL, TENANTRY_MASTER_KEY
# for several instances, TENANTRY_SMTP_URL for email.

FROM rust:1.95-bookworm AS builder
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpq-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# `.git` is not copied: pass the commit for `tenantry --version` and `tenantry_build_info`
# (docker build --build-arg TENANTRY_BUILD_COMMIT=$(git rev-parse --short=12 HEAD) .).
ARG TENANTRY_BUILD_COMMIT=unknown
ENV TENANTRY_BUILD_COMMIT=$TENANTRY_BUILD_COMMIT
RUN cargo build --release --locked -p tenantry \
    && cp target/release/tenantry /usr/local/bin/tenantry

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpq5 ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home /data --uid 10001 tenantry \
    && mkdir -p /data && chown tenantry /data
COPY --from=builder /usr/local/bin/tenantry /usr/local/bin/tenantry
USER tenantry
ENV TENANTRY_DATA_DIR=/data \
    TENANTRY_BIND=0.0.0.0:8080 \
    TENANTRY_LOG=json
VOLUME ["/data"]
EXPOSE 8080
# Health: orchestrators probe GET /healthz (liveness) and GET /readyz (database reachable).
ENTRYPOINT ["tenantry"]
CMD ["serve"]
