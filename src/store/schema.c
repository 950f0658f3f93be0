/*
 * schema.c: the schema as numbered migrations. Confidential bodies are BLOBs
 * sealed by src/crypto (SPEC §11); everything in plain columns is metadata that
 * lists and filters need and that reveals no notice content.
 * The audit table refuses UPDATE and DELETE at the database level (SPEC §10).
 */
#include "store/store_int.h"

const struct fx_migration fx_migrations[] = {
    {1, "initial",
     "CREATE TABLE meta (key TEXT PRIMARY KEY, value BLOB NOT NULL);"
     "CREATE TABLE orgs (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, kind TEXT NOT NULL,"
     " mission TEXT, sector TEXT, wrapped_key BLOB NOT NULL, created_at BIGINT NOT NULL);"
     "CREATE TABLE users (id TEXT PRIMARY KEY, org_id TEXT NOT NULL REFERENCES orgs(id),"
     " email TEXT NOT NULL UNIQUE, name TEXT NOT NULL, role TEXT NOT NULL,"
     " password_hash TEXT, created_at BIGINT NOT NULL);"
     "CREATE INDEX users_org ON users(org_id);"
     "CREATE TABLE tokens (id TEXT PRIMARY KEY, user_id TEXT NOT NULL REFERENCES users(id),"
     " hash BLOB NOT NULL UNIQUE, name TEXT, created_at BIGINT NOT NULL,"
     " expires_at BIGINT NOT NULL, revoked_at BIGINT);"
     "CREATE INDEX tokens_user ON tokens(user_id);"
     "CREATE TABLE policies (sha256 TEXT PRIMARY KEY, name TEXT NOT NULL, body TEXT NOT NULL,"
     " created_at BIGINT NOT NULL, active INTEGER NOT NULL DEFAULT 0);"
     "CREATE TABLE ref_counters (year INTEGER PRIMARY KEY, last INTEGER NOT NULL);"
     "CREATE TABLE notices (id TEXT PRIMARY KEY, ref TEXT NOT NULL UNIQUE,"
     " org_id TEXT NOT NULL REFERENCES orgs(id), status TEXT NOT NULL,"
     " version INTEGER NOT NULL, etag TEXT NOT NULL, planned_release_date INTEGER,"
     " submitted_at BIGINT, notice_days INTEGER, short_notice INTEGER NOT NULL DEFAULT 0,"
     " determination TEXT, withdrawn_reason BLOB, actual_release_date INTEGER,"
     " policy_sha256 TEXT NOT NULL, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL);"
     "CREATE INDEX notices_org ON notices(org_id, id);"
     "CREATE INDEX notices_status ON notices(status, id);"
     "CREATE TABLE notice_versions (notice_id TEXT NOT NULL REFERENCES notices(id),"
     " version INTEGER NOT NULL, body BLOB NOT NULL, content_sha256 TEXT NOT NULL,"
     " created_at BIGINT NOT NULL, created_by TEXT NOT NULL, PRIMARY KEY (notice_id, version));"
     "CREATE TABLE events (id INTEGER PRIMARY KEY, record_id TEXT NOT NULL, time BIGINT NOT NULL,"
     " user_id TEXT, org_id TEXT, action TEXT NOT NULL, detail BLOB);"
     "CREATE INDEX events_record ON events(record_id, id);"
     "CREATE TABLE audit (id INTEGER PRIMARY KEY, time BIGINT NOT NULL, user_id TEXT,"
     " org_id TEXT, action TEXT NOT NULL, record TEXT, record_org TEXT, outcome TEXT NOT NULL);"
     "CREATE INDEX audit_record ON audit(record, id);"
     "CREATE INDEX audit_org ON audit(org_id, id);"
     "CREATE INDEX audit_record_org ON audit(record_org, id);"
     "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit"
     " BEGIN SELECT RAISE(ABORT, 'audit rows are never updated'); END;"
     "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit"
     " BEGIN SELECT RAISE(ABORT, 'audit rows are never deleted'); END;"
     "CREATE TABLE idempotency (user_id TEXT NOT NULL, key TEXT NOT NULL,"
     " request_sha256 TEXT NOT NULL, status INTEGER NOT NULL, body BLOB NOT NULL,"
     " created_at BIGINT NOT NULL, PRIMARY KEY (user_id, key));"},
    {2, "ledger",
     "CREATE TABLE ledger_leaves (idx INTEGER PRIMARY KEY, leaf BLOB NOT NULL,"
     " hash BLOB NOT NULL, kind TEXT NOT NULL, record_id TEXT NOT NULL, version INTEGER NOT NULL);"
     "CREATE INDEX ledger_leaves_record ON ledger_leaves(record_id, version);"
     "CREATE TABLE ledger_nodes (level INTEGER NOT NULL, idx INTEGER NOT NULL,"
     " hash BLOB NOT NULL, PRIMARY KEY (level, idx));"
     "CREATE TABLE ledger_checkpoints (size INTEGER PRIMARY KEY, note TEXT NOT NULL,"
     " created_at BIGINT NOT NULL);"},
};
const size_t fx_n_migrations = sizeof(fx_migrations) / sizeof(fx_migrations[0]);
