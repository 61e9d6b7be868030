#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// This machine's hostname, for `id_from_hostname` (a StatefulSet pod's hostname is its name).
public enum HostName {
    public static func current() throws(ConfigurationError) -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else {
            throw .hostnameUnavailable(SystemCallError(operation: "gethostname", path: "", code: errno))
        }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
