/*
 * replay.c: runs one fuzz target's LLVMFuzzerTestOneInput over files, without
 * libFuzzer, so that corpora and crash files replay in any build (gcc, with or
 * without sanitizers), after SQLite's test/fuzzcheck.c. Each argument is a
 * file or a directory (its regular files, not recursively). Exits non-zero
 * when an argument cannot be read; a failed invariant aborts.
 *
 *   replay_json_body fuzz/corpus/json_body crash-1234
 */
#include "fuzz.h"

#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

/* Reads path whole into a malloc'd buffer (*data_out, *len_out). Returns 0 or -1. */
static int read_file(const char *path, uint8_t **data_out, size_t *len_out)
{
    FILE *f = fopen(path, "rb");
    uint8_t *data = NULL;
    size_t len = 0, cap = 0;
    int rc = -1;
    if (f == NULL)
        goto out;
    for (;;) {
        if (len == cap) {
            cap = cap ? cap * 2 : 4096;
            uint8_t *p = realloc(data, cap);
            if (p == NULL)
                goto out;
            data = p;
        }
        size_t n = fread(data + len, 1, cap - len, f);
        len += n;
        if (n == 0)
            break;
    }
    if (ferror(f))
        goto out;
    *data_out = data;
    *len_out = len;
    data = NULL;
    rc = 0;
out:
    free(data);
    if (f)
        fclose(f);
    return rc;
}

static int run_file(const char *path)
{
    uint8_t *data = NULL;
    size_t len = 0;
    if (read_file(path, &data, &len) != 0) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        return -1;
    }
    /* An exact-size copy, so that ASan sees any read past the end. */
    uint8_t *exact = malloc(len ? len : 1);
    if (exact == NULL) {
        free(data);
        return -1;
    }
    if (len)
        memcpy(exact, data, len);
    free(data);
    /* Named first, so that a failed invariant or a sanitizer report says which input. */
    fprintf(stderr, "replay: %s (%zu bytes)\n", path, len);
    LLVMFuzzerTestOneInput(exact, len);
    free(exact);
    return 0;
}

static int run_dir(const char *path, size_t *count)
{
    DIR *d = opendir(path);
    if (d == NULL) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        return -1;
    }
    int rc = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        size_t n = strlen(path) + strlen(e->d_name) + 2;
        char *full = malloc(n);
        if (full == NULL) {
            rc = -1;
            break;
        }
        snprintf(full, n, "%s/%s", path, e->d_name);
        struct stat st;
        if (stat(full, &st) == 0 && S_ISREG(st.st_mode)) {
            if (run_file(full) != 0)
                rc = -1;
            else
                (*count)++;
        }
        free(full);
    }
    closedir(d);
    return rc;
}

int main(int argc, char **argv)
{
    size_t count = 0;
    int rc = 0;
    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE_OR_DIR...\n", argv[0]);
        return 2;
    }
    LLVMFuzzerInitialize(&argc, &argv);
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) {
            fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno));
            rc = 1;
        } else if (S_ISDIR(st.st_mode)) {
            if (run_dir(argv[i], &count) != 0)
                rc = 1;
        } else if (run_file(argv[i]) != 0) {
            rc = 1;
        } else {
            count++;
        }
    }
    printf("replay: %zu inputs, %s\n", count, rc ? "errors" : "ok");
    return rc;
}
