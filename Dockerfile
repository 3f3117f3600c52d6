# Multi-stage build: compile with the Rust toolchain, run on a small Debian image as a
# non-root user. Build: docker build -t openstudio .
# Run:   docker run -p 8000:8000 -e SECRET_KEY=… -e DATABASE_URL=postgres://… openstudio
FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock rustfmt.toml ./
COPY src ./src
COPY migrations ./migrations
COPY examples ./examples
COPY tests ./tests
RUN cargo build --release --locked --bin openstudio

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin openstudio \
    && mkdir -p /data \
    && chown openstudio /data
COPY --from=build /src/target/release/openstudio /usr/local/bin/openstudio
USER openstudio
WORKDIR /data
ENV BIND=0.0.0.0 PORT=8000 DATA_DIR=/data ENVIRONMENT=PROD LOG_FORMAT=json
EXPOSE 8000
CMD ["openstudio", "serve"]
