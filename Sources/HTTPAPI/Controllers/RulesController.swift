import Hummingbird

/// `GET /v1/rules`: the live rule set; `POST /v1/rules/reload`: check the rules folder and swap it
/// in (analysts and operators; 422 with the diagnostics when it fails the check).
struct RulesController: Sendable {
    let rules: (any RuleSetControl)?

    func addRoutes(to group: some RouterMethods<APIRequestContext>) {
        group.get("rules", use: status)
        group.post("rules/reload", use: reload)
    }

    @Sendable func status(_ request: Request, context: APIRequestContext) async throws -> Response {
        _ = try context.requirePrincipal()
        _ = try QueryParameters(request, accepted: [])
        guard let rules else { throw APIError(.notFound, "this server runs no rule set") }
        return try JSONResponse.make(await rules.status())
    }

    @Sendable func reload(_ request: Request, context: APIRequestContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        _ = try QueryParameters(request, accepted: [])
        guard let rules else { throw APIError(.notFound, "this server runs no rule set") }
        let status = await rules.reload(trigger: "api:\(principal.name)")
        if let failure = status.lastFailure {
            throw APIError(.invalidRuleSet, "the rule set fails the check; rule set \(status.version) stays live:\n" + failure.diagnostics)
        }
        return try JSONResponse.make(status)
    }
}
