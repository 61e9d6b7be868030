/// A min-heap of scheduled events, ordered by time and then by scheduling order, so that one seed
/// always replays the same history.
struct EventQueue<Event> {
    private struct Entry {
        let time: VirtualTime
        let order: UInt64
        let event: Event

        func precedes(_ other: Entry) -> Bool { (time, order) < (other.time, other.order) }
    }

    private var heap: [Entry] = []
    private var nextOrder: UInt64 = 0

    var isEmpty: Bool { heap.isEmpty }
    var count: Int { heap.count }
    var firstTime: VirtualTime? { heap.first?.time }

    mutating func schedule(_ event: Event, at time: VirtualTime) {
        heap.append(Entry(time: time, order: nextOrder, event: event))
        nextOrder += 1
        siftUp(heap.count - 1)
    }

    mutating func popFirst() -> (time: VirtualTime, event: Event)? {
        guard !heap.isEmpty else { return nil }
        heap.swapAt(0, heap.count - 1)
        let entry = heap.removeLast()
        if !heap.isEmpty { siftDown(0) }
        return (entry.time, entry.event)
    }

    private mutating func siftUp(_ index: Int) {
        var child = index
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].precedes(heap[parent]) else { return }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    private mutating func siftDown(_ index: Int) {
        var parent = index
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var smallest = parent
            if left < heap.count && heap[left].precedes(heap[smallest]) { smallest = left }
            if right < heap.count && heap[right].precedes(heap[smallest]) { smallest = right }
            guard smallest != parent else { return }
            heap.swapAt(parent, smallest)
            parent = smallest
        }
    }
}
