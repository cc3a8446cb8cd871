import CreditWatchCore
import Foundation
import RuleLanguage

@testable import Simulator

/// An independent reading of EVENTS.md, with Foundation's JSON parser and CreditWatchCore's
/// identifier validators: does a message match its topic's contract?
enum FeedValidation {
    /// A parsed Debezium change.
    struct Parsed {
        let topic: String
        let op: String
        let before: [String: Any]?
        let after: [String: Any]?
        let tsMs: Int64
        var row: [String: Any] { after ?? before ?? [:] }
    }

    static func isBool(_ value: Any) -> Bool { String(describing: type(of: value)).contains("Boolean") }
    static func number(_ value: Any) -> Double? {
        guard let n = value as? NSNumber, !isBool(value) else { return nil }
        return n.doubleValue
    }
    static func integer(_ value: Any) -> Int64? {
        guard let d = number(value), d == d.rounded() else { return nil }
        return Int64(d)
    }

    static func object(_ bytes: [UInt8]) -> [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any]
    }

    /// nil when valid; otherwise why not. Tombstones are not checked here.
    static func problem(_ message: SimulatedMessage) -> String? {
        guard let feed = Feed(rawValue: message.topic) else { return "unknown topic" }
        guard let value = message.value else { return nil }
        guard let envelope = object(value) else { return "not a JSON object" }
        guard Set(envelope.keys) == ["before", "after", "source", "op", "ts_ms"] else {
            return "envelope keys \(envelope.keys.sorted())"
        }
        guard let op = envelope["op"] as? String, ["c", "u", "d", "r"].contains(op) else { return "op" }
        guard integer(envelope["ts_ms"]!) != nil else { return "ts_ms" }
        guard let source = envelope["source"] as? [String: Any],
            Set(source.keys) == ["connector", "db", "table", "ts_ms"],
            source["db"] as? String == feed.database, source["table"] as? String == feed.table,
            integer(source["ts_ms"]!) != nil
        else { return "source" }
        let before = envelope["before"] as? [String: Any]
        let after = envelope["after"] as? [String: Any]
        switch op {
        case "d":
            guard before != nil, envelope["after"] is NSNull else { return "delete shape" }
        case "u":
            guard before != nil, after != nil else { return "update shape" }
        default:
            guard envelope["before"] is NSNull, after != nil else { return "create shape" }
        }
        for row in [before, after].compactMap({ $0 }) {
            if let problem = rowProblem(row, feed) { return problem }
        }
        if let key = message.key {
            guard let object = object(key), object.count == 1,
                let keyValue = object[feed.primaryKey] as? String,
                keyValue == (after ?? before)?[feed.primaryKey] as? String
            else { return "key" }
        }
        return nil
    }

    static func rowProblem(_ row: [String: Any], _ feed: Feed) -> String? {
        let declared = Set(feed.fieldNames)
        for key in row.keys where !declared.contains(key) { return "undeclared field \(key)" }
        for field in feed.fields {
            guard let value = row[field.name], !(value is NSNull) else {
                if field.optional { continue }
                return "missing \(field.name)"
            }
            if let problem = valueProblem(value, field.type) { return "\(field.name): \(problem)" }
        }
        switch feed {
        case .marketEnterprise:
            guard ["存续", "在业", "吊销", "注销", "迁出"].contains(row["status"] as! String) else { return "status" }
            guard (try? IndustryCode(validating: row["industry_code"] as! String)) != nil else {
                return "industry_code"
            }
            guard (row["district_code"] as! String).utf8.count == 6 else { return "district_code" }
        case .taxTaxpayer:
            guard ["正常", "非正常", "注销"].contains(row["taxpayer_status"] as! String) else { return "taxpayer_status" }
            if let rating = row["credit_rating"] as? String, !["A", "B", "M", "C", "D"].contains(rating) {
                return "rating"
            }
        case .marketPenalty:
            guard ["一般", "严重"].contains(row["severity"] as! String) else { return "severity" }
        case .courtDishonest, .courtEnforcement:
            let party = row["party_type"] as! String
            guard party == "enterprise" ? row["uscc"] is String : party == "person" && row["id_number"] is String else {
                return "party"
            }
        case .realestateRights, .trafficVehicle:
            guard (try? PartyIdentifier.classify(row["owner_id"] as! String)) != nil else { return "owner_id" }
        default: break
        }
        if let period = row["period"] as? String, Month(iso: period) == nil { return "period" }
        return nil
    }

    static func valueProblem(_ value: Any, _ type: Feed.FieldType) -> String? {
        switch type {
        case .string:
            return value is String ? nil : "not a string"
        case .uscc:
            guard let text = value as? String else { return "not a string" }
            do { _ = try USCC(validating: text) } catch { return error.reason }
            return nil
        case .idNumber:
            guard let text = value as? String else { return "not a string" }
            do { _ = try ResidentID(validating: text) } catch { return error.reason }
            return nil
        case .date:
            if let text = value as? String { return Day(iso: text) == nil ? "bad date" : nil }
            return integer(value) == nil ? "bad date" : nil
        case .timestamp:
            if let text = value as? String { return text.count >= 19 && text.contains("T") ? nil : "bad timestamp" }
            return integer(value) == nil ? "bad timestamp" : nil
        case .decimal:
            if let text = value as? String { return Double(text) == nil ? "bad decimal" : nil }
            return number(value) == nil ? "bad decimal" : nil
        case .int:
            return integer(value) == nil ? "not an integer" : nil
        case .bool:
            if isBool(value) { return nil }
            return integer(value).map { $0 == 0 || $0 == 1 } == true ? nil : "not a bool"
        }
    }

    static func parse(_ message: SimulatedMessage) -> Parsed? {
        guard message.defect == nil, let value = message.value, let envelope = object(value) else { return nil }
        return Parsed(
            topic: message.topic, op: envelope["op"] as! String, before: envelope["before"] as? [String: Any],
            after: envelope["after"] as? [String: Any], tsMs: integer(envelope["ts_ms"]!)!)
    }

    /// A decimal field as a Double, whichever encoding.
    static func decimal(_ value: Any?) -> Double {
        if let text = value as? String { return Double(text)! }
        return number(value!)!
    }

    /// A date field as a Day, whichever encoding.
    static func day(_ value: Any?) -> Day {
        if let text = value as? String { return Day(iso: text)! }
        return Day(Int(integer(value!)!))
    }
}

/// FNV-1a over every topic, key and value, separated so boundaries count.
func fingerprint(_ messages: [SimulatedMessage]) -> UInt64 {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    func eat(_ byte: UInt8) {
        hash ^= UInt64(byte)
        hash = hash &* 0x100_0000_01b3
    }
    for message in messages {
        for byte in message.topic.utf8 { eat(byte) }
        eat(0x1F)
        for byte in message.key ?? [0xFE] { eat(byte) }
        eat(0x1F)
        for byte in message.value ?? [0xFD] { eat(byte) }
        eat(0x1E)
    }
    return hash
}
