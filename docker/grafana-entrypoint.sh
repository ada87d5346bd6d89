#!/bin/sh
# The compose service's entrypoint. Grafana's provisioning files cannot be
# conditional, so this assembles them: the mounted provisioning/ (demo data
# source, dashboards, alert rules) is copied to GF_PATHS_PROVISIONING, the
# real Woodpecker data source (provisioning/optional/woodpecker.yaml) is added
# only when WOODPECKER_URL is set, and then the command runs (the image's
# /run.sh, which starts Grafana).
#
#   PROVISIONING_SOURCE    where provisioning/ is mounted (/etc/grafana/provisioning)
#   GF_PATHS_PROVISIONING  where Grafana reads provisioning from (must differ)
set -eu

src=${PROVISIONING_SOURCE:-/etc/grafana/provisioning}
dst=${GF_PATHS_PROVISIONING:?GF_PATHS_PROVISIONING must name the folder Grafana reads}
if [ "$src" = "$dst" ]; then
  echo "grafana-entrypoint: GF_PATHS_PROVISIONING must not be $src" >&2
  exit 1
fi

rm -rf "$dst"
mkdir -p "$dst"
cp -R "$src/." "$dst/"
rm -rf "$dst/optional"
mkdir -p "$dst/datasources"
if [ -n "${WOODPECKER_URL:-}" ]; then
  cp "$src/optional/woodpecker.yaml" "$dst/datasources/woodpecker.yaml"
  echo "grafana-entrypoint: provisioning the Woodpecker data source for $WOODPECKER_URL" >&2
else
  echo "grafana-entrypoint: WOODPECKER_URL is unset: only the demo data source" >&2
fi

exec "$@"
