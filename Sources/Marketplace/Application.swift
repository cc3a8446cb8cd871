import Foundation
import RuleLanguage

/// Why the marketplace did not apply a command.
public enum MarketRejection: Error, Sendable, Hashable {
    /// The current state does not allow it (HTTP 409, with the state).
    case conflict(String)
    /// The actor's role or party may not give this command (HTTP 403).
    case notAllowed(String)
    /// The command itself is wrong (HTTP 400).
    case invalid(String)

    public var message: String {
        switch self {
        case .conflict(let m), .notAllowed(let m), .invalid(let m): m
        }
    }
}

/// Who gives a command, as the access layer resolved them.
public enum MarketActor: Sendable, Hashable {
    /// A bank's user; `admin` for its bank admins.
    case bank(organisation: Int64, admin: Bool)
    /// An enterprise's user.
    case enterprise(uscc: String)
    /// The financial office (reads and statistics; it takes no side in a loan).
    case office
    /// The platform itself (expiry).
    case system
}

/// A financing application's lifecycle (the seed's 银企融资对接 flow).
public enum ApplicationStatus: String, Sendable, Hashable, Codable, CaseIterable {
    case submitted
    case accepted
    case underReview = "under_review"
    case approved
    case rejected
    /// At least one tranche is out.
    case disbursed
    /// A repayment has been received.
    case repaying
    case closed
    case writtenOff = "written_off"
    /// The enterprise took it back before a decision.
    case withdrawn
    /// The bank did not accept it in time.
    case expired

    /// No command moves it any more.
    public var isFinal: Bool { [.rejected, .closed, .writtenOff, .withdrawn, .expired].contains(self) }
}

/// What the bank approved.
public struct Approval: Sendable, Hashable {
    public var amount: Fen
    public var termMonths: Int
    public var rate: AnnualRate
    public var method: RepaymentMethod

    public init(amount: Fen, termMonths: Int, rate: AnnualRate, method: RepaymentMethod) {
        self.amount = amount
        self.termMonths = termMonths
        self.rate = rate
        self.method = method
    }
}

/// An application as its state machine sees it.
public struct ApplicationState: Sendable, Hashable {
    public var status: ApplicationStatus
    /// The lending bank.
    public var bank: Int64
    /// The applicant.
    public var uscc: String
    public var approval: Approval?
    /// The sum of the tranches disbursed.
    public var disbursed: Fen
    /// Counts the commands applied (optimistic concurrency).
    public var version: Int

    public init(status: ApplicationStatus = .submitted, bank: Int64, uscc: String, approval: Approval? = nil, disbursed: Fen = .zero, version: Int = 0) {
        self.status = status
        self.bank = bank
        self.uscc = uscc
        self.approval = approval
        self.disbursed = disbursed
        self.version = version
    }
}

/// A step in an application's life.
public enum ApplicationCommand: Sendable, Hashable {
    /// The bank takes the application on (受理).
    case accept
    /// The bank opens its review; the platform freezes the credit report the reviewer sees.
    case startReview
    case approve(Approval)
    case reject(reason: String)
    /// A tranche paid out on a day (the first makes the loan live).
    case disburse(Fen, on: Day)
    /// A repayment was recorded on one of the application's loans.
    case repaymentReceived
    /// Everything disbursed is repaid (`outstanding` is what the loans still owe).
    case close(outstanding: Fen)
    case writeOff(reason: String)
    case withdraw(reason: String)
    /// Not accepted within the working days allowed.
    case expire

    /// The name the API, the audit log and the event history use.
    public var name: String {
        switch self {
        case .accept: "accept"
        case .startReview: "start_review"
        case .approve: "approve"
        case .reject: "reject"
        case .disburse: "disburse"
        case .repaymentReceived: "repayment"
        case .close: "close"
        case .writeOff: "write_off"
        case .withdraw: "withdraw"
        case .expire: "expire"
        }
    }

    /// The statuses the command applies in.
    var from: Set<ApplicationStatus> {
        switch self {
        case .accept: [.submitted]
        case .startReview: [.accepted]
        case .approve, .reject: [.underReview]
        case .disburse: [.approved, .disbursed]
        case .repaymentReceived: [.disbursed, .repaying]
        case .close, .writeOff: [.disbursed, .repaying]
        case .withdraw: [.submitted, .accepted, .underReview]
        case .expire: [.submitted]
        }
    }
}

/// Applies `command`, given by `actor`, to `state`: the next state, or why not. The party is
/// checked first (403: only the application's bank decides, only its enterprise withdraws, only
/// the platform expires), then the state (409).
public func decide(_ command: ApplicationCommand, on state: ApplicationState, by actor: MarketActor) -> Result<ApplicationState, MarketRejection> {
    switch (command, actor) {
    case (.withdraw, .enterprise(let uscc)) where uscc == state.uscc: break
    case (.withdraw, _): return .failure(.notAllowed("only the applicant withdraws its application"))
    case (.expire, .system): break
    case (.expire, _): return .failure(.notAllowed("applications expire by themselves"))
    case (.writeOff, .bank(let bank, let admin)) where bank == state.bank:
        guard admin else { return .failure(.notAllowed("a write-off needs the bank's admin")) }
    case (_, .bank(let bank, _)) where bank == state.bank: break
    default: return .failure(.notAllowed("only the application's bank may \(command.name) it"))
    }
    guard command.from.contains(state.status) else {
        let allowed = command.from.map(\.rawValue).sorted().joined(separator: " or ")
        return .failure(.conflict("\(command.name) needs the application \(allowed); it is \(state.status.rawValue)"))
    }
    var next = state
    next.version += 1
    switch command {
    case .accept: next.status = .accepted
    case .startReview: next.status = .underReview
    case .approve(let approval):
        do {
            _ = try LoanTerms(principal: approval.amount, termMonths: approval.termMonths, rate: approval.rate, method: approval.method)
        } catch { return .failure(error) }
        next.status = .approved
        next.approval = approval
    case .reject(let reason), .writeOff(let reason), .withdraw(let reason):
        if let problem = reasonProblem(reason) { return .failure(.invalid(problem)) }
        switch command {
        case .reject: next.status = .rejected
        case .writeOff: next.status = .writtenOff
        default: next.status = .withdrawn
        }
    case .disburse(let tranche, _):
        let approved = state.approval?.amount ?? .zero
        guard tranche > .zero else { return .failure(.invalid("a tranche is a positive amount, got \(tranche.yuan)")) }
        // Compared as what is left to disburse, so that no tranche, however large, overflows.
        guard tranche <= approved - state.disbursed else {
            return .failure(.conflict("the tranche of \(tranche.yuan) would take the disbursed total past the approved \(approved.yuan) (disbursed so far \(state.disbursed.yuan))"))
        }
        next.disbursed += tranche
        if state.status == .approved { next.status = .disbursed }
    case .repaymentReceived: next.status = .repaying
    case .close(let outstanding):
        guard outstanding == .zero else { return .failure(.conflict("the loans still owe \(outstanding.yuan)")) }
        next.status = .closed
    case .expire: next.status = .expired
    }
    return .success(next)
}

func reasonProblem(_ reason: String) -> String? {
    let trimmed = reason.trimmingCharacters(in: .whitespacesAndNewlines)
    if trimmed.isEmpty { return "a reason is required" }
    if reason.count > 2000 { return "reason must be at most 2000 characters" }
    return nil
}
