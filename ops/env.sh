# shellcheck shell=bash
# Source this from bash to get CreditWatch's build/test environment in your shell:
#   source ops/env.sh
# Sets PKG_CONFIG_PATH (for the static librdkafka and hiredis in .deps), PATH (.deps/bin: tansu)
# and the CREDITWATCH_* connection variables for the local servers of ops/servers.sh (all set in
# lib.sh), among them CREDITWATCH_TEST_REDIS_TLS_PORT and CREDITWATCH_TEST_REDIS_TLS_CA for TLS
# to the local Redis.
# shellcheck source=ops/lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)/lib.sh"
