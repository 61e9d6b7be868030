/// Why the HTTP endpoint cannot start with the files it was given. Each message names the file and
/// the flag, says what to do, and never quotes a secret.
public enum HTTPSetupError: Error, Sendable, CustomStringConvertible {
    case tokenFile(path: String, TokenProblem)
    case tlsFile(path: String, flag: String, detail: String)
    case tlsConfiguration(String)

    public enum TokenProblem: Error, Sendable, Equatable, CustomStringConvertible {
        case unreadable(String)
        case notARegularFile
        case worldAccessible(mode: UInt32)
        case tooLarge
        case tooShort(Int)
        case notToken68

        public var description: String {
            switch self {
            case .unreadable(let reason): "cannot read it: \(reason)"
            case .notARegularFile: "it is not a regular file"
            case .worldAccessible(let mode):
                "every user on this host may read or write it (mode \(String(mode, radix: 8))); run chmod 600 on it"
            case .tooLarge: "it is larger than \(BearerToken.maximumFileSize) bytes; it should hold one token"
            case .tooShort(let count):
                "the token has \(count) characters; use at least \(BearerToken.minimumLength), e.g. from `openssl rand -hex 32`"
            case .notToken68:
                "the token may only hold letters, digits and - . _ ~ + / (then = padding) on one line, e.g. from `openssl rand -hex 32`"
            }
        }
    }

    public var description: String {
        switch self {
        case .tokenFile(let path, let problem): "--http-token-file \(path): \(problem)"
        case .tlsFile(let path, let flag, let detail): "\(flag) \(path): \(detail)"
        case .tlsConfiguration(let detail): "HTTP TLS: \(detail)"
        }
    }
}
