/// One step of the store's schema. Applied at most once per database schema, in version order,
/// each in its own transaction together with its `schema_migrations` row.
public struct Migration: Sendable, Hashable {
    public let version: Int
    public let name: String
    /// Executed in order. One statement each: PostgreSQL's extended protocol (what PostgresNIO
    /// speaks) runs a single statement per query.
    public let statements: [String]

    public init(version: Int, name: String, statements: [String]) {
        self.version = version
        self.name = name
        self.statements = statements
    }
}

/// The store's schema history. Never edit an applied migration: append a new one.
public enum Migrations {
    public static let all: [Migration] = [
        Migration(version: 1, name: "quarantine", statements: [
            """
            -- Messages the engine could not accept, with raw bytes and the precise reason.
            -- (topic, partition, offset) identifies a Kafka message: a re-delivered message
            -- inserts nothing. `id` orders the listing (a stable cursor); `reprocessed_at` is set
            -- once the message was fed through the pipeline again after a fix.
            CREATE TABLE quarantine (
                id bigserial PRIMARY KEY,
                topic text NOT NULL,
                partition integer NOT NULL,
                "offset" bigint NOT NULL,
                key bytea,
                value bytea,
                reason text NOT NULL,
                received_at timestamptz NOT NULL DEFAULT now(),
                reprocessed_at timestamptz,
                UNIQUE (topic, partition, "offset")
            )
            """,
            // Re-processing walks the pending messages only.
            "CREATE INDEX quarantine_pending ON quarantine (topic, id) WHERE reprocessed_at IS NULL",
        ]),
        Migration(version: 2, name: "credit_record", statements: [
            """
            -- The credit information base: the current row of every department record, keyed by
            -- (topic, primary key). A row is replaced only by a newer version (see commit), so
            -- re-delivered or re-sent snapshots change nothing. Deletes are kept as tombstones
            -- (`deleted`) so that an older version arriving late cannot resurrect the row.
            -- Unlinked records (no usable key yet) have a NULL entity and keep the reason and the
            -- fields they can be linked by later (account number, normalised customer name).
            CREATE TABLE credit_record (
                topic text NOT NULL,
                pk text NOT NULL,
                entity_kind text CHECK (entity_kind IN ('enterprise', 'person')),
                entity_id text,
                unlinked_reason text,
                account_no text,
                normalised_name text,
                op char(1) NOT NULL CHECK (op IN ('c', 'u', 'd', 'r')),
                version bigint NOT NULL,
                event_day date NOT NULL,
                -- Field values as plain JSON (dates 'YYYY-MM-DD', timestamps ISO-8601 UTC), so
                -- that analysts can query them directly; types come from the topic catalog.
                fields jsonb NOT NULL,
                deleted boolean NOT NULL DEFAULT false,
                updated_at timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (topic, pk),
                CHECK ((entity_id IS NULL) = (entity_kind IS NULL))
            )
            """,
            // One-click query and the enterprise profile: everything about one entity.
            "CREATE INDEX credit_record_entity ON credit_record (entity_id, topic) WHERE entity_id IS NOT NULL",
            // Re-linking: the unlinked records of an account once the account's owner is learned.
            "CREATE INDEX credit_record_unlinked_account ON credit_record (account_no) WHERE entity_id IS NULL",
            """
            -- Every change as received, once: (topic, pk, version, op) is the change's identity,
            -- so re-deliveries insert nothing. Audit trail and the source of replays.
            CREATE TABLE credit_record_history (
                topic text NOT NULL,
                pk text NOT NULL,
                version bigint NOT NULL,
                op char(1) NOT NULL CHECK (op IN ('c', 'u', 'd', 'r')),
                entity_kind text,
                entity_id text,
                event_day date NOT NULL,
                fields jsonb NOT NULL,
                recorded_at timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (topic, pk, version, op)
            )
            """,
            "CREATE INDEX credit_record_history_entity ON credit_record_history (entity_id, topic) WHERE entity_id IS NOT NULL",
        ]),
        Migration(version: 3, name: "enterprise_and_account_link", statements: [
            """
            -- Registered enterprises (from market.enterprise): what linking by name, the industry
            -- aggregation (division) and the dashboard (district) need. Maintained in the same
            -- transaction as the records it is derived from; only a newer version replaces a row.
            CREATE TABLE enterprise (
                uscc text PRIMARY KEY,
                name text NOT NULL,
                -- EnterpriseName.normalized(name): linking records that carry only a name.
                normalised_name text NOT NULL,
                industry_code text,
                -- GB/T 4754 division (e.g. 'C30'), NULL when the industry code is invalid.
                division text,
                district text,
                status text,
                version bigint NOT NULL,
                deleted boolean NOT NULL DEFAULT false,
                updated_at timestamptz NOT NULL DEFAULT now()
            )
            """,
            "CREATE INDEX enterprise_normalised_name ON enterprise (normalised_name)",
            "CREATE INDEX enterprise_division ON enterprise (division)",
            """
            -- Utility accounts learned to belong to an enterprise (a record carried both), per
            -- account family ('water', 'power', …): links later records of the account that come
            -- without a USCC.
            CREATE TABLE account_link (
                family text NOT NULL,
                account_no text NOT NULL,
                uscc text NOT NULL,
                learned_at timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (family, account_no)
            )
            """,
            "CREATE INDEX account_link_account ON account_link (account_no)",
        ]),
        Migration(version: 4, name: "alert", statements: [
            """
            -- Alerts: firings of rules. `id` is the feed cursor: alert inserts are serialised (see
            -- commit), so ids become visible in increasing order and a poller never skips one.
            -- (rule, subject_id, window) is the natural key: storing a firing twice is a no-op.
            CREATE TABLE alert (
                id bigserial PRIMARY KEY,
                rule text NOT NULL,
                rule_version text NOT NULL,
                rule_set_version text NOT NULL,
                subject_kind text NOT NULL CHECK (subject_kind IN ('enterprise', 'person', 'industry')),
                subject_id text NOT NULL,
                "window" text NOT NULL,
                title text NOT NULL,
                severity text NOT NULL CHECK (severity IN ('info', 'low', 'medium', 'high', 'critical')),
                category text NOT NULL,
                explanation text NOT NULL,
                -- The values that made the rule fire, in order: [{"name": …, "value": …}].
                "values" jsonb NOT NULL,
                sources text[] NOT NULL,
                as_of date NOT NULL,
                processed_at timestamptz NOT NULL DEFAULT now(),
                division text,
                district text,
                score_points integer,
                score_dimension text,
                status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'withdrawn', 'downgraded')),
                UNIQUE (rule, subject_id, "window")
            )
            """,
            // Cool-down checks and an enterprise's alerts.
            "CREATE INDEX alert_subject ON alert (subject_id, rule, as_of)",
            // Dashboard counts of active alerts.
            "CREATE INDEX alert_active ON alert (severity, category) WHERE status = 'active'",
        ]),
        Migration(version: 5, name: "alert_lifecycle_scores_tags_rule_sets", statements: [
            // An alert stays active while its rule's condition holds for its subject and is withdrawn,
            // with the reason, when it stops holding; its events keep the whole history.
            "ALTER TABLE alert ADD COLUMN withdrawn_as_of date",
            "ALTER TABLE alert ADD COLUMN withdrawn_reason text",
            "ALTER TABLE alert ADD COLUMN withdrawn_rule_set_version text",
            "ALTER TABLE alert ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now()",
            """
            -- Every state change of an alert: raised, withdrawn (with the reason), reactivated.
            -- `id` is the cursor of the alert-change feed banks poll.
            CREATE TABLE alert_event (
                id bigserial PRIMARY KEY,
                alert_id bigint NOT NULL REFERENCES alert (id),
                kind text NOT NULL CHECK (kind IN ('raised', 'withdrawn', 'reactivated')),
                as_of date NOT NULL,
                reason text,
                rule_set_version text NOT NULL,
                recorded_at timestamptz NOT NULL DEFAULT now()
            )
            """,
            "CREATE INDEX alert_event_alert ON alert_event (alert_id)",
            // Alerts stored before: each was raised; of several active ones of a rule and subject
            // (the earlier cool-down re-raised standing conditions), the latest stays active.
            """
            INSERT INTO alert_event (alert_id, kind, as_of, rule_set_version, recorded_at)
            SELECT id, 'raised', as_of, rule_set_version, processed_at FROM alert ORDER BY id
            """,
            """
            WITH superseded AS (
                UPDATE alert a SET status = 'withdrawn', withdrawn_as_of = a.as_of,
                    withdrawn_reason = '已由同一规则的后续预警取代（迁移 5）', withdrawn_rule_set_version = a.rule_set_version
                WHERE a.status = 'active' AND EXISTS (
                    SELECT 1 FROM alert b
                    WHERE b.rule = a.rule AND b.subject_id = a.subject_id AND b.status = 'active' AND b.id > a.id)
                RETURNING a.id, a.withdrawn_as_of, a.withdrawn_reason, a.withdrawn_rule_set_version
            )
            INSERT INTO alert_event (alert_id, kind, as_of, reason, rule_set_version)
            SELECT id, 'withdrawn', withdrawn_as_of, withdrawn_reason, withdrawn_rule_set_version FROM superseded ORDER BY id
            """,
            // At most one active alert per rule and subject.
            "CREATE UNIQUE INDEX alert_one_active ON alert (rule, subject_id) WHERE status = 'active'",
            """
            -- The current score of each enterprise, with every point explained.
            CREATE TABLE enterprise_score (
                uscc text PRIMARY KEY,
                scorecard text NOT NULL,
                scorecard_version text NOT NULL,
                rule_set_version text NOT NULL,
                score integer NOT NULL,
                grade text NOT NULL,
                as_of date NOT NULL,
                -- {"base": …, "dimensions": […], "lines": […], "unassessed": […], "override": …}.
                -- json with lz4, not jsonb: written often (~5 KB), read whole, never queried into
                -- (measured on 20 000 scores: 0.39 s against 1.75 s for jsonb with pglz).
                explanation json COMPRESSION lz4 NOT NULL,
                updated_at timestamptz NOT NULL DEFAULT now()
            )
            """,
            "CREATE INDEX enterprise_score_grade ON enterprise_score (grade)",
            """
            -- Every score an enterprise had: a row whenever its score, grade or rule set changed.
            CREATE TABLE score_history (
                id bigserial PRIMARY KEY,
                uscc text NOT NULL,
                scorecard text NOT NULL,
                scorecard_version text NOT NULL,
                rule_set_version text NOT NULL,
                score integer NOT NULL,
                grade text NOT NULL,
                as_of date NOT NULL,
                explanation json COMPRESSION lz4 NOT NULL,
                recorded_at timestamptz NOT NULL DEFAULT now()
            )
            """,
            "CREATE INDEX score_history_uscc ON score_history (uscc, id)",
            """
            -- Current members of the rule-defined tags (the quality-enterprise library).
            CREATE TABLE enterprise_tag (
                uscc text NOT NULL,
                tag text NOT NULL,
                title text NOT NULL,
                tag_version text NOT NULL,
                rule_set_version text NOT NULL,
                since_as_of date NOT NULL,
                explanation text NOT NULL,
                "values" jsonb NOT NULL,
                sources text[] NOT NULL,
                updated_at timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (uscc, tag)
            )
            """,
            "CREATE INDEX enterprise_tag_tag ON enterprise_tag (tag)",
            """
            -- Tag membership history: every entry and exit.
            CREATE TABLE tag_history (
                id bigserial PRIMARY KEY,
                uscc text NOT NULL,
                tag text NOT NULL,
                change text NOT NULL CHECK (change IN ('added', 'removed')),
                as_of date NOT NULL,
                rule_set_version text NOT NULL,
                explanation text,
                recorded_at timestamptz NOT NULL DEFAULT now()
            )
            """,
            "CREATE INDEX tag_history_uscc ON tag_history (uscc, id)",
            """
            -- Every rule set the daemon has loaded, by content hash: what alerts and scores cite,
            -- and what `creditwatch replay --against VERSION` reads back.
            CREATE TABLE rule_set (
                version text PRIMARY KEY,
                -- [{"path": …, "text": …}] sorted by path.
                files jsonb NOT NULL,
                first_loaded_at timestamptz NOT NULL DEFAULT now(),
                last_loaded_at timestamptz NOT NULL DEFAULT now()
            )
            """,
        ]),
        Migration(version: 6, name: "feature_sync", statements: [
            """
            -- What the feature store (Redis) must hold: this store's identity and the sequence of the
            -- last committed batch that updated features. Redis keeps the same pair; a Redis without
            -- it, with another identity or behind this sequence is rebuilt from credit_record.
            CREATE TABLE feature_sync (
                singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
                store_id uuid NOT NULL DEFAULT gen_random_uuid(),
                sequence bigint NOT NULL DEFAULT 0
            )
            """,
            "INSERT INTO feature_sync DEFAULT VALUES",
            // Unlinked records are linked by name when their enterprise's registration arrives later.
            "CREATE INDEX credit_record_unlinked_name ON credit_record (normalised_name) WHERE entity_id IS NULL",
        ]),
        Migration(version: 7, name: "evaluation_pending", statements: [
            """
            -- Enterprises whose records changed while a backlog was draining: evaluated once ingest has
            -- read everything there is, so that alerts are a function of the data, not of how it
            -- was split into batches and partitions. Written and cleared with the batches' commits.
            CREATE TABLE evaluation_pending (
                uscc text PRIMARY KEY,
                since timestamptz NOT NULL DEFAULT now()
            )
            """
        ]),
        Migration(version: 8, name: "several_instances", statements: [
            // Several instances share the city (see `Ownership`): each evaluates the pending
            // enterprises of its partitions (owner_hash % partitions); a row deferred again while its
            // owner evaluates it gets a new stamp, so the owner's delete (by stamp) leaves it.
            "CREATE SEQUENCE evaluation_pending_stamp",
            "ALTER TABLE evaluation_pending ADD COLUMN owner_hash bigint",
            "ALTER TABLE evaluation_pending ADD COLUMN stamp bigint NOT NULL DEFAULT nextval('evaluation_pending_stamp')",
            """
            -- Divisions whose enterprises an instance evaluated, for the instance that judges
            -- industries (the owner of partition 0), with the newest complete month of their series.
            CREATE SEQUENCE industry_pending_stamp
            """,
            """
            CREATE TABLE industry_pending (
                division text PRIMARY KEY,
                as_of integer NOT NULL,
                stamp bigint NOT NULL DEFAULT nextval('industry_pending_stamp')
            )
            """,
        ]),
        Migration(version: 9, name: "partition_claim", statements: [
            """
            -- Which instance decides for each partition of the changes topic, and the epoch of its
            -- claim: a batch's commit checks it under a share lock (`PartitionFence`).
            CREATE TABLE partition_claim (
                partition integer PRIMARY KEY,
                instance text NOT NULL,
                epoch bigint NOT NULL,
                claimed_at timestamptz NOT NULL DEFAULT now()
            )
            """
        ]),
        Migration(version: 10, name: "link_method", statements: [
            // How each record was linked ('key', 'account', 'name'): data health's key coverage.
            // Records stored before stay NULL ("not recorded").
            "ALTER TABLE credit_record ADD COLUMN linked_by text CHECK (linked_by IN ('key', 'account', 'name'))",
            // Data health: a feed's figures by topic, and its quarantine by topic.
            "CREATE INDEX quarantine_topic ON quarantine (topic)",
        ]),
        Migration(version: 11, name: "relation_edge", statements: [
            """
            -- The relation graph (the catalog's `relations:`): each current record of a topic with
            -- relations links its entity (subject) to the entity it names (target), one row per record
            -- and relation; target NULL when the record names none now (deleted, field emptied). A
            -- newer version replaces the row, like the record. Its fields are credit_record's.
            CREATE TABLE relation_edge (
                topic text NOT NULL,
                pk text NOT NULL,
                relation text NOT NULL,
                subject_kind text NOT NULL,
                subject_id text NOT NULL,
                target_kind text,
                target_id text,
                version bigint NOT NULL,
                PRIMARY KEY (topic, pk, relation)
            )
            """,
            "CREATE INDEX relation_edge_subject ON relation_edge (subject_id, relation) WHERE target_id IS NOT NULL",
            "CREATE INDEX relation_edge_target ON relation_edge (target_id, relation) WHERE target_id IS NOT NULL",
        ]),
        Migration(version: 12, name: "unlinked_sweep", statements: [
            // The sweep for unlinked records that became linkable (`resolvableUnlinked`, every batch
            // of a shared city) reads them in (topic, pk) order: without this index the planner may
            // walk the primary key through every record to find the few unlinked ones.
            "CREATE INDEX credit_record_unlinked ON credit_record (topic, pk) WHERE entity_id IS NULL AND NOT deleted",
        ]),
        Migration(version: 13, name: "history_of_superseded_versions", statements: [
            // Every change used to be written twice, as the current row and as a history row: half
            // of PostgreSQL's work in a backfill. Now `credit_record_history` keeps the versions
            // that are not current (replaced ones, and late or repeated older ones), and every
            // change received is in exactly one of the two tables; `credit_record_change` reads
            // them as one. Writers of the old kind wait until the move is done (every instance
            // runs the new code once this has committed).
            "LOCK TABLE credit_record, credit_record_history IN SHARE ROW EXCLUSIVE MODE",
            // When the current version was first received (`updated_at` also moves on a re-link).
            "ALTER TABLE credit_record ADD COLUMN recorded_at timestamptz",
            """
            UPDATE credit_record r SET recorded_at = coalesce(
                (SELECT h.recorded_at FROM credit_record_history h
                 WHERE h.topic = r.topic AND h.pk = r.pk AND h.version = r.version AND h.op = r.op),
                r.updated_at)
            """,
            "ALTER TABLE credit_record ALTER COLUMN recorded_at SET DEFAULT now(), ALTER COLUMN recorded_at SET NOT NULL",
            """
            DELETE FROM credit_record_history h USING credit_record r
            WHERE h.topic = r.topic AND h.pk = r.pk AND h.version = r.version AND h.op = r.op
            """,
            // A version replaced by another, by whatever statement, moves to the history; one that
            // becomes current from the history (a re-link at the same version, another operation)
            // leaves it, with its time of receipt. A re-link of the same change moves nothing.
            // The search path is the migration's, so that the function finds this schema's
            // history from any session.
            """
            CREATE FUNCTION credit_record_superseded() RETURNS trigger LANGUAGE plpgsql
            SET search_path FROM CURRENT AS $$
            DECLARE
                received timestamptz;
            BEGIN
                INSERT INTO credit_record_history AS h
                    (topic, pk, version, op, entity_kind, entity_id, event_day, fields, recorded_at)
                VALUES (OLD.topic, OLD.pk, OLD.version, OLD.op, OLD.entity_kind, OLD.entity_id, OLD.event_day,
                    OLD.fields, OLD.recorded_at)
                ON CONFLICT (topic, pk, version, op) DO UPDATE
                    SET entity_kind = EXCLUDED.entity_kind, entity_id = EXCLUDED.entity_id
                    WHERE h.entity_id IS NULL AND EXCLUDED.entity_id IS NOT NULL;
                DELETE FROM credit_record_history
                WHERE topic = NEW.topic AND pk = NEW.pk AND version = NEW.version AND op = NEW.op
                RETURNING recorded_at INTO received;
                NEW.recorded_at := coalesce(received, now());
                RETURN NEW;
            END
            $$
            """,
            """
            CREATE TRIGGER credit_record_superseded BEFORE UPDATE ON credit_record FOR EACH ROW
            WHEN (OLD.version IS DISTINCT FROM NEW.version OR OLD.op IS DISTINCT FROM NEW.op)
            EXECUTE FUNCTION credit_record_superseded()
            """,
            """
            -- Every change received, once (audit, replays, rebuilds), with when it was received.
            CREATE VIEW credit_record_change AS
                SELECT topic, pk, version, op, entity_kind, entity_id, event_day, fields, recorded_at
                FROM credit_record_history
                UNION ALL
                SELECT topic, pk, version, op, entity_kind, entity_id, event_day, fields, recorded_at
                FROM credit_record
            """,
        ]),
        Migration(version: 14, name: "score_explanation_lz4", statements: [
            // A score's explanation (~2.4 k characters of JSON) is compressed on every write: lz4
            // took 220 ms for 20 000 of them where pglz, the default, took 440 (measured here).
            // Only where the server was built with lz4; rows already written keep pglz.
            """
            DO $$ BEGIN
                IF EXISTS (SELECT FROM pg_settings WHERE name = 'default_toast_compression' AND 'lz4' = ANY(enumvals)) THEN
                    ALTER TABLE enterprise_score ALTER COLUMN explanation SET COMPRESSION lz4;
                    ALTER TABLE score_history ALTER COLUMN explanation SET COMPRESSION lz4;
                END IF;
            END $$
            """,
        ]),
        Migration(version: 15, name: "unlinked_deletes_swept", statements: [
            // Unlinked deletes are linked later too (an earlier version of the record may be linked,
            // and its entity's ledger must learn it was deleted): the sweep reads every unlinked
            // current row.
            "DROP INDEX credit_record_unlinked",
            "CREATE INDEX credit_record_unlinked ON credit_record (topic, pk) WHERE entity_id IS NULL",
        ]),
    ]
}
