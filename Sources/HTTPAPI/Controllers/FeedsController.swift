import DataHealth
import Hummingbird

/// `GET /v1/feeds` (every catalog feed's data health and the city's summary) and
/// `GET /v1/feeds/{topic}` (one feed): freshness against the city's event-time clock and the
/// catalog's cadence, records per month, key coverage and linking, the unlinked backlog, the
/// quarantine by reason, continuity holes. Counts of the whole city, no enterprise named.
struct FeedsController: Sendable {
    let health: (any DataHealthReading)?
    let access: StoreAccess

    func addRoutes(to group: some RouterMethods<APIRequestContext>) {
        group.get("feeds", use: list)
        group.get("feeds/{topic}", use: feed)
    }

    /// The city's data health. Only a city-wide scope reaches here (`AccessRules`): its figures
    /// count every district's records and its quarantine holds raw department input.
    func current(_ context: APIRequestContext) async throws -> CityDataHealth {
        _ = try context.requirePrincipal()
        guard let health else { throw APIError(.notFound, "this server keeps no data health") }
        return try await access { try await health.current() }
    }

    @Sendable func list(_ request: Request, context: APIRequestContext) async throws -> Response {
        _ = try QueryParameters(request, accepted: [])
        return try JSONResponse.make(CityHealthView(health: try await current(context)))
    }

    @Sendable func feed(_ request: Request, context: APIRequestContext) async throws -> Response {
        _ = try QueryParameters(request, accepted: [])
        let topic = context.parameters.get("topic") ?? ""
        let health = try await current(context)
        guard let feed = health.feed(topic) else {
            throw APIError(
                .notFound, "no feed '\(topic)' in the topic catalog (feeds: \(health.feeds.map(\.topic).joined(separator: ", ")))",
                parameter: "topic")
        }
        return try JSONResponse.make(FeedHealthView(feed: feed))
    }
}

struct CityHealthView: StableObject {
    let health: CityDataHealth
    func write(to m: inout Members) throws {
        try m("as_of", health.asOf?.description)
        try m("computed_at", health.computedAt)
        try m("summary", Summary(health: health))
        try m("feeds", health.feeds.map(FeedHealthView.init))
    }

    struct Summary: StableObject {
        let health: CityDataHealth
        func write(to m: inout Members) throws {
            try m("feeds", health.feeds.count)
            try m("fresh", health.freshFeeds)
            try m("fresh_share", health.freshShare)
            try m("records", health.records)
            try m("enterprises", health.enterprises)
            try m("persons", health.persons)
            try m("key_coverage", health.keyCoverage)
            try m("unlinked", health.unlinked)
            try m("quarantined", health.quarantined)
        }
    }
}

struct FeedHealthView: StableObject {
    let feed: FeedHealth
    init(feed: FeedHealth) { self.feed = feed }

    func write(to m: inout Members) throws {
        let f = feed.figures
        try m("topic", feed.topic)
        try m("department", feed.department)
        try m("description", feed.description)
        try m("cadence", feed.cadence.expected.rawValue)
        try m("max_silence_days", feed.cadence.maxSilenceDays)
        try m("latest_business_date", f.latestDay?.description)
        try m("covered_until", feed.coveredUntil?.description)
        try m("silent_days", feed.silentDays)
        try m("fresh", feed.fresh)
        try m("stale_days", feed.staleDays)
        try m("last_received_at", f.lastReceivedAt)
        try m("records", f.records)
        try m("received_last_30_days", f.receivedLast30Days)
        try m("monthly", feed.months.map(MonthView.init))
        try m("linking", Linking(feed: feed))
        try m("unlinked", Unlinked(figures: f))
        try m("quarantine", Quarantine(figures: f))
        try m("continuity", f.continuity.map(ContinuityView.init))
    }

    struct MonthView: StableObject {
        let month: MonthCount
        init(_ month: MonthCount) { self.month = month }
        func write(to m: inout Members) throws {
            try m("month", month.month.description)
            try m("records", month.records)
        }
    }

    struct Linking: StableObject {
        let feed: FeedHealth
        func write(to m: inout Members) throws {
            let f = feed.figures
            try m("by_key", f.byKey)
            try m("by_account", f.byAccount)
            try m("by_name", f.byName)
            try m("unrecorded", f.unrecorded)
            try m("unlinked", f.unlinked)
            try m("key_coverage", feed.keyCoverage)
            try m("account_share", feed.accountShare)
            try m("name_share", feed.nameShare)
            try m("unlinked_share", feed.unlinkedShare)
        }
    }

    struct Unlinked: StableObject {
        let figures: FeedFigures
        func write(to m: inout Members) throws {
            try m("count", figures.unlinked)
            try m("oldest_since", figures.unlinkedOldestSince)
        }
    }

    struct Quarantine: StableObject {
        let figures: FeedFigures
        func write(to m: inout Members) throws {
            try m("count", figures.quarantined)
            try m("top_reasons", figures.quarantineReasons.map { CountView(key: "reason", name: $0.reason, count: $0.count) })
        }
    }

    struct ContinuityView: StableObject {
        let continuity: Continuity
        init(_ continuity: Continuity) { self.continuity = continuity }
        func write(to m: inout Members) throws {
            try m("enterprises", continuity.enterprises)
            try m("enterprises_with_gaps", continuity.enterprisesWithGaps)
            try m("missing_months", continuity.missingMonths)
        }
    }
}
