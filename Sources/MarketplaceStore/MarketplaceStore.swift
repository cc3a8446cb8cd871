import Access
import Foundation
import Logging
import Marketplace
import PostgresNIO
import PostgresStore
import RuleLanguage
import ServiceLifecycle

/// The financing marketplace on PostgreSQL (its own migrations, ledger `market_migrations`, and
/// pool): products, needs, applications with their event log, loans with schedules and
/// repayments, idempotency keys. The state machines are `Marketplace`'s; this adapter loads a
/// subject under a row lock, asks the machine, and writes the outcome in the same transaction. It
/// also grants the bank of an application the applicant in its scope (the access layer's
/// `scope_grant`), and takes the grant back when the application ends without a loan. A `Service`.
public final class MarketplaceStore: Sendable, Service {
    let database: SubsystemDatabase
    let logger: Logger
    var client: PostgresClient { database.client }

    public init(configuration: PostgresStore.Configuration, logger: Logger) throws {
        self.database = try SubsystemDatabase(
            configuration: configuration, connections: 3, migrations: Self.migrations, ledger: "market_migrations", logger: logger)
        self.logger = logger
    }

    public func run() async { await database.run() }

    @discardableResult
    public func migrate() async throws -> [Int] { try await database.migrate() }

    static let timestamp = #"to_char(%@ AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')"#

    /// Rolls a transaction back with a refusal (nothing of a refused command is written).
    struct Refused: Error { let refusal: MarketRefusal }

    /// Runs `body` in a transaction; a `Refused` thrown inside rolls back and becomes the failure.
    func command<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> Result<T, MarketRefusal> {
        do {
            return .success(try await client.withTransaction(logger: logger) { try await body($0) })
        } catch let error as PostgresTransactionError {
            if let refused = error.closureError as? Refused { return .failure(refused.refusal) }
            throw error
        } catch let refused as Refused {
            return .failure(refused.refusal)
        }
    }
}

// MARK: Products

extension MarketplaceStore {
    static let productColumns = """
        id, bank_id, bank_name, name, kind, min_amount::text, max_amount::text, min_term_months, max_term_months, min_rate_bp::int8,
        max_rate_bp::int8, methods, guarantee, industries, districts, eligibility, status, version
        """

    static func products(_ rows: PostgresRowSequence) async throws -> [ProductRecord] {
        var result: [ProductRecord] = []
        for try await (id, bank, bankName, name, kind, minAmount, maxAmount, minTerm, maxTerm, minRate, maxRate, methods, guarantee, industries,
            districts, eligibility, status, version) in rows.decode(
                (Int64, Int64, String, String, String, String, String, Int, Int, Int64, Int64, [String], String, [String], [String], String,
                    String, Int).self)
        {
            let terms = ProductTerms(
                name: name, kind: ProductKind(rawValue: kind) ?? .credit, minimumAmount: Fen(yuan: minAmount) ?? .zero,
                maximumAmount: Fen(yuan: maxAmount) ?? .zero, minimumTermMonths: minTerm, maximumTermMonths: maxTerm,
                minimumRate: AnnualRate(basisPoints: minRate), maximumRate: AnnualRate(basisPoints: maxRate),
                methods: methods.compactMap(RepaymentMethod.init), guarantee: guarantee, industries: industries, districts: districts,
                eligibility: eligibility)
            result.append(ProductRecord(id: id, bank: bank, bankName: bankName, terms: terms, status: ProductStatus(rawValue: status) ?? .draft, version: version))
        }
        return result
    }
}

extension MarketplaceStore: MarketplacePort {
    public func createProduct(_ terms: ProductTerms, by caller: MarketCaller) async throws -> ProductRecord {
        let rows = try await client.query(
            """
            INSERT INTO mk_product (bank_id, bank_name, name, kind, min_amount, max_amount, min_term_months, max_term_months, min_rate_bp,
                max_rate_bp, methods, guarantee, industries, districts, eligibility, status, created_by)
            VALUES (\(caller.organisation), \(caller.organisationName), \(terms.name), \(terms.kind.rawValue), \(terms.minimumAmount.yuan)::numeric,
                \(terms.maximumAmount.yuan)::numeric, \(terms.minimumTermMonths), \(terms.maximumTermMonths), \(terms.minimumRate.basisPoints),
                \(terms.maximumRate.basisPoints), \(terms.methods.map(\.rawValue)), \(terms.guarantee), \(terms.industries), \(terms.districts),
                \(terms.eligibility), 'draft', \(caller.name))
            RETURNING \(unescaped: Self.productColumns)
            """, logger: logger)
        guard let product = try await Self.products(rows).first else { throw PostgresStoreError(.malformedStoredValue, "INSERT … RETURNING gave no row") }
        return product
    }

    public func product(_ id: Int64) async throws -> ProductRecord? {
        try await Self.products(try await client.query("SELECT \(unescaped: Self.productColumns) FROM mk_product WHERE id = \(id)", logger: logger)).first
    }

    public func products(after: Int64?, limit: Int, bank: Int64?) async throws -> [ProductRecord] {
        try await Self.products(
            try await client.query(
                """
                SELECT \(unescaped: Self.productColumns) FROM mk_product
                WHERE id > \(after ?? 0) AND (status = 'published' OR bank_id = \(bank ?? -1))
                ORDER BY id LIMIT \(limit)
                """, logger: logger))
    }

    public func apply(_ command: ProductCommand, toProduct id: Int64, expectedVersion: Int?, by caller: MarketCaller) async throws
        -> Result<ProductRecord, MarketRefusal>
    {
        let logger = self.logger
        return try await self.command { connection in
            let rows = try await connection.query("SELECT \(unescaped: Self.productColumns) FROM mk_product WHERE id = \(id) FOR UPDATE", logger: logger)
            guard var product = try await Self.products(rows).first else { throw Refused(refusal: MarketRefusal(.invalid("no product \(id)"))) }
            let current = ["status": product.status.rawValue, "version": String(product.version)]
            if let expectedVersion, expectedVersion != product.version {
                throw Refused(refusal: MarketRefusal(.conflict("the product changed: version \(product.version), not \(expectedVersion)"), current: current))
            }
            switch decide(command, on: product.status, bank: product.bank, by: caller.actor) {
            case .failure(let rejection): throw Refused(refusal: MarketRefusal(rejection, current: current))
            case .success(let status): product.status = status
            }
            product.version += 1
            try await connection.query(
                "UPDATE mk_product SET status = \(product.status.rawValue), version = \(product.version), updated_at = now() WHERE id = \(id)",
                logger: logger)
            return product
        }
    }
}

// MARK: Needs

extension MarketplaceStore {
    static let needColumns = """
        id, uscc, amount::text, term_months, purpose, collateral, authorisation::text, status, claimed_by, application_id, version,
        coalesce(published_on::text, to_char(created_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD'))
        """

    static func needs(_ rows: PostgresRowSequence) async throws -> [NeedRecord] {
        var result: [NeedRecord] = []
        for try await (id, uscc, amount, term, purpose, collateral, authorisation, status, claimedBy, applicationID, version, publishedOn) in rows.decode(
            (Int64, String, String, Int, String, String, String, String, Int64?, Int64?, Int, String).self)
        {
            let request = FinancingRequest(
                amount: Fen(yuan: amount) ?? .zero, termMonths: term, purpose: purpose, collateral: collateral,
                authorisation: try JSONDecoder().decode(QueryAuthorisation.self, from: Data(authorisation.utf8)))
            result.append(
                NeedRecord(
                    id: id, uscc: uscc, request: request, status: NeedStatus(rawValue: status) ?? .open, claimedBy: claimedBy,
                    applicationID: applicationID, version: version, publishedOn: publishedOn))
        }
        return result
    }

    static func json(_ authorisation: QueryAuthorisation) throws -> String {
        String(decoding: try JSONEncoder().encode(authorisation), as: UTF8.self)
    }

    public func publishNeed(uscc: String, _ request: FinancingRequest, today: Day, by caller: MarketCaller) async throws -> NeedRecord {
        let rows = try await client.query(
            """
            INSERT INTO mk_need (uscc, amount, term_months, purpose, collateral, authorisation, status, published_on)
            VALUES (\(uscc), \(request.amount.yuan)::numeric, \(request.termMonths), \(request.purpose), \(request.collateral),
                \(try Self.json(request.authorisation))::jsonb, 'open', \(today.description)::date)
            RETURNING \(unescaped: Self.needColumns)
            """, logger: logger)
        guard let need = try await Self.needs(rows).first else { throw PostgresStoreError(.malformedStoredValue, "INSERT … RETURNING gave no row") }
        return need
    }

    public func need(_ id: Int64) async throws -> NeedRecord? {
        try await Self.needs(try await client.query("SELECT \(unescaped: Self.needColumns) FROM mk_need WHERE id = \(id)", logger: logger)).first
    }

    public func needs(after: Int64?, limit: Int, uscc: String?) async throws -> [NeedRecord] {
        try await Self.needs(
            try await client.query(
                """
                SELECT \(unescaped: Self.needColumns) FROM mk_need
                WHERE id > \(after ?? 0) AND (status = 'open' OR uscc = \(uscc ?? ""))
                ORDER BY id LIMIT \(limit)
                """, logger: logger))
    }

    public func allNeeds(after: Int64?, limit: Int) async throws -> [NeedRecord] {
        try await Self.needs(
            try await client.query("SELECT \(unescaped: Self.needColumns) FROM mk_need WHERE id > \(after ?? 0) ORDER BY id LIMIT \(limit)", logger: logger))
    }

    public func firstResponses(ofApplications ids: [Int64]) async throws -> [Int64: Day] {
        guard !ids.isEmpty else { return [:] }
        var days: [Int64: Day] = [:]
        for try await (id, day) in try await client.query(
            """
            SELECT application_id, min(coalesce(on_day, (at AT TIME ZONE 'Asia/Shanghai')::date))::text FROM mk_application_event
            WHERE application_id = ANY(\(ids)) AND action IN ('accept', 'claim', 'reject') GROUP BY application_id
            """, logger: logger
        ).decode((Int64, String).self) {
            days[id] = Day(iso: day)
        }
        return days
    }

    public func apply(
        _ command: NeedCommand, toNeed id: Int64, expectedVersion: Int?, by caller: MarketCaller, today: Day, district: String?, idempotency: Idempotency?
    ) async throws -> Result<NeedRecord, MarketRefusal> {
        if let idempotency, let replay = try await needReplay(idempotency, caller, need: id) { return replay }
        do {
            return try await applyOnce(command, toNeed: id, expectedVersion: expectedVersion, by: caller, today: today, district: district, idempotency: idempotency)
        } catch let error as PostgresTransactionError where error.closureError is KeyTaken {
            guard let idempotency, let replay = try await needReplay(idempotency, caller, need: id) else { throw error }
            return replay
        }
    }

    /// The need as a claim with the same key left it.
    func needReplay(_ idempotency: Idempotency, _ caller: MarketCaller, need id: Int64) async throws -> Result<NeedRecord, MarketRefusal>? {
        switch try await replay(idempotency, caller) {
        case nil: return nil
        case .failure(let refusal)?: return .failure(refusal)
        case .success(let application)?:
            guard application.needID == id, let need = try await need(id) else { return .failure(Self.keyReused(idempotency)) }
            return .success(need)
        }
    }

    func applyOnce(
        _ command: NeedCommand, toNeed id: Int64, expectedVersion: Int?, by caller: MarketCaller, today: Day, district: String?, idempotency: Idempotency?
    ) async throws -> Result<NeedRecord, MarketRefusal> {
        let logger = self.logger
        return try await self.command { connection in
            let rows = try await connection.query("SELECT \(unescaped: Self.needColumns) FROM mk_need WHERE id = \(id) FOR UPDATE", logger: logger)
            guard var need = try await Self.needs(rows).first else { throw Refused(refusal: MarketRefusal(.invalid("no need \(id)"))) }
            let current = ["status": need.status.rawValue, "version": String(need.version), "claimed_by": need.claimedBy.map(String.init) ?? ""]
            if let expectedVersion, expectedVersion != need.version {
                throw Refused(refusal: MarketRefusal(.conflict("the need changed: version \(need.version), not \(expectedVersion)"), current: current))
            }
            switch decide(command, on: need.status, uscc: need.uscc, by: caller.actor) {
            case .failure(let rejection): throw Refused(refusal: MarketRefusal(rejection, current: current))
            case .success(let status): need.status = status
            }
            need.version += 1
            if command == .claim {
                // The claim is the bank's acceptance: the application starts accepted.
                let state = ApplicationState(status: .accepted, bank: caller.organisation, uscc: need.uscc)
                let applicationID = try await Self.insertApplication(
                    connection, productID: nil, needID: need.id, state: state, bankName: caller.organisationName, district: district, request: need.request,
                    method: nil, today: today, acceptBy: today, logger: logger)
                try await Self.record(idempotency, caller, applicationID: applicationID, connection, logger: logger)
                try await Self.event(
                    connection, applicationID, caller, action: "claim", detail: ["need_id": String(need.id)], version: 0, on: today, logger: logger)
                need.claimedBy = caller.organisation
                need.applicationID = applicationID
            }
            try await connection.query(
                """
                UPDATE mk_need SET status = \(need.status.rawValue), version = \(need.version), claimed_by = \(need.claimedBy),
                    claimed_at = CASE WHEN \(need.claimedBy) IS NOT NULL THEN now() END, application_id = \(need.applicationID)
                WHERE id = \(id)
                """, logger: logger)
            return need
        }
    }
}

// MARK: Applications

extension MarketplaceStore {
    static let applicationColumns = """
        id, product_id, need_id, bank_id, bank_name, uscc, district, amount::text, term_months, method, purpose, collateral, authorisation::text,
        status, approved_amount::text, approved_term_months, approved_rate_bp::int8, approved_method, disbursed::text, reason,
        submitted_on::text, accept_by::text, version
        """

    /// The applications of `rows` with their loans.
    static func applications(_ rows: PostgresRowSequence, connection: PostgresConnection, logger: Logger) async throws -> [ApplicationRecord] {
        var result: [ApplicationRecord] = []
        for try await (id, productID, needID, bank, bankName, uscc, district, amount, term, method, purpose, collateral, authorisation, status,
            approvedAmount, approvedTerm, approvedRate, approvedMethod, disbursed, reason, submittedOn, acceptBy, version) in rows.decode(
                (Int64, Int64?, Int64?, Int64, String, String, String?, String, Int, String?, String, String, String, String, String?, Int?, Int64?,
                    String?, String, String?, String, String, Int).self)
        {
            var approval: Approval?
            if let approvedAmount, let approvedTerm, let approvedRate, let approvedMethod, let method = RepaymentMethod(rawValue: approvedMethod) {
                approval = Approval(
                    amount: Fen(yuan: approvedAmount) ?? .zero, termMonths: approvedTerm, rate: AnnualRate(basisPoints: approvedRate), method: method)
            }
            let state = ApplicationState(
                status: ApplicationStatus(rawValue: status) ?? .submitted, bank: bank, uscc: uscc, approval: approval,
                disbursed: Fen(yuan: disbursed) ?? .zero, version: version)
            let request = FinancingRequest(
                amount: Fen(yuan: amount) ?? .zero, termMonths: term, purpose: purpose, collateral: collateral,
                authorisation: try JSONDecoder().decode(QueryAuthorisation.self, from: Data(authorisation.utf8)))
            result.append(
                ApplicationRecord(
                    id: id, productID: productID, needID: needID, bankName: bankName, district: district, request: request, method: method.flatMap(RepaymentMethod.init),
                    state: state, submittedOn: Day(iso: submittedOn) ?? Day(0), acceptBy: Day(iso: acceptBy) ?? Day(0), reason: reason, loans: []))
        }
        let loans = try await Self.loans(ofApplications: result.map(\.id), connection: connection, logger: logger)
        for index in result.indices { result[index].loans = loans[result[index].id] ?? [] }
        return result
    }

    static func loans(ofApplications ids: [Int64], connection: PostgresConnection, logger: Logger) async throws -> [Int64: [LoanRecord]] {
        guard !ids.isEmpty else { return [:] }
        var loans: [LoanRecord] = []
        for try await (id, applicationID, tranche, principal, rate, term, method, disbursedOn) in try await connection.query(
            """
            SELECT id, application_id, tranche, principal::text, rate_bp::int8, term_months, method, disbursed_on::text
            FROM mk_loan WHERE application_id = ANY(\(ids)) ORDER BY application_id, tranche
            """, logger: logger
        ).decode((Int64, Int64, Int, String, Int64, Int, String, String).self) {
            guard let amount = Fen(yuan: principal), let method = RepaymentMethod(rawValue: method), let day = Day(iso: disbursedOn),
                let terms = try? LoanTerms(principal: amount, termMonths: term, rate: AnnualRate(basisPoints: rate), method: method)
            else { throw PostgresStoreError(.malformedStoredValue, "loan \(id) has terms the marketplace cannot read") }
            loans.append(LoanRecord(id: id, applicationID: applicationID, tranche: tranche, terms: terms, disbursedOn: day, schedule: [], repayments: []))
        }
        let loanIDs = loans.map(\.id)
        var schedules: [Int64: [Instalment]] = [:]
        for try await (loan, number, due, principal, interest) in try await connection.query(
            "SELECT loan_id, number, due::text, principal::text, interest::text FROM mk_instalment WHERE loan_id = ANY(\(loanIDs)) ORDER BY loan_id, number",
            logger: logger
        ).decode((Int64, Int, String, String, String).self) {
            schedules[loan, default: []].append(
                Instalment(number: number, due: Day(iso: due) ?? Day(0), principal: Fen(yuan: principal) ?? .zero, interest: Fen(yuan: interest) ?? .zero))
        }
        var repayments: [Int64: [Repayment]] = [:]
        for try await (loan, paidOn, amount) in try await connection.query(
            "SELECT loan_id, paid_on::text, amount::text FROM mk_repayment WHERE loan_id = ANY(\(loanIDs)) ORDER BY loan_id, id", logger: logger
        ).decode((Int64, String, String).self) {
            repayments[loan, default: []].append(Repayment(on: Day(iso: paidOn) ?? Day(0), amount: Fen(yuan: amount) ?? .zero))
        }
        var byApplication: [Int64: [LoanRecord]] = [:]
        for var loan in loans {
            loan.schedule = schedules[loan.id] ?? []
            loan.repayments = repayments[loan.id] ?? []
            byApplication[loan.applicationID, default: []].append(loan)
        }
        return byApplication
    }

    static func insertApplication(
        _ connection: PostgresConnection, productID: Int64?, needID: Int64?, state: ApplicationState, bankName: String, district: String?,
        request: FinancingRequest, method: RepaymentMethod?, today: Day, acceptBy: Day, logger: Logger
    ) async throws -> Int64 {
        let rows = try await connection.query(
            """
            INSERT INTO mk_application (product_id, need_id, bank_id, bank_name, uscc, district, amount, term_months, method, purpose, collateral,
                authorisation, status, submitted_on, accept_by)
            VALUES (\(productID), \(needID), \(state.bank), \(bankName), \(state.uscc), \(district), \(request.amount.yuan)::numeric, \(request.termMonths),
                \(method?.rawValue), \(request.purpose), \(request.collateral), \(try json(request.authorisation))::jsonb, \(state.status.rawValue),
                \(today.description)::date, \(acceptBy.description)::date)
            RETURNING id
            """, logger: logger)
        for try await id in rows.decode(Int64.self) {
            // The bank sees the applicant while the application or its loan lives.
            try await connection.query(
                """
                INSERT INTO scope_grant (organisation_id, uscc, source) VALUES (\(state.bank), \(state.uscc), \("application:\(id)"))
                ON CONFLICT DO NOTHING
                """, logger: logger)
            return id
        }
        throw PostgresStoreError(.malformedStoredValue, "INSERT … RETURNING gave no row")
    }

    /// Records a step, with the business day it was taken on (`on`) besides the clock's time.
    static func event(
        _ connection: PostgresConnection, _ applicationID: Int64, _ caller: MarketCaller, action: String, detail: [String: String], version: Int,
        on day: Day, logger: Logger
    ) async throws {
        let detail = String(decoding: try JSONEncoder().encode(detail), as: UTF8.self)
        try await connection.query(
            """
            INSERT INTO mk_application_event (application_id, actor, organisation, action, detail, version, on_day)
            VALUES (\(applicationID), \(caller.name), \(caller.organisationName), \(action), \(detail)::jsonb, \(version), \(day.description)::date)
            """, logger: logger)
    }

    public func submitApplication(
        product: ProductRecord, uscc: String, district: String?, _ request: FinancingRequest, method: RepaymentMethod?, today: Day,
        acceptBy: Day, by caller: MarketCaller, idempotency: Idempotency?
    ) async throws -> Result<ApplicationRecord, MarketRefusal> {
        if let idempotency, let replay = try await replay(idempotency, caller) { return replay }
        let logger = self.logger
        do {
            return .success(
                try await client.withTransaction(logger: logger) { connection in
                    let state = ApplicationState(status: .submitted, bank: product.bank, uscc: uscc)
                    let id = try await Self.insertApplication(
                        connection, productID: product.id, needID: nil, state: state, bankName: product.bankName, district: district, request: request,
                        method: method, today: today, acceptBy: acceptBy, logger: logger)
                    try await Self.record(idempotency, caller, applicationID: id, connection, logger: logger)
                    try await Self.event(connection, id, caller, action: "submit", detail: ["product_id": String(product.id)], version: 0, on: today, logger: logger)
                    let rows = try await connection.query("SELECT \(unescaped: Self.applicationColumns) FROM mk_application WHERE id = \(id)", logger: logger)
                    guard let application = try await Self.applications(rows, connection: connection, logger: logger).first else {
                        throw PostgresStoreError(.malformedStoredValue, "the application just inserted is gone")
                    }
                    return application
                })
        } catch let error as PostgresTransactionError where error.closureError is KeyTaken {
            guard let idempotency, let replay = try await replay(idempotency, caller) else { throw error }
            return replay
        }
    }

    /// A request with the key of one that has already been answered meets the application that one
    /// created or acted on; nil when the key is new.
    func replay(_ idempotency: Idempotency, _ caller: MarketCaller) async throws -> Result<ApplicationRecord, MarketRefusal>? {
        for try await (fingerprint, id) in try await client.query(
            "SELECT fingerprint, application_id FROM mk_idempotency WHERE organisation_id = \(caller.organisation) AND key = \(idempotency.key)",
            logger: logger
        ).decode((String, Int64).self) {
            guard fingerprint == idempotency.fingerprint else { return .failure(Self.keyReused(idempotency)) }
            return try await application(id).map { .success($0) }
        }
        return nil
    }

    static func keyReused(_ idempotency: Idempotency) -> MarketRefusal {
        MarketRefusal(.invalid("Idempotency-Key '\(idempotency.key)' was used for another request; use a new key"))
    }

    /// Another request holds the key: the transaction that would create something again rolls back.
    struct KeyTaken: Error {}

    /// Records the key for the application this transaction creates; `KeyTaken` when a concurrent
    /// request with the same key got there first (its commit is waited for by the insert).
    static func record(_ idempotency: Idempotency?, _ caller: MarketCaller, applicationID: Int64, _ connection: PostgresConnection, logger: Logger)
        async throws
    {
        guard let idempotency else { return }
        for try await _ in try await connection.query(
            """
            INSERT INTO mk_idempotency (organisation_id, key, fingerprint, application_id)
            VALUES (\(caller.organisation), \(idempotency.key), \(idempotency.fingerprint), \(applicationID))
            ON CONFLICT DO NOTHING RETURNING 1
            """, logger: logger
        ) { return }
        throw KeyTaken()
    }

    public func application(_ id: Int64) async throws -> ApplicationRecord? {
        let logger = self.logger
        return try await client.withConnection { connection in
            let rows = try await connection.query("SELECT \(unescaped: Self.applicationColumns) FROM mk_application WHERE id = \(id)", logger: logger)
            return try await Self.applications(rows, connection: connection, logger: logger).first
        }
    }

    public func applications(_ filter: ApplicationFilter, after: Int64?, limit: Int) async throws -> [ApplicationRecord] {
        let logger = self.logger
        return try await client.withConnection { connection in
            let rows = try await connection.query(
                """
                SELECT \(unescaped: Self.applicationColumns) FROM mk_application
                WHERE id > \(after ?? 0) AND (\(filter.bank)::int8 IS NULL OR bank_id = \(filter.bank))
                    AND (\(filter.uscc)::text IS NULL OR uscc = \(filter.uscc)) AND (\(filter.status?.rawValue)::text IS NULL OR status = \(filter.status?.rawValue))
                    AND (\(filter.district)::text IS NULL OR district = \(filter.district))
                ORDER BY id LIMIT \(limit)
                """, logger: logger)
            return try await Self.applications(rows, connection: connection, logger: logger)
        }
    }

    public func events(ofApplication id: Int64) async throws -> [ApplicationEvent] {
        let rows = try await client.query(
            """
            SELECT id, \(unescaped: String(format: Self.timestamp, "at")), actor, organisation, action, detail::text, version
            FROM mk_application_event WHERE application_id = \(id) ORDER BY id
            """, logger: logger)
        var events: [ApplicationEvent] = []
        for try await (id, at, actor, organisation, action, detail, version) in rows.decode((Int64, String, String, String, String, String, Int).self) {
            let fields = (try? JSONDecoder().decode([String: String].self, from: Data(detail.utf8))) ?? [:]
            events.append(ApplicationEvent(id: id, at: at, actor: actor, organisation: organisation, action: action, detail: fields, version: version))
        }
        return events
    }

    /// The application under a row lock, or a refusal when there is none.
    static func locked(_ id: Int64, _ connection: PostgresConnection, logger: Logger) async throws -> ApplicationRecord {
        let rows = try await connection.query("SELECT \(unescaped: applicationColumns) FROM mk_application WHERE id = \(id) FOR UPDATE", logger: logger)
        guard let application = try await applications(rows, connection: connection, logger: logger).first else {
            throw Refused(refusal: MarketRefusal(.invalid("no application \(id)")))
        }
        return application
    }

    static func current(_ application: ApplicationRecord) -> [String: String] {
        ["status": application.state.status.rawValue, "version": String(application.state.version), "disbursed": String(application.state.disbursed.value)]
    }

    /// Claims the idempotency key in this transaction; the application a previous identical
    /// request acted on when the key was used before (its commit is waited for by the insert).
    static func claim(_ idempotency: Idempotency?, _ caller: MarketCaller, applicationID: Int64, _ connection: PostgresConnection, logger: Logger)
        async throws -> Bool
    {
        guard let idempotency else { return false }
        do {
            try await record(idempotency, caller, applicationID: applicationID, connection, logger: logger)
            return false
        } catch is KeyTaken {
            for try await (fingerprint, previous) in try await connection.query(
                "SELECT fingerprint, application_id FROM mk_idempotency WHERE organisation_id = \(caller.organisation) AND key = \(idempotency.key)",
                logger: logger
            ).decode((String, Int64).self) {
                guard fingerprint == idempotency.fingerprint, previous == applicationID else { throw Refused(refusal: keyReused(idempotency)) }
                return true
            }
            throw PostgresStoreError(.malformedStoredValue, "idempotency key vanished")
        }
    }

    public func apply(
        _ command: ApplicationCommand, toApplication id: Int64, expectedVersion: Int?, by caller: MarketCaller, detail: [String: String],
        idempotency: Idempotency?, today: Day, report: String?
    ) async throws -> Result<ApplicationRecord, MarketRefusal> {
        let logger = self.logger
        return try await self.command { connection in
            var application = try await Self.locked(id, connection, logger: logger)
            if try await Self.claim(idempotency, caller, applicationID: id, connection, logger: logger) { return application }
            try await Self.step(command, &application, expectedVersion: expectedVersion, caller: caller, detail: detail, on: today, connection, logger: logger)
            if let report {
                try await connection.query("UPDATE mk_application SET report = \(report)::jsonb, report_at = now() WHERE id = \(id)", logger: logger)
            }
            try await Self.report(application, on: today, connection, logger: logger)
            return application
        }
    }

    public func creditReport(ofApplication id: Int64) async throws -> (report: String, frozenAt: String)? {
        for try await (report, at) in try await client.query(
            "SELECT report::text, \(unescaped: String(format: Self.timestamp, "report_at")) FROM mk_application WHERE id = \(id) AND report IS NOT NULL",
            logger: logger
        ).decode((String, String).self) {
            return (report, at)
        }
        return nil
    }

    /// Writes a report to the outbox for each loan of the (locked) application whose row on `day`
    /// says something its last report did not.
    @discardableResult
    static func report(_ application: ApplicationRecord, on day: Day, _ connection: PostgresConnection, logger: Logger) async throws -> Int {
        guard !application.loans.isEmpty else { return 0 }
        var reported: [Int64: (substance: String, version: Int)] = [:]
        for try await (id, substance, version) in try await connection.query(
            "SELECT id, reported, report_version FROM mk_loan WHERE application_id = \(application.id)", logger: logger
        ).decode((Int64, String, Int).self) {
            reported[id] = (substance, version)
        }
        var written = 0
        for loan in application.loans {
            let last = reported[loan.id] ?? ("", 0)
            let row = LoanReport(loan, of: application, on: day, version: last.version + 1)
            guard row.substance != last.substance else { continue }
            let payload = String(decoding: try JSONEncoder().encode(row), as: UTF8.self)
            try await connection.query(
                "UPDATE mk_loan SET reported = \(row.substance), report_version = \(row.version) WHERE id = \(loan.id)", logger: logger)
            try await connection.query("INSERT INTO mk_loan_report (loan_id, payload) VALUES (\(loan.id), \(payload)::jsonb)", logger: logger)
            written += 1
        }
        return written
    }

    public func reportLoans(today: Day) async throws -> Int {
        let logger = self.logger
        var ids: [Int64] = []
        for try await id in try await client.query(
            "SELECT id FROM mk_application WHERE status IN ('disbursed', 'repaying', 'written_off') ORDER BY id", logger: logger
        ).decode(Int64.self) {
            ids.append(id)
        }
        var reports = 0
        for id in ids {
            // One application at a time, under its lock, so that a step in between is not lost.
            reports += try await client.withTransaction(logger: logger) { connection in
                try await Self.report(try await Self.locked(id, connection, logger: logger), on: today, connection, logger: logger)
            }
        }
        return reports
    }

    public func pendingLoanReports(limit: Int) async throws -> [PendingLoanReport] {
        var pending: [PendingLoanReport] = []
        for try await (id, loan, payload) in try await client.query(
            "SELECT id, loan_id, payload::text FROM mk_loan_report WHERE published_at IS NULL ORDER BY id LIMIT \(limit)", logger: logger
        ).decode((Int64, Int64, String).self) {
            pending.append(PendingLoanReport(id: id, loanNo: LoanReport.loanNo(loan), payload: payload))
        }
        return pending
    }

    public func markPublished(_ ids: [Int64]) async throws {
        guard !ids.isEmpty else { return }
        try await client.query("UPDATE mk_loan_report SET published_at = now() WHERE id = ANY(\(ids))", logger: logger)
    }

    /// Decides `command` on the locked application and writes the outcome: the state, the event,
    /// a tranche's loan and schedule, the scope grant's end.
    static func step(
        _ command: ApplicationCommand, _ application: inout ApplicationRecord, expectedVersion: Int?, caller: MarketCaller,
        detail: [String: String], on day: Day, _ connection: PostgresConnection, logger: Logger
    ) async throws {
        let id = application.id
        if let expectedVersion, expectedVersion != application.state.version {
            throw Refused(
                refusal: MarketRefusal(
                    .conflict("the application changed: version \(application.state.version), not \(expectedVersion)"), current: current(application)))
        }
        var command = command
        if case .close = command { command = .close(outstanding: application.outstanding) }
        let next: ApplicationState
        switch decide(command, on: application.state, by: caller.actor) {
        case .failure(let rejection): throw Refused(refusal: MarketRefusal(rejection, current: current(application)))
        case .success(let state): next = state
        }
        var reason: String?
        switch command {
        case .reject(let text), .writeOff(let text), .withdraw(let text): reason = text
        default: reason = application.reason
        }
        try await connection.query(
            """
            UPDATE mk_application SET status = \(next.status.rawValue), version = \(next.version), disbursed = \(next.disbursed.yuan)::numeric,
                approved_amount = \(next.approval?.amount.yuan)::numeric, approved_term_months = \(next.approval?.termMonths),
                approved_rate_bp = \(next.approval?.rate.basisPoints), approved_method = \(next.approval?.method.rawValue),
                reason = \(reason), updated_at = now()
            WHERE id = \(id)
            """, logger: logger)
        if case .disburse(let tranche, let day) = command, let approval = next.approval {
            let terms = try LoanTerms(principal: tranche, termMonths: approval.termMonths, rate: approval.rate, method: approval.method)
            let number = application.loans.count + 1
            var loanID: Int64 = 0
            for try await value in try await connection.query(
                """
                INSERT INTO mk_loan (application_id, tranche, principal, rate_bp, term_months, method, disbursed_on)
                VALUES (\(id), \(number), \(tranche.yuan)::numeric, \(terms.rate.basisPoints), \(terms.termMonths), \(terms.method.rawValue), \(day.description)::date)
                RETURNING id
                """, logger: logger
            ).decode(Int64.self) { loanID = value }
            let schedule = terms.schedule(from: day)
            try await connection.query(
                """
                INSERT INTO mk_instalment (loan_id, number, due, principal, interest)
                SELECT \(loanID), * FROM unnest(\(schedule.map(\.number))::int[], \(schedule.map(\.due.description))::date[],
                    \(schedule.map(\.principal.yuan))::numeric[], \(schedule.map(\.interest.yuan))::numeric[])
                """, logger: logger)
            application.loans.append(
                LoanRecord(id: loanID, applicationID: id, tranche: number, terms: terms, disbursedOn: day, schedule: schedule, repayments: []))
        }
        if [.rejected, .withdrawn, .expired, .closed].contains(next.status) {
            try await connection.query("DELETE FROM scope_grant WHERE source = \("application:\(id)")", logger: logger)
        }
        try await event(connection, id, caller, action: command.name, detail: detail, version: next.version, on: day, logger: logger)
        application.state = next
        application.reason = reason
    }

    public func recordRepayment(
        _ repayment: Repayment, onLoan loanID: Int64, ofBank bank: Int64, by caller: MarketCaller, idempotency: Idempotency?, today: Day
    ) async throws -> Result<ApplicationRecord, MarketRefusal> {
        let logger = self.logger
        return try await self.command { connection in
            var applicationID: Int64?
            for try await id in try await connection.query(
                "SELECT l.application_id FROM mk_loan l JOIN mk_application a ON a.id = l.application_id WHERE l.id = \(loanID) AND a.bank_id = \(bank)",
                logger: logger
            ).decode(Int64.self) {
                applicationID = id
            }
            guard let applicationID else { throw Refused(refusal: MarketRefusal(.invalid("no loan \(loanID)"))) }
            var application = try await Self.locked(applicationID, connection, logger: logger)
            if try await Self.claim(idempotency, caller, applicationID: applicationID, connection, logger: logger) { return application }
            guard let index = application.loans.firstIndex(where: { $0.id == loanID }) else { throw Refused(refusal: MarketRefusal(.invalid("no loan \(loanID)"))) }
            let loan = application.loans[index]
            let left = LoanPosition.remaining(schedule: loan.schedule, repayments: loan.repayments)
            guard repayment.amount > .zero, repayment.amount <= left else {
                throw Refused(refusal: MarketRefusal(.invalid("a repayment is between 0.01 and what the loan still owes, \(left.yuan); got \(repayment.amount.yuan)")))
            }
            guard repayment.on >= loan.disbursedOn else {
                throw Refused(refusal: MarketRefusal(.invalid("a repayment cannot precede the disbursement on \(loan.disbursedOn)")))
            }
            let detail = ["loan_id": String(loanID), "amount": String(repayment.amount.value), "paid_on": repayment.on.description]
            try await Self.step(.repaymentReceived, &application, expectedVersion: nil, caller: caller, detail: detail, on: today, connection, logger: logger)
            try await connection.query(
                """
                INSERT INTO mk_repayment (loan_id, paid_on, amount, recorded_by)
                VALUES (\(loanID), \(repayment.on.description)::date, \(repayment.amount.yuan)::numeric, \(caller.name))
                """, logger: logger)
            application.loans[index].repayments.append(repayment)
            // Everything approved is out and everything out is back: the application closes.
            if application.outstanding == .zero, application.state.disbursed == application.state.approval?.amount {
                try await Self.step(.close(outstanding: .zero), &application, expectedVersion: nil, caller: caller, detail: [:], on: today, connection, logger: logger)
            }
            try await Self.report(application, on: today, connection, logger: logger)
            return application
        }
    }

    public func expireApplications(today: Day) async throws -> [Int64] {
        let logger = self.logger
        let platform = MarketCaller(actor: .system, name: "platform", organisation: 0, organisationName: "platform")
        var expired: [Int64] = []
        let due = try await client.query(
            "SELECT id FROM mk_application WHERE status = 'submitted' AND accept_by < \(today.description)::date ORDER BY id", logger: logger)
        var ids: [Int64] = []
        for try await id in due.decode(Int64.self) { ids.append(id) }
        for id in ids {
            // Each on its own: one the bank accepted in the meantime is simply not expired.
            if case .success = try await command({ connection in
                var application = try await Self.locked(id, connection, logger: logger)
                try await Self.step(
                    .expire, &application, expectedVersion: nil, caller: platform, detail: ["accept_by": application.acceptBy.description], on: today,
                    connection, logger: logger)
            }) {
                expired.append(id)
            }
        }
        return expired
    }
}
