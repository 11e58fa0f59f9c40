using Splade.Models;
using System.Text.Json;
using Splade.Training.Checkpoint;
using Splade.Training.Losses;
using Splade.Training.Model;

namespace Splade.Tests.Training;

/// <summary>
/// The training fixture of tiny-splade (tiny-splade.expected.json, "training"): 4 triples made of the first 4
/// query texts, the first 4 document texts (positives) and the next 4 (negatives), with token ids produced by
/// the Hugging Face tokenizer, and the reference losses / step-0 gradients computed with PyTorch.
/// </summary>
internal sealed class TrainingFixture
{
    public required string ModelDir { get; init; }
    public required List<int[]> Queries { get; init; }
    public required List<int[]> Positives { get; init; }
    public required List<int[]> Negatives { get; init; }
    public required Dictionary<string, int[]> IdsByText { get; init; }
    public required List<string> QueryTexts { get; init; }
    public required List<string> DocumentTexts { get; init; }
    public required double[] Losses { get; init; }
    public required double[] Mnrl { get; init; }
    public required double[] DocReg { get; init; }
    public required double[] QueryReg { get; init; }

    public static TrainingFixture Load()
    {
        string dir = TestData.Model("tiny-splade");
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(TestData.Dir, "models", "tiny-splade.expected.json")));
        var texts = doc.RootElement.GetProperty("texts").EnumerateArray().ToList();
        var q = texts.Where(t => t.GetProperty("role").GetString() == "query").ToList();
        var d = texts.Where(t => t.GetProperty("role").GetString() == "document").ToList();
        int[] Ids(JsonElement e) => e.GetProperty("ids").EnumerateArray().Select(x => x.GetInt32()).ToArray();
        var byText = new Dictionary<string, int[]>();
        foreach (var t in texts) byText[t.GetProperty("text").GetString()!] = Ids(t);
        var steps = doc.RootElement.GetProperty("training").GetProperty("steps").EnumerateArray().ToList();
        return new TrainingFixture
        {
            ModelDir = dir,
            Queries = q.Take(4).Select(Ids).ToList(),
            Positives = d.Take(4).Select(Ids).ToList(),
            Negatives = d.Skip(4).Take(4).Select(Ids).ToList(),
            IdsByText = byText,
            QueryTexts = q.Take(4).Select(t => t.GetProperty("text").GetString()!).ToList(),
            DocumentTexts = d.Take(8).Select(t => t.GetProperty("text").GetString()!).ToList(),
            Losses = steps.Select(s => s.GetProperty("loss").GetDouble()).ToArray(),
            Mnrl = steps.Select(s => s.GetProperty("mnrl").GetDouble()).ToArray(),
            DocReg = steps.Select(s => s.GetProperty("document_regularizer").GetDouble()).ToArray(),
            QueryReg = steps.Select(s => s.GetProperty("query_regularizer").GetDouble()).ToArray(),
        };
    }

    public List<int[]> AllSequences() => [.. Queries, .. Positives, .. Negatives];

    /// <summary>Forward and backward of the fixture batch (4 triples) through <paramref name="loss"/>; gradients accumulate in the parameters.</summary>
    public LossParts Step(BertMlmSplade model, SpladeLoss loss)
    {
        var pooled = model.Forward(AllSequences());
        var grad = new float[pooled.Length];
        var parts = loss.ForwardBackward(new SparseBatch(pooled, 4, 3, model.Parameters.Config.VocabSize), null, grad);
        model.Backward(grad);
        return parts;
    }

    public BertParameters LoadParameters()
    {
        using var source = new SafeTensorsTensorSource(Path.Combine(ModelDir, "model.safetensors"));
        return BertParameters.Load(TrainingModelConfig.Load(ModelDir), source);
    }

    public static Dictionary<string, (float[] Data, int[] Shape)> ExpectedGrads() =>
        ReadTensors(Path.Combine(TestData.Dir, "models", "tiny-splade.grads.safetensors"));

    /// <summary>Every tensor of a safetensors file as float32, by name.</summary>
    public static Dictionary<string, (float[] Data, int[] Shape)> ReadTensors(string path)
    {
        using var file = SafeTensorsFile.Open(path);
        return file.Tensors.Values.ToDictionary(t => t.Name, t => (file.ReadFloat32(t.Name), t.Shape));
    }
}
