/*
 * Sessions rendered ahead of time: every telemetry batch of a session
 * written and gzip-compressed before a load run's clock starts, so that
 * sending one costs the simulator next to nothing, and unpacked back into
 * items when the batch size changes under it (a 413, another maxBatchSize).
 *
 * A batch is the JSON array the device would have written at send time,
 * "[" item "," item ... "]", so the bytes on the wire are the same either
 * way; the item lengths kept beside it are what unpacking needs.
 */

#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "sim_buf.h"
#include "sim_pack.h"

/* Every item starts so: the envelope's first member is its Kind. */
#define EVENT_PREFIX  "{\"Kind\":\"Event\""


/* Writes items [first, first + n) as one JSON array into json. */
static void
render_batch(const sim_session_t *s, size_t first, size_t n, sim_buf_t *json)
{
    size_t  i;

    sim_buf_reset(json);
    sim_buf_add(json, "[", 1);
    for (i = 0; i < n; i++) {
        if (i > 0) {
            sim_buf_add(json, ",", 1);
        }
        sim_buf_add(json, s->items[first + i].json, s->items[first + i].len);
    }
    sim_buf_add(json, "]", 1);
}


static int
pack_batch(const sim_session_t *s, size_t first, size_t n, int level,
           sim_buf_t *json, sim_buf_t *gz, sim_batch_t *b)
{
    size_t  i;

    render_batch(s, first, n, json);
    if (json->failed || sim_buf_gzip(gz, json->data, json->len, level) != 0) {
        return -1;
    }
    b->wire = malloc(gz->len);
    b->lens = malloc(n * sizeof(*b->lens));
    if (b->wire == NULL || b->lens == NULL) {
        return -1;
    }
    memcpy(b->wire, gz->data, gz->len);
    b->wire_len = gz->len;
    b->nitems = n;
    b->nevents = 0;
    for (i = 0; i < n; i++) {
        b->lens[i] = (unsigned) s->items[first + i].len;
        b->nevents += (size_t) s->items[first + i].is_event;
    }
    return 0;
}


static void
free_batches(sim_batch_t *batches, size_t n)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        free(batches[i].wire);
        free(batches[i].lens);
    }
    free(batches);
}


static void
free_items(sim_session_t *s)
{
    size_t  i;

    for (i = 0; i < s->nitems; i++) {
        free(s->items[i].json);
    }
    free(s->items);
    s->items = NULL;
    s->cap = 0;
}


int
sim_session_pack(sim_session_t *s, size_t batch, int level)
{
    sim_batch_t  *batches;
    sim_buf_t     json = { 0 }, gz = { 0 };
    size_t        nbatches, i, n;
    int           rc;

    if (batch == 0 || s->items == NULL) {
        return -1;
    }
    nbatches = (s->nitems + batch - 1) / batch;
    batches = calloc(nbatches ? nbatches : 1, sizeof(*batches));
    if (batches == NULL) {
        return -1;
    }
    rc = 0;
    for (i = 0; i < nbatches && rc == 0; i++) {
        n = s->nitems - i * batch < batch ? s->nitems - i * batch : batch;
        rc = pack_batch(s, i * batch, n, level, &json, &gz, &batches[i]);
    }
    sim_buf_free(&json);
    sim_buf_free(&gz);
    if (rc != 0) {
        free_batches(batches, nbatches);
        return -1;
    }
    free_items(s);
    s->batches = batches;
    s->nbatches = nbatches;
    s->packed_batch = batch;
    return 0;
}


/* Inflates a batch's gzip body into out, which must come out exactly as
 * long as its item lengths say; 0 or -1. */
static int
gunzip(const sim_batch_t *b, sim_buf_t *out)
{
    z_stream  z;
    size_t    want, i;
    int       rc;

    want = 1 + b->nitems;       /* "[", "]" and a comma between items */
    for (i = 0; i < b->nitems; i++) {
        want += b->lens[i];
    }
    sim_buf_reset(out);
    if (sim_buf_reserve(out, want) != 0) {
        return -1;
    }
    memset(&z, 0, sizeof(z));
    if (inflateInit2(&z, 15 + 16) != Z_OK) {
        return -1;
    }
    z.next_in = (Bytef *) b->wire;
    z.avail_in = (uInt) b->wire_len;
    z.next_out = (Bytef *) out->data;
    z.avail_out = (uInt) want;
    rc = inflate(&z, Z_FINISH);
    out->len = z.total_out;
    inflateEnd(&z);
    return rc == Z_STREAM_END && out->len == want ? 0 : -1;
}


int
sim_session_unpack(sim_session_t *s)
{
    sim_item_t  *items;
    sim_buf_t    json = { 0 };
    size_t       i, j, k, at;

    if (s->packed_batch == 0) {
        return 0;
    }
    items = calloc(s->nitems ? s->nitems : 1, sizeof(*items));
    if (items == NULL) {
        return -1;
    }
    k = 0;
    for (i = 0; i < s->nbatches; i++) {
        const sim_batch_t  *b = &s->batches[i];

        if (gunzip(b, &json) != 0) {
            goto failed;
        }
        at = 1;                         /* after "[" */
        for (j = 0; j < b->nitems; j++, k++) {
            items[k].len = b->lens[j];
            items[k].json = malloc(b->lens[j] + 1);
            if (items[k].json == NULL) {
                goto failed;
            }
            memcpy(items[k].json, json.data + at, b->lens[j]);
            items[k].json[b->lens[j]] = '\0';
            items[k].is_event = strncmp(items[k].json, EVENT_PREFIX,
                                        sizeof(EVENT_PREFIX) - 1) == 0;
            at += b->lens[j] + 1;       /* and its "," */
        }
    }
    sim_buf_free(&json);
    free_batches(s->batches, s->nbatches);
    s->batches = NULL;
    s->nbatches = 0;
    s->packed_batch = 0;
    s->items = items;
    s->cap = s->nitems;
    return 0;

failed:
    sim_buf_free(&json);
    for (i = 0; i < s->nitems; i++) {
        free(items[i].json);
    }
    free(items);
    return -1;
}


size_t
sim_session_packed_bytes(const sim_session_t *s)
{
    size_t  i, n;

    n = s->nbatches * sizeof(sim_batch_t);
    for (i = 0; i < s->nbatches; i++) {
        n += s->batches[i].wire_len + s->batches[i].nitems * sizeof(unsigned);
    }
    return n;
}
