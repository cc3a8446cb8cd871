#ifndef CREDITWATCH_CRDKAFKA_SHIM_H
#define CREDITWATCH_CRDKAFKA_SHIM_H
#include <librdkafka/rdkafka.h>

/// rd_kafka_producev is variadic and cannot be called from Swift: this shim produces one
/// message with a key and a value (both copied) to a topic/partition.
static inline rd_kafka_resp_err_t cw_produce(rd_kafka_t *rk, const char *topic, int32_t partition,
                                             const void *key, size_t key_len,
                                             const void *value, size_t value_len) {
    return rd_kafka_producev(rk,
                             RD_KAFKA_V_TOPIC(topic),
                             RD_KAFKA_V_PARTITION(partition),
                             RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                             RD_KAFKA_V_KEY((void *)key, key_len),
                             RD_KAFKA_V_VALUE((void *)value, value_len),
                             RD_KAFKA_V_END);
}
#endif
