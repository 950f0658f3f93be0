/*
 * config.c: the config file written by "fx login": one JSON object
 * {"url": ..., "token": ...} at $FX_CONFIG, else $XDG_CONFIG_HOME/fx/config,
 * else ~/.config/fx/config. The file holds a secret, so it is written with
 * mode 0600 (through a temporary file and rename, never half-written) and
 * fx warns when it finds it readable by others, as ssh does for its keys.
 * Nothing here prints the token.
 */
#include "cli/cli_int.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The config file's path (owned by the caller), or NULL when no home is known. */
char *fx_config_path(void)
{
    const char *env = getenv("FX_CONFIG");
    const char *xdg = getenv("XDG_CONFIG_HOME");
    const char *home = getenv("HOME");
    struct fx_buf b;
    char *path = NULL;

    fx_buf_init(&b, 64 * 1024);
    if (env != NULL && env[0] != '\0') {
        path = fx_xstrdup(env);
        goto out;
    }
    if (xdg != NULL && xdg[0] == '/') {
        if (fx_buf_printf(&b, "%s/fx/config", xdg) == FX_OK)
            path = fx_buf_take(&b, NULL);
        goto out;
    }
    if (home != NULL && home[0] != '\0' && fx_buf_printf(&b, "%s/.config/fx/config", home) == FX_OK)
        path = fx_buf_take(&b, NULL);
out:
    fx_buf_cleanup(&b);
    return path;
}

/*
 * Loads url and token (each owned by the caller, NULL when absent) from the
 * config file at path. A missing file is not an error: both come back NULL.
 * FX_EIO when it cannot be read, FX_EINVAL when it is not the expected JSON;
 * both are reported on stderr.
 */
enum fx_err fx_config_load(const char *path, char **url_out, char **token_out)
{
    enum fx_err err = FX_OK;
    int fd = -1;
    struct fx_buf b;
    json_t *j = NULL;
    json_error_t jerr;
    struct stat st;
    const char *keys[] = {"url", "token"};
    char **outs[] = {url_out, token_out};

    *url_out = NULL;
    *token_out = NULL;
    fx_buf_init(&b, FX_CLI_MAX_CONFIG);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno != ENOENT) {
            fprintf(stderr, "fx: cannot read config file %s: %s\n", path, strerror(errno));
            err = FX_EIO;
        }
        goto out;
    }
    if (fstat(fd, &st) == 0 && (st.st_mode & 077) != 0)
        fprintf(stderr, "fx: warning: config file %s is readable by others; run 'chmod 600 %s'\n",
                path, path);
    err = fx_cli_read_fd(fd, FX_CLI_MAX_CONFIG, &b);
    if (err != FX_OK) {
        fprintf(stderr, "fx: cannot read config file %s: %s\n", path,
                err == FX_ETOOBIG ? "too large" : strerror(errno));
        goto out;
    }
    j = json_loadb(b.p ? b.p : "", b.len, JSON_REJECT_DUPLICATES, &jerr);
    if (j == NULL || !json_is_object(j)) {
        fprintf(stderr, "fx: config file %s is not a JSON object\n", path);
        err = FX_EINVAL;
        goto out;
    }
    for (size_t i = 0; i < FX_ARRAY_LEN(keys); i++) {
        json_t *v = json_object_get(j, keys[i]);
        if (v == NULL || json_is_null(v))
            continue;
        if (!json_is_string(v)) {
            fprintf(stderr, "fx: config file %s: \"%s\" is not a string\n", path, keys[i]);
            err = FX_EINVAL;
            goto out;
        }
        *outs[i] = fx_xstrdup(json_string_value(v));
    }
out:
    if (err != FX_OK) {
        FX_FREE(*url_out);
        FX_FREE(*token_out);
    }
    json_decref(j);
    if (b.p != NULL)
        sodium_memzero(b.p, b.len);
    fx_buf_cleanup(&b);
    if (fd >= 0)
        close(fd);
    return err;
}

/* Creates the directories above path that are missing, mode 0700. */
static enum fx_err make_parents(const char *path)
{
    enum fx_err err = FX_OK;
    char *dir = fx_xstrdup(path);

    for (char *p = dir + 1; *p != '\0'; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
            fprintf(stderr, "fx: cannot create %s: %s\n", dir, strerror(errno));
            err = FX_EIO;
            goto out;
        }
        *p = '/';
    }
out:
    free(dir);
    return err;
}

static enum fx_err write_all(int fd, const char *p, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return FX_EIO;
        p += n;
        len -= (size_t)n;
    }
    return FX_OK;
}

/*
 * Writes {"url", "token"} to path with mode 0600, replacing any earlier file
 * atomically. FX_EIO (reported on stderr) when that fails.
 */
enum fx_err fx_config_save(const char *path, const char *url, const char *token)
{
    enum fx_err err = FX_OK;
    json_t *j = NULL;
    char *text = NULL;
    struct fx_buf tmp;
    int fd = -1;
    bool created = false;

    fx_buf_init(&tmp, 64 * 1024);
    err = make_parents(path);
    if (err != FX_OK)
        goto out;
    j = json_pack("{s:s, s:s}", "url", url, "token", token);
    if (j == NULL)
        fx_die("out of memory");
    text = json_dumps(j, JSON_INDENT(2));
    if (text == NULL)
        fx_die("out of memory");
    err = fx_buf_printf(&tmp, "%s.XXXXXX", path);
    if (err != FX_OK)
        goto out;
    fd = mkstemp(tmp.p); /* creates the file with mode 0600 */
    if (fd < 0) {
        fprintf(stderr, "fx: cannot write %s: %s\n", tmp.p, strerror(errno));
        err = FX_EIO;
        goto out;
    }
    created = true;
    if (fchmod(fd, 0600) != 0 || write_all(fd, text, strlen(text)) != FX_OK ||
        write_all(fd, "\n", 1) != FX_OK || fsync(fd) != 0) {
        fprintf(stderr, "fx: cannot write %s: %s\n", tmp.p, strerror(errno));
        err = FX_EIO;
        goto out;
    }
    if (close(fd) != 0) {
        fd = -1;
        fprintf(stderr, "fx: cannot write %s: %s\n", tmp.p, strerror(errno));
        err = FX_EIO;
        goto out;
    }
    fd = -1;
    if (rename(tmp.p, path) != 0) {
        fprintf(stderr, "fx: cannot write %s: %s\n", path, strerror(errno));
        err = FX_EIO;
        goto out;
    }
out:
    if (fd >= 0)
        close(fd);
    if (err != FX_OK && created)
        unlink(tmp.p);
    if (text != NULL)
        sodium_memzero(text, strlen(text));
    free(text);
    json_decref(j);
    fx_buf_cleanup(&tmp);
    return err;
}
