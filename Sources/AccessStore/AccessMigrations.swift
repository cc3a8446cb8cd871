import PostgresStore

/// The access layer's schema (ledger `access_migrations`). Never edit an applied migration.
enum AccessMigrations {
    static let all: [Migration] = [
        Migration(version: 1, name: "organisations_users_keys_portfolio_audit", statements: [
            """
            CREATE TABLE organisation (
                id bigserial PRIMARY KEY,
                name text NOT NULL UNIQUE,
                kind text NOT NULL CHECK (kind IN ('financial_office', 'district_office', 'bank', 'department', 'enterprise')),
                -- District offices: the 6-digit district they oversee.
                district text CHECK (district ~ '^[0-9]{6}$'),
                -- Enterprises: their own USCC.
                uscc text,
                created_at timestamptz NOT NULL DEFAULT now(),
                CHECK ((kind = 'district_office') = (district IS NOT NULL)),
                CHECK ((kind = 'enterprise') = (uscc IS NOT NULL))
            )
            """,
            """
            CREATE TABLE app_user (
                id bigserial PRIMARY KEY,
                organisation_id bigint NOT NULL REFERENCES organisation (id),
                name text NOT NULL,
                role text NOT NULL,
                -- The explicit right to see personal data in clear (office roles only).
                personal_data boolean NOT NULL DEFAULT false,
                created_at timestamptz NOT NULL DEFAULT now(),
                UNIQUE (organisation_id, name)
            )
            """,
            """
            -- Keys: the public id and the SHA-256 of the secret (the secret itself is never stored).
            CREATE TABLE api_key (
                id text PRIMARY KEY CHECK (id ~ '^[0-9a-f]{12}$'),
                user_id bigint NOT NULL REFERENCES app_user (id),
                secret_sha256 bytea NOT NULL,
                label text NOT NULL DEFAULT '',
                created_at timestamptz NOT NULL DEFAULT now(),
                created_by text NOT NULL,
                expires_at timestamptz,
                revoked_at timestamptz,
                revoked_by text
            )
            """,
            "CREATE INDEX api_key_user ON api_key (user_id)",
            """
            -- A bank's watchlist: the enterprises it sees besides those it lends to.
            CREATE TABLE portfolio (
                organisation_id bigint NOT NULL REFERENCES organisation (id),
                uscc text NOT NULL,
                note text NOT NULL DEFAULT '',
                added_at timestamptz NOT NULL DEFAULT now(),
                added_by text NOT NULL,
                PRIMARY KEY (organisation_id, uscc)
            )
            """,
            """
            -- Every query and every read of personal data: append-only (see the triggers below).
            CREATE TABLE audit_log (
                id bigserial PRIMARY KEY,
                at timestamptz NOT NULL DEFAULT now(),
                actor text NOT NULL,
                user_id bigint,
                key_id text,
                organisation text NOT NULL,
                role text NOT NULL,
                action text NOT NULL,
                outcome text NOT NULL CHECK (outcome IN ('allowed', 'refused')),
                reason text,
                purpose text,
                authorisation jsonb,
                subject_kind text,
                subject_id text,
                -- What was returned: the sections and their record counts, never the data itself.
                returned jsonb,
                remote_address text
            )
            """,
            "CREATE INDEX audit_log_subject ON audit_log (subject_id, id)",
            "CREATE INDEX audit_log_actor ON audit_log (actor, id)",
            """
            CREATE FUNCTION audit_log_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION 'audit_log is append-only: % is not allowed', TG_OP USING ERRCODE = 'insufficient_privilege';
            END
            $$
            """,
            """
            CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
                FOR EACH ROW EXECUTE FUNCTION audit_log_is_append_only()
            """,
            """
            CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
                FOR EACH STATEMENT EXECUTE FUNCTION audit_log_is_append_only()
            """,
            // The daemon's own role (the owner) gives up changing rows too; the triggers hold even
            // for a superuser. In production the table's owner should be another role (README).
            "REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM PUBLIC, CURRENT_USER",
        ]),
        Migration(version: 2, name: "scope_grants", statements: [
            """
            -- Enterprises an organisation sees because another subsystem says so: a bank sees the
            -- enterprises with an application or a live loan with it (the marketplace writes these).
            CREATE TABLE scope_grant (
                organisation_id bigint NOT NULL REFERENCES organisation (id),
                uscc text NOT NULL,
                source text NOT NULL,
                granted_at timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (organisation_id, uscc, source)
            )
            """
        ]),
    ]
}