# Concierge: nginx with our module, and the workers, on Debian 12.
# PostgreSQL runs outside the container (CC_DATABASE_URL).  The image is
# built with the same scripts as `make`: tools/install-deps.sh and the
# Makefile, so there is one tested build path.
#
#   docker build -t concierge .
#   docker run -p 8443:8443 -e CC_DATABASE_URL=... -e CC_MIGRATE_DATABASE_URL=... \
#              -v /path/to/tls:/etc/concierge/tls:ro concierge

FROM debian:12 AS build
WORKDIR /src
COPY tools/install-deps.sh tools/
RUN tools/install-deps.sh build && rm -rf /var/lib/apt/lists/*
COPY . .
RUN make BUILD=build workers module ccctl

FROM debian:12
WORKDIR /opt/concierge
COPY tools/install-deps.sh tools/
RUN tools/install-deps.sh runtime && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/build/cc-api /src/build/cc-ingest /src/build/cc-worker \
                  /src/build/ngx_http_concierge_module.so /src/build/ccctl build/
COPY conf conf/
COPY sql sql/
COPY web web/
COPY tools/cc-migrate tools/render-conf tools/container-start tools/
COPY tools/lib tools/lib/
ENV CC_DIR=/var/lib/concierge CC_CERTS=/etc/concierge/tls
EXPOSE 8443 9090
ENTRYPOINT ["/opt/concierge/tools/container-start"]
