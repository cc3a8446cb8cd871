extension RuleProgram {
    /// The topics whose records the program reads only through windows: every aggregate over their
    /// current records, and every industry series summed from them, has one. An entity's records of
    /// such a topic that are older than every window can be dropped from the feature store
    /// (`firstDayRead`); a topic read without a window (`count(court.dishonest)`) keeps them all.
    public var windowedTopics: Set<String> {
        var windowed: Set<String> = []
        var unbounded: Set<String> = []
        for spec in aggregates where spec.readsRecords || spec.function == .industrySum {
            if spec.window == nil { unbounded.insert(spec.topic) } else { windowed.insert(spec.topic) }
        }
        return windowed.subtracting(unbounded).filter { !$0.hasSuffix(Self.historySuffix) }
    }

    /// The first event day that an aggregate over `topic` (or an industry series summed from it)
    /// reads when its windows end no earlier than `end`. Windows only move forward as data arrives,
    /// so a record dated before it is never read again (nil: no aggregate reads the topic).
    public func firstDayRead(topic: String, end: Day) -> Day? {
        var first: Int?
        for spec in aggregates where spec.topic == topic && (spec.readsRecords || spec.function == .industrySum) {
            guard let window = spec.window else { return nil }
            let start = EvaluationRun.dayRange(asOf: end, window: window, offset: spec.offset).lowerBound
            first = min(first ?? start, start)
        }
        return first.map(Day.init)
    }
}
