import Foundation

/// How the commands end on bad input: one line on standard error, exit status 2, no stack trace.
public enum CommandLineErrors {
    /// Prints a precise error to standard error and exits with status 2 (bad input) without a stack trace.
    public static func fail(_ message: String, code: Int32 = 2) -> Never {
        var stderr = StandardError()
        print("error: \(message)", to: &stderr)
        Foundation.exit(code)
    }
}

/// Standard error as a `print(_:to:)` target.
public struct StandardError: TextOutputStream {
    public init() {}

    public mutating func write(_ string: String) {
        FileHandle.standardError.write(Data(string.utf8))
    }
}
