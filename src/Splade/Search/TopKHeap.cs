namespace Splade.Search;

/// <summary>
/// Exact top-k of (score, document) with the index's ordering: score descending, then id ascending
/// (ordinal). A min-heap whose root is the worst kept hit; ids are read only when needed.
/// </summary>
internal sealed class TopKHeap
{
    private readonly IndexSnapshot _snapshot;
    private readonly Entry[] _heap;
    private int _count;

    private struct Entry
    {
        public float Score;
        public int Segment;
        public int Ord;
        public string Id;
    }

    public TopKHeap(IndexSnapshot snapshot, int k)
    {
        _snapshot = snapshot;
        _heap = new Entry[k];
    }

    public int K => _heap.Length;
    public bool IsFull => _count == _heap.Length;

    /// <summary>Lowest kept score once full (candidates below it cannot enter).</summary>
    public float MinScore => _count == 0 ? float.NegativeInfinity : _heap[0].Score;

    public void Offer(float score, int segment, int ord)
    {
        if (_heap.Length == 0) return;
        if (_count == _heap.Length)
        {
            ref Entry root = ref _heap[0];
            if (score < root.Score) return;
            string id = _snapshot.GetId(segment, ord);
            if (score == root.Score && string.CompareOrdinal(id, root.Id) >= 0) return;
            _heap[0] = new Entry { Score = score, Segment = segment, Ord = ord, Id = id };
            SiftDown(0);
            return;
        }
        _heap[_count] = new Entry { Score = score, Segment = segment, Ord = ord, Id = _snapshot.GetId(segment, ord) };
        SiftUp(_count++);
    }

    /// <summary>The kept hits, best first.</summary>
    public List<SearchHit> ToHits()
    {
        var entries = _heap.AsSpan(0, _count).ToArray();
        Array.Sort(entries, (a, b) => Worse(a, b) ? 1 : Worse(b, a) ? -1 : 0);
        var hits = new List<SearchHit>(entries.Length);
        foreach (var e in entries) hits.Add(new SearchHit(e.Id, e.Score, _snapshot.Segments[e.Segment].GetText(e.Ord)));
        return hits;
    }

    // a ranks below b.
    private static bool Worse(in Entry a, in Entry b) =>
        a.Score < b.Score || (a.Score == b.Score && string.CompareOrdinal(a.Id, b.Id) > 0);

    private void SiftUp(int i)
    {
        while (i > 0)
        {
            int parent = (i - 1) >> 1;
            if (!Worse(_heap[i], _heap[parent])) break;
            (_heap[i], _heap[parent]) = (_heap[parent], _heap[i]);
            i = parent;
        }
    }

    private void SiftDown(int i)
    {
        while (true)
        {
            int l = 2 * i + 1, r = l + 1, w = i;
            if (l < _count && Worse(_heap[l], _heap[w])) w = l;
            if (r < _count && Worse(_heap[r], _heap[w])) w = r;
            if (w == i) return;
            (_heap[i], _heap[w]) = (_heap[w], _heap[i]);
            i = w;
        }
    }
}
