# Gatehouse container image: build with the Rust toolchain, run on a small Debian as an unprivileged user.
#
#   docker build -t gatehouse .
#   docker run -p 8080:8080 -e GATEHOUSE_MASTER_KEY=... -v ./config:/etc/gatehouse:ro gatehouse
#
# Mount your own gatehouse.toml, clients/ and organisations/ at /etc/gatehouse (the image carries the
# repository's config/ as an example), and a volume at /var/lib/gatehouse for an SQLite database.

# The full Rust image carries pkg-config and libssl-dev, which the openssl crate (under josekit) needs.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin gatehouse \
    && cp target/release/gatehouse /usr/local/bin/gatehouse

FROM debian:bookworm-slim
# libssl3: josekit signs with OpenSSL; ca-certificates for the OpenSSL side (rustls carries its own roots).
RUN apt-get update \
    && apt-get install -y --no-install-recommends libssl3 ca-certificates \
    && rm -rf /var/lib/apt/lists/*
RUN useradd --system --uid 10001 --home-dir /var/lib/gatehouse --shell /usr/sbin/nologin gatehouse \
    && mkdir -p /var/lib/gatehouse /etc/gatehouse \
    && chown gatehouse:gatehouse /var/lib/gatehouse
COPY --from=build /usr/local/bin/gatehouse /usr/local/bin/gatehouse
COPY themes /usr/share/gatehouse/themes
COPY config /etc/gatehouse

ENV GATEHOUSE_CONFIG_FILE=/etc/gatehouse/gatehouse.toml \
    GATEHOUSE_LISTEN=0.0.0.0:8080 \
    GATEHOUSE_DATA_DIR=/var/lib/gatehouse \
    GATEHOUSE_THEME_DIR=/usr/share/gatehouse/themes/default \
    GATEHOUSE_CLIENTS_DIR=/etc/gatehouse/clients \
    GATEHOUSE_ORGANISATIONS_DIR=/etc/gatehouse/organisations \
    GATEHOUSE_LOG_FORMAT=json

USER gatehouse
WORKDIR /var/lib/gatehouse
EXPOSE 8080
VOLUME ["/var/lib/gatehouse"]
# The binary asks its own /health/ready: no curl in the image.
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
    CMD ["gatehouse", "health-check"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["gatehouse"]
CMD ["serve"]
