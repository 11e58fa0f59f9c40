using System.Reflection;

namespace Splade.Cli;

/// <summary>Entry point of the `splade` command: dispatches to the verb classes.</summary>
public static class Program
{
    public static async Task<int> Main(string[] argv)
    {
        using var cts = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) => { e.Cancel = true; cts.Cancel(); };
        return await RunAsync(argv, CliContext.Console(), cts.Token).ConfigureAwait(false);
    }

    internal static IReadOnlyList<ICommand> Commands { get; } = typeof(Program).Assembly.GetTypes()
        .Where(t => !t.IsAbstract && typeof(ICommand).IsAssignableFrom(t) && t.GetConstructor(Type.EmptyTypes) is not null)
        .Select(t => (ICommand)Activator.CreateInstance(t)!)
        .OrderBy(c => c.Name, StringComparer.Ordinal)
        .ToArray();

    internal static async Task<int> RunAsync(string[] argv, CliContext context, CancellationToken cancellationToken)
    {
        if (argv.Length == 0 || argv[0] is "-h" or "--help" or "help")
        {
            PrintHelp(context.Stdout);
            return argv.Length == 0 ? 2 : 0;
        }
        if (argv[0] is "--version")
        {
            context.Stdout.WriteLine(typeof(Program).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown");
            return 0;
        }
        var command = Commands.FirstOrDefault(c => c.Name == argv[0]);
        if (command is null)
        {
            context.Stderr.WriteLine($"splade: unknown command '{argv[0]}'. Run 'splade --help'.");
            return 2;
        }
        var rest = argv.Skip(1).ToArray();
        if (rest.Contains("--help") || rest.Contains("-h"))
        {
            context.Stdout.WriteLine(command.Usage);
            return 0;
        }
        try
        {
            return await command.RunAsync(new CommandArgs(rest), context, cancellationToken).ConfigureAwait(false);
        }
        catch (CliException e)
        {
            context.Stderr.WriteLine($"splade {command.Name}: {e.Message}");
            return e.ExitCode;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            context.Stderr.WriteLine($"splade {command.Name}: cancelled.");
            return 130;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Every failure ends as one readable line (exit 1); SPLADE_DEBUG=1 adds the stack trace.
            context.Stderr.WriteLine($"splade {command.Name}: {e.GetType().Name}: {e.Message}");
            if (Environment.GetEnvironmentVariable("SPLADE_DEBUG") is "1" or "true") context.Stderr.WriteLine(e);
            return 1;
        }
    }

    private static void PrintHelp(TextWriter w)
    {
        w.WriteLine("splade: SPLADE sparse encoding, indexing, search and evaluation.");
        w.WriteLine();
        w.WriteLine("Usage: splade <command> [options]   (splade <command> --help for details)");
        w.WriteLine();
        foreach (var c in Commands) w.WriteLine($"  {c.Name,-12} {c.Summary}");
    }
}
