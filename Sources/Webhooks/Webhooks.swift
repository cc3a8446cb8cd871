import Crypto
import Foundation

/// Webhooks: an organisation's systems are told of the alert changes in its scope by HTTP POST,
/// signed, retried with back-off, disabled after repeated failure. Pure: the signature, the retry
/// schedule and what a delivery's outcome does to a subscription.

/// `X-CreditWatch-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" with the secret>`.
/// The timestamp is signed too, so that a receiver can refuse replays of old deliveries.
public enum WebhookSignature {
    public static let header = "X-CreditWatch-Signature"

    public static func sign(body: [UInt8], secret: String, timestamp: Int) -> String {
        let key = SymmetricKey(data: Array(secret.utf8))
        let mac = HMAC<SHA256>.authenticationCode(for: Array("\(timestamp).".utf8) + body, using: key)
        return "t=\(timestamp),v1=" + mac.map { String(format: "%02x", $0) }.joined()
    }

    /// Whether `header` is a valid signature of `body` (what a receiver checks).
    public static func verify(header: String, body: [UInt8], secret: String) -> Bool {
        guard let t = header.split(separator: ",").first(where: { $0.hasPrefix("t=") }).flatMap({ Int($0.dropFirst(2)) }) else { return false }
        let expected = Array(sign(body: body, secret: secret, timestamp: t).utf8)
        let given = Array(header.utf8)
        guard expected.count == given.count else { return false }
        return zip(expected, given).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }

    /// A new secret: 32 random bytes, hex.
    public static func newSecret() -> String {
        var random = SystemRandomNumberGenerator()
        return (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &random)) }.joined()
    }
}

/// When a failed delivery is tried again: `base`, doubled after each consecutive failure up to
/// `cap`; after `maximumFailures` consecutive failures the webhook is disabled until its owner
/// enables it again.
public struct RetrySchedule: Sendable, Hashable {
    public var base: Duration
    public var cap: Duration
    public var maximumFailures: Int

    public init(base: Duration = .seconds(2), cap: Duration = .seconds(600), maximumFailures: Int = 10) {
        self.base = base
        self.cap = cap
        self.maximumFailures = maximumFailures
    }

    /// The wait before the next attempt after `failures` consecutive failures; nil: disable.
    public func delay(afterFailures failures: Int) -> Duration? {
        guard failures < maximumFailures else { return nil }
        var delay = base
        for _ in 1..<max(failures, 1) where delay < cap { delay = delay * 2 }
        return min(delay, cap)
    }
}

/// What one delivery attempt came to.
public enum DeliveryOutcome: Sendable, Hashable {
    /// A 2xx answer.
    case delivered(status: Int)
    /// Another answer, or none (`status` nil: the connection failed or timed out).
    case failed(status: Int?, error: String)

    public var succeeded: Bool {
        if case .delivered = self { return true }
        return false
    }

    /// The outcome of an HTTP answer.
    public static func of(status: Int) -> DeliveryOutcome {
        (200..<300).contains(status) ? .delivered(status: status) : .failed(status: status, error: "HTTP \(status)")
    }
}

/// Checks a webhook's URL: absolute http or https with a host, and that host among `allowedHosts`
/// when the operator lists them (`CREDITWATCH_WEBHOOK_HOSTS`: the daemon then posts nowhere else).
public func webhookURLProblem(_ text: String, allowedHosts: Set<String>? = nil) -> String? {
    guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme),
        let host = url.host, !host.isEmpty
    else { return "url must be an absolute http:// or https:// URL, got '\(text)'" }
    if text.count > 2000 { return "url must be at most 2000 characters" }
    if let allowedHosts, !allowedHosts.contains(host.lowercased()) {
        return "url's host \(host) is not one this platform delivers to (\(allowedHosts.sorted().joined(separator: ", ")))"
    }
    return nil
}
