import Access
import CreditWatchCore
import Hummingbird
import PostgresStore
import RuleLanguage

/// `GET /v1/enterprises/{uscc}`: an enterprise's profile with its current features, score (every
/// point explained, with history), tags and relation graph; `GET /v1/tags/{tag}?after=&limit=`: the members of a
/// rule-defined tag (e.g. `leading`). An enterprise outside the caller's scope answers as an
/// unknown one.
struct EnterprisesController: Sendable {
    let enterprises: any EnterpriseReadModel
    let features: any EnterpriseFeatureSource
    let rules: (any RuleSetControl)?
    let relations: (any RelationReadModel)?
    let personalData: PersonalDataAccess
    let access: StoreAccess

    func addRoutes(to group: some RouterMethods<APIRequestContext>) {
        group.get("enterprises/{uscc}", use: profile)
        group.get("tags/{tag}", use: tagMembers)
    }

    @Sendable func profile(_ request: Request, context: APIRequestContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        let scope = principal.scope
        _ = try QueryParameters(request, accepted: [])
        let uscc: USCC
        do {
            uscc = try USCC(validating: context.parameters.get("uscc") ?? "")
        } catch {
            throw APIError(.invalidParameter, error.reason, parameter: "uscc")
        }
        let enterprises = self.enterprises
        guard var record = try await access({ try await enterprises.enterprise(uscc.value, scope: scope) }) else {
            throw APIError(.notFound, "no enterprise with USCC \(uscc.value) is known", parameter: "uscc")
        }
        // Features come from another store: when it fails, the profile is still worth showing.
        var values: [NamedJSONValue]?
        let features = self.features
        do {
            if let current = try await withDeadline(access.timeout, { try await features.features(of: uscc.value) }) {
                values = current.map { NamedJSONValue(name: $0.name, value: JSONValue($0.value)) }
            } else {
                context.logger.warning("enterprise features timed out")
            }
        } catch {
            context.logger.warning("enterprise features unavailable", metadata: ["error": "\(String(reflecting: error))"])
        }
        let clear = try await personalData.clear(for: principal, subject: .enterprise(uscc), action: "read_profile", context: context)
        if !clear { record.profile.facts = personalData.masked(record.profile.facts) }
        var graph: RelationGraphView?
        if let relations {
            graph = RelationGraphView(try await access { try await relations.neighbourhood(of: EntityKey(.enterprise, uscc.value)) }, clear: clear)
        }
        return try JSONResponse.make(EnterpriseResponse(record: record, features: values, relations: graph))
    }

    @Sendable func tagMembers(_ request: Request, context: APIRequestContext) async throws -> Response {
        let scope = try context.requirePrincipal().scope
        let query = try QueryParameters(request, accepted: ["after", "limit"])
        let tag = context.parameters.get("tag") ?? ""
        guard !tag.isEmpty, tag.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }) else {
            throw APIError(.invalidParameter, "a tag name is letters, digits and underscores, got '\(tag)'", parameter: "tag")
        }
        if let known = await rules?.status().tags, !known.contains(tag) {
            throw APIError(.notFound, "no tag '\(tag)' in the live rule set (tags: \(known.joined(separator: ", ")))", parameter: "tag")
        }
        let after = try query.single("after")
        let limit = try access.limit(query)
        let enterprises = self.enterprises
        let page = try await access { try await enterprises.tagMembers(tag, after: after, limit: limit, scope: scope) }
        return try JSONResponse.make(Page(items: page.members.map(TagMemberView.init), nextCursor: page.nextCursor, hasMore: page.hasMore))
    }
}

/// `GET /v1/enterprises/{uscc}`: the stored profile plus current features (`null` when the
/// feature store could not be read).
struct EnterpriseResponse: StableObject {
    let record: EnterpriseRecord
    let features: [NamedJSONValue]?
    let relations: RelationGraphView?

    func write(to m: inout Members) throws {
        try m("uscc", record.profile.uscc)
        try m("registration", record.profile.registration.map(RegistrationView.init))
        try m("score", record.score.map(ScoreView.init))
        try m("tags", TagListView(record.tags))
        try m("facts", record.profile.facts.map(DepartmentFactsView.init))
        try m("features", features.map { $0.map(NamedValueView.init) })
        try m("alerts", record.profile.alerts.map(AlertView.init))
        try m("relations", relations)
    }
}

/// The relation graph around a subject: its entities (persons' ID numbers and names masked unless
/// the caller may see personal data) and the edges between them by index. Enterprises outside the
/// caller's scope appear by registration only (USCC and name are public).
struct RelationGraphView: StableObject {
    let graph: RelationNeighbourhood
    let clear: Bool
    init(_ graph: RelationNeighbourhood, clear: Bool) {
        self.graph = graph
        self.clear = clear
    }

    struct NodeView: StableObject {
        let node: RelationNeighbourhood.Node
        let clear: Bool
        func write(to m: inout Members) throws {
            let person = node.entity.kind == .person && !clear
            try m("kind", node.entity.kind.rawValue)
            try m("id", person ? PersonalData.idNumber.mask(node.entity.id) : node.entity.id)
            try m("name", person ? node.name.map(PersonalData.name.mask) : node.name)
            try m("depth", node.depth)
        }
    }

    struct LinkView: StableObject {
        let link: RelationNeighbourhood.Link
        func write(to m: inout Members) throws {
            try m("relation", link.relation)
            try m("from", link.from)
            try m("to", link.to)
            try m("source", link.source)
            try m("day", link.day.description)
            try m("figures", link.figures.isEmpty ? nil : link.figures)
        }
    }

    func write(to m: inout Members) throws {
        try m("nodes", graph.nodes.map { NodeView(node: $0, clear: clear) })
        try m("links", graph.links.map(LinkView.init))
        try m("truncated", graph.truncated)
    }
}
