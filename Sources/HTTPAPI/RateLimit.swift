import Hummingbird
import Synchronization

/// A token bucket per caller: `rate` requests per second on average, `burst` at once. Shared by
/// every request of the application (callers are few: keys, not addresses).
final class RateLimiter: Sendable {
    private struct Bucket {
        var tokens: Double
        var at: ContinuousClock.Instant
    }

    private let rate: Double
    private let burst: Double
    private let buckets = Mutex<[String: Bucket]>([:])

    init(rate: Double, burst: Int) {
        self.rate = rate
        self.burst = Double(max(burst, 1))
    }

    /// Takes a token for `caller`: nil when there was one, else how long until there is.
    func take(_ caller: String, now: ContinuousClock.Instant = .now) -> Duration? {
        buckets.withLock { buckets in
            var bucket = buckets[caller] ?? Bucket(tokens: burst, at: now)
            let elapsed = now - bucket.at
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            bucket.tokens = min(burst, bucket.tokens + max(seconds, 0) * rate)
            bucket.at = now
            defer { buckets[caller] = bucket }
            if bucket.tokens >= 1 {
                bucket.tokens -= 1
                return nil
            }
            return .milliseconds(Int(((1 - bucket.tokens) / rate * 1000).rounded(.up)))
        }
    }
}

/// Answers 429 with `Retry-After` once the caller (as authenticated) has spent its rate.
struct RateLimitMiddleware: RouterMiddleware {
    let limiter: RateLimiter

    func handle(
        _ request: Request, context: APIRequestContext, next: (Request, APIRequestContext) async throws -> Response
    ) async throws -> Response {
        let principal = try context.requirePrincipal()
        // Per key: two users of one name in different organisations have their own buckets.
        let caller = principal.keyID ?? principal.name
        if let wait = limiter.take(caller) {
            let seconds = max(1, Int(wait.components.seconds) + (wait.components.attoseconds > 0 ? 1 : 0))
            throw APIError(.tooManyRequests, "too many requests from \(caller); retry in \(seconds) s", retryAfter: seconds)
        }
        return try await next(request, context)
    }
}
