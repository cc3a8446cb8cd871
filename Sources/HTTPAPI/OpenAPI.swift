import Foundation
import Hummingbird
import Marketplace

/// `GET /v1/openapi.json`: the API described (OpenAPI 3.0.3) from the same tables the server runs
/// on: every route of `AccessRules` with its right, parameters, body, answer and errors. A test
/// checks that it describes exactly the router's routes; CI runs schemathesis against it.
enum OpenAPI {
    typealias Object = [String: Any]

    struct Operation {
        var summary: String
        var query: [(name: String, schema: Object)] = []
        var body: Object? = nil
        var bodyTypes = ["application/json"]
        var status = 200
        var answer: Object? = ref("Object")
        var answerType = "application/json"
        /// Other media types the success answer may have (e.g. a printable page), with their schemas.
        var alsoAnswers: [String: Object] = [:]
    }

    static func ref(_ name: String) -> Object { ["$ref": "#/components/schemas/\(name)"] }
    static var string: Object { ["type": "string"] }
    static var integer: Object { ["type": "integer"] }
    static var cursor: Object { ["type": "integer", "minimum": 0] }
    static var limit: Object { ["type": "integer", "minimum": 1, "maximum": 500] }
    static func array(_ items: Object) -> Object { ["type": "array", "items": items] }
    static func object(_ properties: [String: Object], required: [String] = [], nullable: Bool = false) -> Object {
        var schema: Object = ["type": "object", "properties": properties, "additionalProperties": true]
        if !required.isEmpty { schema["required"] = required.sorted() }
        if nullable { schema["nullable"] = true }
        return schema
    }
    static func nullable(_ schema: Object) -> Object { schema.merging(["nullable": true]) { $1 } }
    /// The one page of every feed and list (`Page`): items, the next page's cursor (text), whether there is one.
    static func page(_ item: Object) -> Object {
        object(["items": array(item), "next_cursor": nullable(string), "has_more": ["type": "boolean"]], required: ["items", "next_cursor", "has_more"])
    }

    /// Route (`METHOD /path`) → its description.
    static var operations: [String: Operation]{
        [
            "GET /v1/alerts": Operation(
                summary: "The alert feed in id order (a stable cursor)",
                query: [("after", cursor), ("limit", limit), ("severity", string), ("category", string), ("industry", string)],
                answer: page(ref("Alert"))),
            "GET /v1/alerts/events": Operation(
                summary: "Alert changes (raised, withdrawn, reactivated); latest=true: the newest, to stream after",
                query: [("after", cursor), ("limit", limit), ("latest", ["type": "string", "enum": ["true", "false"]])],
                answer: page(ref("AlertEvent"))),
            "GET /v1/alerts/stream": Operation(
                summary: "Alert changes as server-sent events; resume with Last-Event-ID",
                query: [("after", cursor), ("max_events", ["type": "integer", "minimum": 1, "maximum": 100_000])],
                answer: string, answerType: "text/event-stream"),
            "GET /v1/alerts/{id}": Operation(summary: "One alert", answer: ref("Alert")),
            "GET /v1/stats/overview": Operation(
                summary: "The dashboard's overview: enterprises, active alerts by severity and category, alerts per month, by district and division, grades, tags"),
            "GET /v1/industries/{division}": Operation(
                summary: "A division's population, alerted share, grades, leading enterprises, industry alerts and monthly series"),
            "GET /v1/enterprises/{uscc}/series": Operation(summary: "An enterprise's monthly series that the rules read, 24 months"),
            "GET /v1/feeds": Operation(summary: "Data health of every feed: freshness, records per month, key coverage, linking, quarantine, continuity"),
            "GET /v1/feeds/{topic}": Operation(summary: "Data health of one feed"),
            "GET /v1/enterprises/{uscc}": Operation(summary: "An enterprise's profile, score, tags, facts, features, alerts and relation graph"),
            "GET /v1/tags/{tag}": Operation(
                summary: "The members of a tag", query: [("after", string), ("limit", limit)],
                answer: page(ref("Object"))),
            "GET /v1/quarantine": Operation(
                summary: "Department input that failed decoding", query: [("after", cursor), ("limit", limit)],
                answer: page(ref("Object"))),
            "GET /v1/rules": Operation(summary: "The live rule set"),
            "POST /v1/rules/reload": Operation(summary: "Check the rules folder and swap it in", bodyTypes: []),
            "GET /v1/me": Operation(summary: "The caller: user, organisation, role, rights, scope"),
            "GET /v1/admin/organisations": Operation(summary: "Organisations"),
            "POST /v1/admin/organisations": Operation(
                summary: "Create an organisation",
                body: object(
                    ["name": string, "kind": ["type": "string", "enum": ["financial_office", "district_office", "bank", "department", "enterprise"]],
                     "district": string, "uscc": string], required: ["name", "kind"]), status: 201),
            "GET /v1/admin/keys": Operation(summary: "Keys (never their secrets)"),
            "POST /v1/admin/keys": Operation(
                summary: "Create a key for a user (shown once)",
                body: object(
                    ["organisation": string, "user": string, "role": string, "personal_data": ["type": "boolean"], "label": string,
                     "expires_in_days": ["type": "integer", "minimum": 1, "maximum": 3650]], required: ["user", "role"]),
                status: 201),
            "DELETE /v1/admin/keys/{id}": Operation(summary: "Revoke a key"),
            "GET /v1/portfolio": Operation(
                summary: "The bank's watchlist (its scope)", query: [("after", string), ("limit", limit)],
                answer: page(ref("Object"))),
            "POST /v1/portfolio": Operation(
                summary: "Add enterprises (JSON array of USCCs or {uscc, note}, or CSV)", body: array(string),
                bodyTypes: ["application/json", "text/csv"]),
            "PUT /v1/portfolio": Operation(
                summary: "Replace the watchlist", body: array(string), bodyTypes: ["application/json", "text/csv"]),
            "DELETE /v1/portfolio/{uscc}": Operation(summary: "Remove an enterprise from the watchlist", status: 204, answer: nil),
            "GET /v1/audit": Operation(
                summary: "The audit log",
                query: [("subject", string), ("actor", string), ("organisation", string), ("action", string), ("after", cursor), ("limit", limit)],
                answer: page(ref("Object"))),
            "GET /v1/persons/{id}/queries": Operation(
                summary: "A person's query record: who queried them, when, why", query: [("after", cursor), ("limit", limit)],
                answer: page(ref("Object"))),
            "GET /v1/enterprises/{uscc}/queries": Operation(
                summary: "An enterprise's query record: which organisations queried it, when, why (the office; the enterprise itself)",
                query: [("after", cursor), ("limit", limit)], answer: page(ref("Object"))),
            "POST /v1/queries": Operation(
                summary: "One-click query of an enterprise (USCC) or a person (resident ID), audited",
                body: object(
                    ["subject": string, "purpose": string,
                     "authorisation": object(["reference": string, "scope": string, "valid_from": string, "valid_until": string],
                        required: ["reference", "scope", "valid_from", "valid_until"])], required: ["subject", "purpose"])),
            "GET /v1/desk/alerts/{id}": Operation(summary: "An alert with its desk state and steps"),
            "POST /v1/desk/alerts/{id}/actions": Operation(
                summary: "A desk step: acknowledge, assign, comment, resolve, reopen",
                body: object(
                    ["action": ["type": "string", "enum": ["acknowledge", "assign", "comment", "resolve", "reopen"]], "assignee": string,
                     "text": string, "disposition": string, "note": string, "reason": string, "version": integer], required: ["action"])),
            "GET /v1/desk/stats": Operation(summary: "Per rule: alerts, acknowledged, dispositions, precision, median time to acknowledge"),
            "GET /v1/webhooks": Operation(summary: "The organisation's webhooks"),
            "POST /v1/webhooks": Operation(
                summary: "Create a webhook (its secret is shown once)", body: object(["url": string, "after": cursor], required: ["url"]),
                status: 201),
            "DELETE /v1/webhooks/{id}": Operation(summary: "Stop a webhook", status: 204, answer: nil),
            "POST /v1/webhooks/{id}/enable": Operation(summary: "Enable a webhook disabled after failures", bodyTypes: []),
            "GET /v1/webhooks/{id}/deliveries": Operation(summary: "A webhook's delivery log"),
            "GET /v1/openapi.json": Operation(summary: "This document"),
            "GET /v1/market/products": Operation(
                summary: "Loan products: the published ones, and the caller bank's own", query: [("after", cursor), ("limit", limit)],
                answer: page(ref("Product"))),
            "POST /v1/market/products": Operation(
                summary: "A bank drafts a loan product (eligibility checked against the live rule set: 422 with eligibility:line:col)",
                body: object(
                    ["name": string, "kind": ["type": "string", "enum": ProductKind.allCases.map(\.rawValue)], "minimum_amount_fen": integer,
                     "maximum_amount_fen": integer, "minimum_term_months": integer, "maximum_term_months": integer, "minimum_rate_bp": integer,
                     "maximum_rate_bp": integer, "methods": array(["type": "string", "enum": RepaymentMethod.allCases.map(\.rawValue)]),
                     "guarantee": string, "industries": array(string), "districts": array(string), "eligibility": string],
                    required: ["name", "kind", "minimum_amount_fen", "maximum_amount_fen", "minimum_term_months", "maximum_term_months",
                        "minimum_rate_bp", "maximum_rate_bp", "methods"]),
                status: 201, answer: ref("Product")),
            "GET /v1/market/products/{id}": Operation(summary: "A product", answer: ref("Product")),
            "POST /v1/market/products/{id}/actions": Operation(
                summary: "Publish or withdraw a product",
                body: object(["action": ["type": "string", "enum": ["publish", "withdraw"]], "version": integer], required: ["action"]),
                answer: ref("Product")),
            "GET /v1/market/needs": Operation(
                summary: "Open financing needs, and the caller enterprise's own", query: [("after", cursor), ("limit", limit)],
                answer: page(ref("Need"))),
            "POST /v1/market/needs": Operation(
                summary: "An enterprise publishes a financing need", body: Self.financingRequest(extra: [:], required: []), status: 201,
                answer: ref("Need")),
            "POST /v1/market/needs/{id}/claim": Operation(
                summary: "A bank claims a need (the first wins; it opens an accepted application; Idempotency-Key)", body: object(["version": integer]),
                answer: ref("Need")),
            "POST /v1/market/needs/{id}/withdraw": Operation(
                summary: "The enterprise withdraws its need", body: object(["version": integer]), answer: ref("Need")),
            "GET /v1/market/applications": Operation(
                summary: "Applications the caller is party to (the office: all; a district office: its district)",
                query: [("after", cursor), ("limit", limit), ("status", ["type": "string", "enum": ApplicationStatus.allCases.map(\.rawValue)])],
                answer: page(ref("Application"))),
            "POST /v1/market/applications": Operation(
                summary: "An enterprise applies for a published product (checked against its terms, targets and eligibility; Idempotency-Key)",
                body: Self.financingRequest(
                    extra: ["product_id": integer, "method": ["type": "string", "enum": RepaymentMethod.allCases.map(\.rawValue)]],
                    required: ["product_id"]),
                status: 201, answer: ref("Application")),
            "GET /v1/market/applications/{id}": Operation(summary: "An application with its loans, schedules, positions and steps", answer: ref("Application")),
            "GET /v1/market/applications/{id}/report": Operation(
                summary: "The credit report frozen when the review started (JSON, or a printable page with format=html); audited",
                query: [("format", ["type": "string", "enum": ["json", "html"]])], alsoAnswers: ["text/html": string]),
            "POST /v1/market/applications/{id}/actions": Operation(
                summary: "A step: accept, start_review, approve, reject, disburse, close, write_off, withdraw (409 with current; Idempotency-Key)",
                body: object(
                    ["action": ["type": "string", "enum": ["accept", "start_review", "approve", "reject", "disburse", "close", "write_off", "withdraw"]],
                     "version": integer, "reason": string, "amount_fen": integer, "term_months": integer, "rate_bp": integer,
                     "method": ["type": "string", "enum": RepaymentMethod.allCases.map(\.rawValue)], "on": string],
                    required: ["action"]),
                answer: ref("Application")),
            "GET /v1/market/matches/products": Operation(
                summary: "Published products ranked by fit for an enterprise, each condition held or failed with the reason",
                query: [("uscc", ["type": "string"]), ("amount_fen", ["type": "integer", "minimum": 1]), ("term_months", ["type": "integer", "minimum": 1, "maximum": 360])],
                answer: object(["uscc": string, "items": array(ref("Object"))], required: ["uscc", "items"])),
            "GET /v1/market/matches/needs": Operation(
                summary: "Open needs with the bank's best-fitting product", query: [("after", cursor), ("limit", ["type": "integer", "minimum": 1, "maximum": 100])],
                answer: page(ref("Object"))),
            "GET /v1/market/stats": Operation(
                summary: "The marketplace in figures: claim and approval rates, days to answer and to money, amounts, first-time borrowers, credit-loan share, non-performing ratio",
                query: [("from", string), ("to", string)]),
            "GET /v1/market/outcomes": Operation(
                summary: "Per rule: loans whose borrower it alerted, how many went 90+ days past due, against the base rate (lift)",
                query: [("from", string), ("to", string)]),
            "POST /v1/market/loans/{id}/repayments": Operation(
                summary: "The lending bank records a repayment (Idempotency-Key)",
                body: object(["amount_fen": integer, "paid_on": string], required: ["amount_fen"]), status: 201, answer: ref("Application")),
        ]
    }

    /// A need's or an application's body: what the enterprise asks for and its authorisation.
    static func financingRequest(extra: [String: Object], required: [String]) -> Object {
        object(
            ["amount_fen": integer, "term_months": integer, "purpose": string, "collateral": string,
             "authorisation": object(["reference": string, "scope": string, "valid_from": string, "valid_until": string],
                required: ["reference", "scope", "valid_from", "valid_until"])].merging(extra) { $1 },
            required: ["amount_fen", "term_months", "purpose", "authorisation"] + required)
    }

    static var pathParameters: [String: Object]{
        [
            "uscc": ["type": "string", "pattern": "^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$"],
            "tag": ["type": "string", "pattern": "^[A-Za-z0-9_]+$"],
            "division": ["type": "string", "pattern": "^[A-T][0-9]{2}$"],
            "topic": ["type": "string", "pattern": "^[a-z][a-z0-9_]*([.][a-z0-9_]+)*$"],
            "id": ["type": "string", "pattern": "^[1-9][0-9]{0,17}$"],
        ]
    }

    static var schemas: [String: Object]{
        [
            "Object": ["type": "object", "additionalProperties": true],
            "Error": object(
                ["error": object(
                    ["code": string, "message": string, "parameter": string, "problems": array(object(["row": integer, "value": string, "message": string])),
                     "current": ["type": "object", "additionalProperties": string]], required: ["code", "message"])],
                required: ["error"]),
            "Alert": object(
                ["id": integer, "rule": string, "subject_kind": string, "subject_id": string, "window": string, "severity": string,
                 "category": string, "explanation": string, "status": string, "as_of": string, "processed_at": string],
                required: ["id", "rule", "subject_id", "severity", "status"]),
            "Product": object(
                ["id": integer, "bank_id": integer, "bank_name": string, "name": string, "kind": string, "minimum_amount_fen": integer,
                 "maximum_amount_fen": integer, "methods": array(string), "eligibility": string, "status": string, "version": integer],
                required: ["id", "bank_id", "name", "kind", "status", "version"]),
            "Need": object(
                ["id": integer, "uscc": string, "amount_fen": integer, "term_months": integer, "purpose": string, "status": string,
                 "claimed_by": nullable(integer), "application_id": nullable(integer), "version": integer],
                required: ["id", "uscc", "amount_fen", "status", "version"]),
            "Application": object(
                ["id": integer, "product_id": nullable(integer), "need_id": nullable(integer), "bank_id": integer, "uscc": string,
                 "amount_fen": integer, "status": string, "version": integer, "approval": ["type": "object", "nullable": true, "additionalProperties": true], "disbursed_fen": integer,
                 "reason": nullable(string), "submitted_on": string, "accept_by": string, "loans": array(ref("Object"))],
                required: ["id", "bank_id", "uscc", "amount_fen", "status", "version", "loans"]),
            "AlertEvent": object(
                ["id": integer, "alert_id": integer, "kind": string, "rule": string, "subject_id": string, "as_of": string,
                 "reason": nullable(string), "rule_set_version": string, "severity": string, "title": string],
                required: ["id", "alert_id", "kind", "as_of", "reason", "rule_set_version", "rule", "subject_id", "severity", "title"]),
        ]
    }

    /// A path parameter's schema; `id` names a key on the key routes and a person on the person routes.
    static func pathParameter(_ name: String, in path: String) -> Object {
        if name == "id", path.hasPrefix("/v1/admin/keys/") { return ["type": "string", "pattern": "^[0-9a-f]{12}$"] }
        if name == "id", path.hasPrefix("/v1/persons/") { return ["type": "string", "pattern": "^[0-9]{17}[0-9X]$"] }
        return pathParameters[name] ?? string
    }

    /// The document, JSON.
    static func document() throws -> Data {
        var paths: [String: Object] = [:]
        for (route, operation) in operations {
            let parts = route.split(separator: " ", maxSplits: 1)
            let (method, path) = (parts[0].lowercased(), String(parts[1]))
            var parameters: [Object] = path.split(separator: "/").filter { $0.hasPrefix("{") }.map { segment in
                let name = String(segment.dropFirst().dropLast())
                return ["name": name, "in": "path", "required": true, "schema": Self.pathParameter(name, in: path)]
            }
            parameters += operation.query.map { ["name": $0.name, "in": "query", "required": false, "schema": $0.schema] }
            var responses: Object = ["default": ["description": "an error", "content": ["application/json": ["schema": ref("Error")]]]]
            var success: Object = ["description": operation.summary]
            if let answer = operation.answer {
                success["content"] = [operation.answerType: ["schema": answer]].merging(operation.alsoAnswers.mapValues { ["schema": $0] }) { a, _ in a }
            }
            responses[String(operation.status)] = success
            var entry: Object = ["summary": operation.summary, "parameters": parameters, "responses": responses]
            if let rule = AccessRules.table[route] {
                entry["description"] = "Needs \(rule.needs.replacingOccurrences(of: "'", with: "`"))."
            }
            if !operation.bodyTypes.isEmpty, let body = operation.body {
                entry["requestBody"] = [
                    "required": true, "content": Dictionary(uniqueKeysWithValues: operation.bodyTypes.map { ($0, ["schema": $0 == "text/csv" ? string : body]) }),
                ]
            }
            paths[path, default: [:]][method] = entry
        }
        let document: Object = [
            "openapi": "3.0.3",
            "info": ["title": "CreditWatch API", "version": "1", "description": "Credit-risk early warning: alerts, enterprises, queries, the desk."],
            "servers": [["url": "/"]],
            "security": [["bearer": [String]()]],
            "paths": paths,
            "components": [
                "schemas": schemas,
                "securitySchemes": ["bearer": ["type": "http", "scheme": "bearer", "description": "cwk_<id>_<secret>"]],
            ],
        ]
        return try JSONSerialization.data(withJSONObject: document, options: [.sortedKeys, .withoutEscapingSlashes])
    }
}

/// Serves the document.
struct OpenAPIController: Sendable {
    func addRoutes(to group: some RouterMethods<APIRequestContext>) {
        group.get("openapi.json", use: document)
    }

    @Sendable func document(_ request: Request, context: APIRequestContext) async throws -> Response {
        _ = try QueryParameters(request, accepted: [])
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: try OpenAPI.document())))
    }
}
