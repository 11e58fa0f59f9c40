using Splade.Training.Checkpoint;

namespace Splade.Cli.Commands;

/// <summary>`splade init`: a SPLADE model (MLMTransformer + SpladePooling) from a BERT encoder without an MLM head.</summary>
internal sealed class InitCommand : ICommand
{
    public string Name => "init";

    public string Summary => "Make a SPLADE model from a BERT encoder without an MLM head (tied decoder, head initialised as a projection onto the vocabulary).";

    public string Usage => """
        Usage: splade init --from <BERT encoder folder> --output DIR [options]
          --from            a Hugging Face BertModel / sentence-transformers Transformer folder (config.json,
                            model.safetensors, vocab.txt or tokenizer.json)
          --max-seq-length  max_seq_length of the new model (default: the source's, else max_position_embeddings)
          --decoder-bias b  every entry of cls.predictions.bias (default 0). A negative b is a threshold on the
                            starting projections: with 0 nearly every logit of all-MiniLM-L6-v2 is positive
                            (dense vectors); -3 leaves a few hundred dimensions per document
          --pooling         max (default) or sum
          --activation      relu (default) or log1p_relu
          --dense-scale     s of the head's transform dense = s·I (default 0.01: GELU in its linear range)
        Writes DIR as a sentence-transformers SparseEncoder folder: the encoder's weights (float32, under bert.),
        cls.predictions.* (transform dense s·I, LayerNorm = the encoder's last LayerNorm, decoder tied to the
        word embeddings, bias 0), 1_SpladePooling/, modules.json and the tokenizer files.
        """;

    public Task<int> RunAsync(CommandArgs args, CliContext context, CancellationToken cancellationToken)
    {
        string from = args.Require("from");
        string output = args.Require("output");
        var options = new SparseEncoderInitOptions
        {
            MaxSeqLength = args.GetInt("max-seq-length", 3),
            PoolingStrategy = args.Get("pooling") ?? "max",
            ActivationFunction = args.Get("activation") ?? "relu",
            DenseScale = (float)(args.GetDouble("dense-scale") ?? 0.01),
            DecoderBias = (float)(args.GetDouble("decoder-bias") ?? 0),
        };
        args.ThrowOnUnused();
        if (options.PoolingStrategy is not ("max" or "sum")) throw new CliException($"--pooling: '{options.PoolingStrategy}' is not max or sum.");
        if (options.ActivationFunction is not ("relu" or "log1p_relu")) throw new CliException($"--activation: '{options.ActivationFunction}' is not relu or log1p_relu.");
        if (options.DenseScale <= 0) throw new CliException($"--dense-scale must be positive, got {options.DenseScale}.");
        if (!Directory.Exists(from)) throw new CliException($"--from '{from}' is not a folder.");
        if (Path.GetFullPath(from) == Path.GetFullPath(output)) throw new CliException("--output must differ from --from.");
        SparseEncoderInitResult result;
        try { result = SparseEncoderInitializer.Create(from, output, options); }
        catch (ArgumentException e) { throw new CliException(e.Message); }
        context.Stderr.WriteLine($"init: wrote {output}: {result}");
        // The new folder must load as an ordinary model.
        var check = SparseEncoder.Load(output, new SparseEncoderOptions { Threads = 1 });
        var v = check.EncodeQueries(["what is a sparse encoder"])[0];
        context.Stderr.WriteLine($"init: reloaded; 'what is a sparse encoder' has {v.Count} active dimensions");
        if (v.Count > check.Dimension / 4)
            context.Stderr.WriteLine("init: the vectors are nearly dense; a negative --decoder-bias (e.g. -3) makes the starting vectors sparse.");
        return Task.FromResult(0);
    }
}
