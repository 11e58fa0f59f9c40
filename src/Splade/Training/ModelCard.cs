using System.Globalization;
using System.Text;
using Splade.Training.Checkpoint;
using Splade.Training.Losses;

namespace Splade.Training;

/// <summary>Writes the README.md model card of a trained model (layout of sentence-transformers' sparse model cards).</summary>
public static class ModelCard
{
    /// <summary>Everything the card reports.</summary>
    public sealed record Info(SpladeTrainingOptions Options, TrainingModelConfig Config, long ParameterCount, SpladeLoss Loss,
        TrainingDataStatistics Data, IReadOnlyList<EpochResult> Epochs, int Steps)
    {
        /// <summary>The metrics table of the card (every metric of the evaluator); by default those of the best epoch.</summary>
        public IReadOnlyList<KeyValuePair<string, double>>? Metrics { get; init; }

        /// <summary>Name of the evaluation data (e.g. a BEIR folder's name), shown above the metrics.</summary>
        public string? EvaluationDataset { get; init; }

        /// <summary>Where the metrics table comes from (e.g. the saved model reloaded and evaluated again).</summary>
        public string? MetricsNote { get; init; }

        /// <summary>Metrics of the model before training (shown as step 0 of the log), when evaluated.</summary>
        public IReadOnlyList<KeyValuePair<string, double>>? BaselineMetrics { get; init; }

        /// <summary>Wall-clock training time in seconds, when known.</summary>
        public double? TrainingSeconds { get; init; }

        /// <summary>What the model was trained from (e.g. the encoder a SparseEncoder was initialised from), shown in Model Details.</summary>
        public string? BaseModel { get; init; }

        /// <summary>Names or descriptions of the training data sets, shown in Model Details and above the data statistics.</summary>
        public IReadOnlyList<string> TrainingDatasets { get; init; } = [];

        /// <summary>Free-form lines (how the data was made, what was held out, commit and seed), shown under Training Details.</summary>
        public IReadOnlyList<string> Notes { get; init; } = [];
    }

    private static string F(double v, string fmt = "0.####") => v.ToString(fmt, CultureInfo.InvariantCulture);

    public static void Write(string path, Info info) => File.WriteAllText(path, Render(info));

    public static string Render(Info info)
    {
        var o = info.Options;
        var c = info.Config;
        var sb = new StringBuilder();
        sb.AppendLine("---").AppendLine("tags:").AppendLine("- sparse-encoder").AppendLine("- splade").AppendLine("pipeline_tag: feature-extraction")
          .AppendLine("library_name: sentence-transformers").AppendLine("---").AppendLine();
        sb.AppendLine($"# {o.ModelName}").AppendLine();
        sb.AppendLine($"This is a SPLADE sparse encoder trained with Splade.NET. It maps sentences and paragraphs to a {c.VocabSize}-dimensional sparse vector space and can be used for semantic search and sparse retrieval.").AppendLine();
        sb.AppendLine("## Model Details").AppendLine();
        sb.AppendLine("- **Model Type:** SPLADE Sparse Encoder");
        if (info.BaseModel is not null) sb.AppendLine($"- **Base model:** {info.BaseModel}");
        sb.AppendLine($"- **Maximum Sequence Length:** {c.MaxSeqLength} tokens");
        sb.AppendLine($"- **Output Dimensionality:** {c.VocabSize} dimensions");
        sb.AppendLine("- **Similarity Function:** Dot Product");
        sb.AppendLine($"- **Parameters:** {info.ParameterCount:N0}");
        foreach (string dataset in info.TrainingDatasets) sb.AppendLine($"- **Training Dataset:** {dataset}");
        sb.AppendLine();
        sb.AppendLine("### Full Model Architecture").AppendLine().AppendLine("```");
        sb.AppendLine("SparseEncoder(");
        sb.AppendLine($"  (0): MLMTransformer({{'max_seq_length': {c.MaxSeqLength}, 'do_lower_case': False, 'architecture': 'BertForMaskedLM'}})");
        sb.AppendLine($"  (1): SpladePooling({{'pooling_strategy': '{c.PoolingStrategy}', 'activation_function': '{c.ActivationFunction}', 'word_embedding_dimension': {c.VocabSize}}})");
        sb.AppendLine(")").AppendLine("```").AppendLine();
        sb.AppendLine($"BERT: {c.NumHiddenLayers} layers, hidden {c.HiddenSize}, {c.NumAttentionHeads} heads, intermediate {c.IntermediateSize}, {c.MaxPositionEmbeddings} positions, activation {c.HiddenAct}, layer_norm_eps {c.LayerNormEps.ToString("R", CultureInfo.InvariantCulture)}.").AppendLine();
        sb.AppendLine("## Usage").AppendLine().AppendLine("### Direct Usage (Splade.NET)").AppendLine().AppendLine("```csharp").AppendLine("using Splade;").AppendLine();
        sb.AppendLine("// A local folder or a Hub id (owner/name)");
        sb.AppendLine($"var model = SparseEncoder.Load(\"{o.ModelName}\");");
        sb.AppendLine("var queries = model.EncodeQueries([\"where is oestrogen produced\"]);");
        sb.AppendLine("var documents = model.EncodeDocuments([");
        sb.AppendLine("    \"Estrogens, in females, are produced primarily by the ovaries.\",");
        sb.AppendLine("    \"The pituitary gland secretes a hormone which induces the production of estrogen.\",");
        sb.AppendLine("]);");
        sb.AppendLine("float score = queries[0].Dot(documents[0]);");
        sb.AppendLine("Console.WriteLine($\"{queries[0].Count} active dims, score {score}\");").AppendLine("```").AppendLine();
        sb.AppendLine("From the command line: `splade encode --model " + o.ModelName + " --input texts.jsonl --output vectors.jsonl`.").AppendLine();

        sb.AppendLine("## Evaluation").AppendLine().AppendLine("### Metrics").AppendLine();
        if (info.Metrics is not { Count: > 0 } metrics) sb.AppendLine("No evaluation was run.").AppendLine();
        else
        {
            sb.AppendLine("#### Sparse Information Retrieval").AppendLine();
            if (info.EvaluationDataset is not null) sb.AppendLine($"* Dataset: `{info.EvaluationDataset}`");
            sb.AppendLine("* Evaluated with `SparseInformationRetrievalEvaluator`");
            if (info.MetricsNote is not null) sb.AppendLine($"* {info.MetricsNote}");
            sb.AppendLine();
            sb.AppendLine("| Metric | Value |").AppendLine("|:--|:--|");
            foreach (var (k, v) in metrics)
            {
                bool selected = k == o.MetricForBestModel || k.EndsWith("_" + o.MetricForBestModel, StringComparison.Ordinal);
                sb.AppendLine(selected ? $"| **{k}** | **{F(v)}** |" : $"| {k} | {F(v)} |");
            }
            sb.AppendLine();
        }

        sb.AppendLine("## Training Details").AppendLine();
        foreach (string note in info.Notes) sb.AppendLine($"* {note}");
        if (info.Notes.Count > 0) sb.AppendLine();
        sb.AppendLine("### Training Dataset").AppendLine();
        var d = info.Data;
        sb.AppendLine($"* Size: {d.Rows:N0} training samples");
        sb.AppendLine($"* Columns: {string.Join(", ", d.Columns.Select(x => $"`{x}`"))}");
        sb.AppendLine($"* Approximate statistics based on the first {d.RowsMeasured} samples:").AppendLine();
        sb.AppendLine("|         | " + string.Join(" | ", d.Columns) + " |");
        sb.AppendLine("|:--|" + string.Concat(d.Columns.Select(_ => ":--|")));
        sb.AppendLine("| type | " + string.Join(" | ", d.Columns.Select(_ => "string")) + " |");
        sb.AppendLine("| details | " + string.Join(" | ", d.TokensPerColumn.Select(s => $"min: {s.Min} tokens, mean: {F(s.Mean, "0.00")} tokens, max: {s.Max} tokens")) + " |").AppendLine();
        sb.AppendLine("* Samples:").AppendLine();
        sb.AppendLine("| " + string.Join(" | ", d.Columns) + " |");
        sb.AppendLine("|" + string.Concat(d.Columns.Select(_ => ":--|")));
        foreach (var r in d.Samples) sb.AppendLine("| " + string.Join(" | ", r.Texts().Select(Cell)) + " |");
        sb.AppendLine();
        sb.AppendLine("* Loss: `SpladeLoss` with these parameters:").AppendLine("  ```json").AppendLine("  {");
        sb.AppendLine($"      \"loss\": \"{info.Loss.BaseLoss.Describe()}\",");
        sb.AppendLine($"      \"document_regularizer_weight\": {F(o.DocumentRegularizerWeight, "0.######")},");
        sb.AppendLine($"      \"query_regularizer_weight\": {F(o.QueryRegularizerWeight, "0.######")}");
        sb.AppendLine("  }").AppendLine("  ```").AppendLine();

        sb.AppendLine("### Training Hyperparameters").AppendLine();
        sb.AppendLine("- eval_strategy: epoch");
        sb.AppendLine($"- per_device_train_batch_size: {o.BatchSize}");
        sb.AppendLine($"- gradient_accumulation_steps: {o.GradientAccumulationSteps}");
        sb.AppendLine($"- learning_rate: {o.LearningRate.ToString("R", CultureInfo.InvariantCulture)}");
        sb.AppendLine($"- num_train_epochs: {o.Epochs}");
        if (o.MaxSteps is int ms) sb.AppendLine($"- max_steps: {ms}");
        sb.AppendLine($"- lr_scheduler_type: {o.Schedule.ToString().ToLowerInvariant()}");
        sb.AppendLine($"- warmup_ratio: {F(o.WarmupRatio)}");
        sb.AppendLine($"- adam_beta1: {F(o.Beta1)}, adam_beta2: {F(o.Beta2)}, adam_epsilon: {o.AdamEps.ToString("R", CultureInfo.InvariantCulture)}");
        sb.AppendLine($"- weight_decay: {F(o.WeightDecay)}");
        sb.AppendLine($"- max_grad_norm: {(o.MaxGradNorm is > 0 ? F(o.MaxGradNorm.Value) : "none")}");
        sb.AppendLine($"- regularizer weight warm-up: {(o.RegularizerWarmup ? $"quadratic over {F(o.RegularizerWarmupRatio)} of the steps" : "none")}");
        sb.AppendLine($"- dropout: {(o.Dropout ? $"hidden {F(c.HiddenDropoutProb)}, attention {F(c.AttentionProbsDropoutProb)}" : "off")}");
        sb.AppendLine($"- seed: {o.Seed}");
        sb.AppendLine($"- max_seq_length: {Math.Min(o.MaxSeqLength ?? c.MaxSeqLength, c.MaxPositionEmbeddings)}");
        sb.AppendLine($"- metric_for_best_model: {o.MetricForBestModel}");
        sb.AppendLine("- load_best_model_at_end: True");
        sb.AppendLine("- optim: adamw");
        sb.AppendLine("- batch_sampler: no_duplicates");
        sb.AppendLine("- precision: fp32").AppendLine();

        sb.AppendLine("### Training Logs").AppendLine();
        string metricName = o.MetricForBestModel;
        sb.AppendLine($"| Epoch | Step | Training Loss | {metricName} |").AppendLine("|:--|:--|:--|:--|");
        if (info.BaselineMetrics?.FirstOrDefault(m => m.Key == metricName || m.Key.EndsWith("_" + metricName, StringComparison.Ordinal)) is { Key: not null } before)
            sb.AppendLine($"| 0 | 0 | - | {F(before.Value)} |");
        foreach (var e in info.Epochs)
        {
            string[] cells = [(e.Epoch + 1).ToString(CultureInfo.InvariantCulture), e.Step.ToString(CultureInfo.InvariantCulture),
                F(e.TrainingLoss), e.Ndcg10 is double n ? F(n) : "-"];
            sb.AppendLine("| " + string.Join(" | ", cells.Select(x => e.IsBest ? $"**{x}**" : x)) + " |");
        }
        if (info.Epochs.Any(e => e.IsBest)) sb.AppendLine().AppendLine("* The bold row denotes the saved checkpoint.");
        if (info.TrainingSeconds is double secs) sb.AppendLine($"* Training time: {F(secs, "0.0")} s");
        sb.AppendLine();
        sb.AppendLine("### Framework Versions").AppendLine();
        sb.AppendLine($"- Splade.NET: {typeof(ModelCard).Assembly.GetName().Version}");
        sb.AppendLine($"- .NET: {Environment.Version}");
        sb.AppendLine($"- OS: {System.Runtime.InteropServices.RuntimeInformation.OSDescription} ({System.Runtime.InteropServices.RuntimeInformation.OSArchitecture})");
        sb.AppendLine($"- Processors: {Environment.ProcessorCount}");
        return sb.ToString();
    }

    private static string Cell(string text)
    {
        string t = text.Replace("|", "\\|").Replace("\r", " ").Replace("\n", " ");
        return t.Length > 300 ? t[..300] + "…" : t;
    }
}
