import BallotCore
import BallotRuntime

/// How a resignation ended (`POST /resign`, the end of `whileLeader`).
public enum ResignOutcome: Hashable, Sendable {
    /// `to` took over.
    case handedOver(to: NodeID)
    /// No eligible follower could take over in time (or none was up): this node stepped down and
    /// holds off; the others elect a leader among themselves.
    case steppedDown
}

/// What a change of candidacy did.
public struct CandidacyChange: Hashable, Sendable {
    /// The node's candidacy now, as stored.
    public var candidacy: Candidacy
    /// When this node led and was made ineligible: the member it handed over to, and how that ended;
    /// `nil` when no hand-over was needed or no eligible follower was up (it keeps leading until one is).
    public var handover: (target: NodeID, outcome: TransferOutcome)?

    public static func == (a: CandidacyChange, b: CandidacyChange) -> Bool {
        a.candidacy == b.candidacy && a.handover?.target == b.handover?.target && a.handover?.outcome == b.handover?.outcome
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(candidacy)
        hasher.combine(handover?.target)
        hasher.combine(handover?.outcome)
    }
}

/// Why a change of candidacy was refused; nothing changed.
public enum CandidacyError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The election algorithm has no candidacy.
    case unsupported(CandidacyRefusal)
    /// The setting could not be made durable, so the node does not act on it.
    case notPersisted(StateStoreError)
    /// The node has halted (it cannot persist its hard state) and takes part in nothing.
    case halted(Halt)

    public var description: String {
        switch self {
        case .unsupported(let refusal): "\(refusal)"
        case .notPersisted(let error): "the candidacy was not changed because it could not be saved: \(error)"
        case .halted(let halt): "this node has halted (\(halt)); restart it"
        }
    }
}

/// Issue 15: resignation and eligibility, as `POST /resign`, `PUT /candidacy` and the embedded API
/// use them. The decisions are the core's (RaftNode+Candidacy); the node persists and waits.
extension BallotNode {
    /// The leader hands over to its best eligible follower and then holds off campaigning for
    /// `holdOff` (default: ``resignHoldOff``, one election timeout unless configured) after its leadership ends. Waits for the hand-over
    /// (at most about one election timeout).
    public func resign(holdOff: Duration? = nil) async throws(TransferRefusal) -> ResignOutcome {
        try driver.resign(holdOff: holdOff ?? resignHoldOff)
        armWakeTimer()
        guard let target = driver.status.transferTarget else { return .steppedDown }
        let outcome = await withCheckedContinuation { effects.awaitTransfer(to: target, $0) }
        return outcome == .completed ? .handedOver(to: target) : .steppedDown
    }

    /// The candidacy this node reports now: `eligible` is false while it holds off after resigning.
    public var candidacy: Candidacy {
        catchUp()
        return driver.status.candidacy
    }

    /// Makes this node eligible to lead, or not. The setting is saved (fsync) before the node acts
    /// on it, so it survives a crash; a leader made ineligible hands over to its best eligible
    /// follower and this waits for the outcome.
    public func setEligible(_ eligible: Bool) async throws(CandidacyError) -> CandidacyChange {
        if let halt = driver.halt { throw .halted(halt) }
        if let candidacyStore {
            do throws(StateStoreError) {
                try candidacyStore.save(eligible: eligible)
            } catch {
                throw .notPersisted(error)
            }
        }
        do throws(CandidacyRefusal) {
            try driver.setEligible(eligible)
        } catch {
            throw .unsupported(error)
        }
        armWakeTimer()
        logger.notice("candidacy changed", metadata: ["eligible": "\(eligible)"])
        var change = CandidacyChange(candidacy: driver.status.candidacy)
        change.candidacy.eligible = eligible
        if !eligible, driver.status.role == .leader, let target = driver.status.transferTarget {
            let outcome = await withCheckedContinuation { effects.awaitTransfer(to: target, $0) }
            change.handover = (target, outcome)
        }
        return change
    }
}
