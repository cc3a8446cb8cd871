import Access
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Marketplace
import RuleLanguage

/// The financing marketplace (银企融资对接), within the caller's party:
/// - products: `GET|POST /v1/market/products`, `GET /v1/market/products/{id}`,
///   `POST /v1/market/products/{id}/actions` (`publish`, `withdraw`) — banks write, everyone reads
///   the published ones; an eligibility condition that fails the rule-set check is a 422 with its
///   `eligibility:line:col` diagnostics;
/// - needs: `GET|POST /v1/market/needs`, `POST /v1/market/needs/{id}/claim` (a bank; the first
///   wins and opens an accepted application), `POST /v1/market/needs/{id}/withdraw`;
/// - applications: `GET|POST /v1/market/applications`, `GET /v1/market/applications/{id}` (with its
///   loans, schedules, positions and steps), `POST /v1/market/applications/{id}/actions` (`accept`,
///   `start_review`, `approve`, `reject`, `disburse`, `close`, `write_off`, `withdraw`);
/// - repayments: `POST /v1/market/loans/{id}/repayments`.
/// A bank sees its own applications, an enterprise its own, the office all (a district office its
/// district's); any other is a 404. Every command is audited, checked against the state (409 with
/// `current`) and the version when given, and safe to retry under an `Idempotency-Key` header.
struct MarketController: Sendable {
    let market: (any MarketplacePort)?
    let engine: (any EligibilityEngine)?
    let alerts: any AlertReadModel
    let enterprises: any EnterpriseReadModel
    let audit: (any AccessAdministration)?
    let personalData: PersonalDataAccess
    let settings: MarketSettings
    let access: StoreAccess
    let today: @Sendable () -> Day

    func addRoutes(to group: some RouterMethods<APIRequestContext>) {
        group.get("market/products", use: listProducts)
        group.post("market/products", use: createProduct)
        group.get("market/products/{id}", use: showProduct)
        group.post("market/products/{id}/actions", use: actOnProduct)
        group.get("market/needs", use: listNeeds)
        group.post("market/needs", use: publishNeed)
        group.post("market/needs/{id}/claim", use: claimNeed)
        group.post("market/needs/{id}/withdraw", use: withdrawNeed)
        group.get("market/applications", use: listApplications)
        group.post("market/applications", use: submitApplication)
        group.get("market/applications/{id}", use: showApplication)
        group.get("market/applications/{id}/report", use: showReport)
        group.post("market/applications/{id}/actions", use: actOnApplication)
        group.post("market/loans/{id}/repayments", use: recordRepayment)
        addInsightRoutes(to: group)
    }

    func port() throws(APIError) -> any MarketplacePort {
        guard let market else { throw APIError(.notFound, "this server has no marketplace") }
        return market
    }

    static func caller(_ principal: Principal) -> MarketCaller {
        let actor: MarketActor
        switch principal.organisation.kind {
        case .bank: actor = .bank(organisation: principal.organisation.id, admin: principal.role == .bankAdmin)
        case .enterprise: actor = .enterprise(uscc: principal.organisation.uscc ?? "")
        default: actor = .office
        }
        return MarketCaller(actor: actor, name: principal.name, organisation: principal.organisation.id, organisationName: principal.organisation.name)
    }

    static func id(_ context: APIRequestContext) throws(APIError) -> Int64 {
        let text = context.parameters.get("id") ?? ""
        guard let id = Int64(text), id > 0 else { throw APIError(.invalidParameter, "an id is a positive integer, got '\(text)'", parameter: "id") }
        return id
    }

    static func day(_ text: String?, _ name: String, default today: Day) throws(APIError) -> Day {
        guard let text else { return today }
        guard let day = Day(iso: text) else { throw APIError(.invalidParameter, "\(name) must be a date YYYY-MM-DD, got '\(text)'", parameter: name) }
        return day
    }

    func audited(_ principal: Principal, _ context: APIRequestContext, action: String, subject: (kind: String, id: String), refusal: String?) async throws {
        guard let audit else { return }
        try await audit.append(
            AuditEntry(
                by: principal, action: "market_\(action)", outcome: refusal == nil ? .allowed : .refused, reason: refusal,
                subjectKind: subject.kind, subjectID: subject.id, remoteAddress: context.remoteAddress))
    }

    static func error(_ refusal: MarketRefusal) -> APIError {
        switch refusal.rejection {
        case .conflict(let message): APIError(.conflict, message, current: refusal.current)
        case .notAllowed(let message): APIError(.forbidden, message)
        case .invalid(let message): APIError(.invalidParameter, message)
        }
    }

    /// `Idempotency-Key` (1–100 printable ASCII characters) with a digest of the request.
    static func idempotency(_ request: Request, body: Data) throws(APIError) -> Idempotency? {
        guard let key = request.headers[HTTPField.Name("Idempotency-Key")!] else { return nil }
        guard (1...100).contains(key.utf8.count), key.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7f }) else {
            throw APIError(.invalidParameter, "Idempotency-Key must be 1 to 100 printable ASCII characters", parameter: "Idempotency-Key")
        }
        var hash = SHA256()
        hash.update(data: Data("\(request.method) \(request.uri.path)\n".utf8))
        hash.update(data: body)
        return Idempotency(key: key, fingerprint: hash.finalize().map { String(format: "%02x", $0) }.joined())
    }

    // MARK: Products

    struct ProductBody: Decodable {
        let name: String
        let kind: String
        let minimumAmountFen: Int64
        let maximumAmountFen: Int64
        let minimumTermMonths: Int
        let maximumTermMonths: Int
        let minimumRateBp: Int64
        let maximumRateBp: Int64
        let methods: [String]
        let guarantee: String?
        let industries: [String]?
        let districts: [String]?
        let eligibility: String?
    }

    static func method(_ text: String, _ name: String) throws(APIError) -> RepaymentMethod {
        guard let method = RepaymentMethod(rawValue: text) else {
            let known = RepaymentMethod.allCases.map(\.rawValue).joined(separator: ", ")
            throw APIError(.invalidParameter, "\(name) must be one of \(known), got '\(text)'", parameter: name)
        }
        return method
    }

    @Sendable func createProduct(_ request: Request, context: APIRequestContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        _ = try QueryParameters(request, accepted: [])
        let market = try port()
        guard principal.organisation.kind == .bank else { throw APIError(.forbidden, "only a bank publishes loan products") }
        let body = try await RequestBody.json(ProductBody.self, from: request, limit: 64 << 10)
        guard let kind = ProductKind(rawValue: body.kind) else {
            let known = ProductKind.allCases.map(\.rawValue).joined(separator: ", ")
            throw APIError(.invalidParameter, "kind must be one of \(known), got '\(body.kind)'", parameter: "kind")
        }
        var methods: [RepaymentMethod] = []
        for text in body.methods { methods.append(try Self.method(text, "methods")) }
        let terms = ProductTerms(
            name: body.name, kind: kind, minimumAmount: Fen(body.minimumAmountFen), maximumAmount: Fen(body.maximumAmountFen),
            minimumTermMonths: body.minimumTermMonths, maximumTermMonths: body.maximumTermMonths,
            minimumRate: AnnualRate(basisPoints: body.minimumRateBp), maximumRate: AnnualRate(basisPoints: body.maximumRateBp), methods: methods,
            guarantee: body.guarantee ?? "", industries: body.industries ?? [], districts: body.districts ?? [], eligibility: body.eligibility ?? "")
        var problems = terms.problems
        if problems.isEmpty, !terms.eligibility.isEmpty {
            guard let engine else { throw APIError(.invalidBody, "this server runs no rule set, so eligibility conditions cannot be checked") }
            problems = await engine.check(terms.eligibility)
            if !problems.isEmpty {
                throw APIError(.invalidRuleSet, "the eligibility condition fails the rule-set check:\n" + problems.joined(separator: "\n"), parameter: "eligibility")
            }
        }
        guard problems.isEmpty else {
            throw APIError(.invalidBody, "the product's terms are not sound", problems: problems.enumerated().map { .init(row: $0.offset + 1, value: "", message: $0.element) })
        }
        let caller = Self.caller(principal)
        let product = try await access { try await market.createProduct(terms, by: caller) }
        try await access { try await audited(principal, context, action: "product_create", subject: ("product", String(product.id)), refusal: nil) }
        return try JSONResponse.make(ProductView(product), status: .created)
    }

    /// A product the caller may see: published, or its own bank's.
    func visibleProduct(_ id: Int64, _ principal: Principal) async throws -> ProductRecord {
        let market = try port()
        guard let product = try await access({ try await market.product(id) }),
            product.status == .published || product.bank == principal.organisation.id && principal.organisation.kind == .bank
        else { throw APIError(.notFound, "no product \(id)", parameter: "id") }
        return product
    }

    @Sendable func showProduct(_ request: Request, context: APIRequestContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        _ = try QueryParameters(request, accepted: [])
        return try JSONResponse.make(ProductView(try await visibleProduct(try Self.id(context), principal)))
    }

    @Sendable func listProducts(_ request: Request, context: APIRequestContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        let query = try QueryParameters(request, accepted: ["after", "limit"])
        let market = try port()
        let after = try query.cursor("after")
        let limit = try access.limit(query)
        let bank = principal.organisation.kind == .bank ? principal.organisation.id : nil
        let products = try await access { try await market.products(after: after, limit: limit + 1, bank: bank) }
        return try JSONResponse.make(Page(products.prefix(limit).map(ProductView.init), ids: products.map(\.id), limit: limit))
    }

    struct ActionBody: Decodable {
        let action: String
        let version: Int?
        let reason: String?
        let amountFen: Int64?
        let termMonths: Int?
        let rateBp: Int64?
        let method: String?
        let on: String?
    }

    @Sendable func actOnProduct(_ request: Request, context: APIRequestContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        _ = try QueryParameters(request, accepted: [])
        let market = try port()
        let product = try await visibleProduct(try Self.id(context), principal)
        let body = try await RequestBody.json(ActionBody.self, from: request, limit: 16 << 10)
        guard let command = ProductCommand(rawValue: body.action) else {
            throw APIError(.invalidParameter, "action must be publish or withdraw, got '\(body.action)'", parameter: "action")
        }
        let caller = Self.caller(principal)
        let outcome = try await access { try await market.apply(command, toProduct: product.id, expectedVersion: body.version, by: caller) }
        let refusal = outcome.refusalMessage
        try await access { try await audited(principal, context, action: "product_\(command.rawValue)", subject: ("product", String(product.id)), refusal: refusal) }
        return try JSONResponse.make(ProductView(try outcome.mapError(Self.error).get()))
    }

    // MARK: Needs

    struct RequestFields: Decodable {
        let amountFen: Int64
        let termMonths: Int
        let purpose: String
        let collateral: String?
        let authorisation: QueryAuthorisation
    }

    func financingRequest(_ body: RequestFields) throws(APIError) -> FinancingRequest {
        let request = FinancingRequest(
            amount: Fen(body.amountFen), termMonths: body.termMonths, purpose: body.purpose, collateral: body.collateral ?? "",
            authorisation: body.authorisation)
        let problems = request.problems(on: today())
        guard problems.isEmpty else {
            throw APIError(.invalidBody, "the request is not sound", problems: problems.enumerated().map { .init(row: $0.offset + 1, value: "", message: $0.element) })
        }
        return request
    }

    func enterpriseOnly(_ principal: Principal) throws(APIError) -> String {
        guard principal.organisation.kind == .enterprise, let uscc = principal.organisation.uscc else {
            throw APIError(.forbidden, "only an enterprise publishes needs and applies")
        }
        return uscc
    }

    @Sendable func publishNeed(_ request: Request, context: APIRequestContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        _ = try QueryParameters(request, accepted: [])
        let market = try port()
        let uscc = try enterpriseOnly(principal)
        let body = try await RequestBody.json(RequestFields.self, from: request, limit: 16 << 10)
        let financing = try financingRequest(body)
        let caller = Self.caller(principal)
        let day = today()
        let need = try await access { try await market.publishNeed(uscc: uscc, financing, today: day, by: caller) }
        try await access { try await audited(principal, context, action: "need_publish", subject: ("need", String(need.id)), refusal: nil) }
        return try JSONResponse.make(NeedView(need), status: .created)
    }

    @Sendable func listNeeds(_ request: Request, context: APIRequestContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        let query = try QueryParameters(request, accepted: ["after", "limit"])
        let market = try port()
        let after = try query.cursor("after")
        let limit = try access.limit(query)
        let own = principal.organisation.kind == .enterprise ? principal.organisation.uscc : nil
        let needs = try await access { try await market.needs(after: after, limit: limit + 1, uscc: own) }
        return try JSONResponse.make(Page(needs.prefix(limit).map(NeedView.init), ids: needs.map(\.id), limit: limit))
    }

    struct VersionBody: Decodable { let version: Int? }

    func needCommand(_ command: NeedCommand, _ request: Request, _ context: APIRequestContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        _ = try QueryParameters(request, accepted: [])
        let market = try port()
        let id = try Self.id(context)
        guard let need = try await access({ try await market.need(id) }) else { throw APIError(.notFound, "no need \(id)", parameter: "id") }
        guard need.status == .open || need.uscc == principal.organisation.uscc || need.claimedBy == principal.organisation.id else {
            // A bank that lost the race for a published need learns that it lost (whoever read it
            // first), not that the need never existed; which bank won stays private.
            if command == .claim, need.status == .claimed { throw APIError(.conflict, "need \(id) was already claimed by another bank") }
            throw APIError(.notFound, "no need \(id)", parameter: "id")
        }
        let data = try await RequestBody.bytes(request, limit: 4 << 10)
        let body = data.isEmpty ? VersionBody(version: nil) : try RequestBody.decode(VersionBody.self, from: data)
        let idempotency = try Self.idempotency(request, body: data)
        let caller = Self.caller(principal)
        let day = today()
        // A claim opens an application, which records the applicant's district.
        let district = command == .claim
            ? try await access { try await enterprises.enterprise(need.uscc, scope: .city)?.profile.registration?.district } : nil
        let outcome = try await access {
            try await market.apply(command, toNeed: id, expectedVersion: body.version, by: caller, today: day, district: district, idempotency: idempotency)
        }
        let refusal = outcome.refusalMessage
        try await access { try await audited(principal, context, action: "need_\(command.rawValue)", subject: ("need", String(id)), refusal: refusal) }
        return try JSONResponse.make(NeedView(try outcome.mapError(Self.error).get()))
    }

    @Sendable func claimNeed(_ request: Request, context: APIRequestContext) async throws -> Response {
        try await needCommand(.claim, request, context)
    }

    @Sendable func withdrawNeed(_ request: Request, context: APIRequestContext) async throws -> Response {
        try await needCommand(.withdraw, request, context)
    }

    // MARK: Applications

    struct ApplicationBody: Decodable {
        let productId: Int64
        let amountFen: Int64
        let termMonths: Int
        let method: String?
        let purpose: String
        let collateral: String?
        let authorisation: QueryAuthorisation
    }

    @Sendable func submitApplication(_ request: Request, context: APIRequestContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        _ = try QueryParameters(request, accepted: [])
        let market = try port()
        let uscc = try enterpriseOnly(principal)
        let data = try await RequestBody.bytes(request, limit: 16 << 10)
        let body = try RequestBody.decode(ApplicationBody.self, from: data)
        let idempotency = try Self.idempotency(request, body: data)
        let financing = try financingRequest(
            RequestFields(amountFen: body.amountFen, termMonths: body.termMonths, purpose: body.purpose, collateral: body.collateral, authorisation: body.authorisation))
        let method = try body.method.map { text throws(APIError) in try Self.method(text, "method") }
        let product = try await visibleProduct(body.productId, principal)
        guard product.status == .published else { throw APIError(.conflict, "product \(product.id) is \(product.status.rawValue)", current: ["status": product.status.rawValue]) }
        let registration = try await access { try await enterprises.enterprise(uscc, scope: .city)?.profile.registration }
        var problems = product.terms.requestProblems(amount: financing.amount, termMonths: financing.termMonths, method: method)
        problems += product.terms.targetProblems(industryCode: registration?.industryCode, district: registration?.district)
        if problems.isEmpty, !product.terms.eligibility.isEmpty {
            guard let engine else { throw APIError(.unavailable, "this server runs no rule set to judge the product's eligibility") }
            let verdict = try await access { try await engine.verdict(product.terms.eligibility, for: uscc) }
            if !verdict.holds {
                let values = verdict.values.sorted { $0.key < $1.key }.map { "\($0.key) = \($0.value)" }.joined(separator: ", ")
                problems.append("the enterprise does not meet the product's condition \(product.terms.eligibility) (\(values))")
            }
        }
        let caller = Self.caller(principal)
        guard problems.isEmpty else {
            let refusal = problems.joined(separator: "; ")
            try await access { try await audited(principal, context, action: "application_submit", subject: ("product", String(product.id)), refusal: refusal) }
            throw APIError(.invalidBody, "the application does not fit the product", problems: problems.enumerated().map { .init(row: $0.offset + 1, value: "", message: $0.element) })
        }
        let day = today()
        let acceptBy = settings.calendar.adding(workingDays: settings.acceptWithinWorkingDays, to: day)
        let outcome = try await access {
            try await market.submitApplication(
                product: product, uscc: uscc, district: registration?.district, financing, method: method, today: day, acceptBy: acceptBy, by: caller,
                idempotency: idempotency)
        }
        let application = try outcome.mapError(Self.error).get()
        try await access { try await audited(principal, context, action: "application_submit", subject: ("application", String(application.id)), refusal: nil) }
        return try JSONResponse.make(ApplicationView(application, today: day), status: .created)
    }

    /// Which applications the caller's organisation is party to, or oversees.
    func filter(_ principal: Principal) throws(APIError) -> ApplicationFilter {
        switch principal.organisation.kind {
        case .bank: return ApplicationFilter(bank: principal.organisation.id)
        case .enterprise: return ApplicationFilter(uscc: principal.organisation.uscc ?? "")
        case .financialOffice: return ApplicationFilter()
        case .districtOffice: return ApplicationFilter(district: principal.organisation.district ?? "")
        case .department: throw APIError(.forbidden, "departments take no part in the marketplace")
        }
    }

    func visibleApplication(_ id: Int64, _ principal: Principal) async throws -> ApplicationRecord {
        let market = try port()
        let filter = try filter(principal)
        guard let application = try await access({ try await market.application(id) }),
            filter.bank.map({ $0 == application.state.bank }) ?? true, filter.uscc.map({ $0 == application.state.uscc }) ?? true,
            filter.district.map({ $0 == application.district }) ?? true
        else { throw APIError(.notFound, "no application \(id)", parameter: "id") }
        return application
    }

    @Sendable func listApplications(_ request: Request, context: APIRequestContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        let query = try QueryParameters(request, accepted: ["after", "limit", "status"])
        let market = try port()
        var filter = try filter(principal)
        if let text = try query.single("status") {
            guard let status = ApplicationStatus(rawValue: text) else {
                let known = ApplicationStatus.allCases.map(\.rawValue).joined(separator: ", ")
                throw APIError(.invalidParameter, "status must be one of \(known), got '\(text)'", parameter: "status")
            }
            filter.status = status
        }
        let after = try query.cursor("after")
        let limit = try access.limit(query)
        let selected = filter
        let applications = try await access { try await market.applications(selected, after: after, limit: limit + 1) }
        let day = today()
        return try JSONResponse.make(
            Page(applications.prefix(limit).map { ApplicationView($0, today: day) }, ids: applications.map(\.id), limit: limit))
    }

    @Sendable func showApplication(_ request: Request, context: APIRequestContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        _ = try QueryParameters(request, accepted: [])
        let market = try port()
        let application = try await visibleApplication(try Self.id(context), principal)
        var view = ApplicationView(application, today: today())
        view.events = try await access { try await market.events(ofApplication: application.id) }.map(EventView.init)
        // An alert raised on the applicant is attached to its application at once.
        let alerts = self.alerts
        let applicant: Set<String> = [application.state.uscc]
        view.alerts = try await access { try await alerts.alerts(AlertFilter(), after: nil, limit: 100, scope: .subjects(applicant)) }
            .alerts.filter { $0.status == "active" }.map(AlertView.init)
        return try JSONResponse.make(view)
    }

    static func command(_ body: ActionBody, today: Day) throws(APIError) -> ApplicationCommand {
        func required<T>(_ value: T?, _ name: String) throws(APIError) -> T {
            guard let value else { throw APIError(.invalidParameter, "\(body.action) needs '\(name)'", parameter: name) }
            return value
        }
        switch body.action {
        case "accept": return .accept
        case "start_review": return .startReview
        case "approve":
            return .approve(
                Approval(
                    amount: Fen(try required(body.amountFen, "amount_fen")), termMonths: try required(body.termMonths, "term_months"),
                    rate: AnnualRate(basisPoints: try required(body.rateBp, "rate_bp")), method: try method(try required(body.method, "method"), "method")))
        case "reject": return .reject(reason: try required(body.reason, "reason"))
        case "disburse": return .disburse(Fen(try required(body.amountFen, "amount_fen")), on: try day(body.on, "on", default: today))
        case "close": return .close(outstanding: .zero)
        case "write_off": return .writeOff(reason: try required(body.reason, "reason"))
        case "withdraw": return .withdraw(reason: try required(body.reason, "reason"))
        default:
            throw APIError(
                .invalidParameter, "action must be one of accept, start_review, approve, reject, disburse, close, write_off, withdraw, got '\(body.action)'",
                parameter: "action")
        }
    }

    @Sendable func actOnApplication(_ request: Request, context: APIRequestContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        _ = try QueryParameters(request, accepted: [])
        let market = try port()
        let application = try await visibleApplication(try Self.id(context), principal)
        let data = try await RequestBody.bytes(request, limit: 16 << 10)
        let body = try RequestBody.decode(ActionBody.self, from: data)
        let idempotency = try Self.idempotency(request, body: data)
        let day = today()
        let command = try Self.command(body, today: day)
        if case .disburse(_, let on) = command, on > day {
            throw APIError(.invalidParameter, "on \(on) is in the future: record a disbursement once it is made", parameter: "on")
        }
        var detail: [String: String] = [:]
        switch command {
        case .approve(let approval):
            detail = ["amount_fen": String(approval.amount.value), "term_months": String(approval.termMonths), "rate_bp": String(approval.rate.basisPoints), "method": approval.method.rawValue]
        case .reject(let reason), .writeOff(let reason), .withdraw(let reason): detail = ["reason": reason]
        case .disburse(let amount, let on): detail = ["amount_fen": String(amount.value), "on": on.description]
        default: break
        }
        let caller = Self.caller(principal)
        let stepDetail = detail
        // The review starts with the enterprise's credit report, frozen with the step.
        let report: String? = command == .startReview ? try await creditReport(application, for: principal, context: context, today: day) : nil
        let outcome = try await access {
            try await market.apply(
                command, toApplication: application.id, expectedVersion: body.version, by: caller, detail: stepDetail, idempotency: idempotency,
                today: day, report: report)
        }
        let refusal = outcome.refusalMessage
        try await access { try await audited(principal, context, action: "application_\(command.name)", subject: ("application", String(application.id)), refusal: refusal) }
        return try JSONResponse.make(ApplicationView(try outcome.mapError(Self.error).get(), today: day))
    }

    /// The credit report as `principal` may see it now (JSON text).
    func creditReport(_ application: ApplicationRecord, for principal: Principal, context: APIRequestContext, today: Day) async throws -> String {
        let market = try port()
        let uscc = application.state.uscc
        let record = try await access { try await enterprises.enterprise(uscc, scope: .city) }
        var facts = record?.profile.facts ?? []
        if let subject = QuerySubject.parse(uscc),
            try await !personalData.clear(for: principal, subject: subject, action: "read_credit_report", context: context)
        {
            facts = personalData.masked(facts)
        }
        let history = try await access { try await market.applications(ApplicationFilter(uscc: uscc), after: nil, limit: 200) }
        let report = CreditReport(
            application: application, record: record, facts: facts, history: history.filter { $0.id != application.id }, reviewer: principal.name,
            today: today)
        return String(decoding: try JSONResponse.encode(report), as: UTF8.self)
    }

    /// `GET /v1/market/applications/{id}/report[?format=html]`: the credit report frozen when the
    /// review started. The bank reads it only while the enterprise's authorisation is valid; every
    /// read, refused or not, is audited with the authorisation.
    @Sendable func showReport(_ request: Request, context: APIRequestContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        let query = try QueryParameters(request, accepted: ["format"])
        let format = try query.single("format") ?? "json"
        guard ["json", "html"].contains(format) else {
            throw APIError(.invalidParameter, "format must be json or html, got '\(format)'", parameter: "format")
        }
        let market = try port()
        let application = try await visibleApplication(try Self.id(context), principal)
        let authorisation = application.request.authorisation
        let authorisationText = String(decoding: try JSONResponse.encode(AuthorisationView(authorisation)), as: UTF8.self)
        func audited(_ refusal: String?) async throws {
            guard let audit else { return }
            let entry = AuditEntry(
                by: principal, action: "market_report_read", outcome: refusal == nil ? .allowed : .refused, reason: refusal,
                purpose: authorisation.scope, authorisation: authorisationText, subjectKind: "enterprise", subjectID: application.state.uscc,
                returned: refusal == nil ? #"{"credit_report":"application \#(application.id)"}"# : nil, remoteAddress: context.remoteAddress)
            _ = try await access { try await audit.append(entry) }
        }
        if principal.organisation.kind == .bank, let problem = authorisation.problem(on: today()) {
            try await audited(problem)
            throw APIError(.forbidden, "the enterprise's authorisation does not cover this read: \(problem)")
        }
        guard let (report, frozenAt) = try await access({ try await market.creditReport(ofApplication: application.id) }) else {
            throw APIError(.notFound, "application \(application.id) has no credit report yet: it is frozen when the review starts")
        }
        try await audited(nil)
        if format == "html" {
            var headers = HTTPFields()
            headers[.contentType] = "text/html; charset=utf-8"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: CreditReportPage.html(report, frozenAt: frozenAt))))
        }
        return JSONResponse.raw(Data(report.utf8))
    }

    struct RepaymentBody: Decodable {
        let amountFen: Int64
        let paidOn: String?
    }

    @Sendable func recordRepayment(_ request: Request, context: APIRequestContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        _ = try QueryParameters(request, accepted: [])
        let market = try port()
        let loanID = try Self.id(context)
        let filter = try filter(principal)
        let data = try await RequestBody.bytes(request, limit: 4 << 10)
        let body = try RequestBody.decode(RepaymentBody.self, from: data)
        let idempotency = try Self.idempotency(request, body: data)
        let day = today()
        let repayment = Repayment(on: try Self.day(body.paidOn, "paid_on", default: day), amount: Fen(body.amountFen))
        guard repayment.on <= day else { throw APIError(.invalidParameter, "paid_on \(repayment.on) is in the future", parameter: "paid_on") }
        // Only the lending bank records repayments: any other caller meets a loan it cannot see.
        guard let bank = filter.bank else { throw APIError(.notFound, "no loan \(loanID)", parameter: "id") }
        let caller = Self.caller(principal)
        let outcome = try await access { try await market.recordRepayment(repayment, onLoan: loanID, ofBank: bank, by: caller, idempotency: idempotency, today: day) }
        let refusal = outcome.refusalMessage
        try await access { try await audited(principal, context, action: "loan_repayment", subject: ("loan", String(loanID)), refusal: refusal) }
        if case .failure(let failure) = outcome, failure.rejection == .invalid("no loan \(loanID)") {
            throw APIError(.notFound, "no loan \(loanID)", parameter: "id")
        }
        return try JSONResponse.make(ApplicationView(try outcome.mapError(Self.error).get(), today: day), status: .created)
    }
}

/// How the marketplace runs in this city.
public struct MarketSettings: Sendable {
    /// Public holidays and make-up working days.
    public var calendar: WorkingCalendar
    /// An application not accepted within this many working days expires.
    public var acceptWithinWorkingDays: Int

    public init(calendar: WorkingCalendar = WorkingCalendar(), acceptWithinWorkingDays: Int = 5) {
        self.calendar = calendar
        self.acceptWithinWorkingDays = acceptWithinWorkingDays
    }
}

extension Result where Failure == MarketRefusal {
    /// The refusal's message, for the audit log; nil when the command was applied.
    var refusalMessage: String? {
        if case .failure(let refusal) = self { return refusal.rejection.message }
        return nil
    }
}
