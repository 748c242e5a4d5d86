extension StateResolution {
    /// A binary min-heap: Kahn's algorithm takes the smallest ready event each step.
    struct PriorityQueue<Element: Comparable> {
        private var heap: [Element] = []

        var isEmpty: Bool { heap.isEmpty }

        mutating func push(_ element: Element) {
            heap.append(element)
            var child = heap.count - 1
            while child > 0 {
                let parent = (child - 1) / 2
                guard heap[child] < heap[parent] else { break }
                heap.swapAt(child, parent)
                child = parent
            }
        }

        mutating func pop() -> Element? {
            guard !heap.isEmpty else { return nil }
            heap.swapAt(0, heap.count - 1)
            let smallest = heap.removeLast()
            var parent = 0
            while true {
                let left = 2 * parent + 1, right = left + 1
                var best = parent
                if left < heap.count, heap[left] < heap[best] { best = left }
                if right < heap.count, heap[right] < heap[best] { best = right }
                if best == parent { break }
                heap.swapAt(parent, best)
                parent = best
            }
            return smallest
        }
    }
}
