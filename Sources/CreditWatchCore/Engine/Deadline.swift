/// The result of `operation`, or nil when it has not finished within `timeout` (it is then
/// cancelled): a store that does not answer must become an error the caller can report, not a
/// wait without end.
public func withDeadline<T: Sendable>(
    _ timeout: Duration, _ operation: @escaping @Sendable () async throws -> T
) async throws -> T? {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await operation() }
        group.addTask {
            try await Task.sleep(for: timeout)
            return nil
        }
        defer { group.cancelAll() }
        guard let first = try await group.next(), let value = first else { return nil }
        return value
    }
}
