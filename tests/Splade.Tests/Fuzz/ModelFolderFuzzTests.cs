using Splade.Models;
using Splade.Tests.Models;

namespace Splade.Tests.Fuzz;

/// <summary>Mutated model-folder JSON files (modules, configs, pooling, router) load, or fail with a <see cref="ModelLoadException"/> naming a file.</summary>
public sealed class ModelFolderFuzzTests : IDisposable
{
    private readonly TempFolder _dir = new();

    public void Dispose() => _dir.Dispose();

    private const string RouterConfig = """
        {"types": {"query_0_SparseStaticEmbedding": "sentence_transformers.sparse_encoder.models.SparseStaticEmbedding",
                   "document_0_MLMTransformer": "sentence_transformers.sparse_encoder.models.MLMTransformer",
                   "document_1_SpladePooling": "sentence_transformers.sparse_encoder.models.SpladePooling"},
         "structure": {"query": ["query_0_SparseStaticEmbedding"], "document": ["document_0_MLMTransformer", "document_1_SpladePooling"]},
         "parameters": {"default_route": "document", "allow_empty_key": true}}
        """;

    /// <summary>The settings files of tiny-splade (weights and tokenizer are not read by <see cref="ModelFolder.Load"/>).</summary>
    private string PlainFolder()
    {
        string source = TestData.Model("tiny-splade"), target = Path.Combine(_dir.Path, "plain");
        Directory.CreateDirectory(Path.Combine(target, "1_SpladePooling"));
        foreach (string f in new[] { "modules.json", "config.json", "config_sentence_transformers.json", "sentence_bert_config.json", "tokenizer_config.json", "1_SpladePooling/config.json" })
            File.Copy(Path.Combine(source, f), Path.Combine(target, f));
        return target;
    }

    private string RouterFolder()
    {
        string source = TestData.Model("tiny-splade"), target = Path.Combine(_dir.Path, "router");
        Directory.CreateDirectory(Path.Combine(target, "document_0_MLMTransformer"));
        Directory.CreateDirectory(Path.Combine(target, "document_1_SpladePooling"));
        Directory.CreateDirectory(Path.Combine(target, "query_0_SparseStaticEmbedding"));
        File.Copy(Path.Combine(source, "config.json"), Path.Combine(target, "document_0_MLMTransformer", "config.json"));
        File.Copy(Path.Combine(source, "sentence_bert_config.json"), Path.Combine(target, "document_0_MLMTransformer", "sentence_bert_config.json"));
        File.Copy(Path.Combine(source, "1_SpladePooling", "config.json"), Path.Combine(target, "document_1_SpladePooling", "config.json"));
        File.WriteAllText(Path.Combine(target, "modules.json"), "[{\"idx\":0,\"name\":\"0\",\"path\":\"\",\"type\":\"sentence_transformers.models.Router\"}]");
        File.WriteAllText(Path.Combine(target, "router_config.json"), RouterConfig);
        File.WriteAllText(Path.Combine(target, "config_sentence_transformers.json"), "{\"model_type\": \"SparseEncoder\", \"similarity_fn_name\": \"dot\", \"prompts\": {\"query\": \"q: \"}}");
        return target;
    }

    private static readonly string[] PlainFiles =
        ["modules.json", "config.json", "config_sentence_transformers.json", "sentence_bert_config.json", "tokenizer_config.json", "1_SpladePooling/config.json"];

    private static readonly string[] RouterFiles =
        ["modules.json", "router_config.json", "config_sentence_transformers.json", "document_0_MLMTransformer/config.json",
         "document_0_MLMTransformer/sentence_bert_config.json", "document_1_SpladePooling/config.json"];

    private static string? NamesAFile(ModelLoadException e) =>
        e.FilePath.Length > 0 && e.Message.StartsWith(e.FilePath, StringComparison.Ordinal) ? null : "no file named";

    private static void CheckLoaded(ModelFolder folder)
    {
        if (folder.Settings.MaxSeqLength <= 2) throw new FuzzAssertionException($"max_seq_length {folder.Settings.MaxSeqLength} accepted");
        var c = folder.Config;
        if (c.HiddenSize <= 0 || c.NumAttentionHeads <= 0 || c.VocabSize <= 0 || c.NumHiddenLayers <= 0 || c.IntermediateSize <= 0 || c.MaxPositionEmbeddings <= 0)
            throw new FuzzAssertionException("a non-positive size was accepted");
        if (folder.Routes.Count == 0 || folder.Routes.Values.Any(r => r.Count == 0)) throw new FuzzAssertionException("an empty route was accepted");
    }

    [Fact]
    public void Fixture_folders_load()
    {
        CheckLoaded(ModelFolder.Load(PlainFolder()));
        var router = ModelFolder.Load(RouterFolder());
        Assert.True(router.IsRouter);
        Assert.Equal("document", router.DefaultRoute);
        CheckLoaded(router);
    }

    [Theory]
    [InlineData(false, 21)]
    [InlineData(true, 22)]
    public void Mutated_settings_files_load_or_fail_with_a_file_named(bool router, int seed)
    {
        string folder = router ? RouterFolder() : PlainFolder();
        string[] files = router ? RouterFiles : PlainFiles;
        var originals = files.ToDictionary(f => f, f => File.ReadAllText(Path.Combine(folder, f)));
        FuzzRunner.Run(router ? "router folder" : "model folder", seed, FuzzRunner.Iterations(700), (r, _) =>
        {
            string file = files[r.Next(files.Length)];
            Mutant m = Mutate.Any(r, originals[file]);
            return (File: file, Mutant: m);
        }, c => $"{c.File}: {c.Mutant.What} -> {FuzzRunner.Show(c.Mutant.Data)}", c =>
        {
            string path = Path.Combine(folder, c.File);
            File.WriteAllBytes(path, c.Mutant.Data);
            try
            {
                FuzzRunner.ParsesOrThrows<ModelLoadException>(() => CheckLoaded(ModelFolder.Load(folder)), NamesAFile);
            }
            finally
            {
                File.WriteAllText(path, originals[c.File]);
            }
        });
    }
}
