import Access
import Foundation
import Hummingbird
import WebhookDelivery
import Webhooks

/// An organisation's webhooks (bank and office admins): its systems get the alert changes of its
/// scope by signed POST (`WebhookDispatcher`).
/// - `GET /v1/webhooks`, `POST /v1/webhooks` (`{"url", "after"}`: the secret is in the answer only);
/// - `DELETE /v1/webhooks/{id}`, `POST /v1/webhooks/{id}/enable` (after repeated failure);
/// - `GET /v1/webhooks/{id}/deliveries`: the delivery log, newest first.
struct WebhooksController: Sendable {
    let webhooks: WebhookStore?
    let allowedHosts: Set<String>?
    let access: StoreAccess

    func addRoutes(to group: some RouterMethods<APIRequestContext>) {
        group.get("webhooks", use: list)
        group.post("webhooks", use: create)
        group.delete("webhooks/{id}", use: delete)
        group.post("webhooks/{id}/enable", use: enable)
        group.get("webhooks/{id}/deliveries", use: deliveries)
    }

    func store() throws(APIError) -> WebhookStore {
        guard let webhooks else { throw APIError(.notFound, "this server delivers no webhooks") }
        return webhooks
    }

    func id(_ context: APIRequestContext) throws(APIError) -> Int64 {
        let text = context.parameters.get("id") ?? ""
        guard let id = Int64(text), id > 0 else { throw APIError(.invalidParameter, "a webhook id is a positive integer, got '\(text)'", parameter: "id") }
        return id
    }

    @Sendable func list(_ request: Request, context: APIRequestContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        _ = try QueryParameters(request, accepted: [])
        let store = try store()
        return try JSONResponse.make(["webhooks": try await access { try await store.webhooks(organisationID: principal.organisation.id) }])
    }

    struct CreateRequest: Decodable {
        let url: String
        /// Deliver the events after this cursor (default 0: the scope's whole event history first).
        let after: Int64?
    }

    struct Created: Encodable {
        let webhook: WebhookInfo
        /// The HMAC key of `X-CreditWatch-Signature`: shown this once.
        let secret: String
    }

    @Sendable func create(_ request: Request, context: APIRequestContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        _ = try QueryParameters(request, accepted: [])
        let store = try store()
        let body = try await RequestBody.json(CreateRequest.self, from: request, limit: 8 << 10)
        if let problem = webhookURLProblem(body.url, allowedHosts: allowedHosts) { throw APIError(.invalidParameter, problem, parameter: "url") }
        if let after = body.after, after < 0 { throw APIError(.invalidParameter, "after must be a cursor ≥ 0", parameter: "after") }
        let (webhook, secret) = try await access {
            try await store.create(organisationID: principal.organisation.id, url: body.url, after: body.after ?? 0, by: principal.name)
        }
        return try JSONResponse.created(Created(webhook: webhook, secret: secret))
    }

    @Sendable func delete(_ request: Request, context: APIRequestContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        let (store, id) = (try store(), try id(context))
        guard try await access({ try await store.delete(id, organisationID: principal.organisation.id) }) else {
            throw APIError(.notFound, "no webhook \(id)", parameter: "id")
        }
        return Response(status: .noContent)
    }

    @Sendable func enable(_ request: Request, context: APIRequestContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        let (store, id) = (try store(), try id(context))
        guard try await access({ try await store.enable(id, organisationID: principal.organisation.id) }),
            let webhook = try await access({ try await store.webhook(id, organisationID: principal.organisation.id) })
        else { throw APIError(.notFound, "no webhook \(id)", parameter: "id") }
        return try JSONResponse.make(webhook)
    }

    @Sendable func deliveries(_ request: Request, context: APIRequestContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        _ = try QueryParameters(request, accepted: [])
        let (store, id) = (try store(), try id(context))
        guard try await access({ try await store.webhook(id, organisationID: principal.organisation.id) }) != nil else {
            throw APIError(.notFound, "no webhook \(id)", parameter: "id")
        }
        return try JSONResponse.make(["deliveries": try await access { try await store.deliveries(of: id) }])
    }
}
