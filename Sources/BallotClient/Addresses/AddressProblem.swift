/// What is wrong with an address such as `127.0.0.1:7001`.
public enum AddressProblem: Error, Hashable, Sendable, CustomStringConvertible {
    case empty
    case missingPort
    case emptyHost
    case invalidPort(String)
    case unbracketedIPv6
    case invalidIPv4(String)
    case invalidIPv6(String)
    case invalidHostname(String)

    public var description: String {
        switch self {
        case .empty: "empty address; write HOST:PORT, e.g. 127.0.0.1:7001"
        case .missingPort: "missing port; write HOST:PORT, e.g. 127.0.0.1:7001 or [::1]:7001"
        case .emptyHost: "missing host before the port; write HOST:PORT, e.g. 127.0.0.1:7001"
        case .invalidPort(let port): "port \"\(port)\" is not valid; use a number from 1 to 65535"
        case .unbracketedIPv6: "an IPv6 address needs brackets around it, e.g. [::1]:7001"
        case .invalidIPv4(let host): "\"\(host)\" is not a valid IPv4 address (four numbers 0–255 without leading zeros)"
        case .invalidIPv6(let host): "\"\(host)\" is not a valid IPv6 address"
        case .invalidHostname(let host):
            "\"\(host)\" is not a valid host name (letters, digits and '-' in dot-separated labels of up to 63 characters)"
        }
    }
}
