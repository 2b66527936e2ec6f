#!/usr/bin/env bash
# Installs the Node.js clients (node-redis, ioredis) at the versions
# package.json names into interop/node/node_modules, unless they are there
# already: for make interop and make test-cluster.
set -euo pipefail
cd "$(dirname "$0")"
if ! node -e '
	const want = require("./package.json").dependencies;
	for (const [name, version] of Object.entries(want))
		if (require(name + "/package.json").version !== version) process.exit(1);' 2>/dev/null; then
	echo "installing node-redis and ioredis from npm" >&2
	npm install --no-package-lock --no-audit --no-fund --loglevel=error >/dev/null
fi
