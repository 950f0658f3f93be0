/*
 * keyring.c: master key, per-org data keys and sealing (SPEC §11).
 * Owns the master key and a cache of unwrapped data keys, all in
 * sodium_malloc memory. Never writes a key anywhere but the key file.
 */
#include "crypto/keyring.h"
#include "common/log.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define NONCE crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define TAG crypto_aead_xchacha20poly1305_ietf_ABYTES
#define CHECK_PLAINTEXT "fx master key check v1"

struct org_key {
    char org_id[40];
    unsigned char *key; /* sodium_malloc'd */
    struct org_key *next;
};

struct fx_keyring {
    unsigned char *master; /* sodium_malloc'd, FX_KEY_BYTES */
    pthread_rwlock_t lock;
    struct org_key *cache; /* guarded by lock */
};

static enum fx_err seal_raw(const unsigned char *key, const char *aad, const void *pt,
                            size_t pt_len, unsigned char **out, size_t *out_len)
{
    size_t n = NONCE + pt_len + TAG;
    unsigned char *c = fx_xmalloc(n);
    randombytes_buf(c, NONCE);
    unsigned long long clen = 0;
    crypto_aead_xchacha20poly1305_ietf_encrypt(c + NONCE, &clen, pt, pt_len,
                                               (const unsigned char *)aad, strlen(aad), NULL, c,
                                               key);
    *out = c;
    *out_len = NONCE + (size_t)clen;
    return FX_OK;
}

static enum fx_err open_raw(const unsigned char *key, const char *aad, const void *ct,
                            size_t ct_len, unsigned char *pt_out, size_t *pt_len)
{
    const unsigned char *c = ct;
    if (ct_len < NONCE + TAG)
        return FX_ECRYPTO;
    unsigned long long mlen = 0;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(pt_out, &mlen, NULL, c + NONCE, ct_len - NONCE,
                                                   (const unsigned char *)aad, strlen(aad), c,
                                                   key) != 0)
        return FX_ECRYPTO;
    *pt_len = (size_t)mlen;
    return FX_OK;
}

enum fx_err fx_keyring_write_key_file(const char *path, const unsigned char *key)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0)
        return FX_EIO;
    ssize_t w = write(fd, key, FX_KEY_BYTES);
    int ok = w == FX_KEY_BYTES && fsync(fd) == 0;
    close(fd);
    return ok ? FX_OK : FX_EIO;
}

enum fx_err fx_keyring_create_master(const char *path)
{
    unsigned char *k = sodium_malloc(FX_KEY_BYTES);
    if (k == NULL)
        fx_die("sodium_malloc failed");
    crypto_aead_xchacha20poly1305_ietf_keygen(k);
    enum fx_err err = fx_keyring_write_key_file(path, k);
    sodium_free(k);
    return err;
}

enum fx_err fx_keyring_load(const char *path, struct fx_keyring **out)
{
    *out = NULL;
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return FX_EIO;
    struct stat sb;
    if (fstat(fd, &sb) != 0 || (sb.st_mode & 077) != 0 || sb.st_size != FX_KEY_BYTES) {
        close(fd);
        return FX_ECRYPTO;
    }
    struct fx_keyring *kr = fx_xcalloc(1, sizeof(*kr));
    kr->master = sodium_malloc(FX_KEY_BYTES);
    if (kr->master == NULL)
        fx_die("sodium_malloc failed");
    ssize_t r = read(fd, kr->master, FX_KEY_BYTES);
    close(fd);
    if (r != FX_KEY_BYTES) {
        sodium_free(kr->master);
        free(kr);
        return FX_EIO;
    }
    sodium_mprotect_readonly(kr->master);
    pthread_rwlock_init(&kr->lock, NULL);
    *out = kr;
    return FX_OK;
}

void fx_keyring_free(struct fx_keyring *kr)
{
    if (kr == NULL)
        return;
    struct org_key *k = kr->cache;
    while (k) {
        struct org_key *next = k->next;
        sodium_free(k->key);
        free(k);
        k = next;
    }
    sodium_free(kr->master);
    pthread_rwlock_destroy(&kr->lock);
    free(kr);
}

static const char *CHECK_SQL_GET = "SELECT value FROM meta WHERE key = 'master_check'";
static const char *CHECK_SQL_PUT = "INSERT INTO meta (key, value) VALUES ('master_check', $1)";
static const char *CHECK_SQL_SET = "UPDATE meta SET value = $1 WHERE key = 'master_check'";

/* Stores the check value sealed under master with sql (CHECK_SQL_PUT or CHECK_SQL_SET). */
static enum fx_err put_check(struct fx_db *db, const unsigned char *master, const char *sql)
{
    unsigned char *c = NULL;
    size_t clen = 0;
    struct fx_stmt *st = NULL;
    bool row;
    seal_raw(master, "master_check", CHECK_PLAINTEXT, strlen(CHECK_PLAINTEXT), &c, &clen);
    enum fx_err err = fx_db_prepare(db, sql, &st);
    if (err == FX_OK) {
        fx_stmt_bind_blob(st, 1, c, clen);
        err = fx_stmt_step(st, &row);
        fx_stmt_finalize(st);
    }
    free(c);
    return err;
}

enum fx_err fx_keyring_verify(struct fx_keyring *kr, struct fx_db *db)
{
    struct fx_stmt *st = NULL;
    bool row = false;
    enum fx_err err = fx_db_prepare(db, CHECK_SQL_GET, &st);
    if (err != FX_OK)
        return err;
    err = fx_stmt_step(st, &row);
    if (err == FX_OK && row) {
        size_t len = 0;
        const void *blob = fx_stmt_blob(st, 0, &len);
        unsigned char pt[64];
        size_t pt_len = 0;
        err = len <= sizeof(pt) + NONCE ? open_raw(kr->master, "master_check", blob, len, pt,
                                                   &pt_len)
                                        : FX_ECRYPTO;
        if (err == FX_OK && (pt_len != strlen(CHECK_PLAINTEXT) ||
                             memcmp(pt, CHECK_PLAINTEXT, pt_len) != 0))
            err = FX_ECRYPTO;
        fx_stmt_finalize(st);
        return err;
    }
    fx_stmt_finalize(st);
    return err == FX_OK ? put_check(db, kr->master, CHECK_SQL_PUT) : err;
}

static void wrap_aad(const char *org_id, char *aad, size_t n)
{
    snprintf(aad, n, "org-key:%s", org_id);
}

enum fx_err fx_keyring_new_org_key(struct fx_keyring *kr, struct fx_db *db, const char *org_id,
                                   unsigned char **blob_out, size_t *len_out)
{
    /* Writing the check row first orders this transaction with a rotation's,
     * which changes that row before it re-wraps (fx_keyring_rewrap_all): the
     * rotation then either waits for this org and re-wraps its key too, or
     * commits first and the check below fails. */
    static const char *lock_sql = "UPDATE meta SET value = value WHERE key = 'master_check'";
    struct fx_stmt *st = NULL;
    bool row;
    *blob_out = NULL;
    *len_out = 0;
    enum fx_err err = fx_db_prepare(db, lock_sql, &st);
    if (err == FX_OK) {
        err = fx_stmt_step(st, &row);
        fx_stmt_finalize(st);
    }
    if (err == FX_OK)
        err = fx_keyring_verify(kr, db);
    if (err == FX_ECRYPTO)
        fx_log("error",
               "the master key was rotated since fxd started: restart fxd with the new key", NULL);
    if (err != FX_OK)
        return err;
    unsigned char *k = sodium_malloc(FX_KEY_BYTES);
    if (k == NULL)
        fx_die("sodium_malloc failed");
    crypto_aead_xchacha20poly1305_ietf_keygen(k);
    char aad[80];
    wrap_aad(org_id, aad, sizeof(aad));
    seal_raw(kr->master, aad, k, FX_KEY_BYTES, blob_out, len_out);
    sodium_free(k);
    return FX_OK;
}

/* Returns the cached data key of org_id, unwrapping it from the orgs table on first use. */
static enum fx_err org_key(struct fx_keyring *kr, struct fx_db *db, const char *org_id,
                           const unsigned char **key_out)
{
    pthread_rwlock_rdlock(&kr->lock);
    for (struct org_key *k = kr->cache; k; k = k->next) {
        if (strcmp(k->org_id, org_id) == 0) {
            *key_out = k->key;
            pthread_rwlock_unlock(&kr->lock);
            return FX_OK;
        }
    }
    pthread_rwlock_unlock(&kr->lock);

    static const char *sql = "SELECT wrapped_key FROM orgs WHERE id = $1";
    struct fx_stmt *st = NULL;
    bool row = false;
    enum fx_err err = fx_db_prepare(db, sql, &st);
    if (err != FX_OK)
        return err;
    fx_stmt_bind_str(st, 1, org_id);
    err = fx_stmt_step(st, &row);
    if (err != FX_OK || !row) {
        fx_stmt_finalize(st);
        return err != FX_OK ? err : FX_ENOTFOUND;
    }
    size_t len = 0;
    const void *blob = fx_stmt_blob(st, 0, &len);
    unsigned char *key = sodium_malloc(FX_KEY_BYTES + TAG);
    if (key == NULL)
        fx_die("sodium_malloc failed");
    char aad[80];
    wrap_aad(org_id, aad, sizeof(aad));
    size_t klen = 0;
    err = len == NONCE + FX_KEY_BYTES + TAG ? open_raw(kr->master, aad, blob, len, key, &klen)
                                            : FX_ECRYPTO;
    fx_stmt_finalize(st);
    if (err != FX_OK || klen != FX_KEY_BYTES) {
        sodium_free(key);
        fx_log("error", "an org data key does not open with the master key",
               json_pack("{s:s}", "org", org_id));
        return FX_ECRYPTO;
    }
    struct org_key *ok = fx_xcalloc(1, sizeof(*ok));
    snprintf(ok->org_id, sizeof(ok->org_id), "%s", org_id);
    ok->key = key;
    pthread_rwlock_wrlock(&kr->lock);
    ok->next = kr->cache;
    kr->cache = ok;
    pthread_rwlock_unlock(&kr->lock);
    *key_out = key;
    return FX_OK;
}

enum fx_err fx_keyring_seal(struct fx_keyring *kr, struct fx_db *db, const char *org_id,
                            const char *aad, const void *pt, size_t pt_len, unsigned char **out,
                            size_t *out_len)
{
    const unsigned char *key = NULL;
    enum fx_err err = org_key(kr, db, org_id, &key);
    if (err != FX_OK)
        return err;
    return seal_raw(key, aad, pt, pt_len, out, out_len);
}

enum fx_err fx_keyring_open(struct fx_keyring *kr, struct fx_db *db, const char *org_id,
                            const char *aad, const void *ct, size_t ct_len, char **out,
                            size_t *out_len)
{
    *out = NULL;
    const unsigned char *key = NULL;
    enum fx_err err = org_key(kr, db, org_id, &key);
    if (err != FX_OK)
        return err;
    if (ct_len < NONCE + TAG)
        return FX_ECRYPTO;
    unsigned char *pt = fx_xmalloc(ct_len - NONCE - TAG + 1);
    size_t n = 0;
    err = open_raw(key, aad, ct, ct_len, pt, &n);
    if (err != FX_OK) {
        free(pt);
        return err;
    }
    pt[n] = '\0';
    *out = (char *)pt;
    if (out_len)
        *out_len = n;
    return FX_OK;
}

enum fx_err fx_keyring_open_to(struct fx_keyring *kr, struct fx_db *db, const char *org_id,
                               const char *aad, const void *ct, size_t ct_len, void *out,
                               size_t cap, size_t *out_len)
{
    const unsigned char *key = NULL;
    enum fx_err err = org_key(kr, db, org_id, &key);
    if (err != FX_OK)
        return err;
    if (ct_len < NONCE + TAG)
        return FX_ECRYPTO;
    if (cap < ct_len - NONCE - TAG)
        return FX_ETOOBIG;
    return open_raw(key, aad, ct, ct_len, out, out_len);
}

enum fx_err fx_keyring_rewrap_all(struct fx_keyring *kr, struct fx_db *db,
                                  const unsigned char *new_master)
{
    static const char *sel = "SELECT id, wrapped_key FROM orgs ORDER BY id";
    static const char *upd = "UPDATE orgs SET wrapped_key = $1 WHERE id = $2";
    struct fx_stmt *st = NULL, *up = NULL;
    bool row = false;
    /* the check row first: an org being created meanwhile (fx_keyring_new_org_key)
     * is either committed before the orgs are read, or sees the new check */
    enum fx_err err = put_check(db, new_master, CHECK_SQL_SET);
    if (err != FX_OK)
        return err;
    unsigned char *key = sodium_malloc(FX_KEY_BYTES + TAG);
    if (key == NULL)
        fx_die("sodium_malloc failed");
    err = fx_db_prepare(db, sel, &st);
    if (err != FX_OK)
        goto out;
    err = fx_db_prepare(db, upd, &up);
    if (err != FX_OK)
        goto out;
    for (;;) {
        err = fx_stmt_step(st, &row);
        if (err != FX_OK || !row)
            break;
        const char *id = fx_stmt_text(st, 0, NULL);
        size_t len = 0, klen = 0;
        const void *blob = fx_stmt_blob(st, 1, &len);
        char aad[80];
        wrap_aad(id, aad, sizeof(aad));
        err = open_raw(kr->master, aad, blob, len, key, &klen);
        if (err != FX_OK)
            break;
        unsigned char *w = NULL;
        size_t wlen = 0;
        seal_raw(new_master, aad, key, klen, &w, &wlen);
        fx_stmt_bind_blob(up, 1, w, wlen);
        fx_stmt_bind_str(up, 2, id);
        bool r2;
        err = fx_stmt_step(up, &r2);
        fx_stmt_finalize(up);
        free(w);
        if (err != FX_OK)
            break;
    }
out:
    fx_stmt_finalize(st);
    fx_stmt_finalize(up); /* statements are cached: finalizing again only resets */
    sodium_free(key);
    return err;
}
