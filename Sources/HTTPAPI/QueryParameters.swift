import CreditWatchCore
import Hummingbird
import RuleLanguage

/// A request's query parameters, checked against the names a route accepts. Every problem is an
/// `APIError` naming the parameter and saying what was expected.
struct QueryParameters {
    private let values: [String: [String]]

    init(_ request: Request, accepted: [String]) throws(APIError) {
        var values: [String: [String]] = [:]
        for (key, value) in request.uri.queryParameters {
            let name = String(key)
            guard accepted.contains(name) else {
                throw APIError(
                    .invalidParameter,
                    "unknown parameter '\(name)'; expected one of \(accepted.joined(separator: ", "))", parameter: name)
            }
            values[name, default: []].append(String(value))
        }
        self.values = values
    }

    /// The single value of `name`, if given.
    func single(_ name: String) throws(APIError) -> String? {
        guard let list = values[name] else { return nil }
        guard list.count == 1 else {
            throw APIError(.invalidParameter, "parameter '\(name)' is given \(list.count) times; give it once", parameter: name)
        }
        return list[0]
    }

    /// The comma-separated items of `name` (repeated parameters are merged), if given.
    func list(_ name: String) -> [String]? {
        guard let list = values[name] else { return nil }
        return list.flatMap { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
    }

    /// A cursor: a non-negative integer id.
    func cursor(_ name: String) throws(APIError) -> Int64? {
        guard let text = try single(name) else { return nil }
        guard let value = Int64(text), value >= 0 else {
            throw APIError(.invalidParameter, "\(name) must be a non-negative integer id, got '\(text)'", parameter: name)
        }
        return value
    }

    /// A page size from 1 to `maximum`; `defaultValue` when absent.
    func limit(_ name: String, defaultValue: Int, maximum: Int) throws(APIError) -> Int {
        guard let text = try single(name) else { return defaultValue }
        guard let value = Int(text), (1...maximum).contains(value) else {
            throw APIError(.invalidParameter, "\(name) must be an integer from 1 to \(maximum), got '\(text)'", parameter: name)
        }
        return value
    }

    /// Values of a closed list, e.g. `severity=high,critical`.
    func members<T: RawRepresentable & CaseIterable & Hashable>(_ name: String, of type: T.Type) throws(APIError) -> Set<T>?
    where T.RawValue == String {
        guard let items = list(name) else { return nil }
        var result = Set<T>()
        for item in items {
            guard let value = T(rawValue: item) else {
                let allowed = T.allCases.map(\.rawValue).joined(separator: ", ")
                throw APIError(.invalidParameter, "\(name) '\(item)' is not one of \(allowed)", parameter: name)
            }
            result.insert(value)
        }
        return result
    }

    /// A GB/T 4754 division such as `C30`.
    func division(_ name: String) throws(APIError) -> String? {
        guard let text = try single(name) else { return nil }
        return try Self.division(text, parameter: name)
    }

    /// A GB/T 4754 division (`C17`), from a query or a path parameter.
    static func division(_ text: String, parameter name: String) throws(APIError) -> String {
        let code: IndustryCode
        do {
            code = try IndustryCode(validating: text)
        } catch {
            throw APIError(.invalidParameter, "\(name): \(error.reason)", parameter: name)
        }
        guard code.value.count == 3 else {
            throw APIError(
                .invalidParameter,
                "\(name) '\(text)' must be a division: a section letter and 2 digits, e.g. \(code.division)",
                parameter: name)
        }
        return code.division
    }
}
