import BallotClient
import BallotSimulation

extension HistoryChecker {
    /// No frame from an unauthenticated connection was delivered, and intruders changed nothing.
    ///
    /// The evidence is the node's own: for every connection an intruder made (``TimelineEvent/intrusion``)
    /// the node it dialled must have printed a `peer_refused` line for that remote address with
    /// `delivered=0` — counted where messages are handed to the node — and never a `peer_accepted`
    /// line for it; its `auth` refusal counter must have grown by at least the number of intruder
    /// connections of that fault; and no node may ever report a term as high as the one the
    /// intruders forged. Each of these fails the run if the node let an intruder in, delivered its
    /// messages, or left no trace of refusing it.
    ///
    /// A remote address names the intruder's connection only during its fault: the intruder dials
    /// from a member's namespace, so minutes later that member's own connection may get the same
    /// ephemeral port. Lines count from the fault's start until ``lateLineAllowance`` after its heal.
    func unauthenticatedDelivery(_ events: [TimelineEvent]) -> [Violation] {
        var violations: [Violation] = []
        var peerLines: [String: [PeerEventLine]] = [:]
        var refusalsBefore: [Int: [UInt64: Double]] = [:]
        var refusalsAfter: [Int: [UInt64: Double]] = [:]
        var intrusionsPerFault: [Int: [UInt64: Int]] = [:]
        var lowestForgedTerm: (term: UInt64, at: UInt64)?
        var faultBegan: [Int: UInt64] = [:]
        var faultHealed: [Int: UInt64] = [:]
        for event in events {
            switch event {
            case .faultBegan(let number, _, _, let at): faultBegan[number] = at
            case .faultHealed(let number, let at): faultHealed[number] = at
            case .peer(let line): peerLines["\(line.node)/\(line.remote)", default: []].append(line)
            case .authRefusals(let number, let node, true, let count, _): refusalsBefore[number, default: [:]][node] = count
            case .authRefusals(let number, let node, false, let count, _): refusalsAfter[number, default: [:]][node] = count
            case .intrusion(let number, let node, _, _, let forged, let at):
                intrusionsPerFault[number, default: [:]][node, default: 0] += 1
                if forged > 0, forged < (lowestForgedTerm?.term ?? .max) { lowestForgedTerm = (forged, at) }
            default: break
            }
        }
        for case .intrusion(let number, let node, let kind, let remote, _, let at) in events {
            let from = faultBegan[number] ?? 0
            let until = (faultHealed[number] ?? .max).addingReportingOverflow(Self.lateLineAllowance)
            let lines = (peerLines["\(node)/\(remote)"] ?? []).filter {
                $0.monotonicNanoseconds >= from && (until.overflow || $0.monotonicNanoseconds <= until.partialValue)
            }
            if let accepted = lines.first(where: { $0.kind == .accepted }) {
                violations.append(Violation(property: .unauthenticatedDelivery, at: accepted.monotonicNanoseconds, detail:
                    "fault #\(number) (\(kind.rawValue)): node \(node) authenticated the intruder's connection from "
                    + "\(remote) as node \(accepted.peer.map(String.init) ?? "?")"))
            }
            if let delivering = lines.first(where: { ($0.delivered ?? 0) > 0 }) {
                violations.append(Violation(property: .unauthenticatedDelivery, at: delivering.monotonicNanoseconds, detail:
                    "fault #\(number) (\(kind.rawValue)): node \(node) delivered \(delivering.delivered!) messages from "
                    + "the intruder's connection \(remote)"))
            }
            if !lines.contains(where: { $0.kind == .refused && $0.delivered == 0 && !$0.wasEstablished }) {
                violations.append(Violation(property: .unauthenticatedDelivery, at: at, detail:
                    "fault #\(number) (\(kind.rawValue)): node \(node) left no refusal (peer_refused, delivered=0) "
                    + "for the intruder's connection from \(remote)"))
            }
        }
        for (number, perNode) in intrusionsPerFault.sorted(by: { $0.key < $1.key }) {
            for (node, count) in perNode.sorted(by: { $0.key < $1.key }) {
                guard let before = refusalsBefore[number]?[node], let after = refusalsAfter[number]?[node] else {
                    violations.append(Violation(property: .unauthenticatedDelivery, at: 0, detail:
                        "fault #\(number): node \(node)'s auth refusals were not scraped before and after its intruders"))
                    continue
                }
                if after - before < Double(count) {
                    violations.append(Violation(property: .unauthenticatedDelivery, at: 0, detail:
                        "fault #\(number): node \(node) counted \(Int(after - before)) auth refusals for \(count) intruder "
                        + "connections (ballot_peer_frames_rejected_total{reason=\"auth\"})"))
                }
            }
        }
        if let forged = lowestForgedTerm {
            for event in events where event.at >= forged.at {
                let reported: (node: UInt64, term: UInt64)? = switch event {
                case .leadership(let line): (line.node, line.term)
                case .lease(let line): (line.node, line.term)
                case .status(let node, let term, _, _, _): (node, term)
                case .probe(let node, _, _, let term?, _, _): (node, term)
                default: nil
                }
                if let reported, reported.term >= forged.term {
                    violations.append(Violation(property: .unauthenticatedDelivery, at: event.at, detail:
                        "node \(reported.node) reached term \(reported.term), which only an intruder sent "
                        + "(forged term \(forged.term))"))
                    break
                }
            }
        }
        return violations
    }

    /// How long after an intruder fault's heal a node's line about the intruder's connection still
    /// counts: longer than the handshake deadline (5 s), after which the node has closed it.
    static let lateLineAllowance: UInt64 = 10_000_000_000
}
