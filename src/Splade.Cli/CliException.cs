namespace Splade.Cli;

/// <summary>A usage or input error reported to the user as one line on stderr, exit code 2.</summary>
internal sealed class CliException : Exception
{
    public CliException(string message, int exitCode = 2) : base(message) => ExitCode = exitCode;

    public int ExitCode { get; }
}
