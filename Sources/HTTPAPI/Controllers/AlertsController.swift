import Access
import CreditWatchCore
import Hummingbird
import RuleLanguage

/// `GET /v1/alerts?after=&limit=&severity=&category=&industry=` (the alert feed) and
/// `GET /v1/alerts/events?after=&limit=` (raised, withdrawn, reactivated), within the caller's scope.
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
        let query = try QueryParameters(request, accepted: ["after", "limit"])
        let after = try query.cursor("after")
        let limit = try access.limit(query)
        let alerts = self.alerts
        let page = try await access { try await alerts.alertEvents(after: after, limit: limit, scope: scope) }
        return try JSONResponse.make(
            Page(items: page.events.map(AlertEventView.init), nextCursor: page.nextCursor.map(String.init), hasMore: page.hasMore))
    }
}
