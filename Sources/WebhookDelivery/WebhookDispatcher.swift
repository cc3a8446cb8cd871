import Access
import Foundation
import Logging
import ServiceLifecycle
import Webhooks

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Sends an HTTP POST; an adapter so that the dispatcher's logic does not depend on a client.
public protocol WebhookTransport: Sendable {
    /// The response status, or a thrown error when there was no answer.
    func post(_ url: String, body: [UInt8], headers: [String: String], timeout: Duration) async throws -> Int
}

/// `URLSession` (libcurl on Linux): no extra package for one POST per delivery.
public struct URLSessionTransport: WebhookTransport {
    public init() {}

    public func post(_ url: String, body: [UInt8], headers: [String: String], timeout: Duration) async throws -> Int {
        guard let target = URL(string: url) else { throw URLError(.badURL) }
        var request = URLRequest(url: target)
        request.httpMethod = "POST"
        request.httpBody = Data(body)
        request.timeoutInterval = Double(timeout.components.seconds)
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        let (_, response) = try await URLSession.shared.data(for: request)
        return (response as? HTTPURLResponse)?.statusCode ?? 0
    }
}

/// An alert event ready to send: its feed id and its JSON text.
public struct WebhookEvent: Sendable {
    public let id: Int64
    public let json: [UInt8]

    public init(id: Int64, json: [UInt8]) {
        self.id = id
        self.json = json
    }
}

/// Delivers each enabled webhook's alert events (within its organisation's scope), in feed order,
/// up to `batch` per POST, signed (`WebhookSignature`); a failure is retried by `schedule`, and the
/// webhook is disabled after too many in a row. At-least-once: the cursor moves only after a 2xx,
/// so a receiver may see a batch again (each event carries its id).
/// The events come rendered (`WebhookEvent`): their JSON is the API's, as in `/v1/alerts/events`.
public struct WebhookDispatcher: Service {
    let store: WebhookStore
    /// The organisation's current scope (nil: the organisation is gone).
    let scope: @Sendable (Int64) async throws -> Scope?
    /// Alert events after a cursor within a scope, at most `limit`.
    let events: @Sendable (Int64, Scope, Int) async throws -> [WebhookEvent]
    let transport: any WebhookTransport
    let schedule: RetrySchedule
    let interval: Duration
    let batch: Int
    /// The hosts deliveries may go to; nil: any (`webhookURLProblem`).
    let allowedHosts: Set<String>?
    let logger: Logger

    public init(
        store: WebhookStore, scope: @escaping @Sendable (Int64) async throws -> Scope?,
        events: @escaping @Sendable (Int64, Scope, Int) async throws -> [WebhookEvent], transport: any WebhookTransport = URLSessionTransport(),
        schedule: RetrySchedule = RetrySchedule(), interval: Duration = .seconds(1), batch: Int = 100, allowedHosts: Set<String>? = nil,
        logger: Logger
    ) {
        self.allowedHosts = allowedHosts
        self.store = store
        self.scope = scope
        self.events = events
        self.transport = transport
        self.schedule = schedule
        self.interval = interval
        self.batch = batch
        self.logger = logger
    }

    public func run() async throws {
        try await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await deliverDue()
                } catch is CancellationError {
                    return
                } catch {
                    logger.warning("webhook round failed; trying again", metadata: ["error": "\(error)"])
                }
                try? await Task.sleep(for: interval)
            }
        }
    }

    /// One round: every due webhook gets at most one POST.
    public func deliverDue() async throws {
        for (webhook, secret) in try await store.due() {
            guard let scope = try await scope(webhook.organisationId) else { continue }
            // A host no longer allowed (the list changed since the webhook was made) gets nothing.
            guard webhookURLProblem(webhook.url, allowedHosts: allowedHosts) == nil else { continue }
            let pending = try await events(webhook.cursor, scope, batch)
            guard let first = pending.first, let last = pending.last else { continue }
            let body = Self.body(webhook: webhook.id, events: pending)
            let timestamp = Int(Date().timeIntervalSince1970)
            let headers = [
                "Content-Type": "application/json", WebhookSignature.header: WebhookSignature.sign(body: body, secret: secret, timestamp: timestamp),
                "X-CreditWatch-Webhook": String(webhook.id), "X-CreditWatch-Events": "\(first.id)-\(last.id)",
            ]
            let clock = ContinuousClock()
            let start = clock.now
            let outcome: DeliveryOutcome
            do {
                outcome = .of(status: try await transport.post(webhook.url, body: body, headers: headers, timeout: .seconds(10)))
            } catch {
                outcome = .failed(status: nil, error: "\(error)")
            }
            let failures = webhook.failures + 1
            let retryIn = outcome.succeeded ? nil : schedule.delay(afterFailures: failures)
            let reason = retryIn == nil && !outcome.succeeded ? "disabled after \(failures) failed deliveries in a row" : nil
            try await store.record(
                webhook.id, events: (first.id, last.id, pending.count), outcome: outcome, duration: clock.now - start, retryIn: retryIn,
                disabledReason: reason)
            if !outcome.succeeded {
                logger.warning(
                    "webhook delivery failed", metadata: ["webhook": "\(webhook.id)", "outcome": "\(outcome)", "failures": "\(failures)"])
            }
        }
    }

    /// `{"events": [alert events as in /v1/alerts/events], "webhook_id": …}` (keys sorted, as the API writes).
    static func body(webhook: Int64, events: [WebhookEvent]) -> [UInt8] {
        var body = Array(#"{"events":["#.utf8)
        for (i, event) in events.enumerated() {
            if i > 0 { body.append(UInt8(ascii: ",")) }
            body += event.json
        }
        body += Array(#"],"webhook_id":\#(webhook)}"#.utf8)
        return body
    }
}
