import BallotBackends
import BallotZooKeeper
import Yams

// The kinds of value only the election backends' settings use (``SettingKind`` has the shared ones).

extension SettingKind where Value == ElectionName {
    /// An election's name on etcd or ZooKeeper: `orders`.
    static var electionName: SettingKind {
        SettingKind(
            valueName: "NAME", expected: "an election name",
            parse: { text throws(ConfigurationError) in
                do throws(ElectionNameProblem) {
                    return try ElectionName(text)
                } catch {
                    throw .invalidElectionName(text, error)
                }
            },
            print: { .text($0.rawValue) })
    }
}

extension SettingKind where Value == [EtcdEndpoint] {
    /// etcd client URLs, `URL[,URL…]` in a flag or a variable; in a file a list or one such string.
    static var etcdEndpoints: SettingKind {
        let expected = "a list of etcd client URLs, e.g. [http://127.0.0.1:2379]"
        let parse = { (text: String) throws(ConfigurationError) -> [EtcdEndpoint] in
            do throws(EtcdConfigurationError) {
                return try EtcdEndpoint.parseList(text)
            } catch {
                throw .etcd(error)
            }
        }
        return SettingKind(
            valueName: "URL[,URL…]", expected: expected, parse: parse,
            readYAML: { node throws(ConfigurationError) in try parse(YAMLValue.listText(node, expected: expected)) },
            print: { .text($0.map(\.description).joined(separator: ",")) })
    }
}

extension SettingKind where Value == [ZooKeeperServerAddress] {
    /// A ZooKeeper ensemble, `HOST:PORT[,HOST:PORT…]`; in a file a list or one such string.
    static var zooKeeperServers: SettingKind {
        let expected = "a list of ZooKeeper servers, e.g. [\"127.0.0.1:2181\"]"
        let parse = { (text: String) throws(ConfigurationError) -> [ZooKeeperServerAddress] in
            do throws(ZooKeeperConfigurationError) {
                return try ZooKeeperServerAddress.parseList(text)
            } catch {
                throw .invalidZooKeeperServers(error)
            }
        }
        return SettingKind(
            valueName: "HOST:PORT[,HOST:PORT…]", expected: expected, parse: parse,
            readYAML: { node throws(ConfigurationError) in try parse(YAMLValue.listText(node, expected: expected)) },
            print: { .text($0.map(\.description).joined(separator: ",")) })
    }
}

extension SettingKind where Value == Duration {
    /// A duration that may also be zero (`0s`, `0`): a lag that a standalone server does not have.
    /// Every other duration setting refuses zero (``duration``).
    static var durationOrZero: SettingKind {
        let expected = "a duration with a unit, such as 2.1s, or 0s"
        let parse = { (text: String) throws(ConfigurationError) -> Duration in
            if isZero(text) { return .zero }
            return try DurationParser.parse(text)
        }
        return SettingKind(
            valueName: "DURATION", expected: expected, parse: parse,
            readYAML: { node throws(ConfigurationError) in
                // A bare 0 is unambiguous; any other number needs its unit.
                if case .scalar(let scalar) = node, YAMLValue.tagName(node) == .int, scalar.string == "0" { return .zero }
                return try parse(YAMLValue.durationText(node, expected: expected))
            },
            print: { .text($0 == .zero ? "0s" : DurationParser.format($0)) })
    }

    /// `0`, `0s`, `0ms`, `0.0s`, `0m`: zero in any of the duration units.
    private static func isZero(_ text: String) -> Bool {
        let number = text.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
        let unit = text.dropFirst(number.count)
        return number.first?.isNumber == true && number.allSatisfy { $0 == "0" || $0 == "." }
            && number.filter { $0 == "." }.count <= 1 && ["", "ms", "s", "m"].contains(unit)
    }
}

extension YAMLValue {
    /// A list of plain scalars, or one plain scalar, as one comma-separated text (the spelling of
    /// the flag): `[a:1, b:2]` and `"a:1,b:2"` read alike.
    static func listText(_ node: Node, expected: String) throws(ConfigurationError) -> String {
        guard case .sequence(let items) = node else { return try plainText(node, expected: expected) }
        var entries: [String] = []
        for item in items { entries.append(try plainText(item, expected: expected)) }
        return entries.joined(separator: ",")
    }
}
