import CreditWatchCore
import Hummingbird

/// How controllers call the read models: with the configured deadline (a store that cannot be
/// reached, or does not answer in time, is a 503; any other failure stays an internal error), and
/// with the feeds' page sizes.
struct StoreAccess: Sendable {
    let timeout: Duration
    let isUnavailable: @Sendable (any Error) -> Bool
    let maximumPageSize: Int
    let defaultPageSize = 50

    static let unavailable = APIError(.unavailable, "the database is unavailable; retry later")

    func callAsFunction<T: Sendable>(_ operation: @escaping @Sendable () async throws -> T) async throws -> T {
        do {
            guard let value = try await withDeadline(timeout, operation) else { throw Self.unavailable }
            return value
        } catch let error as APIError {
            throw error
        } catch where isUnavailable(error) {
            throw Self.unavailable
        }
    }

    /// `limit` of a feed request: default 50, at most the store's largest page.
    func limit(_ query: QueryParameters) throws(APIError) -> Int {
        try query.limit("limit", defaultValue: defaultPageSize, maximum: maximumPageSize)
    }
}
