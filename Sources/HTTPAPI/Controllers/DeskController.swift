import Access
import AlertDesk
import Foundation
import Hummingbird
import PostgresStore

/// The alert desk of the financial office, within the caller's scope:
/// - `GET /v1/desk/alerts/{id}`: the alert, its desk state and every step taken on it;
/// - `POST /v1/desk/alerts/{id}/actions`: `{"action": "acknowledge" | "assign" | "comment" |
///   "resolve" | "reopen", "assignee", "text", "disposition", "note", "reason", "version"}` — a
///   step the alert's state does not allow, or a `version` that is not the current one, is a 409
///   with the current state; every step is audited;
/// - `GET /v1/desk/stats`: per rule, alerts, acknowledged, dispositions, precision and the median
///   time to acknowledge.
struct DeskController: Sendable {
    let alerts: any AlertReadModel
    let desk: (any AlertDeskPort)?
    let audit: (any AccessAdministration)?
    let access: StoreAccess

    func addRoutes(to group: some RouterMethods<APIRequestContext>) {
        group.get("desk/alerts/{id}", use: show)
        group.post("desk/alerts/{id}/actions", use: act)
        group.get("desk/stats", use: stats)
    }

    func ports() throws(APIError) -> (any AlertDeskPort, any AccessAdministration) {
        guard let desk, let audit else { throw APIError(.notFound, "this server has no alert desk") }
        return (desk, audit)
    }

    /// The alert by the path's id, within the scope (404 as for no such alert otherwise).
    func alert(_ context: APIRequestContext, scope: Scope) async throws -> Alert {
        let text = context.parameters.get("id") ?? ""
        guard let id = Int64(text), id > 0 else {
            throw APIError(.invalidParameter, "an alert id is a positive integer, got '\(text)'", parameter: "id")
        }
        let alerts = self.alerts
        guard let alert = try await access({ try await alerts.alert(id, scope: scope) }) else {
            throw APIError(.notFound, "no alert \(id)", parameter: "id")
        }
        return alert
    }

    struct DeskView: Encodable {
        let alert: AlertView
        let desk: DeskState
        let events: [DeskEvent]
    }

    @Sendable func show(_ request: Request, context: APIRequestContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        _ = try QueryParameters(request, accepted: [])
        let (desk, _) = try ports()
        let alert = try await alert(context, scope: principal.scope)
        let (state, events) = try await access { try await desk.desk(of: alert.id) }
        return try JSONResponse.make(DeskView(alert: AlertView(alert), desk: state, events: events))
    }

    struct ActionRequest: Decodable {
        let action: String
        let assignee: String?
        let text: String?
        let disposition: String?
        let note: String?
        let reason: String?
        let version: Int?
    }

    static func command(_ body: ActionRequest) throws(APIError) -> DeskCommand {
        func required(_ value: String?, _ name: String) throws(APIError) -> String {
            guard let value else { throw APIError(.invalidParameter, "\(body.action) needs '\(name)'", parameter: name) }
            return value
        }
        switch body.action {
        case "acknowledge": return .acknowledge
        case "assign": return .assign(to: try required(body.assignee, "assignee"))
        case "comment": return .comment(try required(body.text, "text"))
        case "resolve":
            let text = try required(body.disposition, "disposition")
            guard let disposition = Disposition(rawValue: text) else {
                let known = Disposition.allCases.map(\.rawValue).joined(separator: ", ")
                throw APIError(.invalidParameter, "disposition must be one of \(known), got '\(text)'", parameter: "disposition")
            }
            return .resolve(disposition, note: body.note ?? "")
        case "reopen": return .reopen(reason: try required(body.reason, "reason"))
        default:
            throw APIError(.invalidParameter, "action must be one of acknowledge, assign, comment, resolve, reopen, got '\(body.action)'", parameter: "action")
        }
    }

    struct ActionResponse: Encodable {
        let alertId: Int64
        let action: String
        let desk: DeskState
    }

    @Sendable func act(_ request: Request, context: APIRequestContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        _ = try QueryParameters(request, accepted: [])
        let (desk, audit) = try ports()
        let alert = try await alert(context, scope: principal.scope)
        let body = try await RequestBody.json(ActionRequest.self, from: request, limit: 16 << 10)
        let command = try Self.command(body)
        let outcome = try await access {
            let outcome = try await desk.apply(
                command, to: alert.id, expectedVersion: body.version, actor: principal.name, organisation: principal.organisation.name)
            var reason: String?
            if case .failure(let refusal) = outcome {
                switch refusal.rejection {
                case .conflict(let message), .invalid(let message): reason = message
                }
            }
            try await audit.append(
                AuditEntry(
                    by: principal, action: "desk_\(command.name)", outcome: reason == nil ? .allowed : .refused, reason: reason,
                    subjectKind: "alert", subjectID: String(alert.id), remoteAddress: context.remoteAddress))
            return outcome
        }
        switch outcome {
        case .success(let state):
            return try JSONResponse.make(ActionResponse(alertId: alert.id, action: command.name, desk: state))
        case .failure(let refusal):
            let current = [
                "status": refusal.current.status.rawValue, "version": String(refusal.current.version),
                "assignee": refusal.current.assignee ?? "", "disposition": refusal.current.disposition?.rawValue ?? "",
            ]
            switch refusal.rejection {
            case .conflict(let message): throw APIError(.conflict, message, current: current)
            case .invalid(let message): throw APIError(.invalidParameter, message)
            }
        }
    }

    @Sendable func stats(_ request: Request, context: APIRequestContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        _ = try QueryParameters(request, accepted: [])
        let (desk, _) = try ports()
        let scope = principal.scope
        let rules = try await access { try await desk.statistics(district: scope.district, subjects: scope.subjectIDs) }
        return try JSONResponse.make(["rules": rules])
    }
}
