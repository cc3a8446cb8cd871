import Synchronization

/// What a failed batch means for the ingest loop. Each adapter classifies its own errors
/// (`PostgresStore.failureKind(of:)`, `RedisError.failureKind`); the daemon composes them.
public enum FailureKind: Sendable, Hashable {
    /// A server cannot be reached or refuses work for now (restarting, overloaded, read-only
    /// during a failover): the same work is retried with back-off and nothing is quarantined.
    case outage(component: String)
    /// The work itself cannot be done (a value a store refuses): the message that causes it is
    /// found by bisecting the batch and quarantined, with `reason`, so that the rest goes on.
    case input(reason: String)
    /// Another instance claimed a partition this batch decided for (`Fenced`): the batch is
    /// processed again under the instance's assignment as it is now.
    case fenced
}

/// What the ingest loop reports of itself, for `/health` and `/metrics`: whether it is held up by
/// an outage, since when and how often it retried, and its last completed batch. Shared between
/// the ingest service (the writer) and the API (readers).
public final class IngestHealth: Sendable {
    /// An outage the ingest loop is waiting out.
    public struct Outage: Sendable, Hashable {
        public var component: String
        /// Seconds since 1970 of the first failed attempt.
        public var since: Double
        public var attempts: Int
        /// The last error, as its adapter describes it (no data values).
        public var error: String
    }

    public struct Snapshot: Sendable, Hashable {
        public var outage: Outage?
        /// Seconds since 1970 when the last batch was committed (nil: none yet).
        public var lastBatchAt: Double?
        /// Messages quarantined because processing them failed (found by bisection).
        public var bisectedQuarantined: Int
        /// The feature store rebuild under way (its reason), if any.
        public var rebuilding: String?
        /// Rebuilds of the feature store since start, and the last one's figures.
        public var rebuilds: Int
        public var lastRebuild: FeatureRebuild?
        /// Whether enterprises wait for evaluation until ingest has drained a backlog.
        public var catchingUp = false
    }

    private let state = Mutex(
        Snapshot(outage: nil, lastBatchAt: nil, bisectedQuarantined: 0, rebuilding: nil, rebuilds: 0, lastRebuild: nil))

    /// A rebuild of the feature store started or ended.
    public func rebuild(_ rebuild: FeatureRebuild) {
        state.withLock { s in
            if rebuild.finished {
                s.rebuilding = nil
                s.rebuilds += 1
                s.lastRebuild = rebuild
            } else {
                s.rebuilding = rebuild.reason
            }
        }
    }

    public init() {}

    public var snapshot: Snapshot { state.withLock { $0 } }

    /// A batch attempt failed for an outage of `component`.
    public func failed(component: String, error: String, at now: Double) {
        state.withLock { s in
            if s.outage?.component == component {
                s.outage!.attempts += 1
                s.outage!.error = error
            } else {
                s.outage = Outage(component: component, since: now, attempts: 1, error: error)
            }
        }
    }

    /// A batch was committed: any outage is over. `catchingUp`: evaluation still waits for the
    /// backlog.
    public func committed(at now: Double, catchingUp: Bool = false) {
        state.withLock { s in
            s.outage = nil
            s.lastBatchAt = now
            s.catchingUp = catchingUp
        }
    }

    /// An outage of `component` is over though no batch was committed (an idle stream).
    public func recovered(component: String) {
        state.withLock { s in
            if s.outage?.component == component { s.outage = nil }
        }
    }

    public func quarantinedAfterBisection(_ count: Int) {
        state.withLock { $0.bisectedQuarantined += count }
    }
}
