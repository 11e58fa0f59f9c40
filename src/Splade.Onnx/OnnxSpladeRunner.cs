using Microsoft.ML.OnnxRuntime;

namespace Splade.Onnx;

/// <summary>
/// Runs an exported BertForMaskedLM (<c>onnx/model.onnx</c>, output <c>logits</c> [batch, seq, vocab])
/// with ONNX Runtime and applies SPLADE max pooling in C#: w_j = log(1 + relu(max over real tokens t
/// of logits[t, j])). Sequences are right-padded to the longest one of the batch, as a Python
/// pipeline would feed them.
/// </summary>
public sealed class OnnxSpladeRunner : IDisposable
{
    private readonly InferenceSession _session;
    private readonly SessionOptions _options;
    private readonly bool _hasTokenTypes;
    private readonly string _outputName;

    /// <summary>Opens <paramref name="modelPath"/> with all graph optimisations, <paramref name="threads"/> intra-op threads, one inter-op thread, sequential execution.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The graph lacks <c>input_ids</c>/<c>attention_mask</c> inputs or a <c>logits</c> output.</exception>
    public OnnxSpladeRunner(string modelPath, int threads)
    {
        if (!File.Exists(modelPath)) throw new FileNotFoundException($"ONNX model not found: {modelPath}", modelPath);
        _options = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            IntraOpNumThreads = threads,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
        };
        _session = new InferenceSession(modelPath, _options);
        var inputs = _session.InputMetadata.Keys.ToHashSet();
        if (!inputs.Contains("input_ids") || !inputs.Contains("attention_mask"))
            throw new InvalidDataException($"{modelPath}: expected inputs input_ids and attention_mask, found {string.Join(", ", inputs)}.");
        _hasTokenTypes = inputs.Contains("token_type_ids");
        _outputName = _session.OutputMetadata.Keys.FirstOrDefault(k => k == "logits")
            ?? throw new InvalidDataException($"{modelPath}: expected an output named logits, found {string.Join(", ", _session.OutputMetadata.Keys)}.");
        Threads = threads;
    }

    /// <summary>Intra-op threads of the session.</summary>
    public int Threads { get; }

    /// <summary>
    /// Pooled SPLADE rows of a batch of token-id sequences ([CLS] … [SEP]): returns [batch, vocab],
    /// row-major; <paramref name="vocab"/> receives the vocabulary size.
    /// </summary>
    public float[] EncodePooled(IReadOnlyList<int[]> batch, out int vocab)
    {
        int b = batch.Count, length = batch.Max(s => s.Length);
        var ids = new long[b * length];
        var mask = new long[b * length];
        for (int s = 0; s < b; s++)
            for (int t = 0; t < batch[s].Length; t++)
            {
                ids[s * length + t] = batch[s][t];
                mask[s * length + t] = 1;
            }
        long[] shape = [b, length];
        using var idsValue = OrtValue.CreateTensorValueFromMemory(ids, shape);
        using var maskValue = OrtValue.CreateTensorValueFromMemory(mask, shape);
        using var typesValue = _hasTokenTypes ? OrtValue.CreateTensorValueFromMemory(new long[b * length], shape) : null;
        var names = new List<string> { "input_ids", "attention_mask" };
        var values = new List<OrtValue> { idsValue, maskValue };
        if (typesValue is not null) { names.Add("token_type_ids"); values.Add(typesValue); }
        using var runOptions = new RunOptions();
        using IDisposableReadOnlyCollection<OrtValue> outputs = _session.Run(runOptions, names, values, [_outputName]);
        OrtValue logits = outputs[0];
        long[] outShape = logits.GetTensorTypeAndShape().Shape;
        if (outShape.Length != 3 || outShape[0] != b || outShape[1] != length)
            throw new InvalidDataException($"logits has shape [{string.Join(", ", outShape)}], expected [{b}, {length}, vocab].");
        vocab = (int)outShape[2];
        ReadOnlySpan<float> data = logits.GetTensorDataAsSpan<float>();
        return Pool(data, batch, length, vocab);
    }

    /// <summary>log(1 + relu(max over the real tokens)) per sequence and vocabulary entry.</summary>
    public static float[] Pool(ReadOnlySpan<float> logits, IReadOnlyList<int[]> batch, int length, int vocab)
    {
        var pooled = new float[batch.Count * vocab];
        for (int s = 0; s < batch.Count; s++)
        {
            Span<float> row = pooled.AsSpan(s * vocab, vocab);
            int real = batch[s].Length;
            if (real == 0) continue;
            logits.Slice(s * length * vocab, vocab).CopyTo(row);
            for (int t = 1; t < real; t++)
                System.Numerics.Tensors.TensorPrimitives.Max(row, logits.Slice((s * length + t) * vocab, vocab), row);
            for (int j = 0; j < vocab; j++)
                row[j] = row[j] > 0 ? float.LogP1(row[j]) : 0f;
        }
        return pooled;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _session.Dispose();
        _options.Dispose();
    }
}
