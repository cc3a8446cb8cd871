import Access
import Foundation
import Logging
import PostgresNIO
import PostgresStore
import ServiceLifecycle

/// The access layer on PostgreSQL: organisations, users, keys, banks' portfolios and the audit
/// log, with its own migrations (ledger `access_migrations`) and its own connection pool. A
/// `Service`: its pool works only while `run()` runs.
public final class AccessStore: Sendable, Service {
    let database: SubsystemDatabase
    let logger: Logger
    var client: PostgresClient { database.client }

    public init(configuration: PostgresStore.Configuration, logger: Logger) throws {
        self.database = try SubsystemDatabase(
            configuration: configuration, connections: 4, migrations: AccessMigrations.all, ledger: "access_migrations", logger: logger)
        self.logger = logger
    }

    public func run() async { await database.run() }

    @discardableResult
    public func migrate() async throws -> [Int] { try await database.migrate() }

    static let timestamp = "YYYY-MM-DD\"T\"HH24:MI:SS\"Z\""

    // MARK: Organisations and users

    /// Creates the organisation, or returns the one of that name when it has the same kind and
    /// details.
    public func ensureOrganisation(name: String, kind: OrganisationKind, district: String?, uscc: String?) async throws
        -> Organisation
    {
        let name = name.trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty else { throw AccessError("an organisation needs a name") }
        if kind == .districtOffice {
            guard let district, district.count == 6, district.allSatisfy(\.isASCII), district.allSatisfy(\.isNumber) else {
                throw AccessError("a district office needs its 6-digit district code")
            }
        } else if district != nil {
            throw AccessError("only a district office has a district")
        }
        if kind == .enterprise {
            guard uscc != nil else { throw AccessError("an enterprise organisation needs its USCC") }
        } else if uscc != nil {
            throw AccessError("only an enterprise organisation has a USCC")
        }
        try await client.query(
            """
            INSERT INTO organisation (name, kind, district, uscc) VALUES (\(name), \(kind.rawValue), \(district), \(uscc))
            ON CONFLICT (name) DO NOTHING
            """, logger: logger)
        guard let existing = try await organisation(named: name) else { throw AccessError("organisation '\(name)' vanished") }
        guard existing.kind == kind, existing.district == district, existing.uscc == uscc else {
            throw AccessError("an organisation named '\(name)' exists as \(existing.kind.rawValue)\(existing.district.map { " of district \($0)" } ?? "")")
        }
        return existing
    }

    public func organisation(named name: String) async throws -> Organisation? {
        try await organisations(where: "name = ", name).first
    }

    public func organisation(id: Int64) async throws -> Organisation? {
        try await organisations(where: "id = ", id).first
    }

    public func organisations() async throws -> [Organisation] {
        let rows = try await client.query("SELECT id, name, kind, district, uscc FROM organisation ORDER BY id", logger: logger)
        return try await Self.decodeOrganisations(rows)
    }

    private func organisations(where column: String, _ value: some PostgresEncodable & Sendable) async throws -> [Organisation] {
        var query = PostgresQuery(unsafeSQL: "SELECT id, name, kind, district, uscc FROM organisation WHERE \(column)$1")
        try query.binds.append(value)
        return try await Self.decodeOrganisations(try await client.query(query, logger: logger))
    }

    static func decodeOrganisations(_ rows: PostgresRowSequence) async throws -> [Organisation] {
        var result: [Organisation] = []
        for try await (id, name, kind, district, uscc) in rows.decode((Int64, String, String, String?, String?).self) {
            guard let kind = OrganisationKind(rawValue: kind) else { throw AccessError("stored organisation \(id) has kind '\(kind)'") }
            result.append(Organisation(id: id, name: name, kind: kind, district: district, uscc: uscc))
        }
        return result
    }

    /// Creates the user, or returns the one of that name in the organisation (its role and right
    /// updated to the ones given).
    public func ensureUser(_ name: String, of organisation: Organisation, role: Role, personalData: Bool) async throws -> User {
        let name = name.trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty else { throw AccessError("a user needs a name") }
        guard role.organisationKinds.contains(organisation.kind) else {
            let kinds = role.organisationKinds.map(\.rawValue).sorted().joined(separator: ", ")
            throw AccessError("role \(role.rawValue) belongs to \(kinds), not to \(organisation.kind.rawValue) '\(organisation.name)'")
        }
        if personalData && !role.mayHoldPersonalDataRight {
            throw AccessError("role \(role.rawValue) cannot hold the right to see personal data")
        }
        let rows = try await client.query(
            """
            INSERT INTO app_user (organisation_id, name, role, personal_data) VALUES (\(organisation.id), \(name), \(role.rawValue), \(personalData))
            ON CONFLICT (organisation_id, name) DO UPDATE SET role = EXCLUDED.role, personal_data = EXCLUDED.personal_data
            RETURNING id
            """, logger: logger)
        var id: Int64 = 0
        for try await value in rows.decode(Int64.self) { id = value }
        return User(id: id, name: name, organisation: organisation, role: role, mayReadPersonalData: personalData)
    }

    // MARK: Keys

    /// A new key for the user; its secret is in the returned key only.
    public func createKey(for user: User, label: String, expiresAt: Date?, by creator: String) async throws -> (APIKey, KeyInfo) {
        let key = APIKey.generate()
        try await client.query(
            """
            INSERT INTO api_key (id, user_id, secret_sha256, label, created_by, expires_at)
            VALUES (\(key.id), \(user.id), \(ByteBuffer(bytes: key.secretHash)), \(label), \(creator), \(expiresAt))
            """, logger: logger)
        guard let info = try await keys(id: key.id).first else { throw AccessError("key \(key.id) vanished") }
        return (key, info)
    }

    /// Keys, newest first; only those of one organisation when given.
    public func keys(organisationID: Int64?) async throws -> [KeyInfo] {
        try await keys(id: nil, organisationID: organisationID)
    }

    private func keys(id: String?, organisationID: Int64? = nil) async throws -> [KeyInfo] {
        let rows = try await client.query(
            """
            SELECT k.id, u.name, o.name, u.role, k.label, to_char(k.created_at AT TIME ZONE 'UTC', \(Self.timestamp)), k.created_by,
                to_char(k.expires_at AT TIME ZONE 'UTC', \(Self.timestamp)), to_char(k.revoked_at AT TIME ZONE 'UTC', \(Self.timestamp)), k.revoked_by,
                CASE WHEN k.revoked_at IS NOT NULL THEN 'revoked' WHEN k.expires_at <= now() THEN 'expired' ELSE 'active' END
            FROM api_key k JOIN app_user u ON u.id = k.user_id JOIN organisation o ON o.id = u.organisation_id
            WHERE (\(id)::text IS NULL OR k.id = \(id)::text) AND (\(organisationID)::int8 IS NULL OR o.id = \(organisationID)::int8)
            ORDER BY k.created_at DESC, k.id
            """, logger: logger)
        var result: [KeyInfo] = []
        for try await (id, user, organisation, role, label, created, createdBy, expires, revoked, revokedBy, status) in rows.decode(
            (String, String, String, String, String, String, String, String?, String?, String?, String).self)
        {
            result.append(
                KeyInfo(
                    id: id, user: user, organisation: organisation, role: Role(rawValue: role) ?? .enterpriseUser, label: label,
                    createdAt: created, createdBy: createdBy, expiresAt: expires, revokedAt: revoked, revokedBy: revokedBy, status: status))
        }
        return result
    }

    /// Revokes the key (effective on its next request); nil when no such key exists (in the given
    /// organisation). Revoking a revoked key keeps its first revocation.
    public func revokeKey(_ id: String, by revoker: String, organisationID: Int64?) async throws -> KeyInfo? {
        let id = id.lowercased()
        guard try await !keys(id: id, organisationID: organisationID).isEmpty else { return nil }
        try await client.query(
            "UPDATE api_key SET revoked_at = now(), revoked_by = \(revoker) WHERE id = \(id) AND revoked_at IS NULL", logger: logger)
        return try await keys(id: id).first
    }

    // MARK: Portfolios

    /// The bank's watchlist in USCC order, after `after`, at most `limit` (+1 to tell more).
    public func portfolio(of organisationID: Int64, after: String?, limit: Int) async throws -> (entries: [PortfolioEntry], hasMore: Bool) {
        let rows = try await client.query(
            """
            SELECT uscc, note, to_char(added_at AT TIME ZONE 'UTC', \(Self.timestamp)), added_by FROM portfolio
            WHERE organisation_id = \(organisationID) AND uscc > \(after ?? "")
            ORDER BY uscc LIMIT \(limit + 1)
            """, logger: logger)
        var entries: [PortfolioEntry] = []
        for try await (uscc, note, added, by) in rows.decode((String, String, String, String).self) {
            entries.append(PortfolioEntry(uscc: uscc, note: note, addedAt: added, addedBy: by))
        }
        let hasMore = entries.count > limit
        if hasMore { entries.removeLast() }
        return (entries, hasMore)
    }

    /// Adds the enterprises (a note replaces the old one); with `replacing`, the watchlist becomes
    /// exactly these. One statement each way, in one transaction. Returns (added, removed).
    public func updatePortfolio(of organisationID: Int64, with entries: [(uscc: String, note: String)], replacing: Bool, by actor: String)
        async throws -> (added: Int, removed: Int)
    {
        let usccs = entries.map(\.uscc)
        let notes = entries.map(\.note)
        let logger = self.logger
        return try await client.withTransaction(logger: logger) { connection in
            var removed = 0
            if replacing {
                let rows = try await connection.query(
                    "DELETE FROM portfolio WHERE organisation_id = \(organisationID) AND NOT (uscc = ANY(\(usccs))) RETURNING 1",
                    logger: logger)
                for try await _ in rows { removed += 1 }
            }
            let rows = try await connection.query(
                """
                INSERT INTO portfolio (organisation_id, uscc, note, added_by)
                SELECT \(organisationID), u, n, \(actor) FROM unnest(\(usccs)::text[], \(notes)::text[]) AS t (u, n)
                ON CONFLICT (organisation_id, uscc) DO UPDATE SET note = EXCLUDED.note
                RETURNING (xmax = 0)
                """, logger: logger)
            var added = 0
            for try await inserted in rows.decode(Bool.self) where inserted { added += 1 }
            return (added, removed)
        }
    }

    /// Removes one enterprise; false when it was not on the watchlist.
    public func removeFromPortfolio(of organisationID: Int64, _ uscc: String) async throws -> Bool {
        let rows = try await client.query(
            "DELETE FROM portfolio WHERE organisation_id = \(organisationID) AND uscc = \(uscc) RETURNING 1", logger: logger)
        var removed = false
        for try await _ in rows { removed = true }
        return removed
    }

    // MARK: Audit

    /// Appends a row; returns its id.
    @discardableResult
    public func append(_ entry: AuditEntry) async throws -> Int64 {
        let rows = try await client.query(
            """
            INSERT INTO audit_log (actor, user_id, key_id, organisation, role, action, outcome, reason, purpose, authorisation,
                subject_kind, subject_id, returned, remote_address)
            VALUES (\(entry.actor), \(entry.userID), \(entry.keyID), \(entry.organisation), \(entry.role), \(entry.action),
                \(entry.outcome.rawValue), \(entry.reason), \(entry.purpose), \(entry.authorisation)::jsonb, \(entry.subjectKind),
                \(entry.subjectID), \(entry.returned)::jsonb, \(entry.remoteAddress))
            RETURNING id
            """, logger: logger)
        var id: Int64 = 0
        for try await value in rows.decode(Int64.self) { id = value }
        return id
    }

    /// Audit rows with `id > after` in id order, at most `limit` (+1 to tell more).
    public func audit(_ filter: AuditFilter, after: Int64?, limit: Int) async throws -> (records: [AuditRecord], hasMore: Bool) {
        let rows = try await client.query(
            """
            SELECT id, to_char(at AT TIME ZONE 'UTC', \(Self.timestamp)), actor, user_id, key_id, organisation, role, action, outcome,
                reason, purpose, authorisation::text, subject_kind, subject_id, returned::text, remote_address
            FROM audit_log
            WHERE id > \(after ?? 0)
                AND (\(filter.subjectID)::text IS NULL OR subject_id = \(filter.subjectID)::text)
                AND (\(filter.actor)::text IS NULL OR actor = \(filter.actor)::text)
                AND (\(filter.organisation)::text IS NULL OR organisation = \(filter.organisation)::text)
                AND (\(filter.action)::text IS NULL OR action = \(filter.action)::text)
            ORDER BY id LIMIT \(limit + 1)
            """, logger: logger)
        var records: [AuditRecord] = []
        for try await row in rows {
            let c = row.makeRandomAccess()
            let entry = AuditEntry(
                actor: try c[2].decode(String.self), userID: try c[3].decode(Int64?.self), keyID: try c[4].decode(String?.self),
                organisation: try c[5].decode(String.self), role: try c[6].decode(String.self), action: try c[7].decode(String.self),
                outcome: AuditEntry.Outcome(rawValue: try c[8].decode(String.self)) ?? .refused, reason: try c[9].decode(String?.self),
                purpose: try c[10].decode(String?.self), authorisation: try c[11].decode(String?.self),
                subjectKind: try c[12].decode(String?.self), subjectID: try c[13].decode(String?.self),
                returned: try c[14].decode(String?.self), remoteAddress: try c[15].decode(String?.self))
            records.append(AuditRecord(id: try c[0].decode(Int64.self), at: try c[1].decode(String.self), entry: entry))
        }
        let hasMore = records.count > limit
        if hasMore { records.removeLast() }
        return (records, hasMore)
    }
}

extension AccessStore {
    /// An organisation's current scope (webhooks, streams); nil when there is no such organisation.
    public func scope(ofOrganisation id: Int64) async throws -> Scope? {
        guard let organisation = try await organisation(id: id) else { return nil }
        guard organisation.kind == .bank else { return Principal.scope(of: organisation, portfolio: []) }
        let rows = try await client.query("SELECT uscc FROM portfolio WHERE organisation_id = \(id)", logger: logger)
        var portfolio: Set<String> = []
        for try await uscc in rows.decode(String.self) { portfolio.insert(uscc) }
        return Principal.scope(of: organisation, portfolio: portfolio)
    }
}

extension AccessStore: KeyDirectory {
    /// One query: the key's hash, its user and organisation, and a bank's portfolio (the scope is
    /// read at every request, so a change to the portfolio or a revocation counts at once).
    public func principal(for key: APIKey) async throws -> Principal? {
        let rows = try await client.query(
            """
            SELECT k.secret_sha256, u.id, u.name, u.role, u.personal_data, o.id, o.name, o.kind, o.district, o.uscc,
                CASE WHEN o.kind = 'bank' THEN ARRAY(
                    SELECT p.uscc FROM portfolio p WHERE p.organisation_id = o.id
                    UNION SELECT g.uscc FROM scope_grant g WHERE g.organisation_id = o.id) END
            FROM api_key k JOIN app_user u ON u.id = k.user_id JOIN organisation o ON o.id = u.organisation_id
            WHERE k.id = \(key.id) AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > now())
            """, logger: logger)
        for try await (hash, userID, userName, role, personal, orgID, orgName, kind, district, uscc, portfolio) in rows.decode(
            (ByteBuffer, Int64, String, String, Bool, Int64, String, String, String?, String?, [String]?).self)
        {
            guard key.matches(storedHash: Array(hash.readableBytesView)), let role = Role(rawValue: role),
                let kind = OrganisationKind(rawValue: kind)
            else { return nil }
            let organisation = Organisation(id: orgID, name: orgName, kind: kind, district: district, uscc: uscc)
            return Principal(
                name: userName, userID: userID, organisation: organisation, role: role,
                scope: Principal.scope(of: organisation, portfolio: Set(portfolio ?? [])), mayReadPersonalData: personal,
                keyID: key.id)
        }
        return nil
    }
}

extension AccessStore: AccessAdministration {}
