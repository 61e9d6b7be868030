/// The rules for node paths, checked before a request is sent, and the sequence numbers the
/// server appends to sequential nodes.
public enum ZooKeeperPath {
    /// Why `path` is not a valid node path, or nil if it is: absolute, `/`-separated, no empty,
    /// `.` or `..` component, no NUL, no trailing `/` (except for the root, and for a sequential
    /// create, whose name the server completes).
    public static func problem(with path: String, sequential: Bool = false) -> String? {
        guard path.first == "/" else { return "a path must start with /" }
        if path == "/" { return nil }
        if path.utf8.contains(0) { return "a path must not contain NUL" }
        var components = path.dropFirst().split(separator: "/", omittingEmptySubsequences: false)
        if sequential, components.last == "" { components.removeLast() }
        for component in components {
            if component.isEmpty { return "a path must not contain an empty component (// or a trailing /)" }
            if component == "." || component == ".." { return "a path must not contain . or .. components" }
        }
        return nil
    }

    /// The counter the server appended to a sequential node's name: its last ten characters
    /// (`%010d` of the parent's child-creation counter). Nil if they are not such a number.
    public static func sequenceNumber(ofName name: Substring) -> Int32? {
        guard name.count >= 10 else { return nil }
        let suffix = name.suffix(10)
        guard suffix.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == "-") }) else { return nil }
        return Int32(suffix)
    }

    /// The last component of a path.
    public static func lastComponent(of path: String) -> Substring {
        path.split(separator: "/", omittingEmptySubsequences: false).last ?? Substring(path)
    }
}
