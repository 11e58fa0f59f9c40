namespace Splade.Search;

/// <summary>
/// Collects candidates by approximate score (summed in an order other than the exact one) for a
/// pruned search. It keeps the k best in a min-heap and, beside them, every candidate within
/// <see cref="Margin"/> of the k-th score, so that the exact top-k (scores recomputed in the exact
/// summation order, ties by id) is always a subset of <see cref="Candidates"/>.
/// </summary>
internal sealed class CandidatePool
{
    private readonly float[] _scores;   // [k] min-heap by score
    private readonly long[] _keys;      // [k] segment << 32 | ordinal
    private readonly List<(float Score, long Key)> _near = new();
    private int _count;

    public CandidatePool(int k, float margin)
    {
        _scores = new float[k];
        _keys = new long[k];
        Margin = margin;
    }

    /// <summary>Bound on |approximate − exact| differences, with safety factor (see <see cref="MaxScoreScorer"/>).</summary>
    public float Margin { get; }

    /// <summary>Candidates scoring below this cannot be in the exact top-k (−∞ until k are held).</summary>
    public float Cutoff => _count < _scores.Length ? float.NegativeInfinity : _scores[0] - Margin;

    public void Offer(float score, int segment, int ord)
    {
        long key = ((long)segment << 32) | (uint)ord;
        if (_count < _scores.Length)
        {
            _scores[_count] = score;
            _keys[_count] = key;
            SiftUp(_count++);
            return;
        }
        if (score > _scores[0])
        {
            float evictedScore = _scores[0];
            long evictedKey = _keys[0];
            _scores[0] = score;
            _keys[0] = key;
            SiftDown(0);
            if (evictedScore >= Cutoff) AddNear(evictedScore, evictedKey);
        }
        else if (score >= Cutoff) AddNear(score, key);
    }

    private void AddNear(float score, long key)
    {
        _near.Add((score, key));
        if (_near.Count > 4 * _scores.Length + 256)
        {
            float cut = Cutoff;
            _near.RemoveAll(n => n.Score < cut);
        }
    }

    /// <summary>Every (segment, ordinal) that may belong to the exact top-k.</summary>
    public IEnumerable<(int Segment, int Ord)> Candidates()
    {
        float cut = Cutoff;
        for (int i = 0; i < _count; i++) yield return ((int)(_keys[i] >> 32), (int)_keys[i]);
        foreach (var (score, key) in _near)
            if (score >= cut) yield return ((int)(key >> 32), (int)key);
    }

    private void SiftUp(int i)
    {
        while (i > 0)
        {
            int p = (i - 1) >> 1;
            if (_scores[i] >= _scores[p]) break;
            Swap(i, p);
            i = p;
        }
    }

    private void SiftDown(int i)
    {
        while (true)
        {
            int l = 2 * i + 1, r = l + 1, m = i;
            if (l < _count && _scores[l] < _scores[m]) m = l;
            if (r < _count && _scores[r] < _scores[m]) m = r;
            if (m == i) return;
            Swap(i, m);
            i = m;
        }
    }

    private void Swap(int a, int b)
    {
        (_scores[a], _scores[b]) = (_scores[b], _scores[a]);
        (_keys[a], _keys[b]) = (_keys[b], _keys[a]);
    }
}
