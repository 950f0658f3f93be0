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
    /* The review process (SPEC §4-6). Each record of fact keeps its served bytes sealed
     * (body) beside their SHA-256, but for screenings, whose document is derived; plain
     * columns are the states, dates and ids that lists, deadlines and the gate need. */
    {3, "review",
     "CREATE INDEX notices_release ON notices(planned_release_date);"
     /* a screening's document is derived from its inputs (sealed) and its policy: see
      * src/records/screening.c */
     "CREATE TABLE screening_inputs (notice_id TEXT NOT NULL REFERENCES notices(id),"
     " notice_version INTEGER NOT NULL, inputs BLOB NOT NULL,"
     " PRIMARY KEY (notice_id, notice_version));"
     "CREATE TABLE screenings (notice_id TEXT NOT NULL REFERENCES notices(id),"
     " version INTEGER NOT NULL, result TEXT NOT NULL, trigger TEXT NOT NULL,"
     " short_notice INTEGER NOT NULL, notice_days INTEGER, min_notice_days INTEGER NOT NULL,"
     " policy_sha256 TEXT NOT NULL, notice_version INTEGER NOT NULL, created_at BIGINT NOT NULL,"
     " PRIMARY KEY (notice_id, version));"
     "CREATE TABLE determinations (id TEXT PRIMARY KEY,"
     " notice_id TEXT NOT NULL REFERENCES notices(id), kind TEXT NOT NULL,"
     " determination TEXT, policy_sha256 TEXT NOT NULL, created_at BIGINT NOT NULL,"
     " created_by TEXT NOT NULL, org_id TEXT NOT NULL, body BLOB NOT NULL,"
     " content_sha256 TEXT NOT NULL);"
     "CREATE INDEX determinations_notice ON determinations(notice_id, id);"
     "CREATE TABLE assessments (id TEXT PRIMARY KEY,"
     " notice_id TEXT NOT NULL UNIQUE REFERENCES notices(id), org_id TEXT NOT NULL,"
     " status TEXT NOT NULL, access_starts INTEGER NOT NULL, access_ends INTEGER NOT NULL,"
     " outcome TEXT, version INTEGER NOT NULL, opened_at BIGINT NOT NULL, closed_at BIGINT);"
     "CREATE INDEX assessments_ends ON assessments(status, access_ends);"
     "CREATE TABLE assessment_versions (assessment_id TEXT NOT NULL REFERENCES assessments(id),"
     " version INTEGER NOT NULL, body BLOB NOT NULL, content_sha256 TEXT NOT NULL,"
     " created_at BIGINT NOT NULL, PRIMARY KEY (assessment_id, version));"
     "CREATE TABLE assessment_tasks (assessment_id TEXT NOT NULL REFERENCES assessments(id),"
     " agency_org TEXT NOT NULL REFERENCES orgs(id), status TEXT NOT NULL,"
     " started_at BIGINT, completed_at BIGINT, PRIMARY KEY (assessment_id, agency_org));"
     "CREATE INDEX assessment_tasks_agency ON assessment_tasks(agency_org, assessment_id);"
     "CREATE TABLE findings (id TEXT PRIMARY KEY,"
     " assessment_id TEXT NOT NULL REFERENCES assessments(id), agency_org TEXT NOT NULL,"
     " marking TEXT NOT NULL, severity TEXT NOT NULL, seal_org TEXT NOT NULL,"
     " created_at BIGINT NOT NULL, created_by TEXT NOT NULL, body BLOB NOT NULL,"
     " content_sha256 TEXT NOT NULL);"
     "CREATE INDEX findings_assessment ON findings(assessment_id, id);"
     "CREATE TABLE grants (id TEXT PRIMARY KEY, notice_id TEXT NOT NULL REFERENCES notices(id),"
     " developer_org TEXT NOT NULL, partner_org TEXT NOT NULL REFERENCES orgs(id),"
     " sector TEXT NOT NULL, starts INTEGER NOT NULL, ends INTEGER NOT NULL,"
     " developer_consent_at BIGINT, coordinator_consent_at BIGINT, accepted_at BIGINT,"
     " terms_sha256 TEXT NOT NULL, revoked_at BIGINT, version INTEGER NOT NULL,"
     " created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL);"
     "CREATE INDEX grants_notice ON grants(notice_id, id);"
     "CREATE INDEX grants_partner ON grants(partner_org, id);"
     "CREATE INDEX grants_developer ON grants(developer_org, id);"
     "CREATE TABLE grant_versions (grant_id TEXT NOT NULL REFERENCES grants(id),"
     " version INTEGER NOT NULL, body BLOB NOT NULL, content_sha256 TEXT NOT NULL,"
     " created_at BIGINT NOT NULL, PRIMARY KEY (grant_id, version));"
     "CREATE TABLE grant_feedback (id TEXT PRIMARY KEY, grant_id TEXT NOT NULL REFERENCES"
     " grants(id), severity TEXT NOT NULL, org_id TEXT NOT NULL, created_by TEXT NOT NULL,"
     " created_at BIGINT NOT NULL, body BLOB NOT NULL, content_sha256 TEXT NOT NULL);"
     "CREATE INDEX grant_feedback_grant ON grant_feedback(grant_id, id);"},
    /* Incidents and TAXII 2.1 (SPEC §7-8). Incident versions and stored STIX objects are
     * sealed (body); plain columns are what lists, filters, TAXII pagination and the TLP
     * gate need. date_added is in microseconds and unique (the key): TAXII pages by it. */
    {4, "incidents",
     "CREATE TABLE incidents (id TEXT PRIMARY KEY, ref TEXT NOT NULL UNIQUE,"
     " org_id TEXT NOT NULL REFERENCES orgs(id), tlp TEXT NOT NULL, status TEXT NOT NULL,"
     " severity TEXT NOT NULL, category TEXT NOT NULL, version INTEGER NOT NULL,"
     " etag TEXT NOT NULL, occurred_at BIGINT, detected_at BIGINT NOT NULL,"
     " reported_at BIGINT NOT NULL, late INTEGER NOT NULL, policy_sha256 TEXT NOT NULL,"
     " created_by TEXT NOT NULL, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL);"
     "CREATE INDEX incidents_org ON incidents(org_id, id);"
     "CREATE TABLE incident_versions (incident_id TEXT NOT NULL REFERENCES incidents(id),"
     " version INTEGER NOT NULL, body BLOB NOT NULL, content_sha256 TEXT NOT NULL,"
     " created_at BIGINT NOT NULL, created_by TEXT NOT NULL, PRIMARY KEY (incident_id, version));"
     "CREATE TABLE incident_shares (incident_id TEXT NOT NULL REFERENCES incidents(id),"
     " kind TEXT NOT NULL, principal TEXT NOT NULL, PRIMARY KEY (incident_id, kind, principal));"
     "CREATE INDEX incident_shares_principal ON incident_shares(principal, incident_id);"
     "CREATE TABLE incident_ref_counters (year INTEGER PRIMARY KEY, last INTEGER NOT NULL);"
     "CREATE TABLE taxii_objects (date_added INTEGER PRIMARY KEY, collection TEXT NOT NULL,"
     " stix_id TEXT NOT NULL, type TEXT NOT NULL, version TEXT NOT NULL,"
     " version_us BIGINT NOT NULL, spec_version TEXT NOT NULL, org_id TEXT NOT NULL,"
     " tlp TEXT NOT NULL, incident_id TEXT, is_first INTEGER NOT NULL,"
     " is_last INTEGER NOT NULL, body BLOB NOT NULL);"
     "CREATE UNIQUE INDEX taxii_objects_version ON taxii_objects(collection, stix_id, version_us);"
     "CREATE INDEX taxii_objects_added ON taxii_objects(collection, date_added);"
     /* bumped by every change of a collection: rendered pages are keyed by it */
     "CREATE TABLE taxii_generations (collection TEXT PRIMARY KEY, n BIGINT NOT NULL);"
     "CREATE TABLE taxii_status (id TEXT PRIMARY KEY, org_id TEXT NOT NULL,"
     " user_id TEXT NOT NULL, created_at BIGINT NOT NULL, body BLOB NOT NULL);"},
    /* The ledger's hashes in one table keyed by in-order position: leaf i at 2i, the
     * node of level L and index i at i * 2^(L+1) + 2^L - 1. Every hash an append
     * writes then lands at the right edge of one B-tree (a node sits 2^L - 1 behind
     * the leaf that completes it), where two tables, a composite key and an index on
     * record ids wrote into the middle of four. Leaves keep only their bytes. */
    {5, "ledger-positions",
     "CREATE TABLE ledger_hashes (pos INTEGER PRIMARY KEY, hash BLOB NOT NULL);"
     "INSERT INTO ledger_hashes (pos, hash) SELECT idx * 2, hash FROM ledger_leaves;"
     "INSERT INTO ledger_hashes (pos, hash) SELECT idx * (CAST(2 AS BIGINT) << level)"
     " + (CAST(1 AS BIGINT) << level) - 1, hash FROM ledger_nodes;"
     "DROP INDEX ledger_leaves_record;"
     "ALTER TABLE ledger_leaves DROP COLUMN hash;"
     "ALTER TABLE ledger_leaves DROP COLUMN kind;"
     "ALTER TABLE ledger_leaves DROP COLUMN record_id;"
     "ALTER TABLE ledger_leaves DROP COLUMN version;"
     "DROP TABLE ledger_nodes;"
     "DROP TABLE ledger_checkpoints;"},
    /* fxd serve removes Idempotency-Key answers past their 24 hours (http/write.c):
     * without this index each sweep would read the whole table, answers and all */
    {6, "idempotency-expiry", "CREATE INDEX idempotency_created ON idempotency(created_at);"},
    /* Lists read through the index of their filter (docs/internals/store.md, "List
     * queries"): the deadlines find grants starting or ending and incidents detected in
     * their window, and late ones, without reading every grant and incident; the org
     * list finds one kind in id order. */
    {7, "list-indexes",
     "CREATE INDEX grants_starts ON grants(starts);"
     "CREATE INDEX grants_ends ON grants(ends);"
     "CREATE INDEX incidents_detected ON incidents(detected_at);"
     "CREATE INDEX incidents_late ON incidents(late, status);"
     "CREATE INDEX orgs_kind ON orgs(kind, id);"},
    /* An org's users and a user's tokens are lists too (SPEC §12): read in id order
     * through their key, they stop at the LIMIT instead of sorting every row. */
    {8, "user-token-lists",
     "CREATE INDEX users_org_id ON users(org_id, id);"
     "DROP INDEX users_org;"
     "CREATE INDEX tokens_user_id ON tokens(user_id, id);"
     "DROP INDEX tokens_user;"},
    /* Emails are unique whatever the case of their ASCII letters (docs/API.md, decision
     * 0014): email_key is the email so folded (fx_user_create), unique. Where two users
     * already differ only by case, the oldest keeps the key and the others get NULL
     * (which a unique index admits): nobody is changed or locked out, and no new user
     * may take any of those addresses. lower() folds ASCII letters only, as
     * fx_user_create does: SQLite's does, PostgreSQL's under COLLATE "C" (store_pg.c). */
    {9, "email-case",
     "ALTER TABLE users ADD COLUMN email_key TEXT;"
     "UPDATE users SET email_key = lower(email);"
     "UPDATE users SET email_key = NULL WHERE EXISTS (SELECT 1 FROM users o"
     " WHERE o.email_key = users.email_key AND o.id < users.id);"
     "CREATE UNIQUE INDEX users_email_ci ON users(email_key);"},
};
const size_t fx_n_migrations = sizeof(fx_migrations) / sizeof(fx_migrations[0]);
