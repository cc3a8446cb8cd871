# shellcheck shell=bash
# Source this from bash to get CreditWatch's build/test environment in your shell:
#   source ops/env.sh
# Sets PKG_CONFIG_PATH (for the static librdkafka in .deps), PATH (.deps/bin: tansu) and the
# CREDITWATCH_* connection variables for the local servers of ops/servers.sh.
# shellcheck source=ops/lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)/lib.sh"
