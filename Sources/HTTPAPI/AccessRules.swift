import Access
import Hummingbird

/// Who may call each route under `/v1`: the one table of authorisation, checked by
/// `AuthorisationMiddleware` before any handler runs. A route without a rule is refused to
/// everyone (and logged), so a new route cannot ship open by mistake; a test checks that every
/// route of the router has a rule.
enum AccessRules {
    enum Rule: Sendable, Hashable {
        /// Any authenticated caller.
        case anyCaller
        case permission(Permission)
        /// A caller with any of these (the two parties of one resource).
        case anyOf(Set<Permission>)
        /// A caller with this right whose scope is the whole city (figures counted over every district).
        case cityWide(Permission)

        /// What the rule asks for, in words.
        var needs: String {
            switch self {
            case .anyCaller: "a key"
            case .permission(let permission): "the right '\(permission.rawValue)'"
            case .anyOf(let any): "any of the rights " + any.map { "'\($0.rawValue)'" }.sorted().joined(separator: ", ")
            case .cityWide(let permission): "the right '\(permission.rawValue)' and a city-wide scope"
            }
        }

        /// Whether a caller with `permissions` and `scope` passes.
        func admits(_ permissions: Set<Permission>, scope: Scope) -> Bool {
            switch self {
            case .anyCaller: true
            case .permission(let permission): permissions.contains(permission)
            case .anyOf(let any): !any.isDisjoint(with: permissions)
            case .cityWide(let permission): permissions.contains(permission) && scope == .city
            }
        }
    }

    /// `METHOD /path` (the router's pattern) → rule.
    static let table: [String: Rule] = [
        "GET /v1/alerts": .permission(.readAlerts),
        "GET /v1/alerts/events": .permission(.readAlerts),
        "GET /v1/alerts/stream": .permission(.readAlerts),
        "GET /v1/alerts/{id}": .permission(.readAlerts),
        "GET /v1/stats/overview": .permission(.readAlerts),
        "GET /v1/industries/{division}": .permission(.readEnterprises),
        "GET /v1/enterprises/{uscc}/series": .permission(.readEnterprises),
        "GET /v1/feeds": .cityWide(.readDataHealth),
        "GET /v1/feeds/{topic}": .cityWide(.readDataHealth),
        "GET /v1/enterprises/{uscc}": .permission(.readEnterprises),
        "GET /v1/tags/{tag}": .permission(.readEnterprises),
        "GET /v1/quarantine": .permission(.readQuarantine),
        "GET /v1/rules": .permission(.readRules),
        "POST /v1/rules/reload": .permission(.reloadRules),
        "GET /v1/me": .anyCaller,
        "GET /v1/openapi.json": .anyCaller,
        "GET /v1/admin/organisations": .permission(.manageAccess),
        "POST /v1/admin/organisations": .permission(.manageAccess),
        "GET /v1/admin/keys": .permission(.manageOwnKeys),
        "POST /v1/admin/keys": .permission(.manageOwnKeys),
        "DELETE /v1/admin/keys/{id}": .permission(.manageOwnKeys),
        "GET /v1/portfolio": .permission(.managePortfolio),
        "POST /v1/portfolio": .permission(.managePortfolio),
        "PUT /v1/portfolio": .permission(.managePortfolio),
        "DELETE /v1/portfolio/{uscc}": .permission(.managePortfolio),
        "GET /v1/audit": .permission(.readAudit),
        "GET /v1/persons/{id}/queries": .permission(.readQueryRecords),
        "GET /v1/enterprises/{uscc}/queries": .anyOf([.readQueryRecords, .readOwnQueryRecord]),
        "POST /v1/queries": .permission(.query),
        "GET /v1/desk/alerts/{id}": .permission(.workAlerts),
        "POST /v1/desk/alerts/{id}/actions": .permission(.workAlerts),
        "GET /v1/desk/stats": .permission(.workAlerts),
        "GET /v1/webhooks": .permission(.manageWebhooks),
        "POST /v1/webhooks": .permission(.manageWebhooks),
        "DELETE /v1/webhooks/{id}": .permission(.manageWebhooks),
        "POST /v1/webhooks/{id}/enable": .permission(.manageWebhooks),
        "GET /v1/webhooks/{id}/deliveries": .permission(.manageWebhooks),
        "GET /v1/market/products": .permission(.readMarket),
        "POST /v1/market/products": .permission(.lend),
        "GET /v1/market/products/{id}": .permission(.readMarket),
        "POST /v1/market/products/{id}/actions": .permission(.lend),
        "GET /v1/market/needs": .permission(.readMarket),
        "POST /v1/market/needs": .permission(.borrow),
        "POST /v1/market/needs/{id}/claim": .permission(.lend),
        "POST /v1/market/needs/{id}/withdraw": .permission(.borrow),
        "GET /v1/market/applications": .permission(.readMarket),
        "POST /v1/market/applications": .permission(.borrow),
        "GET /v1/market/applications/{id}": .permission(.readMarket),
        "GET /v1/market/applications/{id}/report": .permission(.readMarket),
        "POST /v1/market/applications/{id}/actions": .anyOf([.lend, .borrow]),
        "POST /v1/market/loans/{id}/repayments": .permission(.lend),
        "GET /v1/market/matches/products": .permission(.readMarket),
        "GET /v1/market/matches/needs": .permission(.lend),
        "GET /v1/market/stats": .permission(.readMarket),
        "GET /v1/market/outcomes": .permission(.superviseMarket),
    ]
}

/// Applies `AccessRules` to the authenticated caller (after `AuthenticationMiddleware`).
struct AuthorisationMiddleware: RouterMiddleware {
    func handle(
        _ request: Request, context: APIRequestContext, next: (Request, APIRequestContext) async throws -> Response
    ) async throws -> Response {
        let principal = try context.requirePrincipal()
        let route = "\(request.method) \(context.endpointPath ?? request.uri.path)"
        guard let rule = AccessRules.table[route] else {
            context.logger.error("route without an access rule refused", metadata: ["route": "\(route)"])
            throw APIError(.forbidden, "this route has no access rule yet")
        }
        guard rule.admits(principal.permissions, scope: principal.scope) else {
            throw APIError(.forbidden, "role \(principal.role.rawValue) does not have \(rule.needs)")
        }
        return try await next(request, context)
    }
}
