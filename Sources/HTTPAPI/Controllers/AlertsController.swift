import Access
import CreditWatchCore
import Hummingbird
import RuleLanguage

/// `GET /v1/alerts?after=&limit=&severity=&category=&industry=` (the alert feed) and
/// `GET /v1/alerts/events?after=&limit=` (raised, withdrawn, reactivated), within the caller's scope;
/// `?latest=true&limit=N`: the newest N, with the newest event id as the cursor to stream after.
struct AlertsController: Sendable {
    let alerts: any AlertReadModel
    let access: StoreAccess

    func addRoutes(to group: some RouterMethods<APIRequestContext>) {
        group.get("alerts", use: feed)
        group.get("alerts/events", use: events)
    }

    @Sendable func feed(_ request: Request, context: APIRequestContext) async throws -> Response {
        let scope = try context.requirePrincipal().scope
        let query = try QueryParameters(request, accepted: ["after", "limit", "severity", "category", "industry"])
        let after = try query.cursor("after")
        let limit = try access.limit(query)
        let filter = AlertFilter(
            severities: try query.members("severity", of: Severity.self),
            categories: try query.members("category", of: RuleLanguage.Category.self), division: try query.division("industry"))
        let alerts = self.alerts
        let page = try await access { try await alerts.alerts(filter, after: after, limit: limit, scope: scope) }
        return try JSONResponse.make(Page(items: page.alerts.map(AlertView.init), nextCursor: page.nextCursor.map(String.init), hasMore: page.hasMore))
    }

    @Sendable func events(_ request: Request, context: APIRequestContext) async throws -> Response {
        let scope = try context.requirePrincipal().scope
        let query = try QueryParameters(request, accepted: ["after", "limit", "latest"])
        let after = try query.cursor("after")
        let limit = try access.limit(query)
        let latest: Bool
        switch try query.single("latest") {
        case nil, "false": latest = false
        case "true": latest = true
        case let text?: throw APIError(.invalidParameter, "latest must be true or false, not '\(text)'", parameter: "latest")
        }
        if latest, after != nil { throw APIError(.invalidParameter, "latest=true reads the newest events: leave out after", parameter: "after") }
        let alerts = self.alerts
        let page = try await access {
            latest ? try await alerts.latestAlertEvents(limit: limit, scope: scope) : try await alerts.alertEvents(after: after, limit: limit, scope: scope)
        }
        return try JSONResponse.make(
            Page(items: page.events.map(AlertEventView.init), nextCursor: page.nextCursor.map(String.init), hasMore: page.hasMore))
    }
}
