namespace Splade.Cli;

/// <summary>One `splade` verb. Implementations are discovered by reflection, so a verb is one file.</summary>
internal interface ICommand
{
    /// <summary>The verb, e.g. "encode".</summary>
    string Name { get; }

    /// <summary>One line for `splade --help`.</summary>
    string Summary { get; }

    /// <summary>Full usage text for `splade VERB --help`.</summary>
    string Usage { get; }

    /// <summary>Runs the verb; returns the process exit code.</summary>
    Task<int> RunAsync(CommandArgs args, CliContext context, CancellationToken cancellationToken);
}
