import Access
import Foundation
import HTTPTypes
import Hummingbird
import PostgresStore

/// `GET /v1/alerts/stream`: the alert-change feed (`/v1/alerts/events`) pushed as server-sent
/// events, within the caller's scope. Each event's `id` is its feed cursor, so a client that
/// reconnects with `Last-Event-ID` (or `?after=`) resumes exactly after the last event it got.
/// `?max_events=N` ends the stream after N events. A stream also ends after
/// `APIConfiguration.streamLifetime` (clients reconnect) or when the database cannot be read (with
/// a `retry:` hint). Every `recheck` the caller's key is resolved again, as at a request: a
/// revoked or expired key (or a right taken away) ends the stream, and a changed scope (a bank's
/// portfolio) applies to the events after it.
struct AlertStreamController: Sendable {
    let alerts: any AlertReadModel
    let access: StoreAccess
    let authentication: AuthenticationMiddleware
    let poll: Duration
    let heartbeat: Duration
    let lifetime: Duration
    let recheck: Duration

    func addRoutes(to group: some RouterMethods<APIRequestContext>) {
        group.get("alerts/stream", use: stream)
    }

    @Sendable func stream(_ request: Request, context: APIRequestContext) async throws -> Response {
        let initialScope = try context.requirePrincipal().scope
        let query = try QueryParameters(request, accepted: ["after", "max_events"])
        var resumeAfter = try query.cursor("after")
        if let last = request.headers[values: HTTPField.Name("Last-Event-ID")!].last {
            guard let value = Int64(last.trimmingCharacters(in: .whitespaces)), value >= 0 else {
                throw APIError(.invalidParameter, "Last-Event-ID must be an event id (a non-negative integer), got '\(last)'", parameter: "Last-Event-ID")
            }
            resumeAfter = value
        }
        let after = resumeAfter
        let maxEvents = try query.limit("max_events", defaultValue: Int.max, maximum: 100_000)
        // The first page is read before the response starts, so that a database outage is a 503.
        let (alerts, access) = (self.alerts, self.access)
        let first = try await access { try await alerts.alertEvents(after: after, limit: access.maximumPageSize, scope: initialScope) }
        let (poll, heartbeat, lifetime, recheck) = (self.poll, self.heartbeat, self.lifetime, self.recheck)
        let (authentication, credential) = (self.authentication, authentication.credential(of: request))
        let body = ResponseBody { writer in
            let clock = ContinuousClock()
            let end = clock.now + lifetime
            var checked = clock.now
            var scope = initialScope
            var cursor = after
            var sent = 0
            var page: AlertEventPage? = first
            var lastWrite = clock.now
            try await writer.write(ByteBuffer(string: "retry: 2000\n\n"))
            while sent < maxEvents, clock.now < end, !Task.isCancelled {
                if clock.now - checked >= recheck {
                    checked = clock.now
                    do {
                        let principal = try await authentication.resolve(credential)
                        guard principal.permissions.contains(.readAlerts) else { throw APIError(.forbidden, "the right 'read_alerts' was taken away") }
                        scope = principal.scope
                    } catch let error as APIError {
                        try await writer.write(ByteBuffer(string: ": \(error.message); the stream ends\n\n"))
                        break
                    } catch {
                        try await writer.write(ByteBuffer(string: ": the key cannot be checked now; reconnect with Last-Event-ID\n\n"))
                        break
                    }
                }
                if page == nil {
                    do {
                        let (from, current) = (cursor, scope)
                        page = try await access { try await alerts.alertEvents(after: from, limit: access.maximumPageSize, scope: current) }
                    } catch {
                        try await writer.write(ByteBuffer(string: ": the database cannot be read; reconnect with Last-Event-ID\n\n"))
                        break
                    }
                }
                let events = page!.events.prefix(maxEvents - sent)
                page = nil
                if !events.isEmpty {
                    var text = ""
                    for event in events { text += try Self.frame(event) }
                    try await writer.write(ByteBuffer(string: text))
                    sent += events.count
                    cursor = events.last!.id
                    lastWrite = clock.now
                    continue
                }
                if clock.now - lastWrite >= heartbeat {
                    try await writer.write(ByteBuffer(string: ": keep-alive\n\n"))
                    lastWrite = clock.now
                }
                try await Task.sleep(for: poll)
            }
            try await writer.finish(nil)
        }
        var headers = HTTPFields()
        headers[.contentType] = "text/event-stream; charset=utf-8"
        headers[.cacheControl] = "no-cache"
        return Response(status: .ok, headers: headers, body: body)
    }

    /// One event: `id` the cursor, `event` the kind, `data` the event as in `/v1/alerts/events`.
    static func frame(_ event: AlertEvent) throws -> String {
        "id: \(event.id)\nevent: \(event.kind)\ndata: \(String(decoding: try AlertEventView(event).json, as: UTF8.self))\n\n"
    }
}
