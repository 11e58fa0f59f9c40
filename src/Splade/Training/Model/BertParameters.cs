using Splade.Training.Checkpoint;

namespace Splade.Training.Model;

/// <summary>Parameters of one encoder layer (post-LayerNorm BERT), named as in Hugging Face.</summary>
public sealed class BertLayerParameters
{
    public required TrainableTensor QueryW, QueryB, KeyW, KeyB, ValueW, ValueB;
    public required TrainableTensor AttnOutW, AttnOutB, AttnLnW, AttnLnB;
    public required TrainableTensor InterW, InterB, OutW, OutB, OutLnW, OutLnB;
}

/// <summary>
/// Every trainable tensor of <c>BertForMaskedLM</c> with Hugging Face names. With a tied decoder the
/// decoder weight IS the word-embedding tensor (one object, listed once), so its gradient accumulates
/// both the embedding scatter and the decoder contribution, as in PyTorch.
/// </summary>
public sealed class BertParameters
{
    public TrainingModelConfig Config { get; }
    public TrainableTensor WordEmbeddings { get; }
    public TrainableTensor PositionEmbeddings { get; }
    public TrainableTensor TokenTypeEmbeddings { get; }
    public TrainableTensor EmbLnW { get; }
    public TrainableTensor EmbLnB { get; }
    public IReadOnlyList<BertLayerParameters> Layers { get; }
    public TrainableTensor HeadDenseW { get; }
    public TrainableTensor HeadDenseB { get; }
    public TrainableTensor HeadLnW { get; }
    public TrainableTensor HeadLnB { get; }

    /// <summary>Decoder weight [vocab, hidden]: the word-embedding tensor itself when tied.</summary>
    public TrainableTensor DecoderW { get; }

    /// <summary>Decoder bias [vocab] (<c>cls.predictions.bias</c>).</summary>
    public TrainableTensor DecoderB { get; }

    /// <summary>True when the decoder shares the word-embedding tensor.</summary>
    public bool IsTied => ReferenceEquals(DecoderW, WordEmbeddings);

    /// <summary>
    /// True when the input checkpoint also stored <c>cls.predictions.decoder.weight</c> identical to the word embeddings; the
    /// writer then stores the shared values under both names, as the input had them.
    /// </summary>
    public bool SourceHadDecoderCopy { get; }

    /// <summary>Every distinct tensor, in checkpoint order (the tied decoder is not repeated).</summary>
    public IReadOnlyList<TrainableTensor> All { get; }

    private BertParameters(TrainingModelConfig config, Func<string, int[], TrainableTensor> get, bool hasDecoderWeight, Func<string, TrainableTensor?> tryGet)
    {
        Config = config;
        int h = config.HiddenSize, v = config.VocabSize, im = config.IntermediateSize;
        WordEmbeddings = get("bert.embeddings.word_embeddings.weight", [v, h]);
        PositionEmbeddings = get("bert.embeddings.position_embeddings.weight", [config.MaxPositionEmbeddings, h]);
        TokenTypeEmbeddings = get("bert.embeddings.token_type_embeddings.weight", [config.TypeVocabSize, h]);
        EmbLnW = get("bert.embeddings.LayerNorm.weight", [h]);
        EmbLnB = get("bert.embeddings.LayerNorm.bias", [h]);
        var layers = new List<BertLayerParameters>();
        for (int i = 0; i < config.NumHiddenLayers; i++)
        {
            string p = $"bert.encoder.layer.{i}.";
            layers.Add(new BertLayerParameters
            {
                QueryW = get(p + "attention.self.query.weight", [h, h]), QueryB = get(p + "attention.self.query.bias", [h]),
                KeyW = get(p + "attention.self.key.weight", [h, h]), KeyB = get(p + "attention.self.key.bias", [h]),
                ValueW = get(p + "attention.self.value.weight", [h, h]), ValueB = get(p + "attention.self.value.bias", [h]),
                AttnOutW = get(p + "attention.output.dense.weight", [h, h]), AttnOutB = get(p + "attention.output.dense.bias", [h]),
                AttnLnW = get(p + "attention.output.LayerNorm.weight", [h]), AttnLnB = get(p + "attention.output.LayerNorm.bias", [h]),
                InterW = get(p + "intermediate.dense.weight", [im, h]), InterB = get(p + "intermediate.dense.bias", [im]),
                OutW = get(p + "output.dense.weight", [h, im]), OutB = get(p + "output.dense.bias", [h]),
                OutLnW = get(p + "output.LayerNorm.weight", [h]), OutLnB = get(p + "output.LayerNorm.bias", [h]),
            });
        }
        Layers = layers;
        HeadDenseW = get("cls.predictions.transform.dense.weight", [h, h]);
        HeadDenseB = get("cls.predictions.transform.dense.bias", [h]);
        HeadLnW = get("cls.predictions.transform.LayerNorm.weight", [h]);
        HeadLnB = get("cls.predictions.transform.LayerNorm.bias", [h]);
        DecoderB = tryGet("cls.predictions.bias") ?? get("cls.predictions.decoder.bias", [v]);
        if (DecoderB.Length != v) throw new InvalidDataException($"tensor '{DecoderB.SourceName}': expected [{v}], got [{string.Join(",", DecoderB.Shape)}].");
        // A stored decoder weight is used as its own tensor (untied), as inference does; only a stored copy
        // identical to the word embeddings (a tied model saved with both names) stays tied.
        var decoder = hasDecoderWeight ? get("cls.predictions.decoder.weight", [v, h]) : null;
        if (decoder is not null && !decoder.Data.AsSpan().SequenceEqual(WordEmbeddings.Data))
        {
            DecoderW = decoder;
        }
        else
        {
            DecoderW = WordEmbeddings;
            SourceHadDecoderCopy = hasDecoderWeight;
        }

        var all = new List<TrainableTensor> { WordEmbeddings, PositionEmbeddings, TokenTypeEmbeddings, EmbLnW, EmbLnB };
        foreach (var l in layers)
            all.AddRange([l.QueryW, l.QueryB, l.KeyW, l.KeyB, l.ValueW, l.ValueB, l.AttnOutW, l.AttnOutB, l.AttnLnW, l.AttnLnB,
                l.InterW, l.InterB, l.OutW, l.OutB, l.OutLnW, l.OutLnB]);
        all.AddRange([HeadDenseW, HeadDenseB, HeadLnW, HeadLnB, DecoderB]);
        if (!IsTied) all.Add(DecoderW);
        All = all;
    }

    /// <summary>
    /// Reads every tensor of <see cref="TrainingModelConfig"/>'s shape from <paramref name="source"/>; accepts the
    /// old <c>LayerNorm.gamma/beta</c> names. Throws <see cref="InvalidDataException"/> naming the tensor when
    /// one is missing or has the wrong shape.
    /// </summary>
    public static BertParameters Load(TrainingModelConfig config, ITensorSource source)
    {
        TrainableTensor? TryGet(string name)
        {
            foreach (string candidate in Aliases(name))
                if (source.TryGet(candidate, out var data, out var shape))
                    return new TrainableTensor(name, candidate, shape, data);
            return null;
        }
        TrainableTensor Get(string name, int[] shape)
        {
            var t = TryGet(name) ?? throw new InvalidDataException($"tensor '{name}' is missing from the checkpoint (expected shape [{string.Join(",", shape)}]).");
            if (!t.Shape.SequenceEqual(shape))
                throw new InvalidDataException($"tensor '{t.SourceName}': expected shape [{string.Join(",", shape)}], got [{string.Join(",", t.Shape)}].");
            return t;
        }
        bool hasDecoder = source.Names.Contains("cls.predictions.decoder.weight");
        return new BertParameters(config, Get, hasDecoder, TryGet);
    }

    private static IEnumerable<string> Aliases(string name)
    {
        yield return name;
        if (name.EndsWith("LayerNorm.weight", StringComparison.Ordinal)) yield return name[..^"weight".Length] + "gamma";
        if (name.EndsWith("LayerNorm.bias", StringComparison.Ordinal)) yield return name[..^"bias".Length] + "beta";
    }

    /// <summary>Sets every gradient to zero.</summary>
    public void ZeroGrad()
    {
        foreach (var t in All) t.ZeroGrad();
    }

    /// <summary>Finds a tensor by canonical name.</summary>
    public TrainableTensor? Find(string name) => All.FirstOrDefault(t => t.Name == name)
        ?? (name == "cls.predictions.decoder.weight" ? DecoderW : null);

    /// <summary>Total number of distinct trainable values.</summary>
    public long ParameterCount => All.Sum(t => (long)t.Length);
}
