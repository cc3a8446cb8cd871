import Access
import CreditWatchCore
import Foundation
import Hummingbird

/// The caller and the platform's access administration:
/// - `GET /v1/me`: who the key belongs to, its rights and scope (every role);
/// - `GET|POST /v1/admin/organisations` (office admins);
/// - `GET|POST /v1/admin/keys`, `DELETE /v1/admin/keys/{id}`: office admins for every
///   organisation, bank admins for their own. A revoked key fails on its next request.
struct AccessController: Sendable {
    let administration: (any AccessAdministration)?
    let access: StoreAccess

    func addRoutes(to group: some RouterMethods<APIRequestContext>) {
        group.get("me", use: me)
        group.get("admin/organisations", use: organisations)
        group.post("admin/organisations", use: createOrganisation)
        group.get("admin/keys", use: keys)
        group.post("admin/keys", use: createKey)
        group.delete("admin/keys/{id}", use: revokeKey)
    }

    func store() throws(APIError) -> any AccessAdministration {
        guard let administration else { throw APIError(.notFound, "this server has no access store") }
        return administration
    }

    @Sendable func me(_ request: Request, context: APIRequestContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        _ = try QueryParameters(request, accepted: [])
        return try JSONResponse.make(CallerResponse(principal))
    }

    @Sendable func organisations(_ request: Request, context: APIRequestContext) async throws -> Response {
        _ = try context.requirePrincipal()
        _ = try QueryParameters(request, accepted: [])
        let store = try store()
        return try JSONResponse.make(["organisations": try await access { try await store.organisations() }])
    }

    struct OrganisationRequest: Decodable {
        let name: String
        let kind: String
        let district: String?
        let uscc: String?
    }

    @Sendable func createOrganisation(_ request: Request, context: APIRequestContext) async throws -> Response {
        _ = try context.requirePrincipal()
        let store = try store()
        let body = try await RequestBody.json(OrganisationRequest.self, from: request)
        guard let kind = OrganisationKind(rawValue: body.kind) else {
            throw APIError(.invalidParameter, "kind must be one of \(OrganisationKind.allCases.map(\.rawValue).joined(separator: ", "))", parameter: "kind")
        }
        let uscc = try body.uscc.map { text throws(APIError) in try USCCText.validated(text) }
        let organisation = try await access {
            do {
                return try await store.ensureOrganisation(name: body.name, kind: kind, district: body.district, uscc: uscc)
            } catch let error as AccessError {
                throw APIError(.invalidBody, error.message)
            }
        }
        return try JSONResponse.created(organisation)
    }

    @Sendable func keys(_ request: Request, context: APIRequestContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        _ = try QueryParameters(request, accepted: [])
        let store = try store()
        let organisation = principal.may(.manageAccess) ? nil : principal.organisation.id
        return try JSONResponse.make(["keys": try await access { try await store.keys(organisationID: organisation) }])
    }

    struct KeyRequest: Decodable {
        /// Default: the caller's organisation.
        let organisation: String?
        let user: String
        let role: String
        let personalData: Bool?
        let label: String?
        /// 1…3650 days; none: the key does not expire.
        let expiresInDays: Int?
    }

    struct CreatedKey: Encodable {
        /// The whole key: shown this once, stored only hashed.
        let key: String
        let info: KeyInfo
    }

    @Sendable func createKey(_ request: Request, context: APIRequestContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        let store = try store()
        let body = try await RequestBody.json(KeyRequest.self, from: request)
        guard let role = Role(rawValue: body.role) else {
            throw APIError(.invalidParameter, "role must be one of \(Role.allCases.map(\.rawValue).joined(separator: ", "))", parameter: "role")
        }
        if let days = body.expiresInDays, !(1...3650).contains(days) {
            throw APIError(.invalidParameter, "expires_in_days must be from 1 to 3650, got \(days)", parameter: "expires_in_days")
        }
        let organisationName = body.organisation ?? principal.organisation.name
        if !principal.may(.manageAccess) {
            guard organisationName == principal.organisation.name else {
                throw APIError(.forbidden, "you manage the keys of \(principal.organisation.name) only")
            }
            guard !(body.personalData ?? false) else { throw APIError(.forbidden, "only office admins grant the right to see personal data") }
        }
        let expiresAt = body.expiresInDays.map { Date().addingTimeInterval(Double($0) * 86_400) }
        let (key, info) = try await access {
            do {
                guard let organisation = try await store.organisation(named: organisationName) else {
                    throw APIError(.invalidBody, "no organisation named '\(organisationName)'; create it first (POST /v1/admin/organisations)")
                }
                let user = try await store.ensureUser(body.user, of: organisation, role: role, personalData: body.personalData ?? false)
                let created = try await store.createKey(for: user, label: body.label ?? "", expiresAt: expiresAt, by: principal.name)
                try await store.append(
                    AuditEntry(by: principal, action: "key_created", outcome: .allowed, subjectKind: "key", subjectID: created.0.id,
                        remoteAddress: context.remoteAddress))
                return created
            } catch let error as AccessError {
                throw APIError(.invalidBody, error.message)
            }
        }
        return try JSONResponse.created(CreatedKey(key: key.text, info: info))
    }

    @Sendable func revokeKey(_ request: Request, context: APIRequestContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        _ = try QueryParameters(request, accepted: [])
        let store = try store()
        let id = context.parameters.get("id") ?? ""
        guard id.count == 12, id.allSatisfy(\.isHexDigit) else {
            throw APIError(.invalidParameter, "a key id is 12 hexadecimal digits (the part after cwk_), got '\(id)'", parameter: "id")
        }
        let organisation = principal.may(.manageAccess) ? nil : principal.organisation.id
        let revoked = try await access {
            let revoked = try await store.revokeKey(id, by: principal.name, organisationID: organisation)
            if revoked != nil {
                try await store.append(
                    AuditEntry(by: principal, action: "key_revoked", outcome: .allowed, subjectKind: "key", subjectID: id.lowercased(),
                        remoteAddress: context.remoteAddress))
            }
            return revoked
        }
        guard let revoked else { throw APIError(.notFound, "no key \(id)", parameter: "id") }
        return try JSONResponse.make(revoked)
    }
}

/// `GET /v1/me`.
struct CallerResponse: Encodable {
    let name: String
    let organisation: Organisation
    let role: Role
    let permissions: [String]
    let personalData: Bool
    /// `city`, `district` or `subjects`.
    let scope: String
    let district: String?
    /// How many subjects a limited scope holds.
    let subjects: Int?
    let keyId: String?

    init(_ principal: Principal) {
        name = principal.name
        organisation = principal.organisation
        role = principal.role
        permissions = principal.permissions.map(\.rawValue).sorted()
        personalData = principal.mayReadPersonalData
        scope = principal.scope.kind
        district = principal.scope.district
        subjects = principal.scope.subjectIDs?.count
        keyId = principal.keyID
    }
}

/// USCC checking for request bodies.
enum USCCText {
    static func validated(_ text: String) throws(APIError) -> String {
        do {
            return try USCC(validating: text.trimmingCharacters(in: .whitespaces)).value
        } catch {
            throw APIError(.invalidParameter, error.reason)
        }
    }
}
