/*
 * ctx.h: what a running fxd hands to every request: the store, the keyring,
 * the clock, limits and counters. One struct passed by pointer, never a
 * global (STYLE §10).
 */
#ifndef FX_CTX_H
#define FX_CTX_H

#include "common/clock.h"
#include "crypto/keyring.h"
#include "ledger/signer.h"
#include "store/store.h"

#include <semaphore.h>
#include <stdatomic.h>

struct fx_ratelimit;
struct fx_viewcache;
struct fx_tokencache;

struct fx_metrics {
    atomic_ulong requests[6]; /* by status class: index 1..5 for 1xx..5xx */
    atomic_ulong store_errors;
    atomic_ulong writes;
    int64_t started_ms;
};

struct fx_ctx {
    struct fx_store *store;     /* borrowed from fxd main */
    struct fx_keyring *keys;    /* borrowed */
    struct fx_signer *signer;   /* borrowed: the ledger's key (signer.c alone touches it) */
    struct fx_clock clock;
    struct fx_ratelimit *rl;    /* owned by fxd main; NULL disables rate limits */
    struct fx_viewcache *views; /* owned by fxd main; NULL disables the cache */
    struct fx_viewcache *taxii_pages; /* owned by fxd main: TAXII pages (NULL: none) */
    /*
     * TAXII envelopes checked at once: the cores but the one the store's writer
     * needs (at least one), so that checking never starves the commit it feeds.
     */
    sem_t taxii_checkers;
    struct fx_tokencache *tokens; /* owned by fxd main; NULL: every request reads its token */
    struct fx_metrics metrics;
    const char *data_dir;       /* borrowed */
    size_t taxii_max_body;      /* TAXII envelopes (fxd serve --taxii-max-body); 0: the default */
};

#endif
