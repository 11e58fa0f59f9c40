using System.Text;

namespace Splade.Tests.Fuzz;

/// <summary>
/// Runs seeded, bounded fuzz loops. Case <c>i</c> of a target uses its own <see cref="Random"/>
/// seeded from (seed, i), so any failure is replayed by its seed and case number alone. A loop that
/// runs past its time limit is reported as a hang, with the input it was working on.
/// </summary>
internal static class FuzzRunner
{
    /// <summary>Environment variable that raises every target's iteration count (for longer runs).</summary>
    public const string IterationsVariable = "SPLADE_FUZZ_ITERATIONS";

    /// <summary><paramref name="defaultCount"/>, or the larger count given in SPLADE_FUZZ_ITERATIONS.</summary>
    public static int Iterations(int defaultCount)
    {
        string? env = Environment.GetEnvironmentVariable(IterationsVariable);
        return int.TryParse(env, out int n) && n > defaultCount ? n : defaultCount;
    }

    /// <summary>The generator of case <paramref name="iteration"/> of the loop seeded with <paramref name="seed"/>.</summary>
    public static Random CaseRandom(int seed, int iteration) => new(unchecked(seed * 1_000_003 + iteration * 7919 + 17));

    /// <summary>
    /// Runs <paramref name="iterations"/> cases: <paramref name="generate"/> makes an input from the
    /// case's generator, <paramref name="check"/> feeds it to the code under test and asserts the
    /// outcome. Any exception escaping <paramref name="check"/> fails the test with the seed, the case
    /// number and the input; so does a loop still running after <paramref name="timeLimit"/>.
    /// </summary>
    public static void Run<T>(string target, int seed, int iterations, Func<Random, int, T> generate, Func<T, string> describe,
        Action<T> check, TimeSpan? timeLimit = null)
    {
        object? current = null;
        int currentIteration = -1;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                for (int i = 0; i < iterations; i++)
                {
                    currentIteration = i;
                    T input = generate(CaseRandom(seed, i), i);
                    current = input;
                    check(input);
                }
            }
            catch (Exception e)
            {
                failure = e;
            }
        }, maxStackSize: 16 * 1024 * 1024) { IsBackground = true, Name = "fuzz " + target };
        thread.Start();
        TimeSpan limit = timeLimit ?? TimeSpan.FromSeconds(60);
        if (!thread.Join(limit))
        {
            string what = current is T t ? describe(t) : "(generating)";
            Assert.Fail($"fuzz {target}: seed {seed}, case {currentIteration} still running after {limit.TotalSeconds:F0} s (hang?). Input: {what}");
        }
        if (failure is not null)
        {
            string what = current is T t ? describe(t) : "(generating)";
            Assert.Fail($"fuzz {target}: seed {seed}, case {currentIteration} of {iterations} failed with {failure.GetType().FullName}: {failure.Message}\n" +
                        $"Input: {what}\n{failure}");
        }
    }

    /// <summary>
    /// Runs <paramref name="parse"/>: it may succeed, or throw <typeparamref name="TException"/>
    /// whose message passes <paramref name="messageCheck"/>; any other exception type escapes.
    /// Returns true when the input was accepted.
    /// </summary>
    public static bool ParsesOrThrows<TException>(Action parse, Func<TException, string?> messageCheck) where TException : Exception
    {
        try
        {
            parse();
            return true;
        }
        catch (TException e)
        {
            string? problem = messageCheck(e);
            if (problem is not null) throw new FuzzAssertionException($"{e.GetType().Name} with a poor message ({problem}): {e.Message}", e);
            return false;
        }
    }

    /// <summary>Short printable form of bytes: escaped text when mostly text, with a hex prefix for the rest.</summary>
    public static string Show(byte[] bytes, int max = 1500)
    {
        var sb = new StringBuilder();
        sb.Append($"[{bytes.Length} bytes] ");
        int n = Math.Min(bytes.Length, max);
        for (int i = 0; i < n; i++)
        {
            byte b = bytes[i];
            if (b >= 0x20 && b < 0x7F && b != (byte)'\\') sb.Append((char)b);
            else sb.Append($"\\x{b:X2}");
        }
        if (n < bytes.Length) sb.Append("...");
        return sb.ToString();
    }

    /// <summary>Short printable form of a string (non-ASCII as \uXXXX).</summary>
    public static string Show(string text, int max = 1500)
    {
        var sb = new StringBuilder();
        sb.Append($"[{text.Length} chars] ");
        int n = Math.Min(text.Length, max);
        for (int i = 0; i < n; i++)
        {
            char c = text[i];
            if (c >= 0x20 && c < 0x7F && c != '\\') sb.Append(c);
            else sb.Append($"\\u{(int)c:X4}");
        }
        if (n < text.Length) sb.Append("...");
        return sb.ToString();
    }
}

/// <summary>An outcome the fuzz loop rejects (wrong message, wrong result), as opposed to an unexpected exception type.</summary>
internal sealed class FuzzAssertionException(string message, Exception? inner = null) : Exception(message, inner);
