import Hummingbird

/// `GET /v1/quarantine?after=&limit=`: quarantined messages, for the analysts and operators who
/// fix feeds (they hold raw department data).
struct QuarantineController: Sendable {
    let quarantine: any QuarantineReadModel
    let access: StoreAccess

    func addRoutes(to group: some RouterMethods<APIRequestContext>) {
        group.get("quarantine", use: list)
    }

    @Sendable func list(_ request: Request, context: APIRequestContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        let query = try QueryParameters(request, accepted: ["after", "limit"])
        let after = try query.cursor("after")
        let limit = try access.limit(query)
        let (quarantine, scope) = (self.quarantine, principal.scope)
        let page = try await access { try await quarantine.quarantine(after: after, limit: limit, scope: scope) }
        return try JSONResponse.make(
            Page(items: page.messages.map(QuarantineView.init), nextCursor: page.nextCursor.map(String.init), hasMore: page.hasMore))
    }
}
