namespace Splade.Cli;

/// <summary>Standard streams of one CLI invocation (replaceable in tests).</summary>
internal sealed class CliContext
{
    public CliContext(TextReader stdin, TextWriter stdout, TextWriter stderr, Stream? stdinStream = null, Stream? stdoutStream = null)
    {
        Stdin = stdin;
        Stdout = stdout;
        Stderr = stderr;
        StdinStream = stdinStream;
        StdoutStream = stdoutStream;
    }

    public TextReader Stdin { get; }
    public TextWriter Stdout { get; }
    public TextWriter Stderr { get; }

    /// <summary>The raw standard input, when available (for byte-exact UTF-8 validation).</summary>
    public Stream? StdinStream { get; }

    /// <summary>The raw standard output, when available.</summary>
    public Stream? StdoutStream { get; }

    public static CliContext Console() => new(
        System.Console.In, System.Console.Out, System.Console.Error,
        System.Console.OpenStandardInput(), System.Console.OpenStandardOutput());
}
