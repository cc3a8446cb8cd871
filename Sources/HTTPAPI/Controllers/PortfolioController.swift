import Access
import CreditWatchCore
import Foundation
import Hummingbird

/// A bank's watchlist, which is its scope (with, later, the enterprises it lends to):
/// - `GET /v1/portfolio?after=&limit=`;
/// - `POST /v1/portfolio` adds, `PUT /v1/portfolio` replaces: a JSON array of USCCs or of
///   `{"uscc","note"}`, or CSV (`text/csv`, a header `uscc[,note]`). A list with a bad row changes
///   nothing and answers 422 with every bad row;
/// - `DELETE /v1/portfolio/{uscc}`.
struct PortfolioController: Sendable {
    let administration: (any AccessAdministration)?
    let access: StoreAccess
    /// The most rows one upload may hold.
    static let maximumRows = 50_000

    func addRoutes(to group: some RouterMethods<APIRequestContext>) {
        group.get("portfolio", use: list)
        group.post("portfolio", use: add)
        group.put("portfolio", use: replace)
        group.delete("portfolio/{uscc}", use: remove)
    }

    func bank(_ context: APIRequestContext) throws(APIError) -> (Principal, any AccessAdministration) {
        let principal = try context.requirePrincipal()
        guard principal.organisation.kind == .bank else { throw APIError(.forbidden, "portfolios are banks'") }
        guard let administration else { throw APIError(.notFound, "this server has no access store") }
        return (principal, administration)
    }

    @Sendable func list(_ request: Request, context: APIRequestContext) async throws -> Response {
        let (principal, store) = try bank(context)
        let query = try QueryParameters(request, accepted: ["after", "limit"])
        let after = try query.single("after")
        let limit = try access.limit(query)
        let page = try await access { try await store.portfolio(of: principal.organisation.id, after: after, limit: limit) }
        return try JSONResponse.make(Page(items: page.entries, nextCursor: page.entries.last?.uscc ?? after, hasMore: page.hasMore))
    }

    @Sendable func add(_ request: Request, context: APIRequestContext) async throws -> Response {
        try await update(request, context: context, replacing: false)
    }

    @Sendable func replace(_ request: Request, context: APIRequestContext) async throws -> Response {
        try await update(request, context: context, replacing: true)
    }

    struct UpdateResponse: Encodable {
        let added: Int
        let removed: Int
        let rows: Int
    }

    func update(_ request: Request, context: APIRequestContext, replacing: Bool) async throws -> Response {
        let (principal, store) = try bank(context)
        _ = try QueryParameters(request, accepted: [])
        let data = try await RequestBody.bytes(request, limit: 4 << 20)
        let rows = try Self.rows(data, contentType: request.headers[.contentType])
        guard rows.count <= Self.maximumRows else {
            throw APIError(.invalidBody, "\(rows.count) rows; one upload holds at most \(Self.maximumRows)")
        }
        var entries: [(uscc: String, note: String)] = []
        var problems: [APIError.Problem] = []
        var seen: Set<String> = []
        for (index, row) in rows.enumerated() {
            do {
                let uscc = try USCC(validating: row.uscc.trimmingCharacters(in: .whitespaces)).value
                guard seen.insert(uscc).inserted else {
                    problems.append(.init(row: index + 1, value: row.uscc, message: "listed twice"))
                    continue
                }
                entries.append((uscc, row.note))
            } catch {
                problems.append(.init(row: index + 1, value: row.uscc, message: error.reason))
            }
        }
        guard problems.isEmpty else {
            throw APIError(.invalidBody, "\(problems.count) of \(rows.count) rows are not valid USCCs; nothing was changed", problems: problems)
        }
        let valid = entries
        let (added, removed) = try await access {
            let result = try await store.updatePortfolio(of: principal.organisation.id, with: valid, replacing: replacing, by: principal.name)
            try await store.append(
                AuditEntry(by: principal, action: replacing ? "portfolio_replaced" : "portfolio_added", outcome: .allowed,
                    returned: #"{"added":\#(result.added),"removed":\#(result.removed)}"#, remoteAddress: context.remoteAddress))
            return result
        }
        return try JSONResponse.make(UpdateResponse(added: added, removed: removed, rows: rows.count))
    }

    @Sendable func remove(_ request: Request, context: APIRequestContext) async throws -> Response {
        let (principal, store) = try bank(context)
        _ = try QueryParameters(request, accepted: [])
        let uscc = try USCCText.validated(context.parameters.get("uscc") ?? "")
        let removed = try await access { try await store.removeFromPortfolio(of: principal.organisation.id, uscc) }
        guard removed else { throw APIError(.notFound, "\(uscc) is not in the portfolio", parameter: "uscc") }
        return Response(status: .noContent)
    }

    struct Row: Decodable {
        let uscc: String
        let note: String

        init(uscc: String, note: String) {
            self.uscc = uscc
            self.note = note
        }

        /// A bare string or `{"uscc","note"}`.
        init(from decoder: any Decoder) throws {
            if let text = try? decoder.singleValueContainer().decode(String.self) {
                self.init(uscc: text, note: "")
                return
            }
            let c = try decoder.container(keyedBy: CodingKeys.self)
            self.init(uscc: try c.decode(String.self, forKey: .uscc), note: try c.decodeIfPresent(String.self, forKey: .note) ?? "")
        }

        enum CodingKeys: String, CodingKey { case uscc, note }
    }

    /// The rows of an upload, by its media type.
    static func rows(_ data: Data, contentType: String?) throws -> [Row] {
        let type = (contentType ?? "application/json").split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        switch type {
        case "application/json":
            return try RequestBody.decode([Row].self, from: data)
        case "text/csv":
            guard let text = String(data: data, encoding: .utf8) else { throw APIError(.invalidBody, "the CSV is not UTF-8") }
            var lines = text.split(whereSeparator: \.isNewline).map(String.init).filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
            guard let header = lines.first?.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces).lowercased() }),
                header.first?.trimmingCharacters(in: CharacterSet(charactersIn: "\u{FEFF}")) == "uscc"
            else { throw APIError(.invalidBody, "the CSV's first line must be the header 'uscc' or 'uscc,note'") }
            lines.removeFirst()
            return lines.map { line in
                let cells = line.split(separator: ",", maxSplits: 1, omittingEmptySubsequences: false)
                return Row(uscc: String(cells[0]), note: cells.count > 1 ? cells[1].trimmingCharacters(in: CharacterSet(charactersIn: " \"")) : "")
            }
        default:
            throw APIError(.unsupportedMediaType, "send application/json or text/csv, not \(type ?? "nothing")")
        }
    }
}

/// One page of a feed or list: the items, the cursor of the next page and whether there is one.
/// The one generic page: a last page has `next_cursor` as its last item (or the cursor asked for,
/// null at the start), written as null rather than left out.
struct Page<Item: Encodable>: Encodable {
    let items: [Item]
    let nextCursor: String?
    let hasMore: Bool

    init(items: [Item], nextCursor: String?, hasMore: Bool) {
        self.items = items
        self.nextCursor = nextCursor
        self.hasMore = hasMore
    }

    /// A page of an id-ordered feed read with one row more than `limit` (`ids` are the rows
    /// read): the cursor is the last shown id.
    init(_ items: [Item], ids: [Int64], limit: Int) {
        self.items = items
        self.hasMore = ids.count > limit
        self.nextCursor = ids.prefix(limit).last.map(String.init)
    }

    enum CodingKeys: String, CodingKey { case items, nextCursor, hasMore }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(items, forKey: .items)
        try c.encode(nextCursor, forKey: .nextCursor)
        try c.encode(hasMore, forKey: .hasMore)
    }
}
