using Splade.Cli;

namespace Splade.Tests.Cli;

/// <summary>Runs `splade` verbs in-process with captured standard streams.</summary>
internal static class CliRunner
{
    public static async Task<(int Code, string Stdout, string Stderr)> RunAsync(params string[] argv) => await RunWithInputAsync(null, argv);

    public static async Task<(int Code, string Stdout, string Stderr)> RunWithInputAsync(byte[]? stdin, params string[] argv)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var input = stdin is null ? null : new MemoryStream(stdin);
        var context = new CliContext(TextReader.Null, stdout, stderr, input, null);
        int code = await Program.RunAsync(argv, context, CancellationToken.None);
        return (code, stdout.ToString(), stderr.ToString());
    }
}
