import Access
import AccessStore
import ArgumentParser
import CreditWatchCore
import Foundation

/// `creditwatch keys create|list|revoke`: the operator's way to the access store (the API's
/// `/v1/admin/keys` is the admins' way). Creating a key creates its organisation and user when
/// they do not exist yet.
struct Keys: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create, list and revoke API keys (stored hashed in PostgreSQL).", subcommands: [Create.self, List.self, Revoke.self])

    /// Runs `body` with a migrated access store.
    static func withStore<T: Sendable>(_ common: CommonOptions, _ body: @escaping @Sendable (AccessStore) async throws -> T) async throws -> T {
        let settings = try common.settings()
        let store = try AccessStore(configuration: settings.postgres, logger: common.logger("creditwatch.keys"))
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask {
                await store.run()
                return nil
            }
            defer { group.cancelAll() }
            try await store.migrate()
            do {
                return try await body(store)
            } catch let error as AccessError {
                throw ValidationError(error.message)
            }
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a key for a user (and the user and organisation if new); prints the key once.")

        @OptionGroup var common: CommonOptions
        @Option(help: "The organisation's name, e.g. 邵阳市金融办 or 城市商业银行.") var organisation: String
        @Option(help: "financial_office, district_office, bank, department or enterprise (for a new organisation).")
        var kind: String
        @Option(help: "A district office's 6-digit district code.") var district: String?
        @Option(help: "An enterprise organisation's USCC.") var uscc: String?
        @Option(help: "The user's name.") var user: String
        @Option(help: "The user's role: \(Role.allCases.map(\.rawValue).joined(separator: ", ")).") var role: String
        @Flag(help: "Grant the user the right to see personal data in clear (office roles only; every such read is audited).")
        var personalData = false
        @Option(help: "Days until the key expires (default: never).") var expiresInDays: Int?
        @Option(help: "A label for the key (where it is used).") var label = ""
        @Flag(help: "Print only the key (for scripts).") var quiet = false

        func run() async throws {
            guard let kind = OrganisationKind(rawValue: kind) else {
                throw ValidationError("--kind must be one of \(OrganisationKind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            guard let role = Role(rawValue: role) else {
                throw ValidationError("--role must be one of \(Role.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            if let days = expiresInDays, !(1...3650).contains(days) { throw ValidationError("--expires-in-days must be from 1 to 3650") }
            var uscc: String?
            if let text = self.uscc {
                do { uscc = try USCC(validating: text).value } catch { throw ValidationError("--uscc: \(error.reason)") }
            }
            let expiresAt = expiresInDays.map { Date().addingTimeInterval(Double($0) * 86_400) }
            let (organisation, district, user, personalData, label) = (self.organisation, self.district, self.user, self.personalData, self.label)
            let valid = uscc
            let (key, info) = try await Keys.withStore(common) { store in
                let organisation = try await store.ensureOrganisation(name: organisation, kind: kind, district: district, uscc: valid)
                let user = try await store.ensureUser(user, of: organisation, role: role, personalData: personalData)
                return try await store.createKey(for: user, label: label, expiresAt: expiresAt, by: "cli:\(NSUserName())")
            }
            if quiet {
                print(key.text)
            } else {
                print("key \(info.id) for \(info.user) (\(info.role.rawValue)) of \(info.organisation)\(info.expiresAt.map { ", expires \($0)" } ?? ""):")
                print(key.text)
                print("Keep it: it is shown only now (PostgreSQL holds its SHA-256).")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List keys (never their secrets).")

        @OptionGroup var common: CommonOptions
        @Option(help: "Only this organisation's keys.") var organisation: String?

        func run() async throws {
            let organisation = self.organisation
            let keys = try await Keys.withStore(common) { store in
                var id: Int64?
                if let organisation {
                    guard let found = try await store.organisation(named: organisation) else { throw AccessError("no organisation named '\(organisation)'") }
                    id = found.id
                }
                return try await store.keys(organisationID: id)
            }
            print(["id", "status", "organisation", "user", "role", "created", "expires", "label"].joined(separator: "\t"))
            for k in keys {
                print([k.id, k.status, k.organisation, k.user, k.role.rawValue, k.createdAt, k.expiresAt ?? "-", k.label].joined(separator: "\t"))
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a key: it fails on its next request, no restart needed.")

        @OptionGroup var common: CommonOptions
        @Argument(help: "The key's id (the 12 hex digits after cwk_), or the whole key.") var key: String

        func run() async throws {
            let id = APIKey(presented: key)?.id ?? key.lowercased()
            guard id.count == 12, id.allSatisfy(\.isHexDigit) else { throw ValidationError("a key id is 12 hexadecimal digits") }
            let revoked = try await Keys.withStore(common) { store in try await store.revokeKey(id, by: "cli:\(NSUserName())", organisationID: nil) }
            guard let revoked else { throw ValidationError("no key \(id)") }
            print("key \(revoked.id) of \(revoked.user) (\(revoked.organisation)) revoked at \(revoked.revokedAt ?? "?")")
        }
    }
}
