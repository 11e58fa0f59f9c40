using Splade.Sparse;
using Splade.Tokenization;

namespace Splade;

public sealed partial class SparseEncoder
{
    /// <summary>Encodes one search query (the <c>query</c> prompt and route), like <c>encode_query</c>.</summary>
    public SparseVector EncodeQuery(string text, int? maxActiveDims = null) =>
        EncodeQueries([text], maxActiveDims)[0];

    /// <summary>Encodes search queries (the <c>query</c> prompt and route), results in input order (batches: see <see cref="EncodeDocuments"/>).</summary>
    public IReadOnlyList<SparseVector> EncodeQueries(IReadOnlyList<string> texts, int? maxActiveDims = null, CancellationToken cancellationToken = default) =>
        Encode(texts, DefaultOptions(QueryPromptName, "query", maxActiveDims), cancellationToken);

    /// <summary>Encodes one document (the first of the <c>document</c>, <c>passage</c>, <c>corpus</c> prompts), like <c>encode_document</c>.</summary>
    public SparseVector EncodeDocument(string text, int? maxActiveDims = null) =>
        EncodeDocuments([text], maxActiveDims)[0];

    /// <summary>
    /// Encodes documents, results in input order. Forward batches take the <see cref="EncodeOptions"/> defaults (32 texts,
    /// 16384 tokens) on the cpu device and 256 texts, 65536 tokens on a GPU device; <see cref="Encode"/> sets them.
    /// </summary>
    public IReadOnlyList<SparseVector> EncodeDocuments(IReadOnlyList<string> texts, int? maxActiveDims = null, CancellationToken cancellationToken = default) =>
        Encode(texts, DefaultOptions(DocumentPromptName, "document", maxActiveDims), cancellationToken);

    /// <summary>Batch limits for the device: larger batches on a GPU, which is used one forward pass at a time.</summary>
    private EncodeOptions DefaultOptions(string? promptName, string route, int? maxActiveDims) => Device == "cpu"
        ? new EncodeOptions { PromptName = promptName, Route = route, MaxActiveDims = maxActiveDims }
        : new EncodeOptions { PromptName = promptName, Route = route, MaxActiveDims = maxActiveDims, BatchSize = DeviceBatchSize, MaxBatchTokens = DeviceMaxBatchTokens };

    /// <summary>Texts and tokens per forward pass of the convenience methods on a device other than cpu.</summary>
    internal const int DeviceBatchSize = 256, DeviceMaxBatchTokens = 65536;

    IReadOnlyList<SparseVector> ISparseTextEncoder.EncodeQueries(IReadOnlyList<string> texts, CancellationToken cancellationToken) =>
        EncodeQueries(texts, null, cancellationToken);

    IReadOnlyList<SparseVector> ISparseTextEncoder.EncodeDocuments(IReadOnlyList<string> texts, CancellationToken cancellationToken) =>
        EncodeDocuments(texts, null, cancellationToken);

    /// <summary>
    /// Encodes texts. Texts are tokenized, sorted by token count (longest first) and run in
    /// batches of at most <see cref="EncodeOptions.BatchSize"/> texts and <see cref="EncodeOptions.MaxBatchTokens"/>
    /// tokens (batches hold no padding: sequences are packed back to back); results come back in input order and equal
    /// what one text at a time gives (up to float rounding).
    /// </summary>
    /// <exception cref="ArgumentNullException">A text is null.</exception>
    /// <exception cref="OperationCanceledException">Cancelled between batches.</exception>
    public IReadOnlyList<SparseVector> Encode(IReadOnlyList<string> texts, EncodeOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(texts);
        options ??= new EncodeOptions { PromptName = Model.Folder.Settings.DefaultPromptName };
        if (options.BatchSize < 1) throw new ArgumentOutOfRangeException(nameof(options), options.BatchSize, "BatchSize must be at least 1.");
        if (options.MaxBatchTokens < 1) throw new ArgumentOutOfRangeException(nameof(options), options.MaxBatchTokens, "MaxBatchTokens must be at least 1.");
        if (options.MaxActiveDims is < 0) throw new ArgumentOutOfRangeException(nameof(options), options.MaxActiveDims, "MaxActiveDims must be non-negative.");
        string prompt = ResolvePrompt(options);
        Model.WakeComputeThreads();   // they wake while the texts are tokenized

        var ids = new int[texts.Count][];
        for (int i = 0; i < texts.Count; i++)
        {
            string text = texts[i] ?? throw new ArgumentNullException(nameof(texts), $"Text at position {i} is null.");
            ids[i] = TokenIds(prompt.Length == 0 ? text : prompt + text, options.Route);
        }

        int? topK = options.MaxActiveDims ?? MaxActiveDims;
        if (ids.Length == 1)
        {
            // One text (a search query): no sorting or batch bookkeeping.
            cancellationToken.ThrowIfCancellationRequested();
            SparseVector single = Model.Forward(ids, options.Route)[0];
            options.Progress?.Report((1, 1));
            return [topK is int k1 ? single.TopK(k1) : single];
        }
        var order = Enumerable.Range(0, ids.Length).OrderByDescending(i => ids[i].Length).ThenBy(i => i).ToArray();
        var results = new SparseVector[ids.Length];
        var batch = new List<int[]>(options.BatchSize);
        for (int start = 0, end; start < order.Length; start = end)
        {
            cancellationToken.ThrowIfCancellationRequested();
            end = BatchEnd(ids, order, start, options.BatchSize, options.MaxBatchTokens);
            batch.Clear();
            for (int k = start; k < end; k++) batch.Add(ids[order[k]]);
            IReadOnlyList<SparseVector> vectors;
            vectors = Model.Forward(batch, options.Route);
            for (int k = start; k < end; k++)
            {
                var v = vectors[k - start];
                results[order[k]] = topK is int kk ? v.TopK(kk) : v;
            }
            options.Progress?.Report((end, order.Length));
        }
        return results;
    }

    /// <summary>
    /// End (exclusive) of the batch starting at <paramref name="start"/> of the length-sorted
    /// <paramref name="order"/>: at most <paramref name="maxTexts"/> texts and <paramref name="maxTokens"/>
    /// tokens, and at least one text.
    /// </summary>
    internal static int BatchEnd(int[][] ids, int[] order, int start, int maxTexts, int maxTokens)
    {
        int end = start, tokens = 0;
        while (end < order.Length && end - start < maxTexts)
        {
            int next = ids[order[end]].Length;
            if (end > start && tokens + next > maxTokens) break;
            tokens += next;
            end++;
        }
        return end;
    }

    /// <summary>
    /// Token ids exactly as the network sees them: surrounding whitespace stripped, lower-cased when
    /// the checkpoint says <c>do_lower_case</c>, [CLS] … [SEP] truncated to <see cref="MaxSeqLength"/>
    /// (no special tokens on an inference-free query route).
    /// </summary>
    public int[] TokenIds(string text, string route = "document") => Tokenize(text, route).Ids;

    /// <summary>Tokenizes like <see cref="TokenIds"/>, with tokens and offsets.</summary>
    public TokenizedText Tokenize(string text, string route = "document")
    {
        ArgumentNullException.ThrowIfNull(text);
        text = text.Trim();
        if (Model.Folder.Settings.DoLowerCase) text = text.ToLowerInvariant();
        bool specials = Model.RouteAddsSpecialTokens(route);
        return Tokenizer.Encode(text, MaxSeqLength, addSpecialTokens: specials);
    }

    /// <summary>Name of the prompt <c>encode_query</c> uses, when the checkpoint has one.</summary>
    public string? QueryPromptName => Prompts.ContainsKey("query") ? "query" : null;

    /// <summary>Name of the prompt <c>encode_document</c> uses: the first of document, passage, corpus.</summary>
    public string? DocumentPromptName => new[] { "document", "passage", "corpus" }.FirstOrDefault(Prompts.ContainsKey);

    private string ResolvePrompt(EncodeOptions options)
    {
        if (options.Prompt is not null) return options.Prompt;
        if (options.PromptName is null) return "";
        if (!Prompts.TryGetValue(options.PromptName, out var p))
            throw new ArgumentException($"Prompt '{options.PromptName}' is not defined by the model; known prompts: {string.Join(", ", Prompts.Keys)}.");
        return p;
    }
}
