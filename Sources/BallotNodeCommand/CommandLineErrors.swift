import Foundation

public enum CommandLineErrors {
    /// Prints a precise error to standard error and exits with status 2 (bad input) without a stack trace.
    public static func fail(_ message: String, code: Int32 = 2) -> Never {
        var stderr = StandardError()
        print("error: \(message)", to: &stderr)
        Foundation.exit(code)
    }
}

public struct StandardError: TextOutputStream {
    public init() {}

    public mutating func write(_ string: String) {
        FileHandle.standardError.write(Data(string.utf8))
    }
}
