/*
 * org.h: organizations, users and tokens (SPEC §2, §12): validation of their
 * inputs and their persistence. Results are JSON views ready to serve.
 */
#ifndef FX_ORG_H
#define FX_ORG_H

#include "auth/principal.h"
#include "common/problem.h"
#include "crypto/keyring.h"
#include "store/store.h"

#include <jansson.h>

#define FX_N_SECTORS 16
extern const char *const fx_sectors[]; /* the 16 CISA sectors, NULL-terminated */

struct fx_org_input {
    const char *name; /* borrowed from the request JSON */
    const char *kind;
    const char *mission;
    const char *sector;
};

/* Validates a create-org body into in (strings borrowed from body). Problems go to pb. */
void fx_org_validate(json_t *body, struct fx_org_input *in, struct fx_problem *pb);
/* Inserts an org with a fresh data key. FX_ECONFLICT when the name exists. *out: new view. */
enum fx_err fx_org_create(struct fx_db *db, struct fx_keyring *kr, int64_t now,
                          const struct fx_org_input *in, json_t **out);
/* The org view, FX_ENOTFOUND when absent. */
enum fx_err fx_org_get(struct fx_db *db, const char *id, json_t **out);
/*
 * The lists (SPEC §12) in id order, creation order: at most limit views after
 * after_id (NULL: from the first) in *items_out (owned), and in *next_out
 * (owned) the cursor of the next page, NULL on the last. kind may be NULL.
 */
enum fx_err fx_org_list(struct fx_db *db, const char *kind, const char *after_id, int64_t limit,
                        json_t **items_out, char **next_out);

struct fx_user_input {
    const char *email, *name, *role; /* borrowed */
};
void fx_user_validate(json_t *body, enum fx_org_kind org_kind, struct fx_user_input *in,
                      struct fx_problem *pb);
/* Inserts a user. FX_ECONFLICT when a user's email differs from in->email at most by the
 * case of ASCII letters. *out: the new view. */
enum fx_err fx_user_create(struct fx_db *db, int64_t now, const char *org_id,
                           const struct fx_user_input *in, json_t **out);
/* The user's org, FX_ENOTFOUND when absent. org_out: 37 bytes. */
enum fx_err fx_user_org(struct fx_db *db, const char *user_id, char *org_out);
/* An org's users, as fx_org_list pages. */
enum fx_err fx_user_list(struct fx_db *db, const char *org_id, const char *after_id, int64_t limit,
                         json_t **items_out, char **next_out);

/* Creates a token for user_id, days of validity. *out holds the token itself: show once. */
enum fx_err fx_token_create(struct fx_db *db, int64_t now, const char *user_id, const char *name,
                            int64_t days, json_t **out);
/* A user's tokens (never their secrets), as fx_org_list pages. */
enum fx_err fx_token_list(struct fx_db *db, const char *user_id, const char *after_id,
                          int64_t limit, json_t **items_out, char **next_out);
/* Whether user_id holds or ever held a token (revoked and expired ones count). */
enum fx_err fx_token_any(struct fx_db *db, const char *user_id, bool *out);
/* The token's user and that user's org. FX_ENOTFOUND when absent. */
enum fx_err fx_token_owner(struct fx_db *db, const char *token_id, char *user_out, char *org_out);
enum fx_err fx_token_revoke(struct fx_db *db, int64_t now, const char *token_id);

/* Kind of an org, FX_ENOTFOUND when absent. */
enum fx_err fx_org_kind_of(struct fx_db *db, const char *org_id, enum fx_org_kind *kind_out);

#endif
