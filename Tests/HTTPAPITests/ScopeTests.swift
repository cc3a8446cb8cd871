import Access
import CreditWatchCore
import Foundation
@testable import HTTPAPI
import Hummingbird
import HummingbirdTesting
import Logging
import PostgresStore
import Prometheus
import Synchronization
import Testing

/// In-memory read models that record the scope of every call: HTTP behaviour without a database.
final class RecordingReadModels: AlertReadModel, EnterpriseReadModel, QuarantineReadModel, Sendable {
    struct Down: Error {}
    let calls = Mutex<[String]>([])
    let down: Bool

    init(down: Bool = false) { self.down = down }

    private func record(_ call: String, _ scope: Scope) throws {
        if down { throw Down() }
        let who = switch scope {
        case .city: "city"
        case .district(let code): "district \(code)"
        case .subjects(let subjects): subjects.sorted().joined(separator: ",")
        }
        calls.withLock { $0.append("\(call) \(who)") }
    }

    func alerts(_ filter: AlertFilter, after: Int64?, limit: Int, scope: Scope) async throws -> AlertPage {
        try record("alerts", scope)
        return AlertPage(alerts: [], nextCursor: nil, hasMore: false)
    }
    func alert(_ id: Int64, scope: Scope) async throws -> Alert? {
        try record("alert", scope)
        return nil
    }
    func alertEvents(after: Int64?, limit: Int, scope: Scope) async throws -> AlertEventPage {
        try record("events", scope)
        return AlertEventPage(events: [], nextCursor: nil, hasMore: false)
    }
    func latestAlertEvents(limit: Int, scope: Scope) async throws -> AlertEventPage {
        try record("latest events", scope)
        return AlertEventPage(events: [], nextCursor: 0, hasMore: false)
    }
    func enterprise(_ uscc: String, scope: Scope) async throws -> EnterpriseRecord? {
        try record("enterprise", scope)
        return nil
    }
    func tagMembers(_ tag: String, after: String?, limit: Int, scope: Scope) async throws -> TagMemberPage {
        try record("tag", scope)
        return TagMemberPage(tag: tag, members: [], nextCursor: nil, hasMore: false)
    }
    func quarantine(after: Int64?, limit: Int, scope: Scope) async throws -> QuarantinePage {
        try record("quarantine", scope)
        return QuarantinePage(messages: [], nextCursor: nil, hasMore: false)
    }

    var readModels: ReadModels {
        ReadModels(alerts: self, enterprises: self, quarantine: self, ping: {}, isUnavailable: { $0 is Down })
    }
}

@Suite("API scopes, without a database")
struct ScopeTests {
    static let keys = TestKeys.directory(bankScope: [TestUSCC.b, TestUSCC.c])

    func withAPI(_ models: RecordingReadModels, _ body: @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        let app = buildApplication(
            configuration: APIConfiguration(), keys: Self.keys, readModels: models.readModels, personalFields: [:], features: FixedFeatures(),
            metrics: PrometheusCollectorRegistry(), logger: Logger(label: "test"))
        try await app.test(.router) { try await body($0) }
    }

    @Test func everyReadTakesTheCallersScope() async throws {
        let models = RecordingReadModels()
        try await withAPI(models) { client in
            for key in [TestKeys.bank, TestKeys.office, TestKeys.ops] {
                for uri in ["/v1/alerts", "/v1/alerts/events", "/v1/tags/leading", "/v1/enterprises/\(TestUSCC.a)", "/v1/quarantine"] {
                    _ = try await client.execute(uri: uri, method: .get, headers: [.authorization: "Bearer \(key)"])
                }
            }
        }
        let bank = [TestUSCC.b, TestUSCC.c].sorted().joined(separator: ",")
        // The bank's quarantine request is refused before any read.
        #expect(models.calls.withLock { $0 } == [
            "alerts \(bank)", "events \(bank)", "tag \(bank)", "enterprise \(bank)",
            "alerts city", "events city", "tag city", "enterprise city",
            "alerts city", "events city", "tag city", "enterprise city", "quarantine city",
        ])
    }

    @Test func aBankAsksForAnEnterpriseOutsideItsScopeAsForOneThatDoesNotExist() async throws {
        try await withAPI(RecordingReadModels()) { client in
            let outside = try await client.execute(uri: "/v1/enterprises/\(TestUSCC.a)", method: .get, headers: [.authorization: "Bearer \(TestKeys.bank)"])
            let unknown = try await client.execute(uri: "/v1/enterprises/\(TestUSCC.a)", method: .get, headers: [.authorization: "Bearer \(TestKeys.office)"])
            #expect(outside.status == .notFound)
            #expect(outside.text == unknown.text)
        }
    }

    @Test func aStoreThatCannotBeReachedIsA503WithAJSONError() async throws {
        try await withAPI(RecordingReadModels(down: true)) { client in
            let response = try await client.execute(uri: "/v1/alerts", method: .get, headers: [.authorization: "Bearer \(TestKeys.office)"])
            #expect(response.status == .serviceUnavailable)
            #expect(response.text == #"{"error":{"code":"unavailable","message":"the database is unavailable; retry later"}}"#)
        }
    }
}

@Suite("API rate limit, without a database")
struct RateLimitTests {
    @Test func eachCallerHasItsOwnBucketRefilledAtItsRate() {
        let limiter = RateLimiter(rate: 2, burst: 3)
        let start = ContinuousClock.now
        #expect((0..<3).map { _ in limiter.take("bank", now: start) } == [nil, nil, nil])
        #expect(limiter.take("bank", now: start) == .milliseconds(500))
        #expect(limiter.take("office", now: start) == nil, "another caller is not held up")
        #expect(limiter.take("bank", now: start + .milliseconds(499)) == .milliseconds(2))
        #expect(limiter.take("bank", now: start + .milliseconds(1000)) == nil)
        #expect(limiter.take("bank", now: start + .seconds(60)) == nil)
        #expect((0..<2).map { _ in limiter.take("bank", now: start + .seconds(60)) } == [nil, nil], "refilled to the burst, no more")
        #expect(limiter.take("bank", now: start + .seconds(60)) != nil)
    }

    @Test func aCallerOverItsRateGets429WithRetryAfter() async throws {
        // One request per 1000 s: however slow the machine, the bucket does not refill meanwhile.
        let configuration = APIConfiguration(ratePerSecond: 0.001, rateBurst: 2)
        let app = buildApplication(
            configuration: configuration, keys: ScopeTests.keys, readModels: RecordingReadModels().readModels, personalFields: [:], features: FixedFeatures(),
            metrics: PrometheusCollectorRegistry(), logger: Logger(label: "test"))
        try await app.test(.router) { client in
            let bank: HTTPFields = [.authorization: "Bearer \(TestKeys.bank)"]
            for _ in 0..<2 { #expect(try await client.execute(uri: "/v1/alerts", method: .get, headers: bank).status == .ok) }
            let refused = try await client.execute(uri: "/v1/alerts", method: .get, headers: bank)
            #expect(refused.status == .tooManyRequests)
            let retryAfter = try #require(refused.headers[.retryAfter].flatMap(Int.init))
            #expect((900...1000).contains(retryAfter))
            #expect(refused.text == #"{"error":{"code":"too_many_requests","message":"too many requests from 城市商业银行; retry in \#(retryAfter) s"}}"#)
            let office = try await client.execute(uri: "/v1/alerts", method: .get, headers: [.authorization: "Bearer \(TestKeys.office)"])
            #expect(office.status == .ok)
            // Health and metrics are for probes and scrapers: not limited.
            for _ in 0..<5 { #expect(try await client.execute(uri: "/metrics", method: .get).status == .ok) }
        }
    }
}

@Suite("OpenAPI, without a database")
struct OpenAPITests {
    @Test func theDocumentDescribesEveryRouteWithItsRightAndErrors() async throws {
        let router = buildRouter(
            configuration: APIConfiguration(), keys: ScopeTests.keys, readModels: RecordingReadModels().readModels, personalFields: [:],
            features: FixedFeatures(), metrics: PrometheusCollectorRegistry())
        let routes = router.routes.map(\.description).filter { $0.contains(" /v1/") }
        let app = Application(router: router)
        try await app.test(.router) { client in
            let response = try await client.execute(uri: "/v1/openapi.json", method: .get, headers: [.authorization: "Bearer \(TestKeys.bank)"])
            #expect(response.status == .ok)
            let document = try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as! [String: Any]
            #expect(document["openapi"] as? String == "3.0.3")
            let paths = document["paths"] as! [String: [String: Any]]
            let described = paths.flatMap { path, methods in methods.keys.map { "\($0.uppercased()) \(path)" } }
            #expect(Set(described) == Set(routes))
            let reload = paths["/v1/rules/reload"]!["post"] as! [String: Any]
            #expect(reload["description"] as? String == "Needs the right `reload_rules`.")
            let responses = reload["responses"] as! [String: Any]
            #expect(Set(responses.keys) == ["200", "default"])
        }
    }
}
