import Access
import Foundation
import CreditWatchCore
import Hummingbird
import RuleLanguage

/// `GET /v1/audit?subject=&actor=&organisation=&action=&after=&limit=`: the audit log, for
/// auditors. Subjects' ID numbers are masked unless the auditor holds the personal-data right.
/// `GET /v1/persons/{id}/queries`: a person's query record — which organisation queried them,
/// when, why, with what outcome — for the office (to show the data subject at its counter).
/// `GET /v1/enterprises/{uscc}/queries`: the same of an enterprise, for the office within its
/// scope and for the enterprise itself (its users' scope is the enterprise).
struct AuditController: Sendable {
    let administration: (any AccessAdministration)?
    let enterprises: any EnterpriseReadModel
    let access: StoreAccess

    func addRoutes(to group: some RouterMethods<APIRequestContext>) {
        group.get("audit", use: search)
        group.get("persons/{id}/queries", use: personQueries)
        group.get("enterprises/{uscc}/queries", use: enterpriseQueries)
    }

    struct Row: Encodable {
        let id: Int64
        let at: String
        let actor: String
        let organisation: String
        let role: String
        let keyId: String?
        let action: String
        let outcome: String
        let reason: String?
        let purpose: String?
        let authorisation: JSONValue?
        let subjectKind: String?
        let subjectId: String?
        let returned: JSONValue?
        let remoteAddress: String?

        enum CodingKeys: String, CodingKey {
            case id, at, actor, organisation, role, keyId, action, outcome, reason, purpose, authorisation, subjectKind, subjectId
            case returned, remoteAddress
        }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(id, forKey: .id)
            try c.encode(at, forKey: .at)
            try c.encode(actor, forKey: .actor)
            try c.encode(organisation, forKey: .organisation)
            try c.encode(role, forKey: .role)
            try c.encode(keyId, forKey: .keyId)
            try c.encode(action, forKey: .action)
            try c.encode(outcome, forKey: .outcome)
            try c.encode(reason, forKey: .reason)
            try c.encode(purpose, forKey: .purpose)
            try c.encode(authorisation, forKey: .authorisation)
            try c.encode(subjectKind, forKey: .subjectKind)
            try c.encode(subjectId, forKey: .subjectId)
            try c.encode(returned, forKey: .returned)
            try c.encode(remoteAddress, forKey: .remoteAddress)
        }
    }

    @Sendable func search(_ request: Request, context: APIRequestContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        guard let store = administration else { throw APIError(.notFound, "this server has no access store") }
        let query = try QueryParameters(request, accepted: ["subject", "actor", "organisation", "action", "after", "limit"])
        let filter = AuditFilter(
            subjectID: try query.single("subject"), actor: try query.single("actor"), organisation: try query.single("organisation"),
            action: try query.single("action"))
        let after = try query.cursor("after")
        let limit = try access.limit(query)
        let page = try await access { try await store.audit(filter, after: after, limit: limit) }
        let clear = principal.mayReadPersonalData
        let rows = page.records.map { record in
            let e = record.entry
            let subject = e.subjectKind == "person" && !clear ? e.subjectID.map(PersonalData.idNumber.mask) : e.subjectID
            return Row(
                id: record.id, at: record.at, actor: e.actor, organisation: e.organisation, role: e.role, keyId: e.keyID, action: e.action,
                outcome: e.outcome.rawValue, reason: e.reason, purpose: e.purpose, authorisation: e.authorisation.flatMap(JSONValue.parse),
                subjectKind: e.subjectKind, subjectId: subject, returned: e.returned.flatMap(JSONValue.parse), remoteAddress: e.remoteAddress)
        }
        let cursor = (page.records.last?.id ?? after).map(String.init)
        return try JSONResponse.make(Page(items: rows, nextCursor: cursor, hasMore: page.hasMore))
    }
}

extension AuditController {
    struct QueryRecord: Encodable {
        let at: String
        let organisation: String
        let role: String
        let purpose: String?
        let outcome: String
        let reason: String?
    }

    @Sendable func personQueries(_ request: Request, context: APIRequestContext) async throws -> Response {
        _ = try context.requirePrincipal()
        let text = context.parameters.get("id") ?? ""
        guard case .person(let id)? = QuerySubject.parse(text) else {
            throw APIError(.invalidParameter, "id must be a resident ID number", parameter: "id")
        }
        return try await queryRecord(of: id.value, request)
    }

    @Sendable func enterpriseQueries(_ request: Request, context: APIRequestContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        let uscc: USCC
        do {
            uscc = try USCC(validating: context.parameters.get("uscc") ?? "")
        } catch {
            throw APIError(.invalidParameter, error.reason, parameter: "uscc")
        }
        // Outside the caller's scope it answers as an enterprise nobody knows.
        guard try await access({ try await enterprises.enterprise(uscc.value, scope: principal.scope) }) != nil else {
            throw APIError(.notFound, "no enterprise with USCC \(uscc.value) is known")
        }
        return try await queryRecord(of: uscc.value, request)
    }

    /// The queries of one subject, newest last: who (organisation and role, never the user), when,
    /// why, with what outcome.
    private func queryRecord(of subject: String, _ request: Request) async throws -> Response {
        guard let store = administration else { throw APIError(.notFound, "this server has no access store") }
        let query = try QueryParameters(request, accepted: ["after", "limit"])
        let after = try query.cursor("after")
        let limit = try access.limit(query)
        let page = try await access { try await store.audit(AuditFilter(subjectID: subject, action: "query"), after: after, limit: limit) }
        let items = page.records.map {
            QueryRecord(
                at: $0.at, organisation: $0.entry.organisation, role: $0.entry.role, purpose: $0.entry.purpose, outcome: $0.entry.outcome.rawValue,
                reason: $0.entry.reason)
        }
        return try JSONResponse.make(Page(items: items, nextCursor: (page.records.last?.id ?? after).map(String.init), hasMore: page.hasMore))
    }
}

extension JSONValue {
    static func parse(_ text: String) -> JSONValue? {
        try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
    }
}
