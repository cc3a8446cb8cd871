import Access
import CreditWatchCore
import Foundation
import Hummingbird
import PostgresStore
import RuleLanguage

/// `POST /v1/queries`: the one-click query (个人与企业政务共享信息查询) of an enterprise by USCC or
/// of a person by resident ID number, consolidating every department's current facts and history.
///
/// A query states its purpose; a query about a person, and any query by a bank, carries the
/// subject's authorisation, valid today. Every query — answered or refused — is in the audit log
/// before the answer leaves (without an audit log there are no queries). The subject must be in the
/// caller's scope (a person: by the authorisation); outside it the answer is the same 404 as for a
/// subject the platform does not know. Personal fields are masked unless the caller holds the
/// personal-data right.
struct QueryController: Sendable {
    let enterprises: any EnterpriseReadModel
    let subjects: (any SubjectReadModel)?
    let relations: (any RelationReadModel)?
    let features: any EnterpriseFeatureSource
    let administration: (any AccessAdministration)?
    let personalData: PersonalDataAccess
    let access: StoreAccess
    /// Today, for the authorisation's validity (a clock for tests).
    let today: @Sendable () -> Day

    func addRoutes(to group: some RouterMethods<APIRequestContext>) {
        group.post("queries", use: query)
    }

    struct QueryRequest: Decodable {
        let subject: String
        let purpose: String
        let authorisation: QueryAuthorisation?
    }

    @Sendable func query(_ request: Request, context: APIRequestContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        _ = try QueryParameters(request, accepted: [])
        guard let audit = administration, let subjects else { throw APIError(.notFound, "this server has no audit log; queries are off") }
        let body = try await RequestBody.json(QueryRequest.self, from: request, limit: 16 << 10)
        guard let subject = QuerySubject.parse(body.subject.trimmingCharacters(in: .whitespaces)) else {
            throw APIError(.invalidParameter, "subject must be a USCC (18 characters) or a resident ID number (18 characters)", parameter: "subject")
        }
        guard let purpose = QueryPurpose(rawValue: body.purpose) else {
            throw APIError(
                .invalidParameter, "purpose must be one of \(QueryPurpose.allCases.map(\.rawValue).joined(separator: ", "))", parameter: "purpose")
        }
        let authorisationText = body.authorisation.flatMap { authorisation in
            let encoder = JSONEncoder()
            encoder.keyEncodingStrategy = .convertToSnakeCase
            encoder.outputFormatting = .sortedKeys
            return try? String(decoding: encoder.encode(authorisation), as: UTF8.self)
        }
        func record(_ outcome: AuditEntry.Outcome, reason: String? = nil, returned: String? = nil) async throws -> Int64 {
            let entry = AuditEntry(
                by: principal, action: "query", outcome: outcome, reason: reason, purpose: purpose.rawValue, authorisation: authorisationText,
                subjectKind: subject.kind, subjectID: subject.id, returned: returned, remoteAddress: context.remoteAddress)
            return try await access { try await audit.append(entry) }
        }
        func refuse(_ error: APIError) async throws -> Never {
            _ = try await record(.refused, reason: error.message)
            throw error
        }

        if principal.organisation.kind == .bank, !purpose.isLending {
            try await refuse(APIError(.forbidden, "a bank queries for a lending purpose only (贷前审查, 贷后管理, 授信审批)", parameter: "purpose"))
        }
        if queryNeedsAuthorisation(subject, by: principal) {
            guard let authorisation = body.authorisation else {
                try await refuse(APIError(.forbidden, "this query needs the subject's authorisation (reference, scope, valid_from, valid_until)", parameter: "authorisation"))
            }
            if let problem = authorisation.problem(on: today()) {
                try await refuse(APIError(.forbidden, problem, parameter: "authorisation"))
            }
        }

        let clear = principal.mayReadPersonalData
        var answer = QueryAnswer(subjectKind: subject.kind, subjectId: clear ? subject.id : PersonalData.idNumber.maskIfPerson(subject))
        answer.purpose = purpose.rawValue
        let (enterprises, personalData) = (self.enterprises, self.personalData)
        switch subject {
        case .enterprise(let uscc):
            guard let record = try await access({ try await enterprises.enterprise(uscc.value, scope: principal.scope) }) else {
                try await refuse(APIError(.notFound, "no enterprise with USCC \(uscc.value) is known", parameter: "subject"))
            }
            answer.enterprise = EnterpriseAnswer(
                registration: record.profile.registration, score: record.score, alerts: record.profile.alerts,
                facts: clear ? record.profile.facts : personalData.masked(record.profile.facts))
        case .person(let id):
            guard let person = try await access({ try await subjects.person(id.value) }) else {
                try await refuse(APIError(.notFound, "no person with that ID number is known", parameter: "subject"))
            }
            let alerts = clear ? person.alerts : person.alerts.map { alert in
                var alert = alert
                alert.subjectID = PersonalData.idNumber.mask(alert.subjectID)
                return alert
            }
            // The person rules evaluated now; the person is still worth showing when the engine cannot answer.
            let features = self.features
            let assessment = try? await withDeadline(access.timeout, { try await features.personRules(of: id.value) })
            answer.person = PersonAnswer(
                enterprises: person.enterprises, alerts: alerts, facts: clear ? person.facts : personalData.masked(person.facts, key: id.value),
                assessment: assessment ?? nil)
        }
        let history = try await access { try await subjects.history(of: subject.id, limit: 500) }
        answer.history = history.map {
            HistoryAnswer(
                department: $0.department, topic: $0.topic, key: clear || $0.key != subject.id ? $0.key : answer.subjectId, version: $0.version, operation: $0.operation, eventDay: $0.eventDay,
                fields: clear ? $0.fields : personalData.masked($0.fields, topic: $0.topic))
        }
        if let relations {
            let entity: EntityKey =
                switch subject {
                case .enterprise(let uscc): EntityKey(.enterprise, uscc.value)
                case .person(let id): EntityKey(.person, id.value)
                }
            answer.relations = RelationGraphView(try await access { try await relations.neighbourhood(of: entity) }, clear: clear)
        }
        answer.queryId = try await record(.allowed, returned: answer.summary)
        return try JSONResponse.make(answer)
    }
}

/// The subjects the one-click query reads besides enterprises: persons and every entity's history.
public protocol SubjectReadModel: Sendable {
    func person(_ id: String) async throws -> PersonProfile?
    func history(of entityID: String, limit: Int) async throws -> [HistoryEntry]
}

extension PostgresStore: SubjectReadModel {}

extension PersonalData {
    /// A person's ID number masked; a USCC (public) as it is.
    func maskIfPerson(_ subject: QuerySubject) -> String {
        if case .person(let id) = subject { return mask(id.value) }
        return subject.id
    }
}

struct QueryAnswer: Encodable {
    var queryId: Int64 = 0
    let subjectKind: String
    let subjectId: String
    var purpose = ""
    var enterprise: EnterpriseAnswer?
    var person: PersonAnswer?
    var history: [HistoryAnswer] = []
    var relations: RelationGraphView?

    /// What the audit log keeps of the answer: its sections and their sizes, not the data.
    var summary: String {
        let facts = (enterprise?.facts ?? person?.facts ?? []).flatMap(\.topics).map { "\"\($0.topic)\":\($0.records.count)" }
        let alerts = enterprise?.alerts.count ?? person?.alerts.count ?? 0
        return #"{"facts":{\#(facts.joined(separator: ","))},"alerts":\#(alerts),"history":\#(history.count),"enterprises":\#(person?.enterprises.count ?? 0),"relations":\#(relations?.graph.nodes.count ?? 0)}"#
    }
}

struct EnterpriseAnswer: StableObject {
    let registration: EnterpriseRegistration?
    let score: EnterpriseScore?
    let alerts: [Alert]
    let facts: [DepartmentFacts]

    func write(to m: inout Members) throws {
        try m("registration", registration.map(RegistrationView.init))
        try m("score", score.map(ScoreView.init))
        try m("alerts", alerts.map(AlertView.init))
        try m("facts", facts.map(DepartmentFactsView.init))
    }
}

struct PersonAnswer: StableObject {
    /// Where the person is named by ID number: legal representative, …
    let enterprises: [PersonProfile.Enterprise]
    let alerts: [Alert]
    let facts: [DepartmentFacts]
    /// The person rules that hold now (nil: the engine could not be asked).
    let assessment: [Firing]?

    func write(to m: inout Members) throws {
        try m("enterprises", enterprises.map(PersonEnterpriseView.init))
        try m("alerts", alerts.map(AlertView.init))
        try m("facts", facts.map(DepartmentFactsView.init))
        try m("assessment", assessment.map { $0.map(FiringView.init) })
    }
}

/// A rule that holds for a subject now (evaluated, not stored): what and why.
struct FiringView: StableObject {
    let firing: Firing
    init(_ firing: Firing) { self.firing = firing }

    func write(to m: inout Members) throws {
        try m("rule", firing.rule)
        try m("title", firing.title)
        try m("severity", firing.severity.rawValue)
        try m("category", firing.category.rawValue)
        try m("explanation", firing.explanation)
        try m("window", firing.window)
        try m("sources", firing.sources)
    }
}

struct HistoryAnswer: Encodable {
    let department: String
    let topic: String
    let key: String
    let version: Int64
    let operation: String
    let eventDay: String
    let fields: [String: JSONValue]
}
