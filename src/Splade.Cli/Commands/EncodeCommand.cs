using System.Diagnostics;
using System.Text.Json;
using Splade.Cli.Io;
using Splade.Sparse;

namespace Splade.Cli.Commands;

/// <summary>`splade encode`: texts in, one sparse vector per line out, in input order.</summary>
internal sealed class EncodeCommand : ICommand
{
    /// <summary>Texts read, encoded and written per round (bounded memory on huge inputs).</summary>
    private const int ChunkSize = 512;

    public string Name => "encode";

    public string Summary => "Encode texts (JSON lines or plain lines) into sparse vectors.";

    public string Usage => """
        splade encode --model <folder|owner/name[@rev]> [options]

          --role query|document     encode_query or encode_document (prompts, routes); default document
          --input FILE|-            input, default stdin: JSON lines {"id": ..., "text": ...} (id optional;
                                    "_id" and a "title" field are accepted as in BEIR corpora)
          --input-format json|text  text: one text per line (an empty line is an empty text)
          --output FILE|-           output, default stdout: one JSON line per input, in input order
          --format F                indices (default): {"id", "indices": [ascending], "values"}
                                    tokens: {"id", "tokens": {"token": weight}} by weight
                                    tei: {"id", "embedding": [{"index", "value"}]}
                                    qdrant: {"id", "vector": {"indices", "values"}}
                                    elasticsearch: {"id", "vector": {"token": weight}} ('.' in tokens written "__")
          --max-active-dims K       keep the K largest weights of every vector
          --batch-size N            texts per forward pass (default 32; 256 with a GPU --device)
          --threads N               compute threads (default: all cores)
          --precision P             fp32 (default, exact), int8-decoder or int8 (faster approximations)
          --device D                cpu (default), cuda, cuda:N (NVIDIA GPU, fp32) or ilgpu-cpu (GPU kernels on the CPU)
          --shard i/n               encode only records i, i+n, i+2n, ... (0-based record positions), so n
                                    machines can share one corpus; implies --resume
          --resume                  continue an interrupted run: keep the complete lines of --output, skip
                                    that many records, append the rest (output identical to one run)

        Texts longer than the model's max_seq_length are truncated; an empty text encodes [CLS] [SEP].
        Invalid UTF-8 or malformed JSON stops with the line number; nothing after it is written.
        Progress goes to stderr.
        """;

    private static (int, int)? ParseShard(string? spec)
    {
        if (spec is null) return null;
        var parts = spec.Split('/');
        if (parts.Length != 2 || !int.TryParse(parts[0], out int i) || !int.TryParse(parts[1], out int n) || n < 1 || i < 0 || i >= n)
            throw new CliException($"--shard must be i/n with 0 <= i < n, got '{spec}'.");
        return (i, n);
    }

    /// <summary>The records of this shard, after the <paramref name="skip"/> already written (checked by id).</summary>
    private static IEnumerable<TextRecord> Select(IEnumerable<TextRecord> records, (int Index, int Count)? shard, long skip, System.Text.Json.JsonElement? lastDoneId, string? outputPath)
    {
        long position = -1, taken = 0;
        foreach (var r in records)
        {
            position++;
            if (shard is { } s && position % s.Count != s.Index) continue;
            taken++;
            if (taken < skip) continue;
            if (taken == skip)
            {
                if (!ResumableOutput.SameId(r.Id, lastDoneId))
                    throw new CliException($"cannot resume {outputPath}: its line {skip} has id {lastDoneId?.GetRawText() ?? "(none)"} but record {taken} of this input/shard has id {r.Id?.GetRawText() ?? "(none)"}.");
                continue;
            }
            yield return r;
        }
        if (taken < skip) throw new CliException($"cannot resume {outputPath}: it has {skip} lines but this input/shard has only {taken} records.");
    }

    public async Task<int> RunAsync(CommandArgs args, CliContext context, CancellationToken cancellationToken)
    {
        string role = args.Get("role") ?? "document";
        if (role is not ("query" or "document")) throw new CliException($"--role must be query or document, got '{role}'.");
        string inputFormat = args.Get("input-format") ?? "json";
        if (inputFormat is not ("json" or "text")) throw new CliException($"--input-format must be json or text, got '{inputFormat}'.");
        SparseFormat format;
        try { format = SparseFormats.Parse(args.Get("format") ?? "indices"); }
        catch (ArgumentException e) { throw new CliException(e.Message); }
        int? maxActive = args.GetInt("max-active-dims", min: 0);
        int? batchArg = args.GetInt("batch-size", min: 1, max: 1 << 16);
        string? inputPath = args.Get("input");
        string? outputPath = args.Get("output");
        (int Index, int Count)? shard = ParseShard(args.Get("shard"));
        bool resume = args.Flag("resume") || shard is not null;
        if (resume && outputPath is null or "-") throw new CliException("--resume and --shard need --output FILE (the file records the progress).");
        _ = args.Has("threads");
        _ = args.Has("precision");
        _ = args.Has("device");
        _ = args.Has("model");
        args.ThrowOnUnused();

        using var input = new InputLines(inputPath, context);
        var encoder = ModelLoading.Load(args, context, maxActive);
        var options = new EncodeOptions
        {
            PromptName = role == "query" ? encoder.QueryPromptName : encoder.DocumentPromptName,
            Route = role,
            // A GPU runs one forward pass at a time: larger batches there (the library's device defaults).
            BatchSize = batchArg ?? (encoder.Device == "cpu" ? 32 : 256),
            MaxBatchTokens = encoder.Device == "cpu" ? 16384 : 65536,
        };
        long skip = 0;
        System.Text.Json.JsonElement? lastDoneId = null;
        Stream output;
        if (resume)
        {
            (var file, skip, lastDoneId) = ResumableOutput.Open(outputPath!);
            output = file;
            if (skip > 0) context.Stderr.WriteLine($"resuming {outputPath}: {skip} records already written");
        }
        else output = OutputStream.Open(outputPath, context);
        await using var outputScope = output;
        // Disposed on success only: after a failed write, disposing would flush into the broken stream again.
        var writer = new Utf8JsonWriter(output, new JsonWriterOptions { SkipValidation = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        Func<int, string> idToToken = encoder.Tokenizer.IdToToken;

        var clock = Stopwatch.StartNew();
        long done = 0;
        var lastReport = TimeSpan.Zero;
        var chunk = new List<TextRecord>(ChunkSize);
        using var records = Select(TextRecords.Read(input, inputFormat == "json"), shard, skip, lastDoneId, outputPath).GetEnumerator();
        bool reading = false;
        long flushed = 0;
        try
        {
            while (true)
            {
                chunk.Clear();
                CliException? inputError = null;
                reading = true;
                try
                {
                    while (chunk.Count < ChunkSize && records.MoveNext()) chunk.Add(records.Current);
                }
                catch (CliException e)
                {
                    // Everything before the bad line is still encoded and written.
                    inputError = e;
                }
                reading = false;
                if (chunk.Count == 0 && inputError is null) break;
                var vectors = encoder.Encode(chunk.Select(r => r.Text).ToArray(), options, cancellationToken);
                for (int i = 0; i < chunk.Count; i++)
                {
                    writer.WriteStartObject();
                    if (chunk[i].Id is { } id)
                    {
                        writer.WritePropertyName("id");
                        id.WriteTo(writer);
                    }
                    SparseFormats.WriteFields(writer, vectors[i], format, idToToken);
                    writer.WriteEndObject();
                    await writer.FlushAsync(cancellationToken).ConfigureAwait(false);
                    writer.Reset();
                    output.WriteByte((byte)'\n');
                }
                done += chunk.Count;
                // Each finished chunk reaches the file, so an interrupted run loses at most one chunk of work.
                await output.FlushAsync(cancellationToken).ConfigureAwait(false);
                flushed = done;
                if (inputError is not null)
                {
                    await output.FlushAsync(cancellationToken).ConfigureAwait(false);
                    throw inputError;
                }
                if (clock.Elapsed - lastReport > TimeSpan.FromSeconds(2))
                {
                    lastReport = clock.Elapsed;
                    context.Stderr.WriteLine($"encoded {done} texts ({done / clock.Elapsed.TotalSeconds:F1} texts/s)");
                }
            }
            await output.FlushAsync(cancellationToken).ConfigureAwait(false);
            writer.Dispose();
        }
        catch (IOException e) when (!reading && outputPath is not null and not "-")
        {
            // A full disk (or another write error): the complete lines stay usable; --resume continues after them.
            bool full = Splade.Search.IndexWriteException.IsDiskFull(e);
            // Close now, swallowing the same error again, so that leaving the using scope cannot replace this message.
            try { output.Dispose(); } catch (Exception x) when (x is IOException or ObjectDisposedException) { }
            throw new CliException($"could not write '{outputPath}' ({(full ? "the disk is full" : "an I/O error")}: {e.Message}). " +
                $"At least {skip + flushed} complete records are in it (a torn last line is cut off on resume); free space and rerun with --resume to continue.", exitCode: 1);
        }
        if (clock.Elapsed > TimeSpan.FromSeconds(2))
            context.Stderr.WriteLine($"encoded {done} texts in {clock.Elapsed.TotalSeconds:F1} s ({done / clock.Elapsed.TotalSeconds:F1} texts/s)");
        return 0;
    }
}
