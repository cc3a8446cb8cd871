import Access
import AlertDesk
import WebhookDelivery
import CreditWatchCore
import DataHealth
import Marketplace
import PostgresStore
import RuleLanguage

/// The alert feed and its events.
public protocol AlertReadModel: Sendable {
    /// Alerts with `id > after`, in id order, at most `limit`; nil filters match everything.
    func alerts(_ filter: AlertFilter, after: Int64?, limit: Int, scope: Scope) async throws -> AlertPage
    /// One alert; nil when there is none with that id in `scope`.
    func alert(_ id: Int64, scope: Scope) async throws -> Alert?
    /// Alert state changes with `id > after`, in id order, at most `limit`.
    func alertEvents(after: Int64?, limit: Int, scope: Scope) async throws -> AlertEventPage
    /// The newest `limit` alert changes, in id order; the cursor is the newest event id of all.
    func latestAlertEvents(limit: Int, scope: Scope) async throws -> AlertEventPage
}

/// Which alerts a feed shows (nil: any).
public struct AlertFilter: Sendable, Hashable {
    public var severities: Set<Severity>?
    public var categories: Set<RuleLanguage.Category>?
    public var division: String?

    public init(severities: Set<Severity>? = nil, categories: Set<RuleLanguage.Category>? = nil, division: String? = nil) {
        self.severities = severities
        self.categories = categories
        self.division = division
    }
}

/// Enterprises: their stored profile, score and tags, and the members of a tag.
public protocol EnterpriseReadModel: Sendable {
    /// Nil when no enterprise with that USCC is known, or it is outside `scope`.
    func enterprise(_ uscc: String, scope: Scope) async throws -> EnterpriseRecord?
    func tagMembers(_ tag: String, after: String?, limit: Int, scope: Scope) async throws -> TagMemberPage
}

/// What the store of record holds of one enterprise.
public struct EnterpriseRecord: Sendable {
    public var profile: EnterpriseProfile
    public let score: EnterpriseScore?
    public let tags: EnterpriseTagList

    public init(profile: EnterpriseProfile, score: EnterpriseScore?, tags: EnterpriseTagList) {
        self.profile = profile
        self.score = score
        self.tags = tags
    }
}

/// The dashboard's figures: counts of alerts, scores and tags, a division's figures, an
/// enterprise's monthly series; each within the caller's scope.
public protocol StatisticsReadModel: Sendable {
    func overview(scope: Scope) async throws -> CityOverview
    /// Nil when the scope holds no enterprise of the division.
    func industry(_ division: String, series: [SeriesField], scope: Scope) async throws -> IndustryFigures?
    /// Nil when the enterprise is unknown or outside `scope`.
    func enterpriseSeries(_ uscc: String, series: [SeriesField], scope: Scope) async throws -> MonthlySeries?
}

/// The monthly series the live rule set reads (numeric fields of monthly feeds, and the industry
/// series), derived by the executable from the program: what the dashboard charts.
public protocol SeriesCatalog: Sendable {
    func enterpriseSeries() async -> [SeriesField]
    func industrySeries() async -> [SeriesField]
}

/// The quarantine of bad input.
public protocol QuarantineReadModel: Sendable {
    func quarantine(after: Int64?, limit: Int, scope: Scope) async throws -> QuarantinePage
}

/// The API's view of the stores: one adapter per store implements the read models; tests of HTTP
/// behaviour give in-memory ones.
public struct ReadModels: Sendable {
    public var alerts: any AlertReadModel
    public var enterprises: any EnterpriseReadModel
    public var quarantine: any QuarantineReadModel
    /// Organisations, keys, portfolios and the audit log; nil: a server without them (tests of
    /// HTTP behaviour), whose access routes answer 404 and which serves personal data masked only.
    public var access: (any AccessAdministration)?
    /// Webhook subscriptions and their delivery log; nil: no webhooks.
    public var webhooks: WebhookStore?
    /// The alert desk; nil: no desk.
    public var desk: (any AlertDeskPort)?
    /// Persons and history for the one-click query; nil: no queries.
    public var subjects: (any SubjectReadModel)?
    /// The relation graph around an enterprise or a person (profiles, the one-click query); nil:
    /// none (answers carry no `relations`).
    public var relations: (any RelationReadModel)?
    /// The dashboard's figures; nil: none (their routes answer 404).
    public var statistics: (any StatisticsReadModel)?
    /// The feeds' data health; nil: none (its routes answer 404).
    public var dataHealth: (any DataHealthReading)?
    /// What the dashboard charts; nil: no series.
    public var series: (any SeriesCatalog)?
    /// The financing marketplace; nil: no marketplace (its routes answer 404).
    public var market: (any MarketplacePort)?
    /// The live rule set as the marketplace uses it (product eligibility); nil: none.
    public var eligibility: (any EligibilityEngine)?
    public var marketSettings = MarketSettings()
    /// Answers when the store of record answers (`/health`).
    public var ping: @Sendable () async throws -> Void
    /// Whether an error means the store cannot be reached now (answered 503, not 500).
    public var isUnavailable: @Sendable (any Error) -> Bool
    /// The largest page a feed serves.
    public var maximumPageSize: Int

    public init(
        alerts: any AlertReadModel, enterprises: any EnterpriseReadModel, quarantine: any QuarantineReadModel,
        access: (any AccessAdministration)? = nil, subjects: (any SubjectReadModel)? = nil, desk: (any AlertDeskPort)? = nil,
        webhooks: WebhookStore? = nil, ping: @escaping @Sendable () async throws -> Void, isUnavailable: @escaping @Sendable (any Error) -> Bool = { _ in false },
        maximumPageSize: Int = 500
    ) {
        self.alerts = alerts
        self.enterprises = enterprises
        self.quarantine = quarantine
        self.access = access
        self.subjects = subjects
        self.desk = desk
        self.webhooks = webhooks
        self.ping = ping
        self.isUnavailable = isUnavailable
        self.maximumPageSize = maximumPageSize
    }

    /// The store of record's read models, and the access layer's.
    public static func postgres(
        _ store: PostgresStore, access: (any AccessAdministration)?, desk: (any AlertDeskPort)? = nil, webhooks: WebhookStore? = nil
    ) -> ReadModels {
        var models = ReadModels(
            alerts: store, enterprises: store, quarantine: store, access: access, subjects: store, desk: desk, webhooks: webhooks, ping: { try await store.ping() },
            isUnavailable: PostgresStore.isUnavailable, maximumPageSize: PostgresStore.maximumPageSize)
        models.statistics = store
        models.relations = store
        return models
    }
}

/// The relation graph around an entity (see `RelationNeighbourhood`).
public protocol RelationReadModel: Sendable {
    func neighbourhood(of entity: EntityKey) async throws -> RelationNeighbourhood
}

extension PostgresStore: RelationReadModel {
    public func neighbourhood(of entity: EntityKey) async throws -> RelationNeighbourhood {
        try await RelationNeighbourhood.read(around: entity, catalog: catalog, store: self)
    }
}

extension PostgresStore: StatisticsReadModel {
    public func overview(scope: Scope) async throws -> CityOverview {
        try await overview(subjectIDs: scope.subjectIDs, district: scope.district)
    }

    public func industry(_ division: String, series: [SeriesField], scope: Scope) async throws -> IndustryFigures? {
        try await industry(division, series: series, subjectIDs: scope.subjectIDs, district: scope.district)
    }

    public func enterpriseSeries(_ uscc: String, series: [SeriesField], scope: Scope) async throws -> MonthlySeries? {
        guard let registered = try await registeredDistrict(of: uscc), scope.admits(uscc, district: registered.district) else { return nil }
        return try await enterpriseSeries(uscc, series: series)
    }
}

extension PostgresStore: AlertReadModel, EnterpriseReadModel, QuarantineReadModel {
    public func alerts(_ filter: AlertFilter, after: Int64?, limit: Int, scope: Scope) async throws -> AlertPage {
        try await alerts(
            after: after, limit: limit, severities: filter.severities, categories: filter.categories, division: filter.division,
            subjectIDs: scope.subjectIDs, district: scope.district)
    }

    public func alert(_ id: Int64, scope: Scope) async throws -> Alert? {
        try await alert(id: id, subjectIDs: scope.subjectIDs, district: scope.district)
    }

    public func alertEvents(after: Int64?, limit: Int, scope: Scope) async throws -> AlertEventPage {
        try await alertEvents(after: after, limit: limit, subjectIDs: scope.subjectIDs, district: scope.district)
    }

    public func latestAlertEvents(limit: Int, scope: Scope) async throws -> AlertEventPage {
        try await latestAlertEvents(limit: limit, subjectIDs: scope.subjectIDs, district: scope.district)
    }

    public func enterprise(_ uscc: String, scope: Scope) async throws -> EnterpriseRecord? {
        guard let profile = try await enterprise(uscc), scope.admits(uscc, district: profile.registration?.district) else { return nil }
        return EnterpriseRecord(profile: profile, score: try await score(of: uscc), tags: try await tags(of: uscc))
    }

    public func tagMembers(_ tag: String, after: String?, limit: Int, scope: Scope) async throws -> TagMemberPage {
        try await tagMembers(tag, after: after, limit: limit, subjectIDs: scope.subjectIDs, district: scope.district)
    }

    /// The quarantine is city-wide raw input: a limited scope sees none of it.
    public func quarantine(after: Int64?, limit: Int, scope: Scope) async throws -> QuarantinePage {
        guard scope == .city else { return QuarantinePage(messages: [], nextCursor: nil, hasMore: false) }
        return try await quarantine(after: after, limit: limit)
    }
}
