#!/usr/bin/env bash
# Fails when the committed console bundle (web/dist, embedded in analyticsd)
# differs from a fresh build of web/src with the locked npm packages.
set -euo pipefail
cd "$(dirname "$0")/.."
make web
if ! git diff --exit-code --stat -- web/dist || [ -n "$(git status --porcelain --untracked-files=all -- web/dist)" ]; then
	git status --porcelain -- web/dist >&2
	echo "web/dist does not match web/src: run 'make web' and commit web/dist" >&2
	exit 1
fi
echo "web/dist matches its source"
