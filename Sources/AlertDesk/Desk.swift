import Foundation

/// The alert desk: how the financial office works an alert — acknowledge, assign, comment,
/// resolve with a disposition, reopen. Separate from the alert's engine lifecycle (raised,
/// withdrawn, reactivated): an alert the engine withdrew may still be open on the desk, and a
/// resolved one may be raised again by the engine. Pure: commands in, a new state or a rejection
/// out.

/// Where an alert stands on the desk.
public enum DeskStatus: String, Sendable, Hashable, Codable, CaseIterable {
    /// Nobody has looked at it yet.
    case open
    case acknowledged
    case resolved
}

/// What the desk concluded about an alert.
public enum Disposition: String, Sendable, Hashable, Codable, CaseIterable {
    case confirmedRisk = "confirmed_risk"
    case falsePositive = "false_positive"
    case noActionNeeded = "no_action_needed"
}

/// The desk's state of one alert; `version` counts the commands applied (optimistic concurrency).
public struct DeskState: Sendable, Hashable, Codable {
    public var status: DeskStatus
    public var assignee: String?
    public var disposition: Disposition?
    public var version: Int

    public init(status: DeskStatus = .open, assignee: String? = nil, disposition: Disposition? = nil, version: Int = 0) {
        self.status = status
        self.assignee = assignee
        self.disposition = disposition
        self.version = version
    }

    /// An alert nobody has worked yet.
    public static let new = DeskState()
}

/// A step on the desk.
public enum DeskCommand: Sendable, Hashable {
    case acknowledge
    case assign(to: String)
    case comment(String)
    case resolve(Disposition, note: String)
    case reopen(reason: String)

    /// `acknowledge`, `assign`, `comment`, `resolve`, `reopen`.
    public var name: String {
        switch self {
        case .acknowledge: "acknowledge"
        case .assign: "assign"
        case .comment: "comment"
        case .resolve: "resolve"
        case .reopen: "reopen"
        }
    }
}

/// Why a command was not applied.
public enum DeskRejection: Error, Sendable, Hashable {
    /// The alert's current state does not allow it (HTTP 409, with the state).
    case conflict(String)
    /// The command itself is wrong (HTTP 400).
    case invalid(String)
}

/// The longest assignee name, comment, note or reason.
let maximumText = 2000

/// Applies `command` to `state`: the next state, or why not.
public func decide(_ command: DeskCommand, on state: DeskState) -> Result<DeskState, DeskRejection> {
    var next = state
    next.version += 1
    switch command {
    case .acknowledge:
        guard state.status == .open else { return .failure(.conflict("the alert is already \(state.status.rawValue)")) }
        next.status = .acknowledged
    case .assign(let assignee):
        let name = assignee.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !name.isEmpty, name.count <= 100 else { return .failure(.invalid("assignee must be a name of 1 to 100 characters")) }
        guard state.status != .resolved else { return .failure(.conflict("the alert is resolved; reopen it first")) }
        guard state.assignee != name else { return .failure(.conflict("the alert is already assigned to \(name)")) }
        next.assignee = name
    case .comment(let text):
        guard let problem = textProblem(text, "text") else { break }
        return .failure(.invalid(problem))
    case .resolve(let disposition, let note):
        guard note.count <= maximumText else { return .failure(.invalid("note must be at most \(maximumText) characters")) }
        guard state.status != .resolved else { return .failure(.conflict("the alert is already resolved as \(state.disposition?.rawValue ?? "?")")) }
        next.status = .resolved
        next.disposition = disposition
    case .reopen(let reason):
        if let problem = textProblem(reason, "reason") { return .failure(.invalid(problem)) }
        guard state.status == .resolved else { return .failure(.conflict("only a resolved alert is reopened; it is \(state.status.rawValue)")) }
        next.status = .acknowledged
        next.disposition = nil
    }
    return .success(next)
}

func textProblem(_ text: String, _ name: String) -> String? {
    let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
    if trimmed.isEmpty { return "\(name) must not be empty" }
    if text.count > maximumText { return "\(name) must be at most \(maximumText) characters" }
    return nil
}
