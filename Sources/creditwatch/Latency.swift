import ArgumentParser
import CreditWatchCore
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import KafkaIngest
import RuleLanguage
import Simulator
import Synchronization

/// `creditwatch latency`: how long a change takes from being produced to its alert being readable
/// through the API, while the engine takes a steady live load. It streams a second simulated city
/// (its registrations, then its months) at `--rate` messages/s and, every `--probe-ms`, a
/// dishonest-debtor listing of a new enterprise (which the shipped rule `dishonest_debtor` alerts
/// on at once), and polls `GET /v1/alerts` for the probes' alerts.
struct Latency: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure produce → alert-readable latency through the API at a steady live rate (a benchmark).")

    @OptionGroup var common: CommonOptions
    @Option(help: "Messages per second of live load.") var rate = 2000
    @Option(help: "Seconds of load.") var seconds = 60
    @Option(help: "Milliseconds between two probes.") var probeMs = 100
    @Option(help: "The daemon's API.") var api = "http://127.0.0.1:18080"
    @Option(help: "An API key (read access to alerts); none for an anonymous development daemon.") var key: String?
    @Option(help: "Enterprises of the city streamed as load.") var enterprises = 3000
    @Option(help: "Seed of the city streamed as load (not the backfilled city's).") var seed: UInt64 = 7
    @Option(help: "How long the load's producer lingers to batch (librdkafka linger.ms); the probes' producer lingers 20 ms.")
    var loadLingerMs = 100

    func run() async throws {
        let settings = try common.settings()
        var city = CityConfiguration()
        city.enterprises = enterprises
        city.persons = enterprises * 2 / 3
        city.seed = seed
        let simulator = CitySimulator(configuration: city)
        // The load and the probes come from two producers, as from different departments: the load's
        // lingers longer, so that the local broker stores it in fewer, larger batches (Tansu's memory
        // store lists every stored batch of a partition to answer a fetch, so its CPU grows with the
        // number of batches; a Kafka cluster's does not), while a probe goes out as before.
        var loadKafka = settings.kafka
        loadKafka.properties["linger.ms"] = String(loadLingerMs)
        let load = try KafkaProducer(configuration: loadKafka)
        let producer = try KafkaProducer(configuration: settings.kafka)
        let listed = city.end.firstDay + 14
        let probes = ProbeLog()
        // Stopped by `probes.stop()`, not by cancelling: cancelling a URLSession request races its
        // own completion and can deadlock in swift-corelibs-foundation.
        let poller = Task { try await poll(probes) }

        let clock = ContinuousClock()
        let start = clock.now
        let end = start + .seconds(seconds)
        var pending = simulator.registrations()[...]
        var month = 0
        var sent = 0
        var probeCount = 0
        while clock.now < end {
            let elapsed = clock.now - start
            let due = Int(Self.seconds(elapsed) * Double(rate))
            while sent < due {
                if pending.isEmpty {
                    guard month < simulator.months.count else { break }
                    pending = simulator.month(simulator.months[month])[...]
                    month += 1
                }
                let m = pending.removeFirst()
                try load.send(topic: m.topic, key: m.key, value: m.value)
                sent += 1
            }
            if elapsed >= .milliseconds(probeCount * probeMs) {
                let uscc = Self.probeUSCC(probeCount)
                let probe = SimulatedMessage.change(
                    .courtDishonest, op: "c",
                    after: [
                        "case_no": .string("(2026)湘05执探\(probeCount)号"), "party_type": .string("enterprise"),
                        "uscc": .string(uscc), "id_number": .null, "name": .string("探针企业\(probeCount)"),
                        "court": .string("邵阳市中级人民法院"), "listed_date": .date(listed), "amount": .number(100_000),
                        "removed_date": .null,
                    ], tsMs: Int64(Date().timeIntervalSince1970 * 1000))
                probes.produced(uscc, at: clock.now, second: Int(Self.seconds(elapsed)))
                try producer.send(topic: probe.topic, key: probe.key, value: probe.value)
                probeCount += 1
            }
            try await Task.sleep(for: .milliseconds(2))
        }
        try load.flush()
        try producer.flush()
        let loadSeconds = Self.seconds(clock.now - start)
        // The last probes' alerts: at most 30 s more.
        let deadline = clock.now + .seconds(30)
        while probes.missing > 0, clock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
        probes.stop()
        try await poller.value

        let seen = probes.latencies
        let latencies = seen.map(\.latency).sorted()
        print(String(format: "load: %d messages in %.1f s (%.0f/s), %d probes", sent, loadSeconds, Double(sent) / loadSeconds, probeCount))
        print("produce → alert readable via GET /v1/alerts (ms): p50 \(Self.percentile(0.5, latencies)) p90 \(Self.percentile(0.9, latencies)) p99 \(Self.percentile(0.99, latencies)) max \(Self.percentile(1.0, latencies)); \(latencies.count) of \(probeCount) probes seen, \(probes.missing) missing (polled every 5 ms)")
        // Where in the load the tail is: its start (the city's registrations: every message a new
        // enterprise) or its end (the most history to judge).
        let slice = max(1, seconds / 6)
        let slices = Dictionary(grouping: seen, by: { $0.second / slice }).sorted { $0.key < $1.key }.map { index, probes in
            let sorted = probes.map(\.latency).sorted()
            return "\(index * slice)–\(index * slice + slice) s \(Self.percentile(0.5, sorted))/\(Self.percentile(0.99, sorted))/\(Self.percentile(1.0, sorted))"
        }
        print("by probes' send time (p50/p99/max ms): " + slices.joined(separator: ", "))
        if probes.missing > 0 { throw ExitCode(1) }
    }

    /// Polls the alert feed every 5 ms and notes when each probe's alert first appears.
    private func poll(_ probes: ProbeLog) async throws {
        var cursor: String?
        let clock = ContinuousClock()
        while !probes.stopped {
            var components = URLComponents(string: api + "/v1/alerts")!
            components.queryItems = [URLQueryItem(name: "limit", value: "500"), URLQueryItem(name: "category", value: "judicial")]
                + (cursor.map { [URLQueryItem(name: "after", value: $0)] } ?? [])
            var request = URLRequest(url: components.url!)
            if let key { request.setValue("Bearer \(key)", forHTTPHeaderField: "Authorization") }
            if let (data, _) = try? await URLSession.shared.data(for: request),
                let page = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
            {
                let seen = clock.now
                for alert in page["items"] as? [[String: Any]] ?? [] {
                    if alert["rule"] as? String == "dishonest_debtor", let subject = alert["subject_id"] as? String {
                        probes.seen(subject, at: seen)
                    }
                }
                if let next = page["next_cursor"] as? String { cursor = next }
                if page["has_more"] as? Bool == true { continue }
            }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    /// A valid USCC no simulated city uses (registration authority 9, kind 1, area 430699).
    static func probeUSCC(_ n: Int) -> String {
        let digits = String(n)
        let first17 = "91430699PRB" + String(repeating: "0", count: max(0, 6 - digits.count)) + digits
        return first17 + String(USCC.checkCharacter(forFirst17: first17)!)
    }

    /// The `p` quantile of sorted `latencies` (seconds), in milliseconds.
    static func percentile(_ p: Double, _ latencies: [Double]) -> String {
        guard !latencies.isEmpty else { return "-" }
        let index = min(latencies.count - 1, Int((p * Double(latencies.count)).rounded(.up)) - 1)
        return String(format: "%.0f", latencies[max(0, index)] * 1000)
    }

    static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }
}

/// When each probe was produced and when its alert was first read; whether polling should stop.
final class ProbeLog: Sendable {
    private let state = Mutex<
        (produced: [String: (at: ContinuousClock.Instant, second: Int)], latencies: [(second: Int, latency: Double)], stopped: Bool)
    >(([:], [], false))

    func stop() { state.withLock { $0.stopped = true } }
    var stopped: Bool { state.withLock { $0.stopped } }

    /// `second`: of the load, when the probe was sent.
    func produced(_ uscc: String, at instant: ContinuousClock.Instant, second: Int) {
        state.withLock { $0.produced[uscc] = (instant, second) }
    }

    func seen(_ uscc: String, at instant: ContinuousClock.Instant) {
        state.withLock {
            guard let produced = $0.produced.removeValue(forKey: uscc) else { return }
            $0.latencies.append((produced.second, Latency.seconds(instant - produced.at)))
        }
    }

    var missing: Int { state.withLock { $0.produced.count } }
    var latencies: [(second: Int, latency: Double)] { state.withLock { $0.latencies } }
}
