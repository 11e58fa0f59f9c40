using Splade.Models;
using Splade.Sparse;
using static Splade.Tests.Models.SafeTensorsBuilder;

namespace Splade.Tests.Models;

public sealed class ModelFolderTests
{
    private static readonly int[] Sample = [101, 2073, 2003, 1051, 4355, 22991, 2550, 102];

    [Fact]
    public void Reads_every_setting_of_the_fixture_folder()
    {
        ModelFolder folder = ModelFolder.Load(TestData.Model("tiny-splade"));
        Assert.False(folder.IsRouter);
        Assert.Equal([ModuleKind.MLMTransformer, ModuleKind.SpladePooling], folder.Routes["document"].Select(m => m.Kind));
        Assert.Equal("dot", folder.Settings.SimilarityFnName);
        Assert.Equal("SparseEncoder", folder.Settings.ModelType);
        Assert.Equal("", folder.Settings.Prompts["query"]);
        Assert.Null(folder.Settings.DefaultPromptName);
        Assert.Equal(128, folder.Settings.MaxSeqLength);
        Assert.Equal(PoolingStrategy.Max, folder.Pooling!.Strategy);
        Assert.Equal(30522, folder.Pooling.EmbeddingDimension);
        Assert.False(folder.Settings.DoLowerCase);
        Assert.Equal(32, folder.Config.HiddenSize);
        Assert.Equal(1e-12f, folder.Config.LayerNormEps);
        Assert.True(folder.Config.TieWordEmbeddings);
        Assert.Equal("gelu", folder.Config.HiddenAct);
    }

    [Fact]
    public void Without_modules_json_a_masked_lm_becomes_max_relu_splade()
    {
        using var dir = new TempFolder();
        string folder = dir.CopyModel("tiny-splade");
        File.Delete(Path.Combine(folder, "modules.json"));
        Directory.Delete(Path.Combine(folder, "1_SpladePooling"), recursive: true);
        SpladeModel model = SpladeModel.Load(folder);
        Assert.Equal(PoolingStrategy.Max, model.Pooling!.Strategy);
        Assert.Equal(SpladeActivation.Relu, model.Pooling.Activation);
        SpladeModel original = SpladeModel.Load(TestData.Model("tiny-splade"));
        Assert.Equal(original.Forward([Sample])[0], model.Forward([Sample])[0]);
    }

    [Fact]
    public void Null_max_seq_length_falls_back_to_positions_and_tokenizer_limit()
    {
        using var dir = new TempFolder();
        string folder = dir.CopyModel("tiny-splade");
        File.WriteAllText(Path.Combine(folder, "sentence_bert_config.json"), "{\"max_seq_length\": null, \"do_lower_case\": true}");
        File.WriteAllText(Path.Combine(folder, "tokenizer_config.json"), "{\"model_max_length\": 100}");
        ModelFolder mf = ModelFolder.Load(folder);
        Assert.Equal(100, mf.Settings.MaxSeqLength);
        Assert.True(mf.Settings.DoLowerCase);
        File.WriteAllText(Path.Combine(folder, "tokenizer_config.json"), "{\"model_max_length\": 1000000000000000019884624838656}");
        Assert.Equal(128, ModelFolder.Load(folder).Settings.MaxSeqLength);
    }

    [Fact]
    public void Unknown_module_type_names_modules_json_and_the_type()
    {
        using var dir = new TempFolder();
        string folder = dir.CopyModel("tiny-splade");
        File.WriteAllText(Path.Combine(folder, "modules.json"),
            "[{\"idx\":0,\"name\":\"0\",\"path\":\"\",\"type\":\"sentence_transformers.models.Transformer\"},{\"idx\":1,\"name\":\"1\",\"path\":\"1_Pooling\",\"type\":\"sentence_transformers.models.Pooling\"}]");
        var e = Assert.Throws<ModelLoadException>(() => ModelFolder.Load(folder));
        Assert.Contains("modules.json", e.Message);
        Assert.Contains("sentence_transformers.models.Pooling", e.Message);
    }

    [Fact]
    public void Unsupported_config_values_are_clear_errors()
    {
        using var dir = new TempFolder();
        string folder = dir.CopyModel("tiny-splade");
        string config = Path.Combine(folder, "config.json");
        string text = File.ReadAllText(config);
        File.WriteAllText(config, text.Replace("\"hidden_act\": \"gelu\"", "\"hidden_act\": \"swish\""));
        var e = Assert.Throws<ModelLoadException>(() => ModelFolder.Load(folder));
        Assert.Contains("config.json", e.Message);
        Assert.Contains("swish", e.Message);
        File.WriteAllText(config, text.Replace("\"hidden_size\": 32,", ""));
        Assert.Contains("hidden_size", Assert.Throws<ModelLoadException>(() => ModelFolder.Load(folder)).Message);
        File.WriteAllText(config, text.Replace("\"num_attention_heads\": 4", "\"num_attention_heads\": 5"));
        Assert.Contains("num_attention_heads", Assert.Throws<ModelLoadException>(() => ModelFolder.Load(folder)).Message);
        File.WriteAllText(Path.Combine(folder, "1_SpladePooling", "config.json"), "{\"pooling_strategy\": \"mean\"}");
        File.WriteAllText(config, text);
        Assert.Contains("mean", Assert.Throws<ModelLoadException>(() => ModelFolder.Load(folder)).Message);
    }

    [Fact]
    public void Router_sends_queries_to_the_static_embedding_and_documents_to_the_network()
    {
        using var dir = new TempFolder();
        dir.CopyModel("tiny-splade", "document_0_MLMTransformer");
        File.Delete(Path.Combine(dir.Path, "document_0_MLMTransformer", "modules.json"));
        Directory.Move(Path.Combine(dir.Path, "document_0_MLMTransformer", "1_SpladePooling"), Path.Combine(dir.Path, "document_1_SpladePooling"));
        Directory.CreateDirectory(dir.File("query_0_SparseStaticEmbedding"));
        var weight = new float[30522];
        weight[2073] = 0.5f; weight[2003] = 1.25f; weight[4355] = 2f;
        Write(Path.Combine(dir.Path, "query_0_SparseStaticEmbedding", "model.safetensors"), F32("weight", [30522], weight));
        File.WriteAllText(Path.Combine(dir.Path, "query_0_SparseStaticEmbedding", "config.json"), "{\"frozen\": false}");
        File.WriteAllText(dir.File("modules.json"), "[{\"idx\":0,\"name\":\"0\",\"path\":\"\",\"type\":\"sentence_transformers.models.Router\"}]");
        File.WriteAllText(dir.File("router_config.json"), """
            {"types": {"query_0_SparseStaticEmbedding": "sentence_transformers.sparse_encoder.models.SparseStaticEmbedding",
                       "document_0_MLMTransformer": "sentence_transformers.sparse_encoder.models.MLMTransformer",
                       "document_1_SpladePooling": "sentence_transformers.sparse_encoder.models.SpladePooling"},
             "structure": {"query": ["query_0_SparseStaticEmbedding"], "document": ["document_0_MLMTransformer", "document_1_SpladePooling"]},
             "parameters": {"default_route": "document", "allow_empty_key": true}}
            """);
        File.WriteAllText(dir.File("config_sentence_transformers.json"), "{\"model_type\": \"SparseEncoder\", \"similarity_fn_name\": \"dot\"}");

        SpladeModel model = SpladeModel.Load(dir.Path);
        Assert.True(model.Folder.IsRouter);
        Assert.Equal("document", model.Folder.DefaultRoute);
        Assert.False(model.RouteAddsSpecialTokens("query"));
        Assert.True(model.RouteAddsSpecialTokens("document"));
        SparseVector query = model.Forward([[2073, 2003, 2073, 1051, 4355]], "query")[0];
        Assert.Equal(new[] { 2003, 2073, 4355 }, query.Indices.ToArray());
        Assert.Equal(new[] { 1.25f, 0.5f, 2f }, query.Values.ToArray());
        SparseVector document = model.Forward([Sample], "document")[0];
        Assert.Equal(SpladeModel.Load(TestData.Model("tiny-splade")).Forward([Sample])[0], document);
        Assert.Throws<ArgumentException>(() => model.Forward([Sample], "passage"));
    }

    [Fact]
    public void Forward_validates_its_input()
    {
        SpladeModel model = SpladeModel.Load(TestData.Model("tiny-splade"), new SpladeModelOptions { Threads = 1 });
        var bad = Assert.Throws<ArgumentOutOfRangeException>(() => model.Forward([[101, 30522, 102]]));
        Assert.Contains("30522", bad.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => model.Forward([[101, -1, 102]]));
        Assert.Throws<ArgumentException>(() => model.Forward([Enumerable.Repeat(1000, 129).ToArray()]));
        Assert.Empty(model.Forward([]));
        SparseVector[] withEmpty = model.Forward([[], Sample]);
        Assert.Equal(0, withEmpty[0].Count);
        Assert.Equal(30522, withEmpty[0].Dimension);
        Assert.Equal(model.Forward([Sample])[0], withEmpty[1]);
        Assert.Throws<ArgumentOutOfRangeException>(() => new SpladeModelOptions { Threads = 0 } is var o ? SpladeModel.Load(TestData.Model("tiny-splade"), o) : null);
    }

    [Fact]
    public void Padded_batch_with_attention_mask_equals_unpadded_sequences()
    {
        int[] ids = [101, 2073, 2003, 102, 0, 0, 101, 2550, 102, 0, 0, 0];
        int[] mask = [1, 1, 1, 1, 0, 0, 1, 1, 1, 0, 0, 0];
        TokenBatch batch = TokenBatch.FromPadded(ids, mask, 2, 6, 30522, 128);
        Assert.Equal(new[] { 4, 3 }, batch.Lengths);
        Assert.Equal(new[] { 101, 2073, 2003, 102, 101, 2550, 102 }, batch.InputIds);
        Assert.Throws<ArgumentException>(() => TokenBatch.FromPadded(ids, [1, 0, 1, 1, 0, 0, 1, 1, 1, 0, 0, 0], 2, 6, 30522, 128));
    }
}
