/// Refuses, before Yams composes the document, a configuration whose mapping keys are not plain
/// names: an explicit key (`? …`), a flow collection as a key (`[a]: …`, `{a: b}: …`) or an alias
/// as a key (`*a: …`). A configuration key is always a setting name, so nothing valid is lost.
///
/// Why: Yams checks a mapping's keys for duplicates and sorts the duplicates it finds; comparing
/// two nested collections costs twice the comparisons of one level less, so a 4 KB file of
/// duplicate keys nested 30 levels deep kept `ballotd --config` busy for minutes (found by
/// `fuzz-configuration`; docs/reliability.md). Scalar keys compare in linear time.
///
/// A lexical scan, not a parser: it skips quoted scalars, comments and the lines of block scalars
/// (`|`, `>`), and looks for those indicators where a key can begin. Lines end where YAML's do — at
/// CR LF, LF or a lone CR, as libyaml under Yams reads them; a guard that only split at LF missed a
/// `?` after a lone CR, and the same nested duplicate keys took seconds again (found by
/// `fuzz-configuration` in CI).
enum YAMLKeyGuard {
    /// The 1-based line of the first non-name key, and what it is; nil when every key is a name.
    static func firstComplexKey(in text: String) -> (line: Int, what: String)? {
        var quote: UInt8? = nil  // Inside a quoted scalar (which may span lines).
        var blockScalarIndent: Int? = nil  // Lines more indented than this belong to a block scalar.
        var lineNumber = 0
        for bytes in lines(of: text) {
            lineNumber += 1
            let indent = bytes.prefix { $0 == UInt8(ascii: " ") }.count
            if let parent = blockScalarIndent {
                if indent == bytes.count || indent > parent { continue }
                blockScalarIndent = nil
            }
            var index = 0
            var nodeStart = quote == nil  // Where a node (and so a key) may begin.
            var lastSignificant: UInt8? = nil
            while index < bytes.count {
                let byte = bytes[index]
                if let open = quote {
                    if open == UInt8(ascii: "'") && byte == open && index + 1 < bytes.count && bytes[index + 1] == open {
                        index += 2
                        continue
                    }
                    if open == UInt8(ascii: "\"") && byte == UInt8(ascii: "\\") {
                        index += 2
                        continue
                    }
                    if byte == open {
                        quote = nil
                        lastSignificant = byte
                    }
                    index += 1
                    continue
                }
                let next: UInt8? = index + 1 < bytes.count ? bytes[index + 1] : nil
                let nextIsBlank = next == nil || next == UInt8(ascii: " ") || next == UInt8(ascii: "\t")
                let previousIsBlank = index == 0 || bytes[index - 1] == UInt8(ascii: " ") || bytes[index - 1] == UInt8(ascii: "\t")
                let valueMayBegin = nodeStart || lastSignificant == UInt8(ascii: ":")
                switch byte {
                case UInt8(ascii: " "), UInt8(ascii: "\t"):
                    index += 1
                    continue
                case UInt8(ascii: "#") where previousIsBlank:
                    index = bytes.count
                    continue
                case UInt8(ascii: "\"") where valueMayBegin, UInt8(ascii: "'") where valueMayBegin:
                    quote = byte
                case UInt8(ascii: "?") where nodeStart && (nextIsBlank || next == UInt8(ascii: ",")):
                    return (lineNumber, "an explicit key (`?`)")
                case UInt8(ascii: "-") where nodeStart && nextIsBlank:
                    index += 1
                    continue  // A sequence entry: a node may begin after it.
                case UInt8(ascii: "["), UInt8(ascii: "{"), UInt8(ascii: ","):
                    nodeStart = true
                    lastSignificant = byte
                    index += 1
                    continue
                case UInt8(ascii: "]"), UInt8(ascii: "}"):
                    if Self.colonFollows(bytes, after: index) { return (lineNumber, "a list or map as a key") }
                case UInt8(ascii: "*") where nodeStart:
                    var end = index + 1
                    while end < bytes.count, !" \t,[]{}:".utf8.contains(bytes[end]) { end += 1 }
                    if Self.colonFollows(bytes, after: end - 1) { return (lineNumber, "an alias as a key") }
                case UInt8(ascii: "|") where valueMayBegin, UInt8(ascii: ">") where valueMayBegin:
                    // A block scalar's header: its lines follow, more indented than this one.
                    if bytes[(index + 1)...].allSatisfy({ "0123456789+- \t".utf8.contains($0) }) {
                        blockScalarIndent = indent
                        index = bytes.count
                        continue
                    }
                default:
                    break
                }
                nodeStart = byte == UInt8(ascii: ":") && nextIsBlank
                lastSignificant = byte
                index += 1
            }
        }
        return nil
    }

    /// The lines of `text`, split at CR LF, LF and lone CR (YAML 1.2 §5.4), without their breaks.
    static func lines(of text: String) -> [[UInt8]] {
        var lines: [[UInt8]] = [[]]
        var afterCR = false
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\n") where afterCR:
                afterCR = false  // The LF of a CR LF: the CR already ended the line.
            case UInt8(ascii: "\n"), UInt8(ascii: "\r"):
                lines.append([])
                afterCR = byte == UInt8(ascii: "\r")
            default:
                lines[lines.count - 1].append(byte)
                afterCR = false
            }
        }
        return lines
    }

    /// Whether `bytes[position]` is followed, after blanks, by a `:` that makes it a key.
    private static func colonFollows(_ bytes: [UInt8], after position: Int) -> Bool {
        var index = position + 1
        while index < bytes.count, bytes[index] == UInt8(ascii: " ") || bytes[index] == UInt8(ascii: "\t") { index += 1 }
        guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { return false }
        let after = index + 1 < bytes.count ? bytes[index + 1] : nil
        return after == nil || " \t,]}".utf8.contains(after!)
    }
}
