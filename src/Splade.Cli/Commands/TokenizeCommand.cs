using System.Text.Json;
using Splade.Cli.Io;

namespace Splade.Cli.Commands;

/// <summary>`splade tokenize`: the token ids the network sees, one line per input.</summary>
internal sealed class TokenizeCommand : ICommand
{
    public string Name => "tokenize";

    public string Summary => "Show the token ids of texts (with special tokens, truncated to max_seq_length).";

    public string Usage => """
        splade tokenize --model <folder|owner/name[@rev]> [--input FILE|-] [--input-format json|text] [--role query|document] [--tokens]

          Input as for `splade encode`. Output: one JSON line per input, {"ids": [...]} ("id" copied when
          given; with --tokens also "tokens": [...]). Ids include [CLS] and [SEP] and are truncated to the
          model's max_seq_length, exactly as the network receives them.
        """;

    public async Task<int> RunAsync(CommandArgs args, CliContext context, CancellationToken cancellationToken)
    {
        string role = args.Get("role") ?? "document";
        if (role is not ("query" or "document")) throw new CliException($"--role must be query or document, got '{role}'.");
        string inputFormat = args.Get("input-format") ?? "json";
        if (inputFormat is not ("json" or "text")) throw new CliException($"--input-format must be json or text, got '{inputFormat}'.");
        bool withTokens = args.Flag("tokens");
        string? inputPath = args.Get("input");
        string? outputPath = args.Get("output");
        _ = args.Has("model");
        _ = args.Has("threads");
        args.ThrowOnUnused();

        using var input = new InputLines(inputPath, context);
        var encoder = ModelLoading.Load(args, context);
        string prompt = (role == "query" ? encoder.QueryPromptName : encoder.DocumentPromptName) is { } name ? encoder.Prompts[name] : "";
        await using var output = OutputStream.Open(outputPath, context);
        await using var writer = new Utf8JsonWriter(output, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        foreach (var record in TextRecords.Read(input, inputFormat == "json"))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var t = encoder.Tokenize(prompt + record.Text, role);
            writer.WriteStartObject();
            if (record.Id is { } id) { writer.WritePropertyName("id"); id.WriteTo(writer); }
            writer.WriteStartArray("ids");
            foreach (int x in t.Ids) writer.WriteNumberValue(x);
            writer.WriteEndArray();
            if (withTokens)
            {
                writer.WriteStartArray("tokens");
                foreach (int x in t.Ids) writer.WriteStringValue(encoder.Tokenizer.IdToToken(x));
                writer.WriteEndArray();
            }
            writer.WriteEndObject();
            writer.Flush();
            writer.Reset();
            output.WriteByte((byte)'\n');
        }
        await output.FlushAsync(cancellationToken).ConfigureAwait(false);
        return 0;
    }
}
