import PostgresStore

extension MarketplaceStore {
    /// Money is `numeric(18,2)` yuan in the database and whole fen in Swift; no float on the way.
    static let migrations = [
        Migration(version: 1, name: "marketplace", statements: [
            """
            CREATE TABLE mk_product (
                id bigserial PRIMARY KEY,
                bank_id bigint NOT NULL,
                bank_name text NOT NULL,
                name text NOT NULL,
                kind text NOT NULL,
                min_amount numeric(18,2) NOT NULL,
                max_amount numeric(18,2) NOT NULL,
                min_term_months integer NOT NULL,
                max_term_months integer NOT NULL,
                min_rate_bp integer NOT NULL,
                max_rate_bp integer NOT NULL,
                methods text[] NOT NULL,
                guarantee text NOT NULL,
                industries text[] NOT NULL,
                districts text[] NOT NULL,
                eligibility text NOT NULL,
                status text NOT NULL CHECK (status IN ('draft', 'published', 'withdrawn')),
                version integer NOT NULL DEFAULT 0,
                created_by text NOT NULL,
                created_at timestamptz NOT NULL DEFAULT now(),
                updated_at timestamptz NOT NULL DEFAULT now()
            )
            """,
            "CREATE INDEX mk_product_bank ON mk_product (bank_id, id)",
            """
            CREATE TABLE mk_need (
                id bigserial PRIMARY KEY,
                uscc text NOT NULL,
                amount numeric(18,2) NOT NULL,
                term_months integer NOT NULL,
                purpose text NOT NULL,
                collateral text NOT NULL,
                authorisation jsonb NOT NULL,
                status text NOT NULL CHECK (status IN ('open', 'claimed', 'withdrawn')),
                claimed_by bigint,
                claimed_at timestamptz,
                application_id bigint,
                version integer NOT NULL DEFAULT 0,
                created_at timestamptz NOT NULL DEFAULT now()
            )
            """,
            "CREATE INDEX mk_need_uscc ON mk_need (uscc, id)",
            """
            CREATE TABLE mk_application (
                id bigserial PRIMARY KEY,
                product_id bigint REFERENCES mk_product (id),
                need_id bigint REFERENCES mk_need (id),
                bank_id bigint NOT NULL,
                bank_name text NOT NULL,
                uscc text NOT NULL,
                district text,
                amount numeric(18,2) NOT NULL,
                term_months integer NOT NULL,
                method text,
                purpose text NOT NULL,
                collateral text NOT NULL,
                authorisation jsonb NOT NULL,
                status text NOT NULL,
                approved_amount numeric(18,2),
                approved_term_months integer,
                approved_rate_bp integer,
                approved_method text,
                disbursed numeric(18,2) NOT NULL DEFAULT 0,
                reason text,
                submitted_on date NOT NULL,
                accept_by date NOT NULL,
                version integer NOT NULL DEFAULT 0,
                created_at timestamptz NOT NULL DEFAULT now(),
                updated_at timestamptz NOT NULL DEFAULT now()
            )
            """,
            "CREATE INDEX mk_application_bank ON mk_application (bank_id, id)",
            "CREATE INDEX mk_application_uscc ON mk_application (uscc, id)",
            "CREATE INDEX mk_application_submitted ON mk_application (accept_by) WHERE status = 'submitted'",
            """
            CREATE TABLE mk_application_event (
                id bigserial PRIMARY KEY,
                application_id bigint NOT NULL REFERENCES mk_application (id),
                at timestamptz NOT NULL DEFAULT now(),
                actor text NOT NULL,
                organisation text NOT NULL,
                action text NOT NULL,
                detail jsonb NOT NULL,
                version integer NOT NULL
            )
            """,
            "CREATE INDEX mk_application_event_application ON mk_application_event (application_id, id)",
            """
            CREATE TABLE mk_loan (
                id bigserial PRIMARY KEY,
                application_id bigint NOT NULL REFERENCES mk_application (id),
                tranche integer NOT NULL,
                principal numeric(18,2) NOT NULL,
                rate_bp integer NOT NULL,
                term_months integer NOT NULL,
                method text NOT NULL,
                disbursed_on date NOT NULL,
                UNIQUE (application_id, tranche)
            )
            """,
            """
            CREATE TABLE mk_instalment (
                loan_id bigint NOT NULL REFERENCES mk_loan (id),
                number integer NOT NULL,
                due date NOT NULL,
                principal numeric(18,2) NOT NULL,
                interest numeric(18,2) NOT NULL,
                PRIMARY KEY (loan_id, number)
            )
            """,
            """
            CREATE TABLE mk_repayment (
                id bigserial PRIMARY KEY,
                loan_id bigint NOT NULL REFERENCES mk_loan (id),
                paid_on date NOT NULL,
                amount numeric(18,2) NOT NULL CHECK (amount > 0),
                recorded_by text NOT NULL,
                recorded_at timestamptz NOT NULL DEFAULT now()
            )
            """,
            "CREATE INDEX mk_repayment_loan ON mk_repayment (loan_id, id)",
            """
            -- The first answer to a command sent with an Idempotency-Key, per organisation.
            CREATE TABLE mk_idempotency (
                organisation_id bigint NOT NULL,
                key text NOT NULL,
                fingerprint text NOT NULL,
                application_id bigint NOT NULL,
                created_at timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (organisation_id, key)
            )
            """,
        ]),
        Migration(version: 2, name: "loan_reports", statements: [
            // What was last reported of each loan on finance.loan, and how often.
            "ALTER TABLE mk_loan ADD COLUMN reported text NOT NULL DEFAULT '', ADD COLUMN report_version integer NOT NULL DEFAULT 0",
            """
            -- The outbox: reports written in the transaction that changed the loan, published to
            -- Kafka afterwards (at least once; the feed's version makes a repeat harmless).
            CREATE TABLE mk_loan_report (
                id bigserial PRIMARY KEY,
                loan_id bigint NOT NULL REFERENCES mk_loan (id),
                payload jsonb NOT NULL,
                created_at timestamptz NOT NULL DEFAULT now(),
                published_at timestamptz
            )
            """,
            "CREATE INDEX mk_loan_report_pending ON mk_loan_report (id) WHERE published_at IS NULL",
        ]),
        Migration(version: 3, name: "credit_reports", statements: [
            // The credit report the reviewer saw, frozen when the review started.
            "ALTER TABLE mk_application ADD COLUMN report jsonb, ADD COLUMN report_at timestamptz",
        ]),
        Migration(version: 4, name: "business_days", statements: [
            // The business day of each step and need (the clock's time stays in `at`, `created_at`).
            "ALTER TABLE mk_application_event ADD COLUMN on_day date",
            "ALTER TABLE mk_need ADD COLUMN published_on date",
        ]),
    ]
}
