#ifndef BROADCAST_CRDKAFKA_SHIM_H
#define BROADCAST_CRDKAFKA_SHIM_H

// librdkafka's public API plus the mock cluster used as the embedded broker.
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#endif
