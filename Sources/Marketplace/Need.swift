/// An enterprise's published financing need (融资需求), which banks may claim (抢单).
public enum NeedStatus: String, Sendable, Hashable, Codable, CaseIterable {
    case open
    /// A bank claimed it: an application, accepted by that bank, carries it on.
    case claimed
    case withdrawn
}

/// A step on a need.
public enum NeedCommand: String, Sendable, Hashable, CaseIterable {
    case claim
    case withdraw
}

/// Applies `command` by `actor` to a need of `uscc` in `status`. The first bank to claim wins.
public func decide(_ command: NeedCommand, on status: NeedStatus, uscc: String, by actor: MarketActor) -> Result<NeedStatus, MarketRejection> {
    switch (command, actor) {
    case (.claim, .bank): break
    case (.claim, _): return .failure(.notAllowed("only a bank claims a need"))
    case (.withdraw, .enterprise(let owner)) where owner == uscc: break
    case (.withdraw, _): return .failure(.notAllowed("only the enterprise withdraws its need"))
    }
    guard status == .open else { return .failure(.conflict("the need is \(status.rawValue), no longer open")) }
    return .success(command == .claim ? .claimed : .withdrawn)
}
