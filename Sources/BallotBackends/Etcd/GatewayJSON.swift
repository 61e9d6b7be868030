/// A JSON object from the etcd gateway, read field by field: every field is checked for its kind,
/// and every problem names the field, so a malformed answer is refused with a precise reason.
///
/// The gateway writes proto3 JSON: 64-bit integers as decimal strings, bytes as base64, fields
/// with their zero value left out (a missing `TTL` is 0, a missing event `type` is `PUT`).
struct GatewayObject {
    let fields: [String: JSONValue]
    /// Where this object sits, for messages: `txn.responses[0].response_range`.
    let context: String

    /// Parses `bytes` as one JSON object.
    init(parsing bytes: [UInt8], context: String) throws(GatewayDecodingError) {
        let value: JSONValue
        do {
            value = try JSONValue(parsing: bytes)
        } catch {
            throw GatewayDecodingError("\(context): not JSON: \(error)")
        }
        guard case .object(let fields) = value else { throw GatewayDecodingError("\(context): not a JSON object") }
        self.init(fields: fields, context: context)
    }

    init(fields: [String: JSONValue], context: String) {
        self.fields = fields
        self.context = context
    }

    private func present(_ key: String) -> JSONValue? {
        guard let value = fields[key], value != .null else { return nil }
        return value
    }

    func has(_ key: String) -> Bool { present(key) != nil }

    /// A 64-bit integer: a decimal string (proto3 JSON) or an integral JSON number; 0 when absent.
    func int64(_ key: String) throws(GatewayDecodingError) -> Int64 {
        switch present(key) {
        case nil: return 0
        case .string(let text)?, .number(let text)?:
            guard let number = Int64(text), text.first != "+" else {
                throw GatewayDecodingError("\(context).\(key): \(String(text.prefix(40)).debugDescription) is not a 64-bit integer")
            }
            return number
        case let other?:
            throw GatewayDecodingError("\(context).\(key): expected an integer, found \(other.kind)")
        }
    }

    /// A required 64-bit integer.
    func requiredInt64(_ key: String) throws(GatewayDecodingError) -> Int64 {
        guard has(key) else { throw GatewayDecodingError("\(context).\(key): missing") }
        return try int64(key)
    }

    /// A boolean; false when absent.
    func bool(_ key: String) throws(GatewayDecodingError) -> Bool {
        switch present(key) {
        case nil: return false
        case .bool(let value)?: return value
        case let other?: throw GatewayDecodingError("\(context).\(key): expected true or false, found \(other.kind)")
        }
    }

    /// A string; nil when absent.
    func string(_ key: String) throws(GatewayDecodingError) -> String? {
        switch present(key) {
        case nil: return nil
        case .string(let text)?: return text
        case let other?: throw GatewayDecodingError("\(context).\(key): expected a string, found \(other.kind)")
        }
    }

    /// Bytes, base64 in JSON; empty when absent.
    func bytes(_ key: String) throws(GatewayDecodingError) -> [UInt8] {
        guard let text = try string(key) else { return [] }
        guard let decoded = Base64.decode(text) else { throw GatewayDecodingError("\(context).\(key): not base64") }
        return decoded
    }

    /// A nested object; nil when absent.
    func object(_ key: String) throws(GatewayDecodingError) -> GatewayObject? {
        switch present(key) {
        case nil: return nil
        case .object(let nested)?: return GatewayObject(fields: nested, context: "\(context).\(key)")
        case let other?: throw GatewayDecodingError("\(context).\(key): expected an object, found \(other.kind)")
        }
    }

    /// A required nested object.
    func requiredObject(_ key: String) throws(GatewayDecodingError) -> GatewayObject {
        guard let object = try object(key) else { throw GatewayDecodingError("\(context).\(key): missing") }
        return object
    }

    /// A list of objects; empty when absent.
    func objects(_ key: String) throws(GatewayDecodingError) -> [GatewayObject] {
        switch present(key) {
        case nil: return []
        case .array(let list)?:
            var objects: [GatewayObject] = []
            objects.reserveCapacity(list.count)
            for (index, element) in list.enumerated() {
                guard case .object(let nested) = element else {
                    throw GatewayDecodingError("\(context).\(key)[\(index)]: expected an object, found \(element.kind)")
                }
                objects.append(GatewayObject(fields: nested, context: "\(context).\(key)[\(index)]"))
            }
            return objects
        case let other?: throw GatewayDecodingError("\(context).\(key): expected a list, found \(other.kind)")
        }
    }
}

extension JSONValue {
    /// What kind of value this is, for messages.
    var kind: String {
        switch self {
        case .object: "an object"
        case .array: "a list"
        case .string: "a string"
        case .number: "a number"
        case .bool: "a boolean"
        case .null: "null"
        }
    }
}

/// What is wrong with an answer from the gateway.
struct GatewayDecodingError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// The body of a request to the gateway, as proto3 JSON wants it: 64-bit integers as strings,
/// bytes as base64.
struct GatewayRequest {
    private(set) var fields: [String: JSONValue] = [:]

    init() {}

    mutating func set(_ key: String, int: Int64) { fields[key] = .string(String(int)) }
    mutating func set(_ key: String, bytes: [UInt8]) { fields[key] = .string(Base64.encode(bytes)) }
    mutating func set(_ key: String, string: String) { fields[key] = .string(string) }
    mutating func set(_ key: String, bool: Bool) { fields[key] = .bool(bool) }
    mutating func set(_ key: String, object: GatewayRequest) { fields[key] = .object(object.fields) }
    mutating func set(_ key: String, objects: [GatewayRequest]) { fields[key] = .array(objects.map { .object($0.fields) }) }

    var bytes: [UInt8] { JSONValue.object(fields).serialized }
}

/// Standard base64 (RFC 4648 §4, with padding), as the gateway encodes bytes.
enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var index = 0
        while index + 3 <= bytes.count {
            let value = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2])
            for shift in [18, 12, 6, 0] { out.append(alphabet[Int(value >> UInt32(shift) & 63)]) }
            index += 3
        }
        let rest = bytes.count - index
        if rest > 0 {
            let value = UInt32(bytes[index]) << 16 | (rest == 2 ? UInt32(bytes[index + 1]) << 8 : 0)
            out.append(alphabet[Int(value >> 18 & 63)])
            out.append(alphabet[Int(value >> 12 & 63)])
            out.append(rest == 2 ? alphabet[Int(value >> 6 & 63)] : UInt8(ascii: "="))
            out.append(UInt8(ascii: "="))
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The bytes, or nil for text that is not padded standard base64.
    static func decode(_ text: String) -> [UInt8]? {
        let input = Array(text.utf8)
        guard input.count % 4 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(input.count / 4 * 3)
        var index = 0
        while index < input.count {
            var value: UInt32 = 0
            var padding = 0
            for offset in 0..<4 {
                let byte = input[index + offset]
                let digit: UInt32
                switch byte {
                case UInt8(ascii: "A")...UInt8(ascii: "Z"): digit = UInt32(byte - UInt8(ascii: "A"))
                case UInt8(ascii: "a")...UInt8(ascii: "z"): digit = UInt32(byte - UInt8(ascii: "a")) + 26
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0")) + 52
                case UInt8(ascii: "+"): digit = 62
                case UInt8(ascii: "/"): digit = 63
                case UInt8(ascii: "=") where index + 4 == input.count && offset >= 2:
                    padding += 1
                    digit = 0
                default: return nil
                }
                if padding > 0, byte != UInt8(ascii: "=") { return nil }
                value = value << 6 | digit
            }
            out.append(UInt8(value >> 16 & 0xFF))
            if padding < 2 { out.append(UInt8(value >> 8 & 0xFF)) }
            if padding < 1 { out.append(UInt8(value & 0xFF)) }
            index += 4
        }
        return out
    }
}
