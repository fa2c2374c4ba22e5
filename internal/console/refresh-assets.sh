#!/usr/bin/env bash
# Refreshes the admin console's third-party assets from the npm registry:
# GraphiQL's UMD build and what it needs (React, ReactDOM, graphql-ws),
# at the exact versions below. The files are committed and embedded in the
# binary (go:embed), so the console never loads anything from a CDN.
#
#   internal/console/refresh-assets.sh            # re-fetch the pinned versions
#   GRAPHIQL=3.8.3 internal/console/refresh-assets.sh   # try another version
#
# GraphiQL 4 and later ship ES modules only (no UMD bundle); moving to them
# means adding a bundler step here. Needs npm and tar.
set -euo pipefail
GRAPHIQL="${GRAPHIQL:-3.8.3}"
REACT="${REACT:-18.3.1}"
GRAPHQL_WS="${GRAPHQL_WS:-5.16.2}"

dir="$(cd "$(dirname "$0")" && pwd)/assets/vendor"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
npm pack --silent "graphiql@$GRAPHIQL" "react@$REACT" "react-dom@$REACT" "graphql-ws@$GRAPHQL_WS" >/dev/null
for f in *.tgz; do mkdir "${f%.tgz}"; tar xzf "$f" -C "${f%.tgz}"; done

mkdir -p "$dir"
cp "graphiql-$GRAPHIQL/package/graphiql.min.js" "graphiql-$GRAPHIQL/package/graphiql.min.css" "$dir/"
cp "react-$REACT/package/umd/react.production.min.js" "$dir/"
cp "react-dom-$REACT/package/umd/react-dom.production.min.js" "$dir/"
cp "graphql-ws-$GRAPHQL_WS/package/umd/graphql-ws.min.js" "$dir/"
{
  echo "# Third-party files of the admin console, from the npm registry (refresh-assets.sh)."
  echo "graphiql $GRAPHIQL (MIT)"
  echo "react $REACT (MIT)"
  echo "react-dom $REACT (MIT)"
  echo "graphql-ws $GRAPHQL_WS (MIT)"
} >"$dir/VERSIONS"
cat "graphiql-$GRAPHIQL/package/LICENSE" >"$dir/LICENSE.graphiql"
cat "react-$REACT/package/LICENSE" >"$dir/LICENSE.react"
cat "graphql-ws-$GRAPHQL_WS/package/LICENSE.md" >"$dir/LICENSE.graphql-ws"
(cd "$dir" && sha256sum graphiql.min.js graphiql.min.css react.production.min.js react-dom.production.min.js graphql-ws.min.js >SHA256SUMS)
echo "console assets refreshed in $dir:"
cat "$dir/VERSIONS"
