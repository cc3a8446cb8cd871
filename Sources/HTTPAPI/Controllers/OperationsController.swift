import CreditWatchCore
import Foundation
import Hummingbird
import Prometheus

/// `GET /health`: 200 `{"status":"ok","ingest":{…}}` when the store of record answers and ingest is
/// not held up by an outage; else 503 with what is wrong (`ingest.outage`: component, since,
/// attempts, error). `GET /metrics`: Prometheus text. Both without credentials (probes, scrapers).
struct OperationsController: Sendable {
    let ping: @Sendable () async throws -> Void
    let ingest: IngestHealth?
    let metrics: PrometheusCollectorRegistry
    let access: StoreAccess

    func addRoutes(to router: some RouterMethods<APIRequestContext>) {
        router.get("health", use: health)
        router.get("metrics", use: prometheus)
    }

    @Sendable func health(_ request: Request, context: APIRequestContext) async throws -> Response {
        do {
            try await access(ping)
        } catch {
            throw APIError(.unavailable, "PostgreSQL does not answer")
        }
        let report = HealthReport(ingest: ingest?.snapshot)
        return try JSONResponse.make(report, status: report.status == "ok" ? .ok : .serviceUnavailable)
    }

    @Sendable func prometheus(_ request: Request, context: APIRequestContext) async throws -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: metrics.emitToBuffer())))
    }
}

/// `GET /health`.
struct HealthReport: Encodable {
    struct Ingest: Encodable {
        struct Outage: Encodable {
            var component: String
            var since: String
            var attempts: Int
            var error: String
        }

        var status: String
        var lastBatchAt: String?
        var outage: Outage?
        var quarantinedAfterBisection: Int
        /// Why the feature store is being rebuilt from PostgreSQL, while it is.
        var rebuilding: String?
        var featureRebuilds: Int
        /// Evaluation waits until a backlog has drained (a history sent at once, a restart).
        var catchingUp: Bool

        enum CodingKeys: String, CodingKey {
            case status, lastBatchAt = "last_batch_at", outage, quarantinedAfterBisection = "quarantined_after_bisection"
            case rebuilding, featureRebuilds = "feature_rebuilds", catchingUp = "catching_up"
        }
    }

    var status: String
    var ingest: Ingest?

    init(ingest snapshot: IngestHealth.Snapshot?) {
        guard let snapshot else {
            status = "ok"
            return
        }
        let outage = snapshot.outage.map {
            Ingest.Outage(component: $0.component, since: Self.iso($0.since), attempts: $0.attempts, error: $0.error)
        }
        status = outage == nil && snapshot.rebuilding == nil ? "ok" : "degraded"
        ingest = Ingest(
            status: outage != nil ? "waiting" : snapshot.rebuilding != nil ? "rebuilding" : "ok",
            lastBatchAt: snapshot.lastBatchAt.map(Self.iso), outage: outage,
            quarantinedAfterBisection: snapshot.bisectedQuarantined, rebuilding: snapshot.rebuilding,
            featureRebuilds: snapshot.rebuilds, catchingUp: snapshot.catchingUp)
    }

    static func iso(_ seconds: Double) -> String {
        Date(timeIntervalSince1970: seconds).formatted(.iso8601)
    }
}
