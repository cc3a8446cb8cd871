import Foundation

/// The access layer's store port: organisations, users, keys, banks' portfolios and the audit log.
/// Implemented on PostgreSQL by `AccessStore`.
public protocol AccessAdministration: Sendable {
    func ensureOrganisation(name: String, kind: OrganisationKind, district: String?, uscc: String?) async throws -> Organisation
    func organisation(named name: String) async throws -> Organisation?
    func organisations() async throws -> [Organisation]
    func ensureUser(_ name: String, of organisation: Organisation, role: Role, personalData: Bool) async throws -> User
    func createKey(for user: User, label: String, expiresAt: Date?, by creator: String) async throws -> (APIKey, KeyInfo)
    func keys(organisationID: Int64?) async throws -> [KeyInfo]
    func revokeKey(_ id: String, by revoker: String, organisationID: Int64?) async throws -> KeyInfo?

    func portfolio(of organisationID: Int64, after: String?, limit: Int) async throws -> (entries: [PortfolioEntry], hasMore: Bool)
    func updatePortfolio(of organisationID: Int64, with entries: [(uscc: String, note: String)], replacing: Bool, by actor: String)
        async throws -> (added: Int, removed: Int)
    func removeFromPortfolio(of organisationID: Int64, _ uscc: String) async throws -> Bool

    @discardableResult func append(_ entry: AuditEntry) async throws -> Int64
    func audit(_ filter: AuditFilter, after: Int64?, limit: Int) async throws -> (records: [AuditRecord], hasMore: Bool)
}
