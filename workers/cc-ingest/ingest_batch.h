/*
 * Reading a telemetry batch (agent-protocol.md 7): the JSON array of
 * TelemetryItem an agent uploads, checked against the tenant of its
 * certificate, read in one pass into the rows cc-ingest stores.  No JSON
 * tree is built: the batch is scanned where it lies (lib/cc_jscan.h), and
 * every string kept is unescaped into one arena the batch owns.
 */

#ifndef INGEST_BATCH_H
#define INGEST_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "cc_uuid.h"

/* The protocol's cap on a decompressed batch (agent-protocol.md 7). */
#define INGEST_MAX_INFLATED  (5 * 1024 * 1024)

typedef enum {
    INGEST_BATCH_OK = 0,
    INGEST_BATCH_BAD_JSON,      /* 400 malformed_json: not JSON at all */
    INGEST_BATCH_MALFORMED,     /* 400 invalid_batch: not an array, empty,
                                   an item not an object, bad key */
    INGEST_BATCH_OTHER_TENANT,  /* 403: the key names another tenant */
    INGEST_BATCH_NO_MEMORY      /* 503 */
} ingest_batch_result_t;

/*
 * An Event (agent-protocol.md 7, "Payload: Event").  Strings are
 * NUL-terminated, unescaped UTF-8 in the batch's arena; NULL when the
 * payload lacks the member or it has another type.  Integers outside the
 * range of their column are treated as absent.
 */
typedef struct ingest_event {
    long long    sequence;      /* Sequence, >= 0 */
    long long    item_id;       /* TelemetryItemId, -1 when absent */
    const char  *event_time;    /* Timestamp: ingest_is_timestamp() holds */
    int64_t      time_usecs;    /* ... as timestamptz (cc_pgtime.h) */
    int          time_has_offset;
    const char  *event_type;    /* EventType, never empty */
    const char  *event_id;      /* EventId */
    const char  *source;        /* Source */
    const char  *message;       /* Message */
    const char  *data;          /* Data when an object: its JSON text */
    const char  *data_reason;   /* Data.reason when a string */
    int          severity;      /* Severity, when has_severity */
    int          has_severity;
    int          phase;         /* Phase, when has_phase */
    int          has_phase;
} ingest_event_t;

/* A Signal (keyed by SessionSignalOrdinal) or a DecisionTransition (keyed
 * by StepIndex), stored as the agent sent it. */
typedef struct ingest_trace {
    const char  *kind;          /* "Signal" or "DecisionTransition" */
    long long    ordinal;       /* >= 0 */
    long long    item_id;       /* TelemetryItemId, -1 when absent */
    const char  *occurred_at;   /* OccurredAtUtc when a timestamp, or NULL */
    int64_t      at_usecs;      /* ... as timestamptz, when not NULL */
    int          at_has_offset;
    const char  *payload;       /* the payload object's JSON text */
} ingest_trace_t;

typedef struct ingest_batch {
    char             tenant[CC_UUID_STR_LEN + 1];
    char             session[CC_UUID_STR_LEN + 1];
    ingest_event_t  *events;    /* in the batch's order */
    size_t           nevents;
    ingest_trace_t  *trace;
    size_t           ntrace;
    size_t           received;  /* items in the batch */
    size_t           accepted;  /* items of a known Kind that read */
    long long        max_item_id;   /* highest TelemetryItemId, -1 if none */
    char            *arena;     /* owns every string above */
} ingest_batch_t;

/*
 * Reads the batch text (len bytes, not necessarily NUL-terminated) for
 * the certificate's tenant.  Items of an unknown Kind, and items whose
 * PayloadJson does not parse or lacks what identifies it (an Event's
 * Sequence, Timestamp and EventType; a Signal's SessionSignalOrdinal; a
 * Transition's StepIndex) are skipped: the protocol acknowledges the
 * rest.  On OK the caller frees b with ingest_batch_free; on any other
 * result b holds nothing to free.  *why is a fixed message for the
 * refusal; it never quotes the body.
 */
ingest_batch_result_t ingest_batch_read(const char *text, size_t len,
                                        const char *tenant,
                                        ingest_batch_t *b, const char **why);

void ingest_batch_free(ingest_batch_t *b);

/* The longest date-time ingest_is_timestamp() accepts. */
#define INGEST_TIMESTAMP_MAX  64

/* True when s has the shape of an ISO-8601 date-time PostgreSQL reads,
 * at most INGEST_TIMESTAMP_MAX characters. */
int ingest_is_timestamp(const char *s);

/* The same, with its timestamptz value (cc_pgtime_from_iso) when true. */
int ingest_read_timestamp(const char *s, int64_t *usecs, int *has_offset);

/*
 * Splits a PartitionKey "{tenantId}_{sessionId}" into two lowercase UUIDs;
 * -1 when it is not that.
 */
int ingest_split_partition_key(const char *key, char *tenant, char *session);

#endif /* INGEST_BATCH_H */
