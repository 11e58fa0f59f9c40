using System.Diagnostics;

namespace Splade.Training.Model;

/// <summary>
/// Wall time per part of a training step, accumulated over calls: the model marks the end of each part
/// with <see cref="Lap"/>, which charges the time since the previous mark to that part's name. Used by
/// <c>splade bench-train --profile</c> to show where a step's time goes.
/// </summary>
public sealed class StepProfile
{
    private readonly Dictionary<string, double> _seconds = new();
    private readonly List<string> _order = [];
    private long _mark = Stopwatch.GetTimestamp();

    /// <summary>Starts timing the next part from now.</summary>
    public void Restart() => _mark = Stopwatch.GetTimestamp();

    /// <summary>Charges the time since the last mark to <paramref name="part"/> and sets the mark to now.</summary>
    public void Lap(string part)
    {
        long now = Stopwatch.GetTimestamp();
        double s = (now - _mark) / (double)Stopwatch.Frequency;
        if (_seconds.TryGetValue(part, out double t)) _seconds[part] = t + s;
        else { _seconds[part] = s; _order.Add(part); }
        _mark = now;
    }

    /// <summary>The parts in first-seen order with their accumulated seconds.</summary>
    public IReadOnlyList<(string Part, double Seconds)> Parts => _order.Select(p => (p, _seconds[p])).ToList();

    /// <summary>Forgets every part.</summary>
    public void Clear()
    {
        _seconds.Clear();
        _order.Clear();
        Restart();
    }
}
