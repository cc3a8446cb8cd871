/// The department feeds the simulator produces: the 14 shipped topics of `design/EVENTS.md`, with
/// their fields in declared order (primary key first).
public enum Feed: String, Sendable, Hashable, CaseIterable {
    case marketEnterprise = "market.enterprise"
    case marketAbnormal = "market.abnormal"
    case marketPenalty = "market.penalty"
    case taxTaxpayer = "tax.taxpayer"
    case taxPayment = "tax.payment"
    case taxArrears = "tax.arrears"
    case waterUsage = "water.usage"
    case waterArrears = "water.arrears"
    case hrssInsurance = "hrss.insurance"
    case courtDishonest = "court.dishonest"
    case courtEnforcement = "court.enforcement"
    case realestateRights = "realestate.rights"
    case trafficVehicle = "traffic.vehicle"
    case trafficDriver = "traffic.driver"

    /// A field's declared type in the contract.
    public enum FieldType: String, Sendable, Hashable {
        case string, uscc
        case idNumber = "id_number"
        case date, timestamp, decimal, int, bool
    }

    public struct Field: Sendable, Hashable {
        public let name: String
        public let type: FieldType
        /// `?` in the contract: the field may be null or absent.
        public let optional: Bool
    }

    /// The Kafka topic name.
    public var topic: String { rawValue }

    /// The source database of the Debezium envelope: the topic's first segment (`tax`).
    public var database: String { Feed.database(ofTopic: rawValue) }

    /// The source table of the Debezium envelope: the topic with `.` replaced by `_` (`tax_payment`).
    public var table: String { Feed.table(ofTopic: rawValue) }

    /// The primary-key column (the first field).
    public var primaryKey: String { fields[0].name }

    public var fieldNames: [String] { fields.map(\.name) }

    public var requiredFieldNames: [String] { fields.filter { !$0.optional }.map(\.name) }

    public static func database(ofTopic topic: String) -> String {
        String(decoding: topic.utf8.prefix { $0 != UInt8(ascii: ".") }, as: UTF8.self)
    }

    public static func table(ofTopic topic: String) -> String {
        String(decoding: topic.utf8.map { $0 == UInt8(ascii: ".") ? UInt8(ascii: "_") : $0 }, as: UTF8.self)
    }

    public var fields: [Field] {
        func f(_ name: String, _ type: FieldType, _ optional: Bool = false) -> Field {
            Field(name: name, type: type, optional: optional)
        }
        switch self {
        case .marketEnterprise:
            return [
                f("uscc", .uscc), f("name", .string), f("legal_rep_name", .string), f("legal_rep_id", .idNumber, true),
                f("industry_code", .string), f("registered_capital", .decimal, true), f("established_date", .date),
                f("status", .string), f("district_code", .string), f("address", .string, true),
                f("updated_at", .timestamp),
            ]
        case .marketAbnormal:
            return [
                f("id", .string), f("uscc", .uscc), f("name", .string), f("listed_date", .date), f("reason", .string),
                f("removed_date", .date, true), f("authority", .string),
            ]
        case .marketPenalty:
            return [
                f("decision_no", .string), f("uscc", .uscc), f("name", .string), f("decision_date", .date),
                f("authority", .string), f("category", .string), f("fine_amount", .decimal, true),
                f("severity", .string),
            ]
        case .taxTaxpayer:
            return [
                f("uscc", .uscc), f("name", .string), f("taxpayer_status", .string), f("credit_rating", .string, true),
                f("rating_year", .int, true), f("updated_at", .timestamp),
            ]
        case .taxPayment:
            return [
                f("id", .string), f("uscc", .uscc), f("name", .string), f("tax_type", .string), f("period", .string),
                f("amount", .decimal), f("paid_date", .date),
            ]
        case .taxArrears:
            return [
                f("id", .string), f("uscc", .uscc), f("name", .string), f("tax_type", .string), f("amount", .decimal),
                f("announced_date", .date),
            ]
        case .waterUsage:
            return [
                f("id", .string), f("account_no", .string), f("customer_name", .string), f("uscc", .uscc, true),
                f("period", .string), f("volume_m3", .decimal), f("amount", .decimal),
            ]
        case .waterArrears:
            return [
                f("id", .string), f("account_no", .string), f("customer_name", .string), f("uscc", .uscc, true),
                f("amount_due", .decimal), f("months_overdue", .int), f("as_of_date", .date),
            ]
        case .hrssInsurance:
            return [
                f("id", .string), f("uscc", .uscc), f("name", .string), f("period", .string), f("insured_count", .int),
                f("arrears_amount", .decimal, true),
            ]
        case .courtDishonest:
            return [
                f("case_no", .string), f("party_type", .string), f("uscc", .uscc, true),
                f("id_number", .idNumber, true),
                f("name", .string), f("court", .string), f("listed_date", .date), f("amount", .decimal, true),
                f("removed_date", .date, true),
            ]
        case .courtEnforcement:
            return [
                f("case_no", .string), f("party_type", .string), f("uscc", .uscc, true),
                f("id_number", .idNumber, true), f("name", .string), f("court", .string), f("filed_date", .date),
                f("amount", .decimal), f("closed_date", .date, true),
            ]
        case .realestateRights:
            return [
                f("certificate_no", .string), f("owner_type", .string), f("owner_id", .string),
                f("owner_name", .string), f("location", .string), f("area_m2", .decimal),
                f("mortgage_amount", .decimal, true), f("seized", .bool), f("updated_at", .timestamp),
            ]
        case .trafficVehicle:
            return [
                f("plate_no", .string), f("owner_id", .string), f("owner_name", .string), f("vehicle_type", .string),
                f("registered_date", .date), f("status", .string),
            ]
        case .trafficDriver:
            return [
                f("license_no", .string), f("id_number", .idNumber), f("name", .string), f("license_class", .string),
                f("status", .string), f("valid_until", .date),
            ]
        }
    }
}
